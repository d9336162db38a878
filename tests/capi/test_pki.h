/* A throwaway PKI for the node tests, written as a user of the C API would
 * make one: an EC P-256 CA, node certificates naming their node in a
 * subjectAltName DNS entry (the transport's naming rule, docs/TRANSPORT.md),
 * and a second, unrelated CA. Everything lives in one mkdtemp directory. */
#ifndef LASHUP_TESTS_CAPI_TEST_PKI_H
#define LASHUP_TESTS_CAPI_TEST_PKI_H

#include <limits.h>

#define TEST_PKI_PATH_MAX 512

struct test_pki {
  char dir[TEST_PKI_PATH_MAX];
};

/* The three files a node's configuration names. */
struct test_tls_files {
  char cert_file[TEST_PKI_PATH_MAX];
  char key_file[TEST_PKI_PATH_MAX];
  char ca_file[TEST_PKI_PATH_MAX]; /* always the cluster CA, ca.pem */
};

/* Makes the directory with ca.pem/ca.key and other-ca.pem/other-ca.key.
 * Returns 0, or -1 with a message on stderr. */
int test_pki_create(struct test_pki* pki);

/* Removes the directory and everything in it. */
void test_pki_destroy(struct test_pki* pki);

/* Writes <label>.pem and <label>.key: a certificate with subjectAltName
 * DNS:<dns_name>, signed by the cluster CA, or by the unrelated CA when
 * by_other_ca is non-zero. Returns 0, or -1 with a message on stderr. */
int test_pki_issue(const struct test_pki* pki, const char* label, const char* dns_name, int by_other_ca,
                   struct test_tls_files* out);

#endif
