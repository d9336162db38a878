/* lashup_node_set_log_cb: levels honour log.level, messages arrive on the
 * node's loop thread (never the caller's), and none after destroy. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "node_harness.h"

#define MAX_RECORDS 512

struct record {
  int level;
  char component[32];
  char message[256];
  pthread_t thread;
};

struct log {
  pthread_mutex_t mutex;
  struct record records[MAX_RECORDS];
  size_t count;
  int destroyed;         /* set once lashup_node_destroy returned */
  int after_destroy;     /* messages that arrived after that */
};

static void on_log(int level, const char *component, const char *message, void *userdata) {
  struct log *log = userdata;
  pthread_mutex_lock(&log->mutex);
  if (log->destroyed) log->after_destroy++;
  if (log->count < MAX_RECORDS) {
    struct record *r = &log->records[log->count++];
    r->level = level;
    snprintf(r->component, sizeof r->component, "%s", component);
    snprintf(r->message, sizeof r->message, "%s", message);
    r->thread = pthread_self();
  }
  pthread_mutex_unlock(&log->mutex);
}

static struct log *new_log(void) {
  struct log *log = calloc(1, sizeof *log);
  assert_non_null(log);
  pthread_mutex_init(&log->mutex, NULL);
  return log;
}

static void free_log(struct log *log) {
  pthread_mutex_destroy(&log->mutex);
  free(log);
}

/* The first record whose component is `component` and whose message starts
 * with `prefix` (and contains `part`, if not NULL), or -1. */
static long find(struct log *log, const char *component, const char *prefix, const char *part) {
  long found = -1;
  pthread_mutex_lock(&log->mutex);
  for (size_t i = 0; i < log->count && found < 0; i++) {
    const struct record *r = &log->records[i];
    if (strcmp(r->component, component) == 0 && strncmp(r->message, prefix, strlen(prefix)) == 0 &&
        (part == NULL || strstr(r->message, part) != NULL)) {
      found = (long)i;
    }
  }
  pthread_mutex_unlock(&log->mutex);
  return found;
}

static lashup_node_t *new_node(lashup_config_t *cfg) {
  lashup_node_t *node = NULL;
  char err[256] = "";
  assert_int_equal(lashup_node_new(&node, cfg, err, sizeof err), LASHUP_OK);
  lashup_config_destroy(cfg);
  return node;
}

static void test_arguments_and_state(void **state) {
  struct node_env *env = *state;
  assert_int_equal(lashup_node_set_log_cb(NULL, on_log, NULL), LASHUP_ERR_INVALID);
  lashup_node_t *node = new_node(node_config(env, "s1", 1, NULL));
  struct log *log = new_log();
  assert_int_equal(lashup_node_set_log_cb(node, on_log, log), LASHUP_OK);
  assert_int_equal(lashup_node_set_log_cb(node, NULL, NULL), LASHUP_OK); /* back to stderr */
  assert_int_equal(lashup_node_set_log_cb(node, on_log, log), LASHUP_OK);
  assert_int_equal(lashup_node_start(node), LASHUP_OK);
  assert_int_equal(lashup_node_set_log_cb(node, on_log, log), LASHUP_ERR_STATE);
  assert_true(strstr(lashup_last_error(), "before start") != NULL);
  lashup_node_destroy(node);
  free_log(log);

  assert_string_equal(lashup_log_level_name(LASHUP_LOG_ERROR), "error");
  assert_string_equal(lashup_log_level_name(LASHUP_LOG_WARN), "warn");
  assert_string_equal(lashup_log_level_name(LASHUP_LOG_INFO), "info");
  assert_string_equal(lashup_log_level_name(LASHUP_LOG_DEBUG), "debug");
  assert_string_equal(lashup_log_level_name(7), "unknown");
}

/* a logs at debug, b at warn; b stops: a says so. Every message of a node
 * comes from one thread that is not the test's, and none after destroy. */
static void test_levels_threads_and_destroy(void **state) {
  struct node_env *env = *state;
  struct log *log_a = new_log();
  struct log *log_b = new_log();

  lashup_config_t *cfg = node_config(env, "la", 1, NULL);
  config_set(cfg, "log.level", "debug");
  lashup_node_t *a = new_node(cfg);
  assert_int_equal(lashup_node_set_log_cb(a, on_log, log_a), LASHUP_OK);
  assert_int_equal(lashup_node_start(a), LASHUP_OK);
  char contact[512];
  node_contact(a, contact, sizeof contact);
  cfg = node_config(env, "lb", 1, contact);
  config_set(cfg, "log.level", "warn");
  lashup_node_t *b = new_node(cfg);
  assert_int_equal(lashup_node_set_log_cb(b, on_log, log_b), LASHUP_OK);
  assert_int_equal(lashup_node_start(b), LASHUP_OK);
  lashup_node_t *both[] = {a, b};
  wait_for_mesh(both, 2);

  ASSERT_EVENTUALLY(find(log_a, "node", "started", "node=la") >= 0, 5000);
  ASSERT_EVENTUALLY(find(log_a, "transport", "peer connected", "peer=lb") >= 0, 5000);
  ASSERT_EVENTUALLY(find(log_a, "membership", "member reachable", "name=lb") >= 0, 5000);
  assert_int_equal(log_a->records[find(log_a, "node", "started", NULL)].level, LASHUP_LOG_INFO);
  assert_int_equal(log_a->records[find(log_a, "transport", "peer connected", NULL)].level, LASHUP_LOG_DEBUG);

  lashup_node_destroy(b);
  pthread_mutex_lock(&log_b->mutex);
  log_b->destroyed = 1;
  pthread_mutex_unlock(&log_b->mutex);
  ASSERT_EVENTUALLY(find(log_a, "membership", "member unreachable", "name=lb") >= 0, 10000);
  assert_int_equal(log_a->records[find(log_a, "membership", "member unreachable", NULL)].level, LASHUP_LOG_WARN);
  assert_true(find(log_a, "transport", "peer disconnected", "peer=lb") >= 0);

  lashup_node_destroy(a);
  pthread_mutex_lock(&log_a->mutex);
  log_a->destroyed = 1;
  pthread_mutex_unlock(&log_a->mutex);
  /* The loop thread logs its stop before destroy returns. */
  assert_true(find(log_a, "node", "stopping", "node=la") >= 0);
  assert_true(find(log_a, "node", "stopped", "node=la") >= 0);
  sleep_ms(200);

  /* b logged at warn: nothing of info or debug (its start included). */
  for (size_t i = 0; i < log_b->count; i++) {
    assert_true(log_b->records[i].level <= LASHUP_LOG_WARN);
  }
  assert_true(find(log_b, "node", "started", NULL) < 0);
  /* One thread per node, never the test's own. */
  const pthread_t self = pthread_self();
  for (size_t i = 0; i < log_a->count; i++) {
    assert_false(pthread_equal(log_a->records[i].thread, self));
    assert_true(pthread_equal(log_a->records[i].thread, log_a->records[0].thread));
  }
  for (size_t i = 0; i < log_b->count; i++) assert_false(pthread_equal(log_b->records[i].thread, self));
  assert_int_equal(log_a->after_destroy, 0);
  assert_int_equal(log_b->after_destroy, 0);
  free_log(log_a);
  free_log(log_b);
}

