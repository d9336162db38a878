/* The development CA of lashupd (devca.h), on the OpenSSL 3 EVP and X509
 * APIs. Every OpenSSL call is checked; a failure is reported with the last
 * queued OpenSSL error, and the queue is cleared. */
#define _POSIX_C_SOURCE 200809L

#include "devca.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

enum {
  CA_VALID_DAYS = 3650,  /* 10 years */
  NODE_VALID_DAYS = 1825 /* 5 years */
};

/* Certificates start one hour in the past so that a host whose clock lags
 * the CA's a little still accepts them. */
static const long kNotBeforeSkewSeconds = -3600;

static const char kCaCommonName[] = "lashupd development CA";

static int set_error(char *errbuf, size_t errbuf_len, const char *format, ...) __attribute__((format(printf, 3, 4)));

static int set_error(char *errbuf, size_t errbuf_len, const char *format, ...) {
  if (errbuf != NULL && errbuf_len > 0) {
    va_list args;
    va_start(args, format);
    vsnprintf(errbuf, errbuf_len, format, args);
    va_end(args);
  }
  return DEVCA_ERR_FAILED;
}

static int fail_openssl(char *errbuf, size_t errbuf_len, const char *what) {
  char detail[256] = "no OpenSSL error queued";
  unsigned long code = ERR_peek_last_error();
  if (code != 0) ERR_error_string_n(code, detail, sizeof detail);
  ERR_clear_error();
  return set_error(errbuf, errbuf_len, "%s: %s", what, detail);
}

static int fail_errno(char *errbuf, size_t errbuf_len, const char *what, const char *path) {
  return set_error(errbuf, errbuf_len, "%s %s: %s", what, path, strerror(errno));
}

static int join_path(char *out, size_t out_len, const char *dir, const char *file, const char *suffix, char *errbuf,
                     size_t errbuf_len) {
  int n = snprintf(out, out_len, "%s/%s%s", dir, file, suffix);
  if (n < 0 || (size_t)n >= out_len) return set_error(errbuf, errbuf_len, "path too long: %s/%s%s", dir, file, suffix);
  return DEVCA_OK;
}

/* mkdir -p with mode 0700 for the directories it creates. */
static int make_directories(const char *dir, char *errbuf, size_t errbuf_len) {
  char path[PATH_MAX];
  size_t len = strlen(dir);
  if (len == 0 || len >= sizeof path) return set_error(errbuf, errbuf_len, "bad directory name \"%s\"", dir);
  memcpy(path, dir, len + 1);
  for (size_t i = 1; i <= len; i++) {
    if (path[i] != '/' && path[i] != '\0') continue;
    char saved = path[i];
    path[i] = '\0';
    if (mkdir(path, 0700) != 0 && errno != EEXIST) return fail_errno(errbuf, errbuf_len, "cannot create", path);
    path[i] = saved;
  }
  struct stat st;
  if (stat(dir, &st) != 0) return fail_errno(errbuf, errbuf_len, "cannot stat", dir);
  if (!S_ISDIR(st.st_mode)) return set_error(errbuf, errbuf_len, "%s is not a directory", dir);
  return DEVCA_OK;
}

/* Writes the PEM of exactly one of cert and key to path, through a
 * temporary file in dir renamed into place, so that a failure never leaves a
 * truncated file under the final name. */
static int write_pem(const char *dir, const char *path, mode_t mode, X509 *cert, EVP_PKEY *key, char *errbuf,
                     size_t errbuf_len) {
  char tmp[PATH_MAX];
  /* Not derived from the file name, which may be as long as a name can be. */
  int n = snprintf(tmp, sizeof tmp, "%s/.devca-XXXXXX", dir);
  if (n < 0 || (size_t)n >= sizeof tmp) return set_error(errbuf, errbuf_len, "path too long: %s", dir);
  int fd = mkstemp(tmp); /* mode 0600 from the start: a key is never readable by others */
  if (fd < 0) return fail_errno(errbuf, errbuf_len, "cannot create", tmp);
  if (fchmod(fd, mode) != 0) {
    fail_errno(errbuf, errbuf_len, "cannot chmod", tmp);
    close(fd);
    unlink(tmp);
    return DEVCA_ERR_FAILED;
  }
  FILE *file = fdopen(fd, "w");
  if (file == NULL) {
    fail_errno(errbuf, errbuf_len, "cannot open", tmp);
    close(fd);
    unlink(tmp);
    return DEVCA_ERR_FAILED;
  }
  int written = cert != NULL ? PEM_write_X509(file, cert) : PEM_write_PrivateKey(file, key, NULL, NULL, 0, NULL, NULL);
  if (written != 1) {
    fail_openssl(errbuf, errbuf_len, cert != NULL ? "PEM_write_X509" : "PEM_write_PrivateKey");
    fclose(file);
    unlink(tmp);
    return DEVCA_ERR_FAILED;
  }
  int flushed = fflush(file) == 0 && fsync(fileno(file)) == 0;
  if (!flushed) fail_errno(errbuf, errbuf_len, "cannot write", tmp);
  if (fclose(file) != 0 && flushed) {
    fail_errno(errbuf, errbuf_len, "cannot write", tmp);
    flushed = 0;
  }
  if (!flushed) {
    unlink(tmp);
    return DEVCA_ERR_FAILED;
  }
  if (rename(tmp, path) != 0) {
    fail_errno(errbuf, errbuf_len, "cannot rename to", path);
    unlink(tmp);
    return DEVCA_ERR_FAILED;
  }
  return DEVCA_OK;
}

