/* What lashup_node_new and lashup_node_start refuse: missing keys (named in
 * errbuf), unusable TLS material, a data dir held by another node, a port
 * in use; and that a failed start leaves nothing held. (Contacts given by
 * address only are accepted: the handshake names them; see the cluster
 * suite.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "node_harness.h"

static lashup_config_t* bare_config(void) {
  lashup_config_t* cfg = NULL;
  assert_int_equal(lashup_config_new(&cfg), LASHUP_OK);
  return cfg;
}

/* lashup_node_new must fail with INVALID and an errbuf naming `key`. */
static void expect_new_refused_naming(const lashup_config_t* cfg, const char* key) {
  lashup_node_t* node = (lashup_node_t*)&node;
  char errbuf[256] = "";
  assert_int_equal(lashup_node_new(&node, cfg, errbuf, sizeof errbuf), LASHUP_ERR_INVALID);
  assert_null(node);
  if (strncmp(errbuf, key, strlen(key)) != 0) fail_msg("errbuf \"%s\" does not name %s", errbuf, key);
  assert_string_equal(lashup_last_error(), errbuf);
}

static void a_node_needs_a_name(void** state) {
  (void)state;
  lashup_config_t* cfg = bare_config();
  config_set(cfg, "data_dir", "/tmp/never-created");
  expect_new_refused_naming(cfg, "node_name");
  lashup_config_destroy(cfg);
}

static void a_node_needs_a_data_dir(void** state) {
  (void)state;
  lashup_config_t* cfg = bare_config();
  config_set(cfg, "node_name", "a");
  expect_new_refused_naming(cfg, "data_dir");
  lashup_config_destroy(cfg);
}

static void tls_needs_its_three_files(void** state) {
  (void)state;
  lashup_config_t* cfg = bare_config();
  config_set(cfg, "node_name", "a");
  config_set(cfg, "data_dir", "/tmp/never-created");
  config_set(cfg, "listen_address", "127.0.0.1:0");
  expect_new_refused_naming(cfg, "tls.cert_file");
  config_set(cfg, "tls.cert_file", "/nonexistent/a.pem");
  expect_new_refused_naming(cfg, "tls.key_file");
  config_set(cfg, "tls.key_file", "/nonexistent/a.key");
  expect_new_refused_naming(cfg, "tls.ca_file");
  /* Files are only read at start. */
  config_set(cfg, "tls.ca_file", "/nonexistent/ca.pem");
  lashup_node_t* node = NULL;
  assert_int_equal(lashup_node_new(&node, cfg, NULL, 0), LASHUP_OK);
  lashup_node_destroy(node);
  lashup_config_destroy(cfg);
}

static void a_malformed_contact_list_is_refused_by_the_configuration(void** state) {
  (void)state;
  lashup_config_t* cfg = bare_config();
  char errbuf[256] = "";
  assert_int_equal(lashup_config_set(cfg, "contact_nodes", "b@127.0.0.1", errbuf, sizeof errbuf), LASHUP_ERR_INVALID);
  assert_non_null(strstr(errbuf, "contact_nodes"));
  lashup_config_destroy(cfg);
}

static void a_wildcard_listen_address_needs_an_advertise_address(void** state) {
  lashup_config_t* cfg = node_config(*state, "a", 0, NULL);
  config_set(cfg, "listen_address", "0.0.0.0:0");
  expect_new_refused_naming(cfg, "advertise_address");
  config_set(cfg, "advertise_address", "127.0.0.1:7450");
  lashup_node_t* node = NULL;
  assert_int_equal(lashup_node_new(&node, cfg, NULL, 0), LASHUP_OK);
  lashup_node_destroy(node);
  lashup_config_destroy(cfg);
}

