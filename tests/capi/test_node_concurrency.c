/* The threading contract of the node API: reads from many threads while the
 * cluster changes, commands from many threads, stop racing pollers, and
 * snapshots and events that outlive the node they came from. Meant to run
 * under the tsan preset as well. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node_harness.h"

#define READERS 8

/* A reader's verdict: the first unexpected result, if any. */
struct verdict {
  atomic_long iterations;
  char error[256];
};

static void record_error(struct verdict* v, const char* what, int rc) {
  if (v->error[0] == '\0') snprintf(v->error, sizeof v->error, "%s: %s", what, lashup_strerror(rc));
}

/* Reads a whole members snapshot and checks what holds in any snapshot:
 * sorted unique names, find agrees, this node at distance 0. */
static void check_members(struct verdict* v, const lashup_members_t* members, const char* self) {
  const size_t count = lashup_members_count(members);
  if (count == 0) record_error(v, "empty snapshot", 0);
  int saw_self = 0;
  for (size_t i = 0; i < count; ++i) {
    const char* name = lashup_members_name(members, i);
    if (i > 0 && strcmp(lashup_members_name(members, i - 1), name) >= 0) record_error(v, "snapshot not sorted", 0);
    if (lashup_members_find(members, name) != (long)i) record_error(v, "find disagrees with the index", 0);
    if (lashup_members_address(members, i)[0] == '\0') record_error(v, "member without an address", 0);
    const int state = lashup_members_state(members, i);
    if (state != LASHUP_REACHABLE && state != LASHUP_UNREACHABLE && state != LASHUP_LEFT) {
      record_error(v, "member state out of range", state);
    }
    size_t len = 0;
    if (lashup_members_metadata(members, i, &len) == NULL) record_error(v, "NULL metadata", 0);
    for (size_t n = 0; n < lashup_members_neighbor_count(members, i); ++n) {
      if (lashup_members_neighbor(members, i, n)[0] == '\0') record_error(v, "empty neighbour name", 0);
    }
    for (size_t n = 0; n < lashup_members_link_report_count(members, i); ++n) {
      if (lashup_members_link_report(members, i, n)[0] == '\0') record_error(v, "empty link report", 0);
    }
    if (strcmp(name, self) == 0) {
      saw_self = 1;
      if (lashup_members_distance(members, i) != 0) record_error(v, "self not at distance 0", 0);
    }
  }
  if (!saw_self) record_error(v, "snapshot without this node", 0);
}

/* ---- readers while the cluster changes -------------------------------------- */

struct hammer {
  lashup_node_t* const* nodes; /* every node; read in turn */
  size_t node_count;
  atomic_int* stop;
  struct verdict verdict;
};

/* Before start a read may say STATE; afterwards it must succeed. */
static int acceptable(int rc) { return rc == LASHUP_OK || rc == LASHUP_ERR_STATE; }

static void* hammer_reads(void* arg) {
  struct hammer* h = arg;
  static const char* const names[] = {"a", "b", "c", "nobody"};
  for (long i = 0; !atomic_load(h->stop); ++i) {
    lashup_node_t* node = h->nodes[(size_t)i % h->node_count];
    const char* self = lashup_node_name(node);
    lashup_members_t* members = NULL;
    int rc = lashup_node_members(node, &members);
    if (!acceptable(rc)) record_error(&h->verdict, "members", rc);
    if (members != NULL) check_members(&h->verdict, members, self);
    lashup_members_destroy(members);
    int reachable = 0;
    rc = lashup_node_reachable(node, names[i % 4], &reachable);
    if (!acceptable(rc)) record_error(&h->verdict, "reachable", rc);
    uint32_t hops = 0;
    rc = lashup_node_distance(node, names[i % 4], &hops);
    if (!acceptable(rc) && rc != LASHUP_ERR_NOT_FOUND) record_error(&h->verdict, "distance", rc);
    lashup_route_tree_t* tree = NULL;
    rc = lashup_node_route_tree(node, self, &tree);
    if (!acceptable(rc)) record_error(&h->verdict, "route tree", rc);
    if (tree != NULL && (lashup_route_tree_count(tree) == 0 || strcmp(lashup_route_tree_node(tree, 0), self) != 0)) {
      record_error(&h->verdict, "route tree not rooted at its root", 0);
    }
    lashup_route_tree_destroy(tree);
    uint64_t value = 0;
    rc = lashup_node_stat(node, lashup_node_stat_name((size_t)i % lashup_node_stat_count()), &value);
    if (!acceptable(rc)) record_error(&h->verdict, "stat", rc);
    rc = lashup_node_stat(node, "members", &value);
    if (rc == LASHUP_OK && value == 0) record_error(&h->verdict, "members stat is 0", 0);
    atomic_fetch_add(&h->verdict.iterations, 1);
  }
  return NULL;
}

