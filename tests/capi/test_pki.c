#include "test_pki.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "devca.h"

static int remove_entry(const char* path, const struct stat* st, int type, struct FTW* ftw) {
  (void)st;
  (void)type;
  (void)ftw;
  return remove(path);
}

int test_pki_create(struct test_pki* pki) {
  const char* tmp = getenv("TMPDIR");
  snprintf(pki->dir, sizeof pki->dir, "%s/lashup-capi-XXXXXX", tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
  if (mkdtemp(pki->dir) == NULL) {
    perror("test PKI: mkdtemp");
    return -1;
  }
  snprintf(pki->cluster_ca_dir, sizeof pki->cluster_ca_dir, "%s/ca", pki->dir);
  snprintf(pki->other_ca_dir, sizeof pki->other_ca_dir, "%s/other-ca", pki->dir);
  char errbuf[256];
  if (devca_init(pki->cluster_ca_dir, 0, errbuf, sizeof errbuf) != DEVCA_OK ||
      devca_init(pki->other_ca_dir, 0, errbuf, sizeof errbuf) != DEVCA_OK) {
    fprintf(stderr, "test PKI: %s\n", errbuf);
    return -1;
  }
  return 0;
}

void test_pki_destroy(struct test_pki* pki) {
  if (pki->dir[0] != '\0') nftw(pki->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
  pki->dir[0] = '\0';
}

int test_pki_issue(const struct test_pki* pki, const char* name, int by_other_ca, struct test_tls_files* out) {
  const char* dir = by_other_ca ? pki->other_ca_dir : pki->cluster_ca_dir;
  char errbuf[256];
  if (devca_issue(dir, name, errbuf, sizeof errbuf) != DEVCA_OK) {
    fprintf(stderr, "test PKI: %s\n", errbuf);
    return -1;
  }
  snprintf(out->cert_file, sizeof out->cert_file, "%s/%s.pem", dir, name);
  snprintf(out->key_file, sizeof out->key_file, "%s/%s.key", dir, name);
  snprintf(out->ca_file, sizeof out->ca_file, "%s/ca.pem", pki->cluster_ca_dir);
  return 0;
}
