/* The replicated key-value store through the C API: operation lists with
 * nested paths, update and get of every field type, JSON rendering, keys by
 * prefix and by glob, the write errors (absent field, compare-and-set
 * conflict, another node's namespace, value limit), delete, argument and
 * state checks, and a write on one node read on another.
 *
 * Replication is waited for with ASSERT_EVENTUALLY over CONVERGE_MS; no
 * assertion measures time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <time.h>

#include "node_harness.h"

#define KEY(s) (s), strlen(s)

static void ok(int rc, const char* what) {
  if (rc != LASHUP_OK) fail_msg("%s: %s (%s)", what, lashup_strerror(rc), lashup_last_error());
}

static lashup_kv_ops_t* new_ops(void) {
  lashup_kv_ops_t* ops = NULL;
  ok(lashup_kv_ops_new(&ops), "lashup_kv_ops_new");
  return ops;
}

/* The field of value named `name` with `type`, or -1. */
static long field_index(const lashup_kv_value_t* value, const char* name, int type) {
  for (size_t i = 0; i < lashup_kv_value_field_count(value); ++i) {
    size_t len = 0;
    const char* n = lashup_kv_value_field_name(value, i, &len);
    if (len == strlen(name) && memcmp(n, name, len) == 0 && lashup_kv_value_field_type(value, i) == type) return (long)i;
  }
  return -1;
}

static size_t must_find(const lashup_kv_value_t* value, const char* name, int type) {
  const long i = field_index(value, name, type);
  if (i < 0) fail_msg("no field %s of type %d", name, type);
  return (size_t)i;
}

/* The value's JSON, into out. */
static void json_of(const lashup_kv_value_t* value, char* out, size_t len) {
  char* json = NULL;
  ok(lashup_kv_value_json(value, &json), "lashup_kv_value_json");
  snprintf(out, len, "%s", json);
  lashup_free(json);
}

/* One update of `key` with one register write of `text` at `timestamp`. */
static int write_register(lashup_node_t* node, const char* key, const char* path, const char* text, uint64_t timestamp) {
  lashup_kv_ops_t* ops = new_ops();
  ok(lashup_kv_ops_register_set(ops, path, text, strlen(text), timestamp), "register_set");
  const int rc = lashup_kv_update(node, KEY(key), ops, NULL, NULL);
  lashup_kv_ops_destroy(ops);
  return rc;
}

static int add_to_counter(lashup_node_t* node, const char* key, const char* path, int64_t amount) {
  lashup_kv_ops_t* ops = new_ops();
  ok(lashup_kv_ops_counter_add(ops, path, amount), "counter_add");
  const int rc = lashup_kv_update(node, KEY(key), ops, NULL, NULL);
  lashup_kv_ops_destroy(ops);
  return rc;
}

/* Checks the value written by every_field_type_round_trips. */
static void check_every_field_type(const lashup_kv_value_t* v) {
  /* "off", enabled then disabled, holds nothing and is not listed. */
  assert_int_equal(lashup_kv_value_field_count(v), 5);
  assert_int_equal(field_index(v, "off", LASHUP_KV_FLAG), -1);
  /* Sorted by name, then type. */
  size_t len = 0;
  assert_string_equal(lashup_kv_value_field_name(v, 0, &len), "a");
  assert_int_equal(len, 1);
  assert_int_equal(lashup_kv_value_field_type(v, 0), LASHUP_KV_MAP);
  assert_int_equal(lashup_kv_value_counter(v, must_find(v, "hits", LASHUP_KV_COUNTER)), -2);
  uint64_t timestamp = 0;
  const void* color = lashup_kv_value_register(v, must_find(v, "color", LASHUP_KV_REGISTER), &len, &timestamp);
  assert_int_equal(len, 3);
  assert_memory_equal(color, "red", 3);
  assert_int_equal(timestamp, 7);
  assert_int_equal(lashup_kv_value_flag(v, must_find(v, "on", LASHUP_KV_FLAG)), 1);
  const size_t tags = must_find(v, "tags", LASHUP_KV_SET);
  assert_int_equal(lashup_kv_value_set_size(v, tags), 2);
  assert_memory_equal(lashup_kv_value_set_element(v, tags, 0, &len), "\0x", 2); /* bytes, sorted */
  assert_int_equal(len, 2);
  assert_memory_equal(lashup_kv_value_set_element(v, tags, 1, &len), "blue", 4);
  /* Nested maps: a/f and a/b/{n,s}. */
  const lashup_kv_value_t* a = lashup_kv_value_map(v, 0);
  assert_non_null(a);
  assert_int_equal(lashup_kv_value_field_count(a), 2);
  assert_int_equal(lashup_kv_value_flag(a, must_find(a, "f", LASHUP_KV_FLAG)), 1);
  const lashup_kv_value_t* b = lashup_kv_value_map(a, must_find(a, "b", LASHUP_KV_MAP));
  assert_non_null(b);
  assert_int_equal(lashup_kv_value_counter(b, must_find(b, "n", LASHUP_KV_COUNTER)), 12);
  assert_int_equal(lashup_kv_value_set_size(b, must_find(b, "s", LASHUP_KV_SET)), 1);
  /* Accessors of another type read as nothing. */
  assert_null(lashup_kv_value_map(v, must_find(v, "hits", LASHUP_KV_COUNTER)));
  assert_int_equal(lashup_kv_value_counter(v, 0), 0);
  assert_null(lashup_kv_value_register(v, 0, &len, &timestamp));
  assert_int_equal(len, 0);
  assert_int_equal(timestamp, 0);
  assert_null(lashup_kv_value_set_element(v, tags, 2, &len));
  assert_null(lashup_kv_value_field_name(v, 5, &len));
  assert_int_equal(lashup_kv_value_field_type(v, 5), 0);
}

static void every_field_type_round_trips_through_update_and_get(void** state) {
  lashup_node_t* node = start_node(*state, "a", NULL);
  lashup_kv_ops_t* ops = new_ops();
  ok(lashup_kv_ops_counter_add(ops, "hits", 3), "counter_add");
  ok(lashup_kv_ops_counter_add(ops, "hits", -5), "counter_add");
  ok(lashup_kv_ops_register_set(ops, "color", "red", 3, 7), "register_set");
  ok(lashup_kv_ops_flag_enable(ops, "on"), "flag_enable");
  ok(lashup_kv_ops_flag_enable(ops, "off"), "flag_enable");
  ok(lashup_kv_ops_flag_disable(ops, "off"), "flag_disable");
  ok(lashup_kv_ops_set_add(ops, "tags", "blue", 4), "set_add");
  ok(lashup_kv_ops_set_add(ops, "tags", "\0x", 2), "set_add");
  ok(lashup_kv_ops_set_add(ops, "tags", "gone", 4), "set_add");
  ok(lashup_kv_ops_set_remove(ops, "tags", "gone", 4), "set_remove");
  ok(lashup_kv_ops_counter_add(ops, "a/b/n", 5), "counter_add");
  ok(lashup_kv_ops_flag_enable(ops, "a/f"), "flag_enable");
  ok(lashup_kv_ops_set_add(ops, "a/b/s", "x", 1), "set_add");
  ok(lashup_kv_ops_counter_add(ops, "a/b/n", 7), "counter_add");
  assert_int_equal(lashup_kv_ops_count(ops), 14);

  lashup_kv_value_t* written = NULL;
  ok(lashup_kv_update(node, KEY("k"), ops, NULL, &written), "lashup_kv_update");
  check_every_field_type(written);
  lashup_kv_value_t* read = NULL;
  ok(lashup_kv_get(node, KEY("k"), &read), "lashup_kv_get");
  check_every_field_type(read);
  lashup_kv_value_destroy(written);
  lashup_kv_value_destroy(read);
  lashup_kv_ops_destroy(ops);
  lashup_node_destroy(node);
}

