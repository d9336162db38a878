#include "test_pki.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int report(const char* what) {
  fprintf(stderr, "test PKI: %s failed\n", what);
  ERR_print_errors_fp(stderr);
  return -1;
}

static EVP_PKEY* new_key(void) { return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256"); }

static int add_extension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
  if (ext == NULL) return -1;
  const int added = X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
  return added == 1 ? 0 : -1;
}

/* A certificate for key, signed by issuer_key (self-signed when issuer is
 * NULL). A CA when dns_name is NULL; otherwise a leaf naming dns_name. */
static X509* make_certificate(EVP_PKEY* key, const char* common_name, X509* issuer, EVP_PKEY* issuer_key,
                              const char* dns_name) {
  static long serial = 1;
  X509* cert = X509_new();
  if (cert == NULL) return NULL;
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), serial++);
  X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert), 3600L * 24);
  X509_set_pubkey(cert, key);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char*)common_name, -1, -1, 0);
  X509_set_issuer_name(cert, issuer != NULL ? X509_get_subject_name(issuer) : name);
  X509* signer = issuer != NULL ? issuer : cert;
  int failed = 0;
  if (dns_name == NULL) {
    failed |= add_extension(cert, signer, NID_basic_constraints, "critical,CA:TRUE");
    failed |= add_extension(cert, signer, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    char san[300];
    snprintf(san, sizeof san, "DNS:%s", dns_name);
    failed |= add_extension(cert, signer, NID_basic_constraints, "CA:FALSE");
    failed |= add_extension(cert, signer, NID_subject_alt_name, san);
  }
  if (failed || X509_sign(cert, issuer_key != NULL ? issuer_key : key, EVP_sha256()) <= 0) {
    X509_free(cert);
    return NULL;
  }
  return cert;
}

static int write_pem(const char* dir, const char* label, const char* suffix, X509* cert, EVP_PKEY* key, char* path_out,
                     size_t path_len) {
  char path[TEST_PKI_PATH_MAX];
  snprintf(path, sizeof path, "%s/%s%s", dir, label, suffix);
  FILE* f = fopen(path, "w");
  if (f == NULL) return -1;
  const int ok = cert != NULL ? PEM_write_X509(f, cert) : PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
  if (fclose(f) != 0 || ok != 1) return -1;
  if (path_out != NULL) snprintf(path_out, path_len, "%s", path);
  return 0;
}

static int create_ca(const char* dir, const char* label) {
  EVP_PKEY* key = new_key();
  if (key == NULL) return report("EC key generation");
  X509* cert = make_certificate(key, label, NULL, NULL, NULL);
  int rc = cert == NULL ? report("CA certificate") : 0;
  if (rc == 0 && (write_pem(dir, label, ".pem", cert, NULL, NULL, 0) != 0 ||
                  write_pem(dir, label, ".key", NULL, key, NULL, 0) != 0)) {
    rc = report("writing the CA");
  }
  X509_free(cert);
  EVP_PKEY_free(key);
  return rc;
}

static void* read_pem(const char* dir, const char* label, const char* suffix, int is_key) {
  char path[TEST_PKI_PATH_MAX];
  snprintf(path, sizeof path, "%s/%s%s", dir, label, suffix);
  FILE* f = fopen(path, "r");
  if (f == NULL) return NULL;
  void* out = is_key ? (void*)PEM_read_PrivateKey(f, NULL, NULL, NULL) : (void*)PEM_read_X509(f, NULL, NULL, NULL);
  fclose(f);
  return out;
}

int test_pki_create(struct test_pki* pki) {
  const char* tmp = getenv("TMPDIR");
  snprintf(pki->dir, sizeof pki->dir, "%s/lashup-capi-pki-XXXXXX", tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
  if (mkdtemp(pki->dir) == NULL) return report("mkdtemp");
  if (create_ca(pki->dir, "ca") != 0 || create_ca(pki->dir, "other-ca") != 0) return -1;
  return 0;
}

static int remove_entry(const char* path, const struct stat* st, int type, struct FTW* ftw) {
  (void)st;
  (void)type;
  (void)ftw;
  return remove(path);
}

void test_pki_destroy(struct test_pki* pki) {
  if (pki->dir[0] != '\0') nftw(pki->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
  pki->dir[0] = '\0';
}

int test_pki_issue(const struct test_pki* pki, const char* label, const char* dns_name, int by_other_ca,
                   struct test_tls_files* out) {
  const char* ca_label = by_other_ca ? "other-ca" : "ca";
  X509* ca = read_pem(pki->dir, ca_label, ".pem", 0);
  EVP_PKEY* ca_key = read_pem(pki->dir, ca_label, ".key", 1);
  EVP_PKEY* key = new_key();
  X509* cert = ca != NULL && ca_key != NULL && key != NULL ? make_certificate(key, label, ca, ca_key, dns_name) : NULL;
  int rc = 0;
  if (cert == NULL) {
    rc = report("issuing a node certificate");
  } else if (write_pem(pki->dir, label, ".pem", cert, NULL, out->cert_file, sizeof out->cert_file) != 0 ||
             write_pem(pki->dir, label, ".key", NULL, key, out->key_file, sizeof out->key_file) != 0) {
    rc = report("writing a node certificate");
  }
  snprintf(out->ca_file, sizeof out->ca_file, "%s/ca.pem", pki->dir);
  X509_free(cert);
  EVP_PKEY_free(key);
  EVP_PKEY_free(ca_key);
  X509_free(ca);
  return rc;
}
