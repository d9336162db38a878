/* The configuration object through the C API: validation, NULL-safety,
 * errbuf contract, file loading. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <lashup/lashup.h>

static lashup_config_t *new_config(void) {
  lashup_config_t *cfg = NULL;
  assert_int_equal(lashup_config_new(&cfg), LASHUP_OK);
  assert_non_null(cfg);
  return cfg;
}

static void expect_config_value(const lashup_config_t *cfg, const char *key, const char *expected) {
  char *value = NULL;
  assert_int_equal(lashup_config_get(cfg, key, &value), LASHUP_OK);
  assert_string_equal(value, expected);
  lashup_free(value);
}

static void defaults_are_readable(void **state) {
  (void)state;
  lashup_config_t *cfg = new_config();
  int64_t n = 0;
  assert_int_equal(lashup_config_get_int(cfg, "overlay.active_view_size", &n), LASHUP_OK);
  assert_int_equal(n, 7);
  expect_config_value(cfg, "durability", "group");
  expect_config_value(cfg, "tls", "on");
  expect_config_value(cfg, "node_name", "");
  lashup_config_destroy(cfg);
}

static void set_valid_value_then_read_it_back(void **state) {
  (void)state;
  lashup_config_t *cfg = new_config();
  char errbuf[128] = "untouched";
  assert_int_equal(lashup_config_set(cfg, "node_name", "agent-7", errbuf, sizeof errbuf), LASHUP_OK);
  assert_string_equal(errbuf, "");
  expect_config_value(cfg, "node_name", "agent-7");
  assert_int_equal(lashup_config_set(cfg, "tls", "false", NULL, 0), LASHUP_OK);
  expect_config_value(cfg, "tls", "off");
  assert_string_equal(lashup_last_error(), "");
  lashup_config_destroy(cfg);
}

static void unknown_key_is_invalid_and_named(void **state) {
  (void)state;
  lashup_config_t *cfg = new_config();
  char errbuf[128];
  assert_int_equal(lashup_config_set(cfg, "no.such.key", "1", errbuf, sizeof errbuf), LASHUP_ERR_INVALID);
  assert_string_equal(errbuf, "no.such.key: unknown configuration key");
  assert_string_equal(lashup_last_error(), "no.such.key: unknown configuration key");
  lashup_config_destroy(cfg);
}

static void out_of_range_number_is_invalid_and_leaves_value(void **state) {
  (void)state;
  lashup_config_t *cfg = new_config();
  char errbuf[128];
  assert_int_equal(lashup_config_set(cfg, "overlay.active_view_size", "65", errbuf, sizeof errbuf),
                   LASHUP_ERR_INVALID);
  assert_non_null(strstr(errbuf, "overlay.active_view_size"));
  assert_non_null(strstr(errbuf, "out of range [2, 64]"));
  int64_t n = 0;
  assert_int_equal(lashup_config_get_int(cfg, "overlay.active_view_size", &n), LASHUP_OK);
  assert_int_equal(n, 7);
  lashup_config_destroy(cfg);
}

static void malformed_values_are_invalid(void **state) {
  (void)state;
  lashup_config_t *cfg = new_config();
  static const char *const cases[][2] = {
      {"overlay.active_view_size", "seven"}, {"tls", "perhaps"},       {"durability", "eventually"},
      {"listen_address", "localhost"},       {"node_name", "a b"},     {"contact_nodes", "10.0.0.1:7450,"},
      {"cluster_id", ""},                    {"log.level", "verbose"}, {"listen_address", "[::1]:99999"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; ++i) {
    char errbuf[256] = "";
    assert_int_equal(lashup_config_set(cfg, cases[i][0], cases[i][1], errbuf, sizeof errbuf), LASHUP_ERR_INVALID);
    assert_memory_equal(errbuf, cases[i][0], strlen(cases[i][0])); /* the message starts with the key */
  }
  lashup_config_destroy(cfg);
}

static void errbuf_is_truncated_and_terminated(void **state) {
  (void)state;
  lashup_config_t *cfg = new_config();
  char errbuf[8];
  memset(errbuf, 'x', sizeof errbuf);
  assert_int_equal(lashup_config_set(cfg, "no.such.key", "1", errbuf, sizeof errbuf), LASHUP_ERR_INVALID);
  assert_string_equal(errbuf, "no.such"); /* 7 bytes and the NUL */

  char one[1] = {'x'};
  assert_int_equal(lashup_config_set(cfg, "no.such.key", "1", one, sizeof one), LASHUP_ERR_INVALID);
  assert_int_equal(one[0], '\0');

  char untouched[4] = "abc";
  assert_int_equal(lashup_config_set(cfg, "no.such.key", "1", untouched, 0), LASHUP_ERR_INVALID);
  assert_string_equal(untouched, "abc"); /* length 0: nothing written */
  lashup_config_destroy(cfg);
}