static void operations_apply_in_the_order_they_were_added_around_a_removed_map(void** state) {
  lashup_node_t* node = start_node(*state, "a", NULL);
  /* m/x is created, m removed, then m/y created: m ends with y alone. Had
   * m/y been merged into the first update of m, it would have been removed. */
  lashup_kv_ops_t* ops = new_ops();
  ok(lashup_kv_ops_counter_add(ops, "m/x", 1), "counter_add");
  ok(lashup_kv_ops_remove_field(ops, "m", LASHUP_KV_MAP), "remove_field");
  ok(lashup_kv_ops_counter_add(ops, "m/y", 2), "counter_add");
  lashup_kv_value_t* v = NULL;
  ok(lashup_kv_update(node, KEY("k"), ops, NULL, &v), "lashup_kv_update");
  char json[256];
  json_of(v, json, sizeof json);
  assert_string_equal(json, "{\"m\":{\"map\":{\"y\":{\"counter\":2}}}}");
  lashup_kv_value_destroy(v);
  lashup_kv_ops_destroy(ops);
  lashup_node_destroy(node);
}

static void a_value_renders_as_json_with_bytes_that_are_not_utf8_escaped(void** state) {
  lashup_node_t* node = start_node(*state, "a", NULL);
  lashup_kv_ops_t* ops = new_ops();
  ok(lashup_kv_ops_counter_add(ops, "hits", 3), "counter_add");
  ok(lashup_kv_ops_set_add(ops, "hits", "b", 1), "set_add");
  ok(lashup_kv_ops_set_add(ops, "hits", "a", 1), "set_add");
  ok(lashup_kv_ops_register_set(ops, "color", "r\"e\\d\n", 6, 1), "register_set");
  /* "é" in UTF-8 stays; a lone 0xff and a truncated sequence are escaped. */
  ok(lashup_kv_ops_register_set(ops, "bytes", "\xc3\xa9\xff\xe2\x82", 5, 1), "register_set");
  ok(lashup_kv_ops_flag_enable(ops, "sub/on"), "flag_enable");
  lashup_kv_value_t* v = NULL;
  ok(lashup_kv_update(node, KEY("k"), ops, NULL, &v), "lashup_kv_update");
  char json[512];
  json_of(v, json, sizeof json);
  assert_string_equal(json,
                      "{\"bytes\":{\"register\":\"\xc3\xa9\\u00ff\\u00e2\\u0082\"},"
                      "\"color\":{\"register\":\"r\\\"e\\\\d\\n\"},"
                      "\"hits\":{\"counter\":3,\"set\":[\"a\",\"b\"]},"
                      "\"sub\":{\"map\":{\"on\":{\"flag\":true}}}}");
  /* A nested map renders alone too. */
  json_of(lashup_kv_value_map(v, must_find(v, "sub", LASHUP_KV_MAP)), json, sizeof json);
  assert_string_equal(json, "{\"on\":{\"flag\":true}}");
  lashup_kv_value_destroy(v);
  lashup_kv_ops_destroy(ops);
  lashup_node_destroy(node);
}

/* Copies the listed keys as strings into out (at most max). */
static size_t list_keys(lashup_node_t* node, const char* pattern, int glob, char out[][32], size_t max) {
  lashup_kv_keys_t* keys = NULL;
  ok(lashup_kv_keys(node, pattern, glob, &keys), "lashup_kv_keys");
  const size_t count = lashup_kv_keys_count(keys);
  for (size_t i = 0; i < count && i < max; ++i) {
    size_t len = 0;
    const char* key = lashup_kv_keys_at(keys, i, &len);
    assert_int_equal(strlen(key), len);
    snprintf(out[i], 32, "%s", key);
  }
  size_t len = 1;
  assert_null(lashup_kv_keys_at(keys, count, &len));
  assert_int_equal(len, 0);
  lashup_kv_keys_destroy(keys);
  return count;
}

/* The original's kv_SUITE fetch_keys. */
static void keys_are_listed_by_prefix_and_by_glob(void** state) {
  lashup_node_t* node = start_node(*state, "a", NULL);
  ok(add_to_counter(node, "a/b/c", "n", 1), "write a/b/c");
  ok(add_to_counter(node, "a/b/d", "n", 1), "write a/b/d");
  ok(add_to_counter(node, "x/y/z", "n", 1), "write x/y/z");
  char keys[8][32];
  assert_int_equal(list_keys(node, "a/b/*", 1, keys, 8), 2);
  assert_string_equal(keys[0], "a/b/c");
  assert_string_equal(keys[1], "a/b/d");
  assert_int_equal(list_keys(node, "a/", 0, keys, 8), 2);
  assert_string_equal(keys[0], "a/b/c");
  assert_string_equal(keys[1], "a/b/d");
  assert_int_equal(list_keys(node, "", 0, keys, 8), 3);
  assert_string_equal(keys[2], "x/y/z");
  assert_int_equal(list_keys(node, "**/z", 1, keys, 8), 1);
  assert_string_equal(keys[0], "x/y/z");
  assert_int_equal(list_keys(node, "nothing/", 0, keys, 8), 0);
  lashup_node_destroy(node);
}

/* The original's remove_forgiving, inverted: removing what is absent is an
 * error and changes nothing. */