/* tls = off is a configuration warning; log.level = error silences it. */
static void test_tls_off_warning(void **state) {
  struct node_env *env = *state;
  struct log *warned = new_log();
  struct log *silent = new_log();
  lashup_node_t *a = new_node(node_config(env, "plain1", 0, NULL));
  assert_int_equal(lashup_node_set_log_cb(a, on_log, warned), LASHUP_OK);
  assert_int_equal(lashup_node_start(a), LASHUP_OK);
  lashup_config_t *cfg = node_config(env, "plain2", 0, NULL);
  config_set(cfg, "log.level", "error");
  lashup_node_t *b = new_node(cfg);
  assert_int_equal(lashup_node_set_log_cb(b, on_log, silent), LASHUP_OK);
  assert_int_equal(lashup_node_start(b), LASHUP_OK);
  ASSERT_EVENTUALLY(find(warned, "config", "tls = off", NULL) >= 0, 5000);
  assert_int_equal(warned->records[find(warned, "config", "tls = off", NULL)].level, LASHUP_LOG_WARN);
  lashup_node_destroy(a);
  lashup_node_destroy(b);
  assert_int_equal(silent->count, 0);
  free_log(warned);
  free_log(silent);
}

/* A write that takes a value above kv.value_bytes_warn logs one warning
 * (component "kv", naming the key); later writes of the large value do
 * not repeat it. */
static size_t count_matching(struct log *log, const char *component, const char *part) {
  size_t n = 0;
  pthread_mutex_lock(&log->mutex);
  for (size_t i = 0; i < log->count; i++) {
    if (strcmp(log->records[i].component, component) == 0 && strstr(log->records[i].message, part) != NULL) n++;
  }
  pthread_mutex_unlock(&log->mutex);
  return n;
}

static void test_large_value_warning(void **state) {
  struct node_env *env = *state;
  struct log *log = new_log();
  lashup_config_t *cfg = node_config(env, "big", 0, NULL);
  config_set(cfg, "kv.value_bytes_warn", "2048");
  lashup_node_t *node = new_node(cfg);
  assert_int_equal(lashup_node_set_log_cb(node, on_log, log), LASHUP_OK);
  assert_int_equal(lashup_node_start(node), LASHUP_OK);
  lashup_kv_ops_t *ops = NULL;
  assert_int_equal(lashup_kv_ops_new(&ops), LASHUP_OK);
  char element[64];
  for (int i = 0; i < 100; i++) {
    snprintf(element, sizeof element, "backend-%03d.example:8080", i);
    assert_int_equal(lashup_kv_ops_set_add(ops, "backends", element, strlen(element)), LASHUP_OK);
  }
  /* Small first: no warning. */
  lashup_kv_ops_t *small = NULL;
  assert_int_equal(lashup_kv_ops_new(&small), LASHUP_OK);
  assert_int_equal(lashup_kv_ops_counter_add(small, "n", 1), LASHUP_OK);
  assert_int_equal(lashup_kv_update(node, "vips/big", 8, small, NULL, NULL), LASHUP_OK);
  assert_int_equal(lashup_kv_update(node, "vips/big", 8, ops, NULL, NULL), LASHUP_OK);
  for (int i = 0; i < 5; i++) assert_int_equal(lashup_kv_update(node, "vips/big", 8, small, NULL, NULL), LASHUP_OK);
  ASSERT_EVENTUALLY(count_matching(log, "kv", "vips/big") >= 1, 5000);
  lashup_node_destroy(node);
  assert_int_equal(count_matching(log, "kv", "vips/big"), 1);
  const long i = find(log, "kv", "the value of key", "kv.value_bytes_warn");
  assert_true(i >= 0);
  assert_int_equal(log->records[i].level, LASHUP_LOG_WARN);
  lashup_kv_ops_destroy(ops);
  lashup_kv_ops_destroy(small);
  free_log(log);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_arguments_and_state),
      cmocka_unit_test(test_levels_threads_and_destroy),
      cmocka_unit_test(test_tls_off_warning),
      cmocka_unit_test(test_large_value_warning),
  };
  return cmocka_run_group_tests(tests, node_env_setup, node_env_teardown);
}