/* Writes and health checks on one node, and drains its events. */
struct commander {
  lashup_node_t* node;
  atomic_int* stop;
  struct verdict verdict;
};

static void* issue_commands(void* arg) {
  struct commander* c = arg;
  for (long i = 0; !atomic_load(c->stop); ++i) {
    char metadata[32];
    const int len = snprintf(metadata, sizeof metadata, "write %ld", i);
    int rc = lashup_node_set_metadata(c->node, metadata, (size_t)len);
    if (rc != LASHUP_OK) record_error(&c->verdict, "set_metadata", rc);
    uint64_t id = 0;
    rc = lashup_node_health_check(c->node, i % 2 ? "b" : "nobody", &id);
    if (rc != LASHUP_OK && rc != LASHUP_ERR_AGAIN) record_error(&c->verdict, "health_check", rc);
    lashup_event_t* ev = NULL;
    while (lashup_node_poll(c->node, &ev, 0) == LASHUP_OK) lashup_event_destroy(ev);
    atomic_fetch_add(&c->verdict.iterations, 1);
  }
  return NULL;
}

static lashup_node_t* new_node(struct node_env* env, const char* name, const char* contacts) {
  lashup_config_t* cfg = node_config(env, name, 1, contacts);
  lashup_node_t* node = NULL;
  assert_int_equal(lashup_node_new(&node, cfg, NULL, 0), LASHUP_OK);
  lashup_config_destroy(cfg);
  return node;
}

static void readers_see_whole_snapshots_while_nodes_join_and_one_stops(void** state) {
  struct node_env* env = *state;
  lashup_node_t* nodes[3];
  nodes[0] = new_node(env, "a", NULL);
  assert_int_equal(lashup_node_start(nodes[0]), LASHUP_OK);
  char contact[256];
  node_contact(nodes[0], contact, sizeof contact);
  nodes[1] = new_node(env, "b", contact);
  nodes[2] = new_node(env, "c", contact);

  atomic_int stop = 0;
  struct hammer hammers[READERS];
  pthread_t readers[READERS];
  for (int i = 0; i < READERS; ++i) {
    hammers[i] = (struct hammer){.nodes = nodes, .node_count = 3, .stop = &stop};
    assert_int_equal(pthread_create(&readers[i], NULL, hammer_reads, &hammers[i]), 0);
  }
  struct commander commander = {.node = nodes[0], .stop = &stop};
  pthread_t commands;
  assert_int_equal(pthread_create(&commands, NULL, issue_commands, &commander), 0);

  /* The cluster changes under the readers: two joins, then a node stops. */
  assert_int_equal(lashup_node_start(nodes[1]), LASHUP_OK);
  assert_int_equal(lashup_node_start(nodes[2]), LASHUP_OK);
  wait_for_mesh(nodes, 3);
  assert_int_equal(lashup_node_stop(nodes[2]), LASHUP_OK);
  ASSERT_EVENTUALLY(member_state(nodes[0], "c") == LASHUP_UNREACHABLE, CONVERGE_MS);
  ASSERT_EVENTUALLY(member_state(nodes[1], "c") == LASHUP_UNREACHABLE, CONVERGE_MS);
  for (int i = 0; i < READERS; ++i) ASSERT_EVENTUALLY(atomic_load(&hammers[i].verdict.iterations) >= 100, CONVERGE_MS);

  atomic_store(&stop, 1);
  for (int i = 0; i < READERS; ++i) {
    assert_int_equal(pthread_join(readers[i], NULL), 0);
    if (hammers[i].verdict.error[0] != '\0') fail_msg("reader %d: %s", i, hammers[i].verdict.error);
  }
  assert_int_equal(pthread_join(commands, NULL), 0);
  if (commander.verdict.error[0] != '\0') fail_msg("commands: %s", commander.verdict.error);
  assert_true(atomic_load(&commander.verdict.iterations) > 0);
  for (int i = 0; i < 3; ++i) lashup_node_destroy(nodes[i]);
}