static void removing_an_absent_field_fails_and_changes_nothing(void** state) {
  lashup_node_t* node = start_node(*state, "a", NULL);
  ok(add_to_counter(node, "k", "n", 4), "write");
  lashup_kv_value_t* before = NULL;
  ok(lashup_kv_get(node, KEY("k"), &before), "get");
  char before_json[128], after_json[128];
  json_of(before, before_json, sizeof before_json);

  lashup_kv_ops_t* ops = new_ops();
  ok(lashup_kv_ops_counter_add(ops, "n", 1), "counter_add"); /* would apply, but the batch fails */
  ok(lashup_kv_ops_remove_field(ops, "absent", LASHUP_KV_FLAG), "remove_field");
  assert_int_equal(lashup_kv_update(node, KEY("k"), ops, NULL, NULL), LASHUP_ERR_NOT_FOUND);
  assert_true(strlen(lashup_last_error()) > 0);
  lashup_kv_ops_destroy(ops);

  /* The builder names a field by (name, type), so an operation of another
   * type than its field cannot be built (LASHUP_ERR_TYPE is unreachable
   * through it): removing "n" as a set addresses another, absent, field. */
  ops = new_ops();
  ok(lashup_kv_ops_remove_field(ops, "n", LASHUP_KV_SET), "remove_field");
  assert_int_equal(lashup_kv_update(node, KEY("k"), ops, NULL, NULL), LASHUP_ERR_NOT_FOUND);
  lashup_kv_ops_destroy(ops);
  ops = new_ops();
  ok(lashup_kv_ops_set_remove(ops, "s", "x", 1), "set_remove");
  assert_int_equal(lashup_kv_update(node, KEY("k"), ops, NULL, NULL), LASHUP_ERR_NOT_FOUND);
  lashup_kv_ops_destroy(ops);

  lashup_kv_value_t* after = NULL;
  ok(lashup_kv_get(node, KEY("k"), &after), "get");
  json_of(after, after_json, sizeof after_json);
  assert_string_equal(before_json, after_json);
  assert_string_equal(after_json, "{\"n\":{\"counter\":4}}");
  lashup_kv_value_destroy(before);
  lashup_kv_value_destroy(after);
  lashup_node_destroy(node);
}

static void a_stale_context_makes_the_update_a_conflict(void** state) {
  lashup_node_t* node = start_node(*state, "a", NULL);
  ok(write_register(node, "k", "color", "red", 1), "write");
  lashup_kv_value_t* read = NULL;
  ok(lashup_kv_get(node, KEY("k"), &read), "get");
  lashup_kv_context_t* stale = NULL;
  ok(lashup_kv_value_context(read, &stale), "context");
  /* A nested map has no context of its own. */
  lashup_kv_context_t* none = (lashup_kv_context_t*)1;
  ok(write_register(node, "k", "m/x", "1", 1), "write");
  lashup_kv_value_t* nested_read = NULL;
  ok(lashup_kv_get(node, KEY("k"), &nested_read), "get");
  assert_int_equal(lashup_kv_value_context(lashup_kv_value_map(nested_read, must_find(nested_read, "m", LASHUP_KV_MAP)),
                                           &none),
                   LASHUP_ERR_INVALID);
  assert_null(none);

  lashup_kv_ops_t* ops = new_ops();
  ok(lashup_kv_ops_register_set(ops, "color", "blue", 4, 2), "register_set");
  assert_int_equal(lashup_kv_update(node, KEY("k"), ops, stale, NULL), LASHUP_ERR_CONFLICT);
  lashup_kv_context_t* fresh = NULL;
  ok(lashup_kv_value_context(nested_read, &fresh), "context");
  lashup_kv_value_t* written = NULL;
  ok(lashup_kv_update(node, KEY("k"), ops, fresh, &written), "update with the fresh context");
  size_t len = 0;
  assert_memory_equal(lashup_kv_value_register(written, must_find(written, "color", LASHUP_KV_REGISTER), &len, NULL),
                      "blue", 4);
  /* The context returned with a write is the key's current one. */
  lashup_kv_context_t* after_write = NULL;
  ok(lashup_kv_value_context(written, &after_write), "context");
  assert_int_equal(lashup_kv_update(node, KEY("k"), ops, fresh, NULL), LASHUP_ERR_CONFLICT);
  ok(lashup_kv_update(node, KEY("k"), ops, after_write, NULL), "update with the written context");
  lashup_kv_context_destroy(stale);
  lashup_kv_context_destroy(fresh);
  lashup_kv_context_destroy(after_write);
  lashup_kv_value_destroy(read);
  lashup_kv_value_destroy(nested_read);
  lashup_kv_value_destroy(written);
  lashup_kv_ops_destroy(ops);
  lashup_node_destroy(node);
}

static void only_the_owner_writes_its_namespace(void** state) {
  lashup_node_t* node = start_node(*state, "a", NULL);
  assert_int_equal(add_to_counter(node, "nodes/other/x", "n", 1), LASHUP_ERR_PERMISSION);
  assert_true(strlen(lashup_last_error()) > 0);
  lashup_kv_value_t* v = (lashup_kv_value_t*)1;
  assert_int_equal(lashup_kv_get(node, KEY("nodes/other/x"), &v), LASHUP_ERR_NOT_FOUND);
  assert_null(v);
  ok(add_to_counter(node, "nodes/a/x", "n", 1), "write to its own namespace");
  lashup_node_destroy(node);
}

static void a_value_over_the_limit_is_refused(void** state) {
  lashup_config_t* cfg = node_config(*state, "a", 1, NULL);
  config_set(cfg, "kv.value_bytes_max", "1024");
  lashup_node_t* node = start_node_from(cfg);
  char big[2048];
  memset(big, 'x', sizeof big);
  lashup_kv_ops_t* ops = new_ops();
  ok(lashup_kv_ops_register_set(ops, "r", big, sizeof big, 1), "register_set");
  assert_int_equal(lashup_kv_update(node, KEY("k"), ops, NULL, NULL), LASHUP_ERR_TOO_LARGE);
  lashup_kv_value_t* v = NULL;
  assert_int_equal(lashup_kv_get(node, KEY("k"), &v), LASHUP_ERR_NOT_FOUND);
  lashup_kv_ops_destroy(ops);
  ops = new_ops();
  ok(lashup_kv_ops_register_set(ops, "r", big, 100, 1), "register_set");
  ok(lashup_kv_update(node, KEY("k"), ops, NULL, NULL), "a value under the limit");
  lashup_kv_ops_destroy(ops);
  lashup_node_destroy(node);
}

static void a_deleted_key_reads_as_absent(void** state) {
  lashup_node_t* node = start_node(*state, "a", NULL);
  ok(write_register(node, "k", "color", "red", 1), "write");
  ok(lashup_kv_delete(node, KEY("k")), "delete");
  lashup_kv_value_t* v = NULL;
  assert_int_equal(lashup_kv_get(node, KEY("k"), &v), LASHUP_ERR_NOT_FOUND);
  assert_null(v);
  assert_int_equal(lashup_kv_delete(node, KEY("k")), LASHUP_ERR_NOT_FOUND);
  assert_int_equal(lashup_kv_delete(node, KEY("never")), LASHUP_ERR_NOT_FOUND);
  char keys[1][32];
  assert_int_equal(list_keys(node, "", 0, keys, 1), 0);
  /* Written again, it is back. */
  ok(write_register(node, "k", "color", "blue", 2), "write");
  ok(lashup_kv_get(node, KEY("k"), &v), "get");
  assert_int_equal(lashup_kv_value_field_count(v), 1);
  lashup_kv_value_destroy(v);
  lashup_node_destroy(node);
}