static void null_arguments_and_a_short_errbuf(void** state) {
  (void)state;
  lashup_config_t* cfg = bare_config();
  lashup_node_t* node = NULL;
  assert_int_equal(lashup_node_new(NULL, cfg, NULL, 0), LASHUP_ERR_INVALID);
  char errbuf[64] = "";
  assert_int_equal(lashup_node_new(&node, NULL, errbuf, sizeof errbuf), LASHUP_ERR_INVALID);
  assert_null(node);
  assert_non_null(strstr(errbuf, "cfg"));
  /* Truncated to errbuf_len - 1 bytes and terminated. */
  char tiny[5] = "xxxx";
  assert_int_equal(lashup_node_new(&node, cfg, tiny, sizeof tiny), LASHUP_ERR_INVALID);
  assert_string_equal(tiny, "node");
  lashup_config_destroy(cfg);
}

static void the_configuration_is_copied(void** state) {
  lashup_config_t* cfg = node_config(*state, "a", 1, NULL);
  lashup_node_t* node = NULL;
  assert_int_equal(lashup_node_new(&node, cfg, NULL, 0), LASHUP_OK);
  config_set(cfg, "node_name", "changed");
  lashup_config_destroy(cfg);
  assert_string_equal(lashup_node_name(node), "a");
  assert_int_equal(lashup_node_start(node), LASHUP_OK);
  lashup_node_destroy(node);
}

/* new succeeds, start fails with `expected`; the node then refuses a second
 * start and reads, and destroys cleanly. */
static void expect_start_fails(lashup_config_t* cfg, int expected, const char* detail) {
  lashup_node_t* node = NULL;
  char errbuf[256] = "";
  const int created = lashup_node_new(&node, cfg, errbuf, sizeof errbuf);
  lashup_config_destroy(cfg);
  if (created != LASHUP_OK) fail_msg("lashup_node_new: %s", errbuf);
  const int rc = lashup_node_start(node);
  if (rc != expected) {
    fail_msg("start gave %s (%s), expected %s", lashup_strerror(rc), lashup_last_error(), lashup_strerror(expected));
  }
  if (detail != NULL && strstr(lashup_last_error(), detail) == NULL) {
    fail_msg("last error \"%s\" does not mention \"%s\"", lashup_last_error(), detail);
  }
  assert_int_equal(lashup_node_start(node), LASHUP_ERR_STATE);
  lashup_members_t* members = NULL;
  assert_int_equal(lashup_node_members(node, &members), LASHUP_ERR_STATE);
  lashup_event_t* ev = NULL;
  assert_int_equal(lashup_node_poll(node, &ev, 0), LASHUP_ERR_CLOSED);
  lashup_node_destroy(node);
}

static void a_missing_certificate_file_is_a_tls_error(void** state) {
  lashup_config_t* cfg = node_config(*state, "a", 1, NULL);
  config_set(cfg, "tls.cert_file", "/nonexistent/a.pem");
  expect_start_fails(cfg, LASHUP_ERR_TLS, "/nonexistent/a.pem");
}

static void a_missing_ca_file_is_a_tls_error(void** state) {
  lashup_config_t* cfg = node_config(*state, "a", 1, NULL);
  config_set(cfg, "tls.ca_file", "/nonexistent/ca.pem");
  expect_start_fails(cfg, LASHUP_ERR_TLS, "/nonexistent/ca.pem");
}

static void a_key_that_does_not_match_the_certificate_is_a_tls_error(void** state) {
  struct node_env* env = *state;
  const struct test_tls_files other = node_env_certificate(env, "other-key");
  lashup_config_t* cfg = node_config(env, "a", 1, NULL);
  config_set(cfg, "tls.key_file", other.key_file);
  expect_start_fails(cfg, LASHUP_ERR_TLS, "does not match");
}

static void a_certificate_of_another_ca_is_a_tls_error(void** state) {
  struct node_env* env = *state;
  struct test_tls_files foreign;
  assert_int_equal(test_pki_issue(&env->pki, "a", 1, &foreign), 0);
  lashup_config_t* cfg = node_config(env, "a", 1, NULL);
  config_set(cfg, "tls.cert_file", foreign.cert_file);
  config_set(cfg, "tls.key_file", foreign.key_file);
  expect_start_fails(cfg, LASHUP_ERR_TLS, "not signed by the CA");
}

