#include "node_harness.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
/* TSan reads its default suppressions from the executable, so the one that
 * src/storage/berkeley_db_store.cc defines for libdb's internal lock order
 * does not apply to programs linked with the shared library: the same
 * suppression, for the node suites. */
const char* __tsan_default_suppressions(void);
const char* __tsan_default_suppressions(void) { return "deadlock:libdb-5.3.so\n"; }
#endif
#endif

int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0) {
  }
}

static int remove_entry(const char* path, const struct stat* st, int type, struct FTW* ftw) {
  (void)st;
  (void)type;
  (void)ftw;
  return remove(path);
}

int node_env_setup(void** state) {
  struct node_env* env = calloc(1, sizeof *env);
  if (env == NULL || test_pki_create(&env->pki) != 0) return -1;
  snprintf(env->dir, sizeof env->dir, "%s/data", env->pki.dir);
  if (mkdir(env->dir, 0700) != 0) return -1;
  *state = env;
  return 0;
}

int node_env_teardown(void** state) {
  struct node_env* env = *state;
  if (env == NULL) return 0;
  nftw(env->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
  test_pki_destroy(&env->pki);
  free(env);
  return 0;
}

void node_env_data_dir(struct node_env* env, const char* name, char* out, size_t len) {
  snprintf(out, len, "%s/%s-%u", env->dir, name, env->next_data_dir++);
}

struct test_tls_files node_env_certificate(struct node_env* env, const char* name) {
  struct test_tls_files files;
  assert_int_equal(test_pki_issue(&env->pki, name, 0, &files), 0);
  return files;
}

void config_set(lashup_config_t* cfg, const char* key, const char* value) {
  char errbuf[256] = "";
  if (lashup_config_set(cfg, key, value, errbuf, sizeof errbuf) != LASHUP_OK) fail_msg("config %s: %s", key, errbuf);
}

lashup_config_t* node_config(struct node_env* env, const char* name, int tls, const char* contacts) {
  lashup_config_t* cfg = NULL;
  assert_int_equal(lashup_config_new(&cfg), LASHUP_OK);
  char data_dir[TEST_PKI_PATH_MAX];
  node_env_data_dir(env, name, data_dir, sizeof data_dir);
  config_set(cfg, "node_name", name);
  config_set(cfg, "data_dir", data_dir);
  config_set(cfg, "listen_address", "127.0.0.1:0");
  if (contacts != NULL) config_set(cfg, "contact_nodes", contacts);
  if (tls) {
    const struct test_tls_files files = node_env_certificate(env, name);
    config_set(cfg, "tls.cert_file", files.cert_file);
    config_set(cfg, "tls.key_file", files.key_file);
    config_set(cfg, "tls.ca_file", files.ca_file);
  } else {
    config_set(cfg, "tls", "off");
  }
  return cfg;
}

lashup_node_t* start_node_from(lashup_config_t* cfg) {
  lashup_node_t* node = NULL;
  char errbuf[256] = "";
  const int created = lashup_node_new(&node, cfg, errbuf, sizeof errbuf);
  lashup_config_destroy(cfg);
  if (created != LASHUP_OK) fail_msg("lashup_node_new: %s (%s)", lashup_strerror(created), errbuf);
  const int started = lashup_node_start(node);
  if (started != LASHUP_OK) fail_msg("lashup_node_start: %s (%s)", lashup_strerror(started), lashup_last_error());
  return node;
}

lashup_node_t* start_node(struct node_env* env, const char* name, const char* contacts) {
  return start_node_from(node_config(env, name, 1, contacts));
}

void node_contact(lashup_node_t* node, char* out, size_t len) {
  char* address = NULL;
  assert_int_equal(lashup_node_address(node, &address), LASHUP_OK);
  snprintf(out, len, "%s@%s", lashup_node_name(node), address);
  lashup_free(address);
}

uint64_t node_stat(lashup_node_t* node, const char* name) {
  uint64_t value = 0;
  const int rc = lashup_node_stat(node, name, &value);
  if (rc != LASHUP_OK) fail_msg("stat %s: %s", name, lashup_strerror(rc));
  return value;
}

int member_state(lashup_node_t* node, const char* name) {
  lashup_members_t* members = NULL;
  assert_int_equal(lashup_node_members(node, &members), LASHUP_OK);
  const long index = lashup_members_find(members, name);
  const int state = index < 0 ? -1 : lashup_members_state(members, (size_t)index);
  lashup_members_destroy(members);
  return state;
}

static int sees_all(lashup_node_t* const* nodes, size_t count) {
  for (size_t i = 0; i < count; ++i) {
    for (size_t j = 0; j < count; ++j) {
      int reachable = 0;
      assert_int_equal(lashup_node_reachable(nodes[i], lashup_node_name(nodes[j]), &reachable), LASHUP_OK);
      if (!reachable) return 0;
    }
  }
  return 1;
}

void wait_for_mesh(lashup_node_t* const* nodes, size_t count) {
  ASSERT_EVENTUALLY(sees_all(nodes, count), CONVERGE_MS);
}

lashup_event_t* wait_for_event(lashup_node_t* node, int type, const char* about, int state, uint64_t request_id,
                               int timeout_ms) {
  const int64_t deadline = now_ms() + timeout_ms;
  for (;;) {
    const int64_t left = deadline - now_ms();
    if (left <= 0) return NULL;
    lashup_event_t* ev = NULL;
    const int rc = lashup_node_poll(node, &ev, (int)left);
    if (rc == LASHUP_ERR_AGAIN) continue;
    if (rc != LASHUP_OK) fail_msg("lashup_node_poll: %s", lashup_strerror(rc));
    if (lashup_event_type(ev) == type && (about == NULL || strcmp(lashup_event_node(ev), about) == 0) &&
        (state < 0 || lashup_event_state(ev) == state) &&
        (request_id == 0 || lashup_event_request_id(ev) == request_id)) {
      return ev;
    }
    lashup_event_destroy(ev);
  }
}

lashup_node_t* start_pair(struct node_env* env, lashup_node_t** b) {
  lashup_node_t* a = start_node(env, "a", NULL);
  char contact[256];
  node_contact(a, contact, sizeof contact);
  *b = start_node(env, "b", contact);
  lashup_node_t* nodes[] = {a, *b};
  wait_for_mesh(nodes, 2);
  return a;
}