/* The KV counters reach the stats (refreshed at least once a second). */
static void kv_counters_are_in_the_stats(void** state) {
  lashup_node_t* node = start_node(*state, "a", NULL);
  ok(write_register(node, "k1", "color", "red", 1), "write");
  ok(write_register(node, "k2", "color", "red", 1), "write");
  ok(lashup_kv_delete(node, KEY("k2")), "delete");
  uint64_t keys = 0, updates = 0;
  for (int i = 0; i < 100; ++i) {
    ok(lashup_node_stat(node, "kv.keys", &keys), "kv.keys");
    ok(lashup_node_stat(node, "kv.local_updates", &updates), "kv.local_updates");
    if (keys == 1 && updates == 3) break;
    struct timespec pause = {0, 50 * 1000 * 1000};
    nanosleep(&pause, NULL);
  }
  assert_int_equal(keys, 1);
  assert_int_equal(updates, 3);
  lashup_node_destroy(node);
}

static void bad_paths_are_refused_by_the_adders(void** state) {
  (void)state;
  lashup_kv_ops_t* ops = new_ops();
  const char* bad[] = {"", "/", "a/", "/a", "a//b"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; ++i) {
    assert_int_equal(lashup_kv_ops_counter_add(ops, bad[i], 1), LASHUP_ERR_INVALID);
    assert_int_equal(lashup_kv_ops_flag_enable(ops, bad[i]), LASHUP_ERR_INVALID);
    assert_int_equal(lashup_kv_ops_set_add(ops, bad[i], "x", 1), LASHUP_ERR_INVALID);
  }
  assert_int_equal(lashup_kv_ops_remove_field(ops, "a", 0), LASHUP_ERR_INVALID);
  assert_int_equal(lashup_kv_ops_remove_field(ops, "a", 6), LASHUP_ERR_INVALID);
  assert_int_equal(lashup_kv_ops_set_add(ops, "a", NULL, 1), LASHUP_ERR_INVALID);
  assert_int_equal(lashup_kv_ops_register_set(ops, "a", NULL, 1, 0), LASHUP_ERR_INVALID);
  assert_int_equal(lashup_kv_ops_count(ops), 0);
  /* Empty bytes may be NULL. */
  ok(lashup_kv_ops_set_add(ops, "a", NULL, 0), "set_add of an empty element");
  ok(lashup_kv_ops_register_set(ops, "r", NULL, 0, 1), "register_set of empty bytes");
  assert_int_equal(lashup_kv_ops_count(ops), 2);
  lashup_kv_ops_destroy(ops);
}

static void null_arguments_and_node_states_are_reported(void** state) {
  struct node_env* env = *state;
  assert_int_equal(lashup_kv_ops_new(NULL), LASHUP_ERR_INVALID);
  assert_int_equal(lashup_kv_ops_counter_add(NULL, "a", 1), LASHUP_ERR_INVALID);
  lashup_kv_ops_t* ops = new_ops();
  assert_int_equal(lashup_kv_ops_counter_add(ops, NULL, 1), LASHUP_ERR_INVALID);
  ok(lashup_kv_ops_counter_add(ops, "n", 1), "counter_add");
  lashup_kv_ops_destroy(NULL);
  lashup_kv_value_destroy(NULL);
  lashup_kv_context_destroy(NULL);
  lashup_kv_keys_destroy(NULL);
  assert_int_equal(lashup_kv_ops_count(NULL), 0);
  assert_int_equal(lashup_kv_value_field_count(NULL), 0);
  assert_null(lashup_kv_value_field_name(NULL, 0, NULL));
  assert_int_equal(lashup_kv_value_field_type(NULL, 0), 0);
  assert_int_equal(lashup_kv_value_counter(NULL, 0), 0);
  assert_null(lashup_kv_value_register(NULL, 0, NULL, NULL));
  assert_int_equal(lashup_kv_value_flag(NULL, 0), 0);
  assert_int_equal(lashup_kv_value_set_size(NULL, 0), 0);
  assert_null(lashup_kv_value_set_element(NULL, 0, 0, NULL));
  assert_null(lashup_kv_value_map(NULL, 0));
  assert_int_equal(lashup_kv_keys_count(NULL), 0);
  assert_null(lashup_kv_keys_at(NULL, 0, NULL));
  char* json = NULL;
  assert_int_equal(lashup_kv_value_json(NULL, &json), LASHUP_ERR_INVALID);
  lashup_kv_context_t* context = NULL;
  assert_int_equal(lashup_kv_value_context(NULL, &context), LASHUP_ERR_INVALID);
  lashup_kv_value_t* v = NULL;
  lashup_kv_keys_t* keys = NULL;
  assert_int_equal(lashup_kv_update(NULL, KEY("k"), ops, NULL, NULL), LASHUP_ERR_INVALID);
  assert_int_equal(lashup_kv_delete(NULL, KEY("k")), LASHUP_ERR_INVALID);
  assert_int_equal(lashup_kv_get(NULL, KEY("k"), &v), LASHUP_ERR_INVALID);
  assert_int_equal(lashup_kv_keys(NULL, "", 0, &keys), LASHUP_ERR_INVALID);

  lashup_node_t* node = NULL;
  char errbuf[256];
  lashup_config_t* cfg = node_config(env, "a", 1, NULL);
  ok(lashup_node_new(&node, cfg, errbuf, sizeof errbuf), "lashup_node_new");
  lashup_config_destroy(cfg);
  /* Before start: writes are refused like every command, reads like every read. */
  assert_int_equal(lashup_kv_update(node, KEY("k"), ops, NULL, NULL), LASHUP_ERR_CLOSED);
  assert_int_equal(lashup_kv_delete(node, KEY("k")), LASHUP_ERR_CLOSED);
  assert_int_equal(lashup_kv_get(node, KEY("k"), &v), LASHUP_ERR_STATE);
  assert_int_equal(lashup_kv_keys(node, "", 0, &keys), LASHUP_ERR_STATE);
  ok(lashup_node_start(node), "lashup_node_start");

  assert_int_equal(lashup_kv_update(node, KEY("k"), NULL, NULL, NULL), LASHUP_ERR_INVALID);
  assert_int_equal(lashup_kv_update(node, NULL, 1, ops, NULL, NULL), LASHUP_ERR_INVALID);
  assert_int_equal(lashup_kv_update(node, "", 0, ops, NULL, NULL), LASHUP_ERR_INVALID); /* empty key */
  assert_int_equal(lashup_kv_get(node, KEY("k"), NULL), LASHUP_ERR_INVALID);
  assert_int_equal(lashup_kv_get(node, "", 0, &v), LASHUP_ERR_INVALID);
  assert_int_equal(lashup_kv_keys(node, NULL, 0, &keys), LASHUP_ERR_INVALID);
  assert_int_equal(lashup_kv_keys(node, "", 0, NULL), LASHUP_ERR_INVALID);
  char long_key[4097];
  memset(long_key, 'k', sizeof long_key);
  assert_int_equal(lashup_kv_update(node, long_key, sizeof long_key, ops, NULL, NULL), LASHUP_ERR_TOO_LARGE);
  ok(lashup_kv_update(node, long_key, sizeof long_key - 1, ops, NULL, NULL), "a key of 4096 bytes");
  /* A value read stays valid after the node is gone. */
  ok(lashup_kv_get(node, long_key, sizeof long_key - 1, &v), "get");
  assert_int_equal(lashup_node_stop(node), LASHUP_OK);
  assert_int_equal(lashup_kv_update(node, KEY("k"), ops, NULL, NULL), LASHUP_ERR_CLOSED);
  assert_int_equal(lashup_kv_delete(node, KEY("k")), LASHUP_ERR_CLOSED);
  lashup_kv_value_t* after = NULL;
  assert_int_equal(lashup_kv_get(node, KEY("k"), &after), LASHUP_ERR_CLOSED);
  assert_int_equal(lashup_kv_keys(node, "", 0, &keys), LASHUP_ERR_CLOSED);
  lashup_node_destroy(node);
  assert_int_equal(lashup_kv_value_counter(v, must_find(v, "n", LASHUP_KV_COUNTER)), 1);
  lashup_kv_value_destroy(v);
  lashup_kv_ops_destroy(ops);
}