static void a_certificate_naming_another_node_is_a_tls_error(void** state) {
  struct node_env* env = *state;
  const struct test_tls_files b = node_env_certificate(env, "b");
  lashup_config_t* cfg = node_config(env, "a", 1, NULL);
  config_set(cfg, "tls.cert_file", b.cert_file);
  config_set(cfg, "tls.key_file", b.key_file);
  expect_start_fails(cfg, LASHUP_ERR_TLS, "does not name node 'a'");
}

static void a_data_dir_held_by_a_running_node_is_a_storage_error(void** state) {
  struct node_env* env = *state;
  char data_dir[TEST_PKI_PATH_MAX];
  node_env_data_dir(env, "shared", data_dir, sizeof data_dir);
  lashup_config_t* cfg = node_config(env, "a", 1, NULL);
  config_set(cfg, "data_dir", data_dir);
  lashup_node_t* a = start_node_from(cfg);
  cfg = node_config(env, "b", 1, NULL);
  config_set(cfg, "data_dir", data_dir);
  expect_start_fails(cfg, LASHUP_ERR_STORAGE, "in use");
  /* The running node did not notice. */
  assert_int_equal(lashup_node_set_metadata(a, "still here", 10), LASHUP_OK);
  /* Once it is stopped, the dir is free. */
  assert_int_equal(lashup_node_stop(a), LASHUP_OK);
  cfg = node_config(env, "b", 1, NULL);
  config_set(cfg, "data_dir", data_dir);
  lashup_node_t* b = start_node_from(cfg);
  lashup_node_destroy(b);
  lashup_node_destroy(a);
}

static void a_listen_address_in_use_is_an_io_error_and_releases_the_data_dir(void** state) {
  struct node_env* env = *state;
  lashup_node_t* a = start_node(env, "a", NULL);
  char* address = NULL;
  assert_int_equal(lashup_node_address(a, &address), LASHUP_OK);
  char data_dir[TEST_PKI_PATH_MAX];
  node_env_data_dir(env, "b", data_dir, sizeof data_dir);
  lashup_config_t* cfg = node_config(env, "b", 1, NULL);
  config_set(cfg, "data_dir", data_dir);
  config_set(cfg, "listen_address", address);
  expect_start_fails(cfg, LASHUP_ERR_IO, address);
  /* The failed start opened the store before binding; it closed it again. */
  cfg = node_config(env, "b", 1, NULL);
  config_set(cfg, "data_dir", data_dir);
  lashup_node_t* b = start_node_from(cfg);
  lashup_node_destroy(b);
  lashup_free(address);
  lashup_node_destroy(a);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(a_node_needs_a_name),
      cmocka_unit_test(a_node_needs_a_data_dir),
      cmocka_unit_test(tls_needs_its_three_files),
      cmocka_unit_test(a_malformed_contact_list_is_refused_by_the_configuration),
      cmocka_unit_test(a_wildcard_listen_address_needs_an_advertise_address),
      cmocka_unit_test(null_arguments_and_a_short_errbuf),
      cmocka_unit_test(the_configuration_is_copied),
      cmocka_unit_test(a_missing_certificate_file_is_a_tls_error),
      cmocka_unit_test(a_missing_ca_file_is_a_tls_error),
      cmocka_unit_test(a_key_that_does_not_match_the_certificate_is_a_tls_error),
      cmocka_unit_test(a_certificate_of_another_ca_is_a_tls_error),
      cmocka_unit_test(a_certificate_naming_another_node_is_a_tls_error),
      cmocka_unit_test(a_data_dir_held_by_a_running_node_is_a_storage_error),
      cmocka_unit_test(a_listen_address_in_use_is_an_io_error_and_releases_the_data_dir),
  };
  return cmocka_run_group_tests(tests, node_env_setup, node_env_teardown);
}