/* ---- commands from many threads ----------------------------------------------- */

#define COMMANDERS 8
#define CHECKS_PER_THREAD 20

struct checker {
  lashup_node_t* node;
  uint64_t ids[CHECKS_PER_THREAD];
  int rc;
};

static void* run_health_checks(void* arg) {
  struct checker* c = arg;
  for (int i = 0; i < CHECKS_PER_THREAD && c->rc == LASHUP_OK; ++i) {
    c->rc = lashup_node_health_check(c->node, "b", &c->ids[i]);
    if (c->rc == LASHUP_OK) {
      char metadata[32];
      const int len = snprintf(metadata, sizeof metadata, "%p/%d", (void*)c, i);
      c->rc = lashup_node_set_metadata(c->node, metadata, (size_t)len);
    }
  }
  return NULL;
}

static int compare_ids(const void* x, const void* y) {
  const uint64_t a = *(const uint64_t*)x, b = *(const uint64_t*)y;
  return a < b ? -1 : a > b;
}

static void health_checks_from_many_threads_get_distinct_ids_and_each_an_answer(void** state) {
  lashup_node_t* b = NULL;
  lashup_node_t* a = start_pair(*state, &b);

  struct checker checkers[COMMANDERS];
  pthread_t threads[COMMANDERS];
  for (int i = 0; i < COMMANDERS; ++i) {
    checkers[i] = (struct checker){.node = a, .rc = LASHUP_OK};
    assert_int_equal(pthread_create(&threads[i], NULL, run_health_checks, &checkers[i]), 0);
  }
  uint64_t ids[COMMANDERS * CHECKS_PER_THREAD];
  for (int i = 0; i < COMMANDERS; ++i) {
    assert_int_equal(pthread_join(threads[i], NULL), 0);
    assert_int_equal(checkers[i].rc, LASHUP_OK);
    memcpy(ids + i * CHECKS_PER_THREAD, checkers[i].ids, sizeof checkers[i].ids);
  }
  const size_t total = COMMANDERS * CHECKS_PER_THREAD;
  qsort(ids, total, sizeof ids[0], compare_ids);
  for (size_t i = 1; i < total; ++i) assert_true(ids[i] != ids[i - 1]);

  /* Every id is answered, alive, exactly once. */
  size_t answered = 0;
  unsigned char seen[COMMANDERS * CHECKS_PER_THREAD] = {0};
  const int64_t deadline = now_ms() + CONVERGE_MS;
  while (answered < total && now_ms() < deadline) {
    lashup_event_t* ev = wait_for_event(a, LASHUP_EVENT_HEALTH_CHECK, "b", -1, 0, 1000);
    if (ev == NULL) continue;
    const uint64_t id = lashup_event_request_id(ev);
    const uint64_t* found = bsearch(&id, ids, total, sizeof ids[0], compare_ids);
    if (found == NULL) fail_msg("an answer to request %llu, which nobody asked", (unsigned long long)id);
    assert_int_equal(seen[found - ids]++, 0);
    assert_int_equal(lashup_event_state(ev), 1);
    lashup_event_destroy(ev);
    ++answered;
  }
  assert_int_equal(answered, total);
  lashup_node_destroy(b);
  lashup_node_destroy(a);
}

/* ---- stop racing pollers and other stops ------------------------------------- */

struct racer {
  lashup_node_t* node;
  atomic_int* go;
  int poll_instead; /* poll until not OK, or call stop */
  int rc;
};

static void* race(void* arg) {
  struct racer* r = arg;
  while (!atomic_load(r->go)) {
  }
  if (!r->poll_instead) {
    r->rc = lashup_node_stop(r->node);
    return NULL;
  }
  lashup_event_t* ev = NULL;
  while ((r->rc = lashup_node_poll(r->node, &ev, -1)) == LASHUP_OK) lashup_event_destroy(ev);
  return NULL;
}