static void a_write_on_one_node_is_read_on_the_other(void** state) {
  lashup_node_t* b = NULL;
  lashup_node_t* a = start_pair(*state, &b);
  ok(write_register(a, "shared/color", "color", "red", 1), "write on a");
  ok(add_to_counter(b, "shared/count", "n", 2), "write on b");
  lashup_kv_value_t* v = NULL;
  ASSERT_EVENTUALLY(lashup_kv_get(b, KEY("shared/color"), &v) == LASHUP_OK, CONVERGE_MS);
  size_t len = 0;
  assert_memory_equal(lashup_kv_value_register(v, must_find(v, "color", LASHUP_KV_REGISTER), &len, NULL), "red", 3);
  lashup_kv_value_destroy(v);
  ASSERT_EVENTUALLY(lashup_kv_get(a, KEY("shared/count"), &v) == LASHUP_OK, CONVERGE_MS);
  assert_int_equal(lashup_kv_value_counter(v, must_find(v, "n", LASHUP_KV_COUNTER)), 2);
  lashup_kv_value_destroy(v);
  lashup_node_destroy(a);
  lashup_node_destroy(b);
}

/* Readers on API threads read the store while the loop thread applies local
 * writes and peers' deltas (the reader lock; run under ThreadSanitizer). */
struct reader {
  lashup_node_t* node;
  atomic_int stop;
  atomic_int reads;
  atomic_int failures;
};

static void* read_until_stopped(void* arg) {
  struct reader* r = arg;
  while (!atomic_load(&r->stop)) {
    lashup_kv_value_t* v = NULL;
    const int rc = lashup_kv_get(r->node, KEY("c"), &v);
    if (rc != LASHUP_OK && rc != LASHUP_ERR_NOT_FOUND) atomic_fetch_add(&r->failures, 1);
    lashup_kv_value_destroy(v);
    lashup_kv_keys_t* keys = NULL;
    if (lashup_kv_keys(r->node, "", 0, &keys) != LASHUP_OK) atomic_fetch_add(&r->failures, 1);
    lashup_kv_keys_destroy(keys);
    atomic_fetch_add(&r->reads, 1);
  }
  return NULL;
}

static int64_t counter_of(lashup_node_t* node, const char* key) {
  lashup_kv_value_t* v = NULL;
  if (lashup_kv_get(node, KEY(key), &v) != LASHUP_OK) return -1;
  const long i = field_index(v, "n", LASHUP_KV_COUNTER);
  const int64_t n = i < 0 ? -1 : lashup_kv_value_counter(v, (size_t)i);
  lashup_kv_value_destroy(v);
  return n;
}

static void reads_run_alongside_local_and_replicated_writes(void** state) {
  lashup_node_t* b = NULL;
  lashup_node_t* a = start_pair(*state, &b);
  struct reader readers[2] = {{.node = a}, {.node = a}};
  pthread_t threads[2];
  for (int i = 0; i < 2; ++i) assert_int_equal(pthread_create(&threads[i], NULL, read_until_stopped, &readers[i]), 0);
  for (int i = 0; i < 100; ++i) {
    ok(add_to_counter(a, "c", "n", 1), "write on a");
    ok(add_to_counter(b, "c", "n", 1), "write on b");
  }
  ASSERT_EVENTUALLY(counter_of(a, "c") == 200, CONVERGE_MS);
  ASSERT_EVENTUALLY(counter_of(b, "c") == 200, CONVERGE_MS);
  for (int i = 0; i < 2; ++i) {
    atomic_store(&readers[i].stop, 1);
    assert_int_equal(pthread_join(threads[i], NULL), 0);
    assert_int_equal(atomic_load(&readers[i].failures), 0);
    assert_true(atomic_load(&readers[i].reads) > 0);
  }
  lashup_node_destroy(a);
  lashup_node_destroy(b);
}

/* A KV event copied out of its event. */
struct kv_event {
  int type;
  uint64_t subscription;
  char key[64];
  int initial;
  int has_value;
  char color[16]; /* the register "color", if any */
};

/* The next KV event of node (other events are discarded), waiting up to
 * CONVERGE_MS; fails the test if none comes. */
static struct kv_event next_kv_event(lashup_node_t* node) {
  const int64_t deadline = now_ms() + CONVERGE_MS;
  for (;;) {
    lashup_event_t* ev = NULL;
    const int rc = lashup_node_poll(node, &ev, 100);
    if (rc == LASHUP_OK) {
      const int type = lashup_event_type(ev);
      if (type == LASHUP_EVENT_KV_CHANGED || type == LASHUP_EVENT_KV_DUMP_DONE) {
        struct kv_event out;
        memset(&out, 0, sizeof out);
        out.type = type;
        out.subscription = lashup_event_subscription(ev);
        size_t len = 0;
        const void* key = lashup_event_key(ev, &len);
        if (type == LASHUP_EVENT_KV_CHANGED) {
          assert_non_null(key);
          memcpy(out.key, key, len < sizeof out.key - 1 ? len : sizeof out.key - 1);
        } else {
          assert_null(key);
          assert_int_equal(len, 0);
        }
        out.initial = lashup_event_state(ev);
        const lashup_kv_value_t* v = lashup_event_kv_value(ev);
        out.has_value = v != NULL;
        const long i = v == NULL ? -1 : field_index(v, "color", LASHUP_KV_REGISTER);
        if (i >= 0) {
          const void* color = lashup_kv_value_register(v, (size_t)i, &len, NULL);
          memcpy(out.color, color, len < sizeof out.color - 1 ? len : sizeof out.color - 1);
        }
        lashup_kv_value_destroy((lashup_kv_value_t*)v); /* the event owns it: a no-op */
        lashup_event_destroy(ev);
        return out;
      }
      lashup_event_destroy(ev);
    } else if (rc != LASHUP_ERR_AGAIN) {
      fail_msg("lashup_node_poll: %s", lashup_strerror(rc));
    }
    if (now_ms() > deadline) fail_msg("no KV event within %d ms", CONVERGE_MS);
  }
}

/* Writes the marker key (covered by `marker` only) and takes KV events until
 * the marker's change arrives; returns how many events of `subscription`
 * came before it, the last of which is stored in *last. A change of a key
 * written before the marker is queued no later than the marker's: per
 * coalescing window in key order, and "zz/" sorts after the keys used. */