static EVP_PKEY *new_p256_key(char *errbuf, size_t errbuf_len) {
  EVP_PKEY *key = NULL;
  EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
  if (ctx == NULL) {
    fail_openssl(errbuf, errbuf_len, "EVP_PKEY_CTX_new_from_name");
  } else if (EVP_PKEY_keygen_init(ctx) <= 0 || EVP_PKEY_CTX_set_group_name(ctx, "P-256") <= 0 ||
             EVP_PKEY_generate(ctx, &key) <= 0) {
    fail_openssl(errbuf, errbuf_len, "generating an EC P-256 key");
    EVP_PKEY_free(key);
    key = NULL;
  }
  EVP_PKEY_CTX_free(ctx);
  return key;
}

static int set_random_serial(X509 *cert, char *errbuf, size_t errbuf_len) {
  unsigned char bytes[16]; /* 128 bits: collisions between independent CAs are not a concern */
  if (RAND_bytes(bytes, sizeof bytes) != 1) return fail_openssl(errbuf, errbuf_len, "RAND_bytes");
  bytes[0] |= 0x01; /* RFC 5280 4.1.2.2: a serial is positive; never zero */
  BIGNUM *number = BN_bin2bn(bytes, sizeof bytes, NULL);
  if (number == NULL) return fail_openssl(errbuf, errbuf_len, "BN_bin2bn");
  ASN1_INTEGER *serial = BN_to_ASN1_INTEGER(number, X509_get_serialNumber(cert));
  BN_free(number);
  if (serial == NULL) return fail_openssl(errbuf, errbuf_len, "BN_to_ASN1_INTEGER");
  return DEVCA_OK;
}

/* One extension in openssl.cnf syntax, e.g. "critical,CA:TRUE". */
static int add_extension(X509 *cert, X509 *issuer, int nid, const char *value, char *errbuf, size_t errbuf_len) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
  X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
  if (ext == NULL) return fail_openssl(errbuf, errbuf_len, OBJ_nid2sn(nid));
  int added = X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
  if (added != 1) return fail_openssl(errbuf, errbuf_len, "X509_add_ext");
  return DEVCA_OK;
}

/* subjectAltName DNS:name built as a structure rather than from the config
 * syntax, so that a node name holding ':' or ',' is taken literally. */
static int add_dns_name(X509 *cert, const char *name, char *errbuf, size_t errbuf_len) {
  int result = DEVCA_ERR_FAILED;
  GENERAL_NAMES *names = GENERAL_NAMES_new();
  GENERAL_NAME *entry = GENERAL_NAME_new();
  ASN1_IA5STRING *dns = ASN1_IA5STRING_new();
  if (names == NULL || entry == NULL || dns == NULL) {
    fail_openssl(errbuf, errbuf_len, "allocating subjectAltName");
    ASN1_IA5STRING_free(dns);
    GENERAL_NAME_free(entry);
  } else if (ASN1_STRING_set(dns, name, (int)strlen(name)) != 1) {
    fail_openssl(errbuf, errbuf_len, "ASN1_STRING_set");
    ASN1_IA5STRING_free(dns);
    GENERAL_NAME_free(entry);
  } else {
    GENERAL_NAME_set0_value(entry, GEN_DNS, dns); /* entry owns dns */
    if (sk_GENERAL_NAME_push(names, entry) <= 0) {
      fail_openssl(errbuf, errbuf_len, "sk_GENERAL_NAME_push");
      GENERAL_NAME_free(entry);
    } else if (X509_add1_ext_i2d(cert, NID_subject_alt_name, names, 0, X509V3_ADD_DEFAULT) != 1) {
      fail_openssl(errbuf, errbuf_len, "adding subjectAltName");
    } else {
      result = DEVCA_OK;
    }
  }
  GENERAL_NAMES_free(names);
  return result;
}

