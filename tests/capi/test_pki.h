/* A throwaway PKI for the node suites, made with lashupd's development CA
 * (examples/lashupd/devca.h): a cluster CA whose node certificates name
 * their node in a subjectAltName DNS entry (the transport's naming rule,
 * docs/TRANSPORT.md), and a second, unrelated CA. Everything lives in one
 * mkdtemp directory. */
#ifndef LASHUP_TESTS_CAPI_TEST_PKI_H
#define LASHUP_TESTS_CAPI_TEST_PKI_H

#define TEST_PKI_PATH_MAX 512

struct test_pki {
  char dir[TEST_PKI_PATH_MAX];
  char cluster_ca_dir[TEST_PKI_PATH_MAX]; /* ca.pem, ca.key, <node>.pem, <node>.key */
  char other_ca_dir[TEST_PKI_PATH_MAX];   /* the same layout, another CA */
};

/* The three files a node's configuration names. */
struct test_tls_files {
  char cert_file[TEST_PKI_PATH_MAX];
  char key_file[TEST_PKI_PATH_MAX];
  char ca_file[TEST_PKI_PATH_MAX]; /* always the cluster CA */
};

/* Makes the directory and both CAs. Returns 0, or -1 with a message on
 * stderr. */
int test_pki_create(struct test_pki* pki);

/* Removes the directory and everything in it. */
void test_pki_destroy(struct test_pki* pki);

/* Issues (or re-issues) a certificate naming `name`, signed by the cluster
 * CA, or by the unrelated CA when by_other_ca is non-zero. Returns 0, or -1
 * with a message on stderr. */
int test_pki_issue(const struct test_pki* pki, const char* name, int by_other_ca, struct test_tls_files* out);

#endif