static void stops_from_many_threads_at_once_all_succeed_and_wake_every_poller(void** state) {
  lashup_node_t* node = start_node(*state, "a", NULL);
  atomic_int go = 0;
  struct racer racers[6];
  pthread_t threads[6];
  for (int i = 0; i < 6; ++i) {
    racers[i] = (struct racer){.node = node, .go = &go, .poll_instead = i % 2, .rc = 1};
    assert_int_equal(pthread_create(&threads[i], NULL, race, &racers[i]), 0);
  }
  atomic_store(&go, 1);
  for (int i = 0; i < 6; ++i) {
    assert_int_equal(pthread_join(threads[i], NULL), 0);
    assert_int_equal(racers[i].rc, racers[i].poll_instead ? LASHUP_ERR_CLOSED : LASHUP_OK);
  }
  lashup_node_destroy(node);
}

/* ---- commands racing stop ---------------------------------------------------- */

struct closing_commander {
  lashup_node_t* node;
  atomic_long iterations;
  atomic_int finished;
  struct verdict verdict;
};

/* Issues commands until the node says CLOSED to both kinds. */
static void* command_until_closed(void* arg) {
  struct closing_commander* c = arg;
  for (;;) {
    const int written = lashup_node_set_metadata(c->node, "racing", 6);
    uint64_t id = 0;
    const int checked = lashup_node_health_check(c->node, "nobody", &id);
    if (written != LASHUP_OK && written != LASHUP_ERR_CLOSED) record_error(&c->verdict, "set_metadata", written);
    if (checked != LASHUP_OK && checked != LASHUP_ERR_CLOSED && checked != LASHUP_ERR_AGAIN) {
      record_error(&c->verdict, "health_check", checked);
    }
    atomic_fetch_add(&c->iterations, 1);
    if (written == LASHUP_ERR_CLOSED && checked == LASHUP_ERR_CLOSED) break;
  }
  atomic_store(&c->finished, 1);
  return NULL;
}

static void commands_racing_a_stop_answer_ok_or_closed(void** state) {
  lashup_node_t* node = start_node(*state, "a", NULL);
  struct closing_commander commanders[4];
  pthread_t threads[4];
  for (int i = 0; i < 4; ++i) {
    commanders[i] = (struct closing_commander){.node = node};
    assert_int_equal(pthread_create(&threads[i], NULL, command_until_closed, &commanders[i]), 0);
  }
  for (int i = 0; i < 4; ++i) ASSERT_EVENTUALLY(atomic_load(&commanders[i].iterations) >= 20, CONVERGE_MS);
  assert_int_equal(lashup_node_stop(node), LASHUP_OK);
  for (int i = 0; i < 4; ++i) {
    ASSERT_EVENTUALLY(atomic_load(&commanders[i].finished), CONVERGE_MS);
    assert_int_equal(pthread_join(threads[i], NULL), 0);
    if (commanders[i].verdict.error[0] != '\0') fail_msg("commander %d: %s", i, commanders[i].verdict.error);
  }
  lashup_node_destroy(node);
}

/* ---- snapshots and events outlive the node --------------------------------------- */

struct snapshot_reader {
  const lashup_members_t* members;
  const lashup_route_tree_t* tree;
  atomic_int* stop;
  struct verdict verdict;
};

static void* read_snapshot(void* arg) {
  struct snapshot_reader* r = arg;
  while (!atomic_load(r->stop)) {
    check_members(&r->verdict, r->members, "a");
    if (lashup_members_count(r->members) != 2 || strcmp(lashup_members_name(r->members, 1), "b") != 0) {
      record_error(&r->verdict, "the snapshot changed", 0);
    }
    size_t len = 0;
    const void* metadata = lashup_members_metadata(r->members, 0, &len);
    if (len != 4 || memcmp(metadata, "kept", 4) != 0) record_error(&r->verdict, "the metadata changed", 0);
    if (lashup_route_tree_count(r->tree) != 2 || strcmp(lashup_route_tree_parent(r->tree, 1), "a") != 0) {
      record_error(&r->verdict, "the route tree changed", 0);
    }
    atomic_fetch_add(&r->verdict.iterations, 1);
  }
  return NULL;
}

/* Calls on the node itself; joined before the node is destroyed. */
static void* take_snapshots(void* arg) {
  struct hammer* h = arg;
  while (!atomic_load(h->stop)) {
    lashup_members_t* members = NULL;
    const int rc = lashup_node_members(h->nodes[0], &members);
    if (rc != LASHUP_OK) record_error(&h->verdict, "members", rc);
    lashup_members_destroy(members);
    atomic_fetch_add(&h->verdict.iterations, 1);
  }
  return NULL;
}

