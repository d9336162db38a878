/* A development certificate authority for lashupd: one EC P-256 CA that
 * signs one certificate per node, named the way the transport requires
 * (docs/TRANSPORT.md, "Naming rule": a subjectAltName DNS entry equal to the
 * node name). Meant for test clusters, not for production PKI: the CA key
 * is stored unencrypted next to the certificates. */
#ifndef LASHUPD_DEVCA_H
#define LASHUPD_DEVCA_H

#include <stddef.h>

enum devca_result {
  DEVCA_OK = 0,
  DEVCA_ERR_EXISTS = 1, /* ca init: DIR/ca.key exists and force was not given */
  DEVCA_ERR_FAILED = 2  /* an OpenSSL or file-system call failed */
};

/* Creates dir (mode 0700, parents included) if needed and writes
 * dir/ca.key (0600) and dir/ca.pem: a self-signed CA certificate valid for
 * 10 years. Refuses to replace an existing dir/ca.key unless force is
 * non-zero. On failure writes a message to errbuf. */
int devca_init(const char *dir, int force, char *errbuf, size_t errbuf_len);

/* Writes dir/<name>.key (0600) and dir/<name>.pem: a certificate for name,
 * valid for 5 years, signed by dir/ca.key. The caller validates name (it
 * becomes part of two file names). On failure writes a message to errbuf. */
int devca_issue(const char *dir, const char *name, char *errbuf, size_t errbuf_len);

#endif /* LASHUPD_DEVCA_H */
