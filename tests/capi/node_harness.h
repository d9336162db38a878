/* What the lashup_node_* suites share: a temporary directory for data dirs,
 * a throwaway PKI, nodes on 127.0.0.1 with port 0, and bounded waits.
 * Every helper asserts with cmocka, so a failed setup fails the test where
 * it happened. Waits poll a condition until a generous deadline and fail if
 * it is never met; a sleep is never an assertion. */
#ifndef LASHUP_TESTS_CAPI_NODE_HARNESS_H
#define LASHUP_TESTS_CAPI_NODE_HARNESS_H

#include <stddef.h>
#include <stdint.h>

#include <lashup/lashup.h>

#include "test_pki.h"

/* How long a cluster gets to converge before a test fails. */
#define CONVERGE_MS 20000

struct node_env {
  struct test_pki pki;
  char dir[TEST_PKI_PATH_MAX]; /* data dirs live below */
  unsigned next_data_dir;
};

/* Group setup and teardown for cmocka: *state becomes a struct node_env. */
int node_env_setup(void** state);
int node_env_teardown(void** state);

/* A new, not yet existing data dir path below env->dir. */
void node_env_data_dir(struct node_env* env, const char* name, char* out, size_t len);

/* Issues (or re-issues) the certificate of `name`, signed by the cluster CA. */
struct test_tls_files node_env_certificate(struct node_env* env, const char* name);

/* A configuration for `name` listening on 127.0.0.1:0 with its own data dir,
 * TLS with a certificate naming it (tls = 0: tls = off), and contacts
 * (NULL: none). */
lashup_config_t* node_config(struct node_env* env, const char* name, int tls, const char* contacts);
void config_set(lashup_config_t* cfg, const char* key, const char* value);

/* lashup_node_new + lashup_node_start, asserting both succeed; destroys cfg. */
lashup_node_t* start_node_from(lashup_config_t* cfg);
/* A TLS node made with node_config and started. */
lashup_node_t* start_node(struct node_env* env, const char* name, const char* contacts);

/* "name@host:port" of a started node, into out. */
void node_contact(lashup_node_t* node, char* out, size_t len);

/* The stat `name` of the node's latest snapshot (asserts it exists). */
uint64_t node_stat(lashup_node_t* node, const char* name);

/* The state of `name` in the node's latest snapshot, or -1 if not a member. */
int member_state(lashup_node_t* node, const char* name);

/* Asserts that within CONVERGE_MS every node sees every other reachable. */
void wait_for_mesh(lashup_node_t* const* nodes, size_t count);
/* Starts "a", then "b" with a as its contact, waits until they reach each
 * other; returns a and stores b in *b. */
lashup_node_t* start_pair(struct node_env* env, lashup_node_t** b);

/* Takes events until one of `type` about `about` (NULL: any) with `state`
 * (-1: any) and `request_id` (0: any) arrives; returns it (destroy it), or
 * NULL after timeout_ms. Other events are discarded. */
lashup_event_t* wait_for_event(lashup_node_t* node, int type, const char* about, int state, uint64_t request_id,
                               int timeout_ms);

int64_t now_ms(void);
void sleep_ms(int ms);

/* Fails the test unless cond becomes true within timeout_ms (polled every
 * 10 ms). */
#define ASSERT_EVENTUALLY(cond, timeout_ms)                                                 \
  do {                                                                                      \
    const int64_t deadline_ = now_ms() + (timeout_ms);                                      \
    while (!(cond)) {                                                                       \
      if (now_ms() > deadline_) fail_msg("not within %d ms: %s", (int)(timeout_ms), #cond); \
      sleep_ms(10);                                                                         \
    }                                                                                       \
  } while (0)

#endif