/* A certificate for key with subject CN=common_name, signed by issuer_key
 * (self-signed when issuer is NULL). A node certificate (dns_name not NULL)
 * carries the node name as its one DNS subjectAltName. */
static X509 *make_certificate(EVP_PKEY *key, const char *common_name, X509 *issuer, EVP_PKEY *issuer_key, int days,
                              const char *dns_name, char *errbuf, size_t errbuf_len) {
  X509 *cert = X509_new();
  if (cert == NULL) {
    fail_openssl(errbuf, errbuf_len, "X509_new");
    return NULL;
  }
  X509_NAME *subject = X509_get_subject_name(cert);
  X509 *signer = issuer != NULL ? issuer : cert;
  int ok = 0;
  if (X509_set_version(cert, X509_VERSION_3) != 1) {
    fail_openssl(errbuf, errbuf_len, "X509_set_version");
  } else if (set_random_serial(cert, errbuf, errbuf_len) != DEVCA_OK) {
    /* errbuf set */
  } else if (X509_gmtime_adj(X509_getm_notBefore(cert), kNotBeforeSkewSeconds) == NULL ||
             X509_time_adj_ex(X509_getm_notAfter(cert), days, 0, NULL) == NULL) {
    fail_openssl(errbuf, errbuf_len, "setting the validity");
  } else if (X509_set_pubkey(cert, key) != 1) {
    fail_openssl(errbuf, errbuf_len, "X509_set_pubkey");
    /* V_ASN1_UTF8STRING rather than MBSTRING_UTF8: the latter enforces the
     * 64-byte upper bound of a common name, and node names reach 255 bytes.
     * The transport reads the name from the DNS entry anyway. */
  } else if (X509_NAME_add_entry_by_NID(subject, NID_commonName, V_ASN1_UTF8STRING, (const unsigned char *)common_name,
                                        -1, -1, 0) != 1) {
    fail_openssl(errbuf, errbuf_len, "setting the subject");
  } else if (X509_set_issuer_name(cert, issuer != NULL ? X509_get_subject_name(issuer) : subject) != 1) {
    fail_openssl(errbuf, errbuf_len, "X509_set_issuer_name");
  } else if (dns_name == NULL) {
    ok = add_extension(cert, signer, NID_basic_constraints, "critical,CA:TRUE,pathlen:0", errbuf, errbuf_len) == 0 &&
         add_extension(cert, signer, NID_key_usage, "critical,keyCertSign,cRLSign", errbuf, errbuf_len) == 0 &&
         add_extension(cert, signer, NID_subject_key_identifier, "hash", errbuf, errbuf_len) == 0;
  } else {
    ok = add_extension(cert, signer, NID_basic_constraints, "critical,CA:FALSE", errbuf, errbuf_len) == 0 &&
         add_extension(cert, signer, NID_key_usage, "critical,digitalSignature", errbuf, errbuf_len) == 0 &&
         add_extension(cert, signer, NID_ext_key_usage, "serverAuth,clientAuth", errbuf, errbuf_len) == 0 &&
         add_extension(cert, signer, NID_subject_key_identifier, "hash", errbuf, errbuf_len) == 0 &&
         add_extension(cert, signer, NID_authority_key_identifier, "keyid,issuer", errbuf, errbuf_len) == 0 &&
         add_dns_name(cert, dns_name, errbuf, errbuf_len) == 0;
  }
  if (ok && X509_sign(cert, issuer_key != NULL ? issuer_key : key, EVP_sha256()) <= 0) {
    fail_openssl(errbuf, errbuf_len, "X509_sign");
    ok = 0;
  }
  if (!ok) {
    X509_free(cert);
    return NULL;
  }
  return cert;
}

