/* Error codes, strings, per-thread last error, and version. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <lashup/lashup.h>

static void every_code_has_its_own_string(void **state) {
  (void)state;
  static const int codes[] = {LASHUP_OK,           LASHUP_ERR_INVALID,  LASHUP_ERR_NOMEM,    LASHUP_ERR_AGAIN,
                              LASHUP_ERR_TIMEOUT,  LASHUP_ERR_CLOSED,   LASHUP_ERR_NOT_FOUND, LASHUP_ERR_IO,
                              LASHUP_ERR_TLS,      LASHUP_ERR_STORAGE,  LASHUP_ERR_VERSION,  LASHUP_ERR_CONFLICT,
                              LASHUP_ERR_TOO_LARGE, LASHUP_ERR_STATE,   LASHUP_ERR_PERMISSION, LASHUP_ERR_TYPE,
                              LASHUP_ERR_INTERNAL};
  const size_t n = sizeof codes / sizeof codes[0];
  for (size_t i = 0; i < n; ++i) {
    const char *text = lashup_strerror(codes[i]);
    assert_non_null(text);
    assert_string_not_equal(text, "unknown error");
    for (size_t j = 0; j < i; ++j) assert_string_not_equal(text, lashup_strerror(codes[j]));
  }
}

static void unknown_codes_are_named_unknown(void **state) {
  (void)state;
  assert_string_equal(lashup_strerror(-1000), "unknown error");
  assert_string_equal(lashup_strerror(1), "unknown error");
}

static void version_matches_the_header(void **state) {
  (void)state;
  assert_int_equal(lashup_version(), LASHUP_VERSION_NUMBER);
  assert_string_equal(lashup_version_string(), LASHUP_VERSION_STRING);
  assert_int_equal(LASHUP_VERSION_NUMBER,
                   LASHUP_VERSION_MAJOR * 10000 + LASHUP_VERSION_MINOR * 100 + LASHUP_VERSION_PATCH);
}

static void *fail_on_another_thread(void *arg) {
  (void)arg;
  lashup_config_t *cfg = NULL;
  lashup_config_new(&cfg);
  lashup_config_set(cfg, "thread.key", "1", NULL, 0);
  lashup_config_destroy(cfg);
  return NULL;
}

static void last_error_is_per_thread(void **state) {
  (void)state;
  lashup_config_t *cfg = NULL;
  assert_int_equal(lashup_config_new(&cfg), LASHUP_OK);
  assert_int_equal(lashup_config_set(cfg, "main.key", "1", NULL, 0), LASHUP_ERR_INVALID);
  pthread_t thread;
  assert_int_equal(pthread_create(&thread, NULL, fail_on_another_thread, NULL), 0);
  assert_int_equal(pthread_join(thread, NULL), 0);
  assert_string_equal(lashup_last_error(), "main.key: unknown configuration key");
  /* A successful call clears it. */
  assert_int_equal(lashup_config_set(cfg, "tls", "on", NULL, 0), LASHUP_OK);
  assert_string_equal(lashup_last_error(), "");
  lashup_config_destroy(cfg);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(every_code_has_its_own_string),
      cmocka_unit_test(unknown_codes_are_named_unknown),
      cmocka_unit_test(version_matches_the_header),
      cmocka_unit_test(last_error_is_per_thread),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