static int events_before_marker(lashup_node_t* node, uint64_t marker, uint64_t subscription, struct kv_event* last) {
  ok(add_to_counter(node, "zz/marker", "n", 1), "write the marker");
  int count = 0;
  for (;;) {
    const struct kv_event e = next_kv_event(node);
    if (e.subscription == marker && e.type == LASHUP_EVENT_KV_CHANGED && strcmp(e.key, "zz/marker") == 0) return count;
    if (e.subscription == subscription) {
      ++count;
      if (last != NULL) *last = e;
    }
  }
}

/* The original's kv_SUITE kv_subscribe. */
static void a_subscription_dumps_then_reports_each_change_until_unsubscribed(void** state) {
  lashup_node_t* node = start_node(*state, "a", NULL);
  ok(write_register(node, "tests/color", "color", "red", 1), "write red");
  uint64_t marker = 0, subscription = 0;
  ok(lashup_kv_subscribe(node, "zz/", 0, &marker), "subscribe to the marker");
  struct kv_event e = next_kv_event(node);
  assert_int_equal(e.type, LASHUP_EVENT_KV_DUMP_DONE);
  assert_int_equal(e.subscription, marker);

  ok(lashup_kv_subscribe(node, "tests/*", 1, &subscription), "subscribe");
  assert_true(subscription != marker);
  e = next_kv_event(node);
  assert_int_equal(e.type, LASHUP_EVENT_KV_CHANGED);
  assert_int_equal(e.subscription, subscription);
  assert_string_equal(e.key, "tests/color");
  assert_int_equal(e.initial, 1);
  assert_string_equal(e.color, "red");
  e = next_kv_event(node);
  assert_int_equal(e.type, LASHUP_EVENT_KV_DUMP_DONE);
  assert_int_equal(e.subscription, subscription);

  ok(write_register(node, "tests/color", "color", "blue", 2), "write blue");
  struct kv_event last;
  assert_int_equal(events_before_marker(node, marker, subscription, &last), 1);
  assert_int_equal(last.type, LASHUP_EVENT_KV_CHANGED);
  assert_string_equal(last.key, "tests/color");
  assert_int_equal(last.initial, 0);
  assert_string_equal(last.color, "blue");

  /* A delete is a change without a value. */
  ok(lashup_kv_delete(node, KEY("tests/color")), "delete");
  assert_int_equal(events_before_marker(node, marker, subscription, &last), 1);
  assert_int_equal(last.has_value, 0);

  ok(lashup_kv_unsubscribe(node, subscription), "unsubscribe");
  assert_int_equal(lashup_kv_unsubscribe(node, subscription), LASHUP_ERR_NOT_FOUND);
  ok(write_register(node, "tests/color", "color", "green", 3), "write green");
  assert_int_equal(events_before_marker(node, marker, subscription, NULL), 0);
  lashup_node_destroy(node);
}

static void subscriptions_check_their_arguments_and_the_node_state(void** state) {
  lashup_node_t* node = NULL;
  char errbuf[256];
  lashup_config_t* cfg = node_config(*state, "a", 1, NULL);
  ok(lashup_node_new(&node, cfg, errbuf, sizeof errbuf), "lashup_node_new");
  lashup_config_destroy(cfg);
  uint64_t id = 0;
  assert_int_equal(lashup_kv_subscribe(NULL, "", 0, &id), LASHUP_ERR_INVALID);
  assert_int_equal(lashup_kv_subscribe(node, NULL, 0, &id), LASHUP_ERR_INVALID);
  assert_int_equal(lashup_kv_subscribe(node, "", 0, &id), LASHUP_ERR_CLOSED);
  assert_int_equal(lashup_kv_unsubscribe(node, 1), LASHUP_ERR_CLOSED);
  ok(lashup_node_start(node), "lashup_node_start");
  char long_pattern[4098];
  memset(long_pattern, 'p', sizeof long_pattern - 1);
  long_pattern[sizeof long_pattern - 1] = '\0';
  assert_int_equal(lashup_kv_subscribe(node, long_pattern, 0, &id), LASHUP_ERR_TOO_LARGE);
  ok(lashup_kv_subscribe(node, "", 0, NULL), "subscribe without taking the id");
  assert_int_equal(lashup_kv_unsubscribe(node, 12345), LASHUP_ERR_NOT_FOUND);
  /* Event accessors of other events read as nothing. */
  assert_int_equal(lashup_event_subscription(NULL), 0);
  size_t len = 1;
  assert_null(lashup_event_key(NULL, &len));
  assert_int_equal(len, 0);
  assert_null(lashup_event_kv_value(NULL));
  lashup_event_t* ev = wait_for_event(node, LASHUP_EVENT_KV_DUMP_DONE, NULL, -1, 0, CONVERGE_MS);
  assert_non_null(ev);
  assert_null(lashup_event_kv_value(ev));
  assert_null(lashup_event_payload(ev, NULL));
  lashup_event_destroy(ev);
  assert_int_equal(lashup_node_stop(node), LASHUP_OK);
  assert_int_equal(lashup_kv_subscribe(node, "", 0, &id), LASHUP_ERR_CLOSED);
  lashup_node_destroy(node);
}

/* The event callback runs on the loop thread, which holds the store's lock
 * while it applies an input: a write from it runs at once and a read takes
 * no lock, so neither waits for itself. */
struct callback_kv {
  atomic_int calls;
  atomic_int writes_ok;
  atomic_int reads_ok;
};

static struct callback_kv callback_kv;

static void write_and_read_from_callback(lashup_node_t* node, void* userdata) {
  struct callback_kv* c = userdata;
  if (atomic_fetch_add(&c->calls, 1) > 0) return;
  if (add_to_counter(node, "cb", "n", 1) == LASHUP_OK) atomic_fetch_add(&c->writes_ok, 1);
  lashup_kv_value_t* v = NULL;
  if (lashup_kv_get(node, KEY("cb"), &v) == LASHUP_OK) atomic_fetch_add(&c->reads_ok, 1);
  lashup_kv_value_destroy(v);
}

static void the_event_callback_may_write_and_read_the_store(void** state) {
  struct node_env* env = *state;
  lashup_node_t* node = NULL;
  char errbuf[256];
  lashup_config_t* cfg = node_config(env, "a", 1, NULL);
  ok(lashup_node_new(&node, cfg, errbuf, sizeof errbuf), "lashup_node_new");
  lashup_config_destroy(cfg);
  memset(&callback_kv, 0, sizeof callback_kv);
  ok(lashup_node_set_event_cb(node, write_and_read_from_callback, &callback_kv), "set_event_cb");
  ok(lashup_node_start(node), "lashup_node_start");
  uint64_t id = 0;
  ok(lashup_kv_subscribe(node, "", 0, &id), "subscribe"); /* its dump event makes a callback */
  ASSERT_EVENTUALLY(atomic_load(&callback_kv.calls) > 0, CONVERGE_MS);
  ASSERT_EVENTUALLY(counter_of(node, "cb") == 1, CONVERGE_MS);
  assert_int_equal(atomic_load(&callback_kv.writes_ok), 1);
  assert_int_equal(atomic_load(&callback_kv.reads_ok), 1);
  lashup_node_destroy(node);
}