int devca_init(const char *dir, int force, char *errbuf, size_t errbuf_len) {
  char cert_path[PATH_MAX];
  char key_path[PATH_MAX];
  if (make_directories(dir, errbuf, errbuf_len) != DEVCA_OK ||
      join_path(cert_path, sizeof cert_path, dir, "ca", ".pem", errbuf, errbuf_len) != DEVCA_OK ||
      join_path(key_path, sizeof key_path, dir, "ca", ".key", errbuf, errbuf_len) != DEVCA_OK) {
    return DEVCA_ERR_FAILED;
  }
  struct stat st;
  if (stat(key_path, &st) == 0) {
    if (!force) {
      set_error(errbuf, errbuf_len, "%s exists; pass --force to replace the CA", key_path);
      return DEVCA_ERR_EXISTS;
    }
  } else if (errno != ENOENT) {
    return fail_errno(errbuf, errbuf_len, "cannot stat", key_path);
  }

  EVP_PKEY *key = new_p256_key(errbuf, errbuf_len);
  if (key == NULL) return DEVCA_ERR_FAILED;
  X509 *cert = make_certificate(key, kCaCommonName, NULL, NULL, CA_VALID_DAYS, NULL, errbuf, errbuf_len);
  int result = DEVCA_ERR_FAILED;
  /* The key is written last: an existing ca.key means a complete CA. */
  if (cert != NULL && write_pem(dir, cert_path, 0644, cert, NULL, errbuf, errbuf_len) == DEVCA_OK &&
      write_pem(dir, key_path, 0600, NULL, key, errbuf, errbuf_len) == DEVCA_OK) {
    result = DEVCA_OK;
  }
  X509_free(cert);
  EVP_PKEY_free(key);
  return result;
}

/* Reads the first PEM object of `path` with `read` (PEM_read_X509 or
 * PEM_read_PrivateKey); NULL with errbuf filled on failure. */
static void *read_pem(const char *path, void *(*read)(FILE *), char *errbuf, size_t errbuf_len) {
  FILE *file = fopen(path, "r");
  if (file == NULL) {
    fail_errno(errbuf, errbuf_len, "cannot open", path);
    return NULL;
  }
  void *object = read(file);
  fclose(file);
  if (object == NULL) fail_openssl(errbuf, errbuf_len, path);
  return object;
}

static void *pem_certificate(FILE *file) { return PEM_read_X509(file, NULL, NULL, NULL); }
static void *pem_private_key(FILE *file) { return PEM_read_PrivateKey(file, NULL, NULL, NULL); }

int devca_issue(const char *dir, const char *name, char *errbuf, size_t errbuf_len) {
  char ca_cert_path[PATH_MAX];
  char ca_key_path[PATH_MAX];
  char cert_path[PATH_MAX];
  char key_path[PATH_MAX];
  if (join_path(ca_cert_path, sizeof ca_cert_path, dir, "ca", ".pem", errbuf, errbuf_len) != DEVCA_OK ||
      join_path(ca_key_path, sizeof ca_key_path, dir, "ca", ".key", errbuf, errbuf_len) != DEVCA_OK ||
      join_path(cert_path, sizeof cert_path, dir, name, ".pem", errbuf, errbuf_len) != DEVCA_OK ||
      join_path(key_path, sizeof key_path, dir, name, ".key", errbuf, errbuf_len) != DEVCA_OK) {
    return DEVCA_ERR_FAILED;
  }
  int result = DEVCA_ERR_FAILED;
  X509 *ca = NULL;
  EVP_PKEY *ca_key = NULL;
  EVP_PKEY *key = NULL;
  X509 *cert = NULL;
  if ((ca = read_pem(ca_cert_path, pem_certificate, errbuf, errbuf_len)) == NULL ||
      (ca_key = read_pem(ca_key_path, pem_private_key, errbuf, errbuf_len)) == NULL) {
    /* errbuf set */
  } else if (X509_check_private_key(ca, ca_key) != 1) {
    fail_openssl(errbuf, errbuf_len, "ca.key does not match ca.pem");
  } else if ((key = new_p256_key(errbuf, errbuf_len)) != NULL &&
             (cert = make_certificate(key, name, ca, ca_key, NODE_VALID_DAYS, name, errbuf, errbuf_len)) != NULL &&
             write_pem(dir, key_path, 0600, NULL, key, errbuf, errbuf_len) == DEVCA_OK &&
             write_pem(dir, cert_path, 0644, cert, NULL, errbuf, errbuf_len) == DEVCA_OK) {
    result = DEVCA_OK;
  }
  X509_free(cert);
  EVP_PKEY_free(key);
  EVP_PKEY_free(ca_key);
  X509_free(ca);
  return result;
}