/* a's route tree once it spans a and b, else NULL. */
static lashup_route_tree_t* route_tree_of_two(lashup_node_t* a) {
  lashup_route_tree_t* tree = NULL;
  if (lashup_node_route_tree(a, "a", &tree) == LASHUP_OK && lashup_route_tree_count(tree) == 2) return tree;
  lashup_route_tree_destroy(tree);
  return NULL;
}

static void snapshots_and_events_stay_valid_after_the_node_is_destroyed(void** state) {
  lashup_node_t* b = NULL;
  lashup_node_t* a = start_pair(*state, &b);
  assert_int_equal(lashup_node_set_metadata(a, "kept", 4), LASHUP_OK);
  lashup_event_t* ev = wait_for_event(a, LASHUP_EVENT_NEIGHBOR, "b", 1, 0, CONVERGE_MS);
  assert_non_null(ev);

  lashup_node_t* nodes[] = {a, b};
  atomic_int stop_node_calls = 0, stop_snapshot_reads = 0;
  struct hammer callers[2];
  pthread_t caller_threads[2];
  for (int i = 0; i < 2; ++i) {
    callers[i] = (struct hammer){.nodes = nodes, .node_count = 1, .stop = &stop_node_calls};
    assert_int_equal(pthread_create(&caller_threads[i], NULL, take_snapshots, &callers[i]), 0);
  }
  struct snapshot_reader readers[READERS];
  pthread_t reader_threads[READERS];
  for (int i = 0; i < READERS; ++i) {
    lashup_members_t* members = NULL;
    lashup_route_tree_t* tree = NULL;
    assert_int_equal(lashup_node_members(a, &members), LASHUP_OK);
    ASSERT_EVENTUALLY((tree = route_tree_of_two(a)) != NULL, CONVERGE_MS);
    readers[i] = (struct snapshot_reader){.members = members, .tree = tree, .stop = &stop_snapshot_reads};
    assert_int_equal(pthread_create(&reader_threads[i], NULL, read_snapshot, &readers[i]), 0);
  }
  for (int i = 0; i < 2; ++i) ASSERT_EVENTUALLY(atomic_load(&callers[i].verdict.iterations) >= 100, CONVERGE_MS);

  /* The contract: nothing calls the node while it is destroyed ... */
  atomic_store(&stop_node_calls, 1);
  for (int i = 0; i < 2; ++i) {
    assert_int_equal(pthread_join(caller_threads[i], NULL), 0);
    if (callers[i].verdict.error[0] != '\0') fail_msg("node caller %d: %s", i, callers[i].verdict.error);
  }
  /* ... but its snapshots are read all along. */
  long before[READERS];
  for (int i = 0; i < READERS; ++i) before[i] = atomic_load(&readers[i].verdict.iterations);
  lashup_node_destroy(a);
  for (int i = 0; i < READERS; ++i) {
    ASSERT_EVENTUALLY(atomic_load(&readers[i].verdict.iterations) >= before[i] + 100, CONVERGE_MS);
  }
  atomic_store(&stop_snapshot_reads, 1);
  for (int i = 0; i < READERS; ++i) {
    assert_int_equal(pthread_join(reader_threads[i], NULL), 0);
    if (readers[i].verdict.error[0] != '\0') fail_msg("snapshot reader %d: %s", i, readers[i].verdict.error);
    lashup_members_destroy((lashup_members_t*)readers[i].members);
    lashup_route_tree_destroy((lashup_route_tree_t*)readers[i].tree);
  }
  /* An event taken from the node outlives it too. */
  assert_int_equal(lashup_event_type(ev), LASHUP_EVENT_NEIGHBOR);
  assert_string_equal(lashup_event_node(ev), "b");
  lashup_event_destroy(ev);
  lashup_node_destroy(b);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(readers_see_whole_snapshots_while_nodes_join_and_one_stops),
      cmocka_unit_test(health_checks_from_many_threads_get_distinct_ids_and_each_an_answer),
      cmocka_unit_test(stops_from_many_threads_at_once_all_succeed_and_wake_every_poller),
      cmocka_unit_test(commands_racing_a_stop_answer_ok_or_closed),
      cmocka_unit_test(snapshots_and_events_stay_valid_after_the_node_is_destroyed),
  };
  return cmocka_run_group_tests(tests, node_env_setup, node_env_teardown);
}