/* The value an event carries has the key's context: a compare-and-set with
 * it succeeds while the key is unchanged. */
static void the_context_of_an_event_value_is_a_compare_and_set_token(void** state) {
  lashup_node_t* node = start_node(*state, "a", NULL);
  ok(write_register(node, "k", "color", "red", 1), "write");
  ok(lashup_kv_subscribe(node, "k", 0, NULL), "subscribe");
  lashup_event_t* ev = wait_for_event(node, LASHUP_EVENT_KV_CHANGED, NULL, 1, 0, CONVERGE_MS);
  assert_non_null(ev);
  lashup_kv_context_t* context = NULL;
  ok(lashup_kv_value_context(lashup_event_kv_value(ev), &context), "context");
  lashup_event_destroy(ev);
  lashup_kv_ops_t* ops = new_ops();
  ok(lashup_kv_ops_register_set(ops, "color", "blue", 4, 2), "register_set");
  ok(lashup_kv_update(node, KEY("k"), ops, context, NULL), "update with the event's context");
  assert_int_equal(lashup_kv_update(node, KEY("k"), ops, context, NULL), LASHUP_ERR_CONFLICT);
  lashup_kv_context_destroy(context);
  lashup_kv_ops_destroy(ops);
  lashup_node_destroy(node);
}

/* The next KV_UPDATE_DONE event of node (other events are skipped), waiting
 * at most CONVERGE_MS in all. */
struct update_done {
  uint64_t request_id;
  int status;
  char key[64];
  char error[256];
};
static struct update_done next_update_done(lashup_node_t* node) {
  for (int waited = 0; waited < CONVERGE_MS; waited += 100) {
    lashup_event_t* ev = NULL;
    const int rc = lashup_node_poll(node, &ev, 100);
    if (rc == LASHUP_ERR_AGAIN) continue;
    ok(rc, "lashup_node_poll");
    if (lashup_event_type(ev) != LASHUP_EVENT_KV_UPDATE_DONE) {
      /* Only this event carries a status; every other one reports success. */
      assert_int_equal(lashup_event_status(ev), LASHUP_OK);
      assert_string_equal(lashup_event_error(ev), "");
      lashup_event_destroy(ev);
      waited -= 100;
      continue;
    }
    struct update_done done = {.request_id = lashup_event_request_id(ev), .status = lashup_event_status(ev)};
    size_t len = 0;
    const void* key = lashup_event_key(ev, &len);
    assert_non_null(key);
    assert_true(len < sizeof done.key);
    memcpy(done.key, key, len);
    snprintf(done.error, sizeof done.error, "%s", lashup_event_error(ev));
    lashup_event_destroy(ev);
    return done;
  }
  fail_msg("no KV_UPDATE_DONE event within %d ms", CONVERGE_MS);
  struct update_done none = {0};
  return none;
}

static void an_asynchronous_update_completes_through_an_event(void** state) {
  lashup_node_t* node = start_node(*state, "a", NULL);
  lashup_kv_ops_t* ops = new_ops();
  ok(lashup_kv_ops_counter_add(ops, "n", 5), "counter_add");
  uint64_t id = 0;
  ok(lashup_kv_update_async(node, KEY("async/k"), ops, NULL, &id), "update_async");
  assert_true(id != 0);
  struct update_done done = next_update_done(node);
  assert_int_equal(done.request_id, id);
  assert_int_equal(done.status, LASHUP_OK);
  assert_string_equal(done.key, "async/k");
  assert_string_equal(done.error, "");
  /* Completed means applied: the write reads back at once. */
  assert_int_equal(counter_of(node, "async/k"), 5);

  /* A failing write: its event carries the code and the detail, and the
   * store is unchanged. */
  lashup_kv_ops_t* bad = new_ops();
  ok(lashup_kv_ops_counter_add(bad, "n", 1), "counter_add");
  ok(lashup_kv_ops_set_remove(bad, "s", "absent", 6), "set_remove");
  uint64_t bad_id = 0;
  ok(lashup_kv_update_async(node, KEY("async/k"), bad, NULL, &bad_id), "update_async");
  assert_true(bad_id != id);
  done = next_update_done(node);
  assert_int_equal(done.request_id, bad_id);
  assert_int_equal(done.status, LASHUP_ERR_NOT_FOUND);
  assert_true(strlen(done.error) > 0);
  assert_int_equal(counter_of(node, "async/k"), 5);

  /* Another node's namespace. */
  ok(lashup_kv_update_async(node, KEY("nodes/other/k"), ops, NULL, &id), "update_async");
  done = next_update_done(node);
  assert_int_equal(done.status, LASHUP_ERR_PERMISSION);
  lashup_kv_ops_destroy(bad);
  lashup_kv_ops_destroy(ops);
  lashup_node_destroy(node);
}

static void asynchronous_updates_apply_in_order_and_each_completes_once(void** state) {
  lashup_node_t* node = start_node(*state, "a", NULL);
  enum { kWrites = 3000 };
  lashup_kv_ops_t* reg = new_ops();
  uint64_t last = 0;
  int queued = 0;
  int completed = 0;
  while (queued < kWrites) {
    /* The order is checked through the set: write i adds i and removes
     * i - 1, which succeeds only if write i - 1 was applied before. */
    lashup_kv_ops_destroy(reg);
    reg = new_ops();
    char element[16];
    snprintf(element, sizeof element, "%d", queued);
    ok(lashup_kv_ops_counter_add(reg, "n", 1), "counter_add");
    ok(lashup_kv_ops_set_add(reg, "s", element, strlen(element)), "set_add");
    if (queued > 0) {
      char previous[16];
      snprintf(previous, sizeof previous, "%d", queued - 1);
      ok(lashup_kv_ops_set_remove(reg, "s", previous, strlen(previous)), "set_remove");
    }
    uint64_t id = 0;
    const int rc = lashup_kv_update_async(node, KEY("async/burst"), reg, NULL, &id);
    if (rc == LASHUP_ERR_AGAIN) {
      /* The queue is full: take a completion and retry. */
      struct update_done done = next_update_done(node);
      assert_int_equal(done.status, LASHUP_OK);
      ++completed;
      continue;
    }
    ok(rc, "update_async");
    assert_true(id > last);
    last = id;
    ++queued;
  }
  while (completed < kWrites) {
    struct update_done done = next_update_done(node);
    assert_int_equal(done.status, LASHUP_OK);
    ++completed;
  }
  assert_int_equal(counter_of(node, "async/burst"), kWrites);
  lashup_kv_value_t* v = NULL;
  ok(lashup_kv_get(node, KEY("async/burst"), &v), "get");
  const size_t set = must_find(v, "s", LASHUP_KV_SET);
  assert_int_equal(lashup_kv_value_set_size(v, set), 1);
  size_t len = 0;
  const void* element = lashup_kv_value_set_element(v, set, 0, &len);
  char last_element[16];
  snprintf(last_element, sizeof last_element, "%d", kWrites - 1);
  assert_int_equal(len, strlen(last_element));
  assert_memory_equal(element, last_element, len);
  lashup_kv_value_destroy(v);
  /* No more completions than writes. */
  lashup_event_t* ev = NULL;
  while (lashup_node_poll(node, &ev, 200) == LASHUP_OK) {
    assert_int_not_equal(lashup_event_type(ev), LASHUP_EVENT_KV_UPDATE_DONE);
    lashup_event_destroy(ev);
  }
  lashup_kv_ops_destroy(reg);
  lashup_node_destroy(node);
}