static void null_arguments_are_refused_not_crashed_on(void **state) {
  (void)state;
  lashup_config_t *cfg = new_config();
  char errbuf[64];
  char *value = (char *)&errbuf; /* must be reset to NULL on failure */
  int64_t n = 0;
  assert_int_equal(lashup_config_new(NULL), LASHUP_ERR_INVALID);
  assert_int_equal(lashup_config_set(NULL, "tls", "on", errbuf, sizeof errbuf), LASHUP_ERR_INVALID);
  assert_string_equal(errbuf, "cfg is NULL");
  assert_int_equal(lashup_config_set(cfg, NULL, "on", NULL, 0), LASHUP_ERR_INVALID);
  assert_int_equal(lashup_config_set(cfg, "tls", NULL, NULL, 0), LASHUP_ERR_INVALID);
  assert_int_equal(lashup_config_get(cfg, NULL, &value), LASHUP_ERR_INVALID);
  assert_null(value);
  assert_int_equal(lashup_config_get(cfg, "tls", NULL), LASHUP_ERR_INVALID);
  assert_int_equal(lashup_config_get(NULL, "tls", &value), LASHUP_ERR_INVALID);
  assert_int_equal(lashup_config_get_int(cfg, NULL, &n), LASHUP_ERR_INVALID);
  assert_int_equal(lashup_config_get_int(cfg, "tls", NULL), LASHUP_ERR_INVALID);
  assert_int_equal(lashup_config_load_file(cfg, NULL, NULL, 0), LASHUP_ERR_INVALID);
  assert_int_equal(lashup_config_load_file(NULL, "x", NULL, 0), LASHUP_ERR_INVALID);
  lashup_config_destroy(NULL);
  lashup_free(NULL);
  lashup_config_destroy(cfg);
}

static void getters_distinguish_unknown_and_wrongly_typed_keys(void **state) {
  (void)state;
  lashup_config_t *cfg = new_config();
  char *value = NULL;
  int64_t n = 0;
  assert_int_equal(lashup_config_get(cfg, "nope", &value), LASHUP_ERR_NOT_FOUND);
  assert_int_equal(lashup_config_get_int(cfg, "nope", &n), LASHUP_ERR_NOT_FOUND);
  assert_int_equal(lashup_config_get_int(cfg, "durability", &n), LASHUP_ERR_INVALID);
  lashup_config_destroy(cfg);
}

static void every_listed_key_is_gettable(void **state) {
  (void)state;
  lashup_config_t *cfg = new_config();
  const size_t count = lashup_config_key_count();
  assert_true(count > 30);
  for (size_t i = 0; i < count; ++i) {
    const char *name = lashup_config_key_name(i);
    assert_non_null(name);
    char *value = NULL;
    assert_int_equal(lashup_config_get(cfg, name, &value), LASHUP_OK);
    lashup_free(value);
  }
  assert_null(lashup_config_key_name(count));
  lashup_config_destroy(cfg);
}

static void loads_a_complete_file(void **state) {
  (void)state;
  lashup_config_t *cfg = new_config();
  char errbuf[256] = "";
  assert_int_equal(lashup_config_load_file(cfg, LASHUP_TEST_DATA_DIR "/good.conf", errbuf, sizeof errbuf),
                   LASHUP_OK);
  expect_config_value(cfg, "node_name", "agent-1");
  expect_config_value(cfg, "data_dir", "/var/lib/lashup");
  expect_config_value(cfg, "durability", "sync");
  int64_t n = 0;
  assert_int_equal(lashup_config_get_int(cfg, "overlay.active_view_size", &n), LASHUP_OK);
  assert_int_equal(n, 5);
  lashup_config_destroy(cfg);
}

static void a_bad_line_names_file_line_and_key(void **state) {
  (void)state;
  lashup_config_t *cfg = new_config();
  char errbuf[256] = "";
  assert_int_equal(lashup_config_load_file(cfg, LASHUP_TEST_DATA_DIR "/bad_value.conf", errbuf, sizeof errbuf),
                   LASHUP_ERR_INVALID);
  assert_non_null(strstr(errbuf, "bad_value.conf:3: overlay.active_view_size"));
  expect_config_value(cfg, "node_name", "agent-1"); /* lines before the bad one were applied */
  lashup_config_destroy(cfg);
}

static void a_missing_file_is_an_io_error(void **state) {
  (void)state;
  lashup_config_t *cfg = new_config();
  char errbuf[256] = "";
  assert_int_equal(lashup_config_load_file(cfg, "/nonexistent/lashup.conf", errbuf, sizeof errbuf), LASHUP_ERR_IO);
  assert_non_null(strstr(errbuf, "/nonexistent/lashup.conf"));
  lashup_config_destroy(cfg);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(defaults_are_readable),
      cmocka_unit_test(set_valid_value_then_read_it_back),
      cmocka_unit_test(unknown_key_is_invalid_and_named),
      cmocka_unit_test(out_of_range_number_is_invalid_and_leaves_value),
      cmocka_unit_test(malformed_values_are_invalid),
      cmocka_unit_test(errbuf_is_truncated_and_terminated),
      cmocka_unit_test(null_arguments_are_refused_not_crashed_on),
      cmocka_unit_test(getters_distinguish_unknown_and_wrongly_typed_keys),
      cmocka_unit_test(every_listed_key_is_gettable),
      cmocka_unit_test(loads_a_complete_file),
      cmocka_unit_test(a_bad_line_names_file_line_and_key),
      cmocka_unit_test(a_missing_file_is_an_io_error),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