static void an_asynchronous_update_checks_its_arguments_before_queueing(void** state) {
  lashup_node_t* node = start_node(*state, "a", NULL);
  lashup_kv_ops_t* ops = new_ops();
  ok(lashup_kv_ops_counter_add(ops, "n", 1), "counter_add");
  uint64_t id = 77;
  assert_int_equal(lashup_kv_update_async(node, KEY("k"), NULL, NULL, &id), LASHUP_ERR_INVALID);
  assert_int_equal(id, 0);
  assert_int_equal(lashup_kv_update_async(NULL, KEY("k"), ops, NULL, &id), LASHUP_ERR_INVALID);
  assert_int_equal(lashup_kv_update_async(node, NULL, 0, ops, NULL, &id), LASHUP_ERR_INVALID);
  assert_int_equal(lashup_kv_update_async(node, "", 0, ops, NULL, &id), LASHUP_ERR_INVALID);
  static char big[5000];
  memset(big, 'k', sizeof big);
  assert_int_equal(lashup_kv_update_async(node, big, sizeof big, ops, NULL, &id), LASHUP_ERR_TOO_LARGE);
  /* The id out-parameter is optional. */
  ok(lashup_kv_update_async(node, KEY("k"), ops, NULL, NULL), "update_async without an id");
  struct update_done done = next_update_done(node);
  assert_int_equal(done.status, LASHUP_OK);
  assert_true(done.request_id != 0);
  /* Nothing was queued for the refused calls. */
  lashup_event_t* ev = NULL;
  while (lashup_node_poll(node, &ev, 200) == LASHUP_OK) {
    assert_int_not_equal(lashup_event_type(ev), LASHUP_EVENT_KV_UPDATE_DONE);
    lashup_event_destroy(ev);
  }
  ok(lashup_node_stop(node), "stop");
  assert_int_equal(lashup_kv_update_async(node, KEY("k"), ops, NULL, &id), LASHUP_ERR_CLOSED);
  assert_string_equal(lashup_event_error(NULL), "");
  assert_int_equal(lashup_event_status(NULL), LASHUP_OK);
  lashup_kv_ops_destroy(ops);
  lashup_node_destroy(node);
}

/* The writes a node made just before it stopped may never have left it (a
 * delta waiting for its batch window, a multicast lost with the process): the
 * node restarts from its data dir and anti-entropy brings the other node to
 * the same values. */
static int replicas_agree(lashup_node_t* a, lashup_node_t* b, int keys) {
  for (int k = 0; k < keys; ++k) {
    char key[16];
    snprintf(key, sizeof key, "late/%d", k);
    if (counter_of(a, key) != counter_of(b, key)) return 0;
  }
  return 1;
}

static void writes_a_stopped_node_never_sent_reach_the_others_after_its_restart(void** state) {
  struct node_env* env = *state;
  lashup_config_t* cfg_a = node_config(env, "a", 0, NULL);
  config_set(cfg_a, "kv.anti_entropy_interval_ms", "200");
  char* data_dir = NULL;
  ok(lashup_config_get(cfg_a, "data_dir", &data_dir), "data_dir");
  lashup_node_t* a = start_node_from(cfg_a);
  char contact[128];
  node_contact(a, contact, sizeof contact);
  lashup_config_t* cfg_b = node_config(env, "b", 0, contact);
  config_set(cfg_b, "kv.anti_entropy_interval_ms", "200");
  lashup_node_t* b = start_node_from(cfg_b);
  lashup_node_t* pair[] = {a, b};
  wait_for_mesh(pair, 2);
  enum { kKeys = 10 };
  for (int i = 0; i < 20 * kKeys; ++i) {
    char key[16];
    snprintf(key, sizeof key, "late/%d", i % kKeys);
    ok(add_to_counter(a, key, "n", 1), "write");
  }
  /* Stopped at once: the last writes' deltas wait for their batch window. */
  ok(lashup_node_stop(a), "stop");
  lashup_node_destroy(a);

  lashup_config_t* again = node_config(env, "a", 0, NULL);
  config_set(again, "data_dir", data_dir);
  config_set(again, "kv.anti_entropy_interval_ms", "200");
  node_contact(b, contact, sizeof contact);
  config_set(again, "contact_nodes", contact);
  lashup_free(data_dir);
  a = start_node_from(again);
  for (int k = 0; k < kKeys; ++k) {
    char key[16];
    snprintf(key, sizeof key, "late/%d", k);
    assert_int_equal(counter_of(a, key), 20);
  }
  ASSERT_EVENTUALLY(replicas_agree(a, b, kKeys), CONVERGE_MS);
  lashup_node_destroy(a);
  lashup_node_destroy(b);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(every_field_type_round_trips_through_update_and_get),
      cmocka_unit_test(operations_apply_in_the_order_they_were_added_around_a_removed_map),
      cmocka_unit_test(a_value_renders_as_json_with_bytes_that_are_not_utf8_escaped),
      cmocka_unit_test(keys_are_listed_by_prefix_and_by_glob),
      cmocka_unit_test(kv_counters_are_in_the_stats),
      cmocka_unit_test(removing_an_absent_field_fails_and_changes_nothing),
      cmocka_unit_test(a_stale_context_makes_the_update_a_conflict),
      cmocka_unit_test(only_the_owner_writes_its_namespace),
      cmocka_unit_test(a_value_over_the_limit_is_refused),
      cmocka_unit_test(a_deleted_key_reads_as_absent),
      cmocka_unit_test(bad_paths_are_refused_by_the_adders),
      cmocka_unit_test(null_arguments_and_node_states_are_reported),
      cmocka_unit_test(a_write_on_one_node_is_read_on_the_other),
      cmocka_unit_test(reads_run_alongside_local_and_replicated_writes),
      cmocka_unit_test(a_subscription_dumps_then_reports_each_change_until_unsubscribed),
      cmocka_unit_test(subscriptions_check_their_arguments_and_the_node_state),
      cmocka_unit_test(the_context_of_an_event_value_is_a_compare_and_set_token),
      cmocka_unit_test(the_event_callback_may_write_and_read_the_store),
      cmocka_unit_test(an_asynchronous_update_completes_through_an_event),
      cmocka_unit_test(asynchronous_updates_apply_in_order_and_each_completes_once),
      cmocka_unit_test(an_asynchronous_update_checks_its_arguments_before_queueing),
      cmocka_unit_test(writes_a_stopped_node_never_sent_reach_the_others_after_its_restart),
  };
  return cmocka_run_group_tests(tests, node_env_setup, node_env_teardown);
}
