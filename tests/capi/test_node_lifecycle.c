/* A node's life through the C API: new, start, stop, destroy, what each
 * allows in which state, the event fd and poll around a stop, and the
 * threading contract of the event callback. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "node_harness.h"

static lashup_node_t* new_node(struct node_env* env, const char* name) {
  lashup_config_t* cfg = node_config(env, name, 1, NULL);
  lashup_node_t* node = NULL;
  char errbuf[256] = "";
  assert_int_equal(lashup_node_new(&node, cfg, errbuf, sizeof errbuf), LASHUP_OK);
  assert_string_equal(errbuf, "");
  assert_non_null(node);
  lashup_config_destroy(cfg);
  return node;
}

static int fd_readable(int fd) {
  struct pollfd p = {.fd = fd, .events = POLLIN};
  return poll(&p, 1, 0) == 1 && (p.revents & POLLIN) != 0;
}

static void start_twice_is_a_state_error_and_stop_is_idempotent(void** state) {
  lashup_node_t* node = new_node(*state, "a");
  assert_int_equal(lashup_node_start(node), LASHUP_OK);
  assert_int_equal(lashup_node_start(node), LASHUP_ERR_STATE);
  assert_int_equal(lashup_node_stop(node), LASHUP_OK);
  assert_int_equal(lashup_node_stop(node), LASHUP_OK);
  /* A node runs at most once. */
  assert_int_equal(lashup_node_start(node), LASHUP_ERR_STATE);
  lashup_node_destroy(node);
}

static void destroy_without_start_and_destroy_of_null_are_fine(void** state) {
  lashup_node_t* node = new_node(*state, "a");
  assert_string_equal(lashup_node_name(node), "a");
  lashup_node_destroy(node);
  lashup_node_destroy(NULL);
  assert_null(lashup_node_name(NULL));
  assert_int_equal(lashup_node_stop(NULL), LASHUP_ERR_INVALID);
  assert_int_equal(lashup_node_start(NULL), LASHUP_ERR_INVALID);
}

static void stop_without_start_is_ok(void** state) {
  lashup_node_t* node = new_node(*state, "a");
  assert_int_equal(lashup_node_stop(node), LASHUP_OK);
  lashup_node_destroy(node);
}

static void reads_before_start_are_state_errors(void** state) {
  lashup_node_t* node = new_node(*state, "a");
  lashup_members_t* members = (lashup_members_t*)&members; /* not NULL: the call must clear it */
  assert_int_equal(lashup_node_members(node, &members), LASHUP_ERR_STATE);
  assert_null(members);
  int reachable = 7;
  assert_int_equal(lashup_node_reachable(node, "a", &reachable), LASHUP_ERR_STATE);
  assert_int_equal(reachable, 0);
  uint32_t hops = 0;
  assert_int_equal(lashup_node_distance(node, "a", &hops), LASHUP_ERR_STATE);
  lashup_route_tree_t* tree = NULL;
  assert_int_equal(lashup_node_route_tree(node, "a", &tree), LASHUP_ERR_STATE);
  assert_null(tree);
  uint64_t value = 0;
  assert_int_equal(lashup_node_stat(node, "members", &value), LASHUP_ERR_STATE);
  char* address = (char*)"untouched";
  assert_int_equal(lashup_node_address(node, &address), LASHUP_ERR_STATE);
  assert_null(address);
  uint64_t incarnation = 0;
  assert_int_equal(lashup_node_incarnation(node, &incarnation), LASHUP_ERR_STATE);
  lashup_node_destroy(node);
}

static void commands_before_start_and_after_stop_are_closed(void** state) {
  lashup_node_t* node = new_node(*state, "a");
  uint64_t id = 0;
  assert_int_equal(lashup_node_health_check(node, "b", &id), LASHUP_ERR_CLOSED);
  assert_int_equal(lashup_node_set_metadata(node, "x", 1), LASHUP_ERR_CLOSED);
  assert_int_equal(lashup_node_leave(node), LASHUP_ERR_CLOSED);
  assert_int_equal(lashup_node_start(node), LASHUP_OK);
  assert_int_equal(lashup_node_set_metadata(node, "x", 1), LASHUP_OK);
  assert_int_equal(lashup_node_stop(node), LASHUP_OK);
  assert_int_equal(lashup_node_health_check(node, "b", &id), LASHUP_ERR_CLOSED);
  assert_int_equal(lashup_node_set_metadata(node, "y", 1), LASHUP_ERR_CLOSED);
  assert_int_equal(lashup_node_leave(node), LASHUP_ERR_CLOSED);
  lashup_node_destroy(node);
}

static void a_started_node_knows_its_address_incarnation_and_itself(void** state) {
  lashup_node_t* node = new_node(*state, "a");
  assert_int_equal(lashup_node_start(node), LASHUP_OK);
  char* address = NULL;
  assert_int_equal(lashup_node_address(node, &address), LASHUP_OK);
  /* Port 0 was replaced by the bound port. */
  assert_true(strncmp(address, "127.0.0.1:", 10) == 0);
  assert_string_not_equal(address, "127.0.0.1:0");
  uint64_t incarnation = 0;
  assert_int_equal(lashup_node_incarnation(node, &incarnation), LASHUP_OK);
  assert_true(incarnation > 0);
  lashup_members_t* members = NULL;
  assert_int_equal(lashup_node_members(node, &members), LASHUP_OK);
  assert_int_equal(lashup_members_count(members), 1);
  assert_string_equal(lashup_members_name(members, 0), "a");
  assert_string_equal(lashup_members_address(members, 0), address);
  assert_int_equal(lashup_members_state(members, 0), LASHUP_REACHABLE);
  assert_int_equal(lashup_members_incarnation(members, 0), incarnation);
  assert_int_equal(lashup_members_distance(members, 0), 0);
  assert_int_equal(lashup_members_last_heard_ms(members, 0), 0);
  lashup_members_destroy(members);
  int reachable = 0;
  assert_int_equal(lashup_node_reachable(node, "a", &reachable), LASHUP_OK);
  assert_int_equal(reachable, 1);
  assert_int_equal(lashup_node_reachable(node, "nobody", &reachable), LASHUP_OK);
  assert_int_equal(reachable, 0);
  uint32_t hops = 99;
  assert_int_equal(lashup_node_distance(node, "a", &hops), LASHUP_OK);
  assert_int_equal(hops, 0);
  assert_int_equal(lashup_node_distance(node, "nobody", &hops), LASHUP_ERR_NOT_FOUND);
  lashup_free(address);
  lashup_node_destroy(node);
}

static void a_restart_on_the_same_data_dir_raises_the_incarnation(void** state) {
  struct node_env* env = *state;
  char data_dir[TEST_PKI_PATH_MAX];
  node_env_data_dir(env, "a", data_dir, sizeof data_dir);
  uint64_t first = 0, second = 0;
  lashup_config_t* cfg = node_config(env, "a", 1, NULL);
  config_set(cfg, "data_dir", data_dir);
  lashup_node_t* node = start_node_from(cfg);
  assert_int_equal(lashup_node_incarnation(node, &first), LASHUP_OK);
  lashup_node_destroy(node);
  cfg = node_config(env, "a", 1, NULL);
  config_set(cfg, "data_dir", data_dir);
  node = start_node_from(cfg);
  assert_int_equal(lashup_node_incarnation(node, &second), LASHUP_OK);
  assert_true(second > first);
  lashup_node_destroy(node);
}

static void event_fd_is_valid_from_new_and_quiet_before_start(void** state) {
  lashup_node_t* node = new_node(*state, "a");
  const int fd = lashup_node_event_fd(node);
  assert_true(fd >= 0);
  assert_true(fcntl(fd, F_GETFD) != -1);
  assert_false(fd_readable(fd));
  lashup_event_t* ev = (lashup_event_t*)&ev;
  assert_int_equal(lashup_node_poll(node, &ev, 0), LASHUP_ERR_AGAIN);
  assert_null(ev);
  assert_int_equal(lashup_node_event_fd(NULL), -1);
  lashup_node_destroy(node);
}

static void poll_on_a_stopped_node_drains_then_says_closed(void** state) {
  struct node_env* env = *state;
  lashup_node_t* a = start_node(env, "a", NULL);
  char contact[256];
  node_contact(a, contact, sizeof contact);
  lashup_node_t* b = start_node(env, "b", contact);
  lashup_node_t* nodes[] = {a, b};
  wait_for_mesh(nodes, 2);
  /* The join queued events on a; a is stopped before anyone took them. */
  ASSERT_EVENTUALLY(fd_readable(lashup_node_event_fd(a)), CONVERGE_MS);
  assert_int_equal(lashup_node_stop(a), LASHUP_OK);
  assert_true(fd_readable(lashup_node_event_fd(a)));
  int drained = 0, rc = LASHUP_OK;
  for (int i = 0; i < 100000 && rc == LASHUP_OK; ++i) {
    lashup_event_t* ev = NULL;
    rc = lashup_node_poll(a, &ev, 0);
    if (rc == LASHUP_OK) {
      assert_non_null(ev);
      lashup_event_destroy(ev);
      ++drained;
    }
  }
  assert_true(drained > 0);
  assert_int_equal(rc, LASHUP_ERR_CLOSED);
  lashup_event_t* ev = NULL;
  assert_int_equal(lashup_node_poll(a, &ev, 100), LASHUP_ERR_CLOSED);
  assert_int_equal(lashup_node_poll(a, &ev, -1), LASHUP_ERR_CLOSED);
  lashup_node_destroy(a);
  lashup_node_destroy(b);
}

static void poll_on_a_node_stopped_before_start_says_closed(void** state) {
  lashup_node_t* node = new_node(*state, "a");
  assert_int_equal(lashup_node_stop(node), LASHUP_OK);
  lashup_event_t* ev = NULL;
  assert_int_equal(lashup_node_poll(node, &ev, -1), LASHUP_ERR_CLOSED);
  lashup_node_destroy(node);
}

struct poller {
  lashup_node_t* node;
  atomic_int started;
  atomic_int finished;
  int rc;
};

static void* poll_until_not_ok(void* arg) {
  struct poller* p = arg;
  atomic_store(&p->started, 1);
  int rc;
  for (;;) {
    lashup_event_t* ev = NULL;
    rc = lashup_node_poll(p->node, &ev, -1);
    if (rc != LASHUP_OK) break;
    lashup_event_destroy(ev);
  }
  p->rc = rc;
  atomic_store(&p->finished, 1);
  return NULL;
}

static void a_poll_waiting_forever_returns_closed_when_another_thread_stops_the_node(void** state) {
  lashup_node_t* node = start_node(*state, "a", NULL);
  struct poller pollers[3];
  pthread_t threads[3];
  for (int i = 0; i < 3; ++i) {
    pollers[i] = (struct poller){.node = node, .rc = LASHUP_OK};
    assert_int_equal(pthread_create(&threads[i], NULL, poll_until_not_ok, &pollers[i]), 0);
  }
  for (int i = 0; i < 3; ++i) ASSERT_EVENTUALLY(atomic_load(&pollers[i].started), 5000);
  sleep_ms(100); /* lets them block in the wait; the outcome does not depend on it */
  for (int i = 0; i < 3; ++i) assert_false(atomic_load(&pollers[i].finished));
  assert_int_equal(lashup_node_stop(node), LASHUP_OK);
  for (int i = 0; i < 3; ++i) {
    ASSERT_EVENTUALLY(atomic_load(&pollers[i].finished), 10000);
    assert_int_equal(pthread_join(threads[i], NULL), 0);
    assert_int_equal(pollers[i].rc, LASHUP_ERR_CLOSED);
  }
  lashup_node_destroy(node);
}

struct callback_record {
  pthread_t main_thread;
  lashup_node_t* node;
  atomic_int calls;
  atomic_int calls_on_main_thread;
  atomic_int calls_with_another_node;
  atomic_int destroy_returned;
  atomic_int calls_after_destroy;
};

static void record_callback(lashup_node_t* node, void* userdata) {
  struct callback_record* r = userdata;
  if (pthread_equal(pthread_self(), r->main_thread)) atomic_fetch_add(&r->calls_on_main_thread, 1);
  if (node != r->node) atomic_fetch_add(&r->calls_with_another_node, 1);
  if (atomic_load(&r->destroy_returned)) atomic_fetch_add(&r->calls_after_destroy, 1);
  atomic_fetch_add(&r->calls, 1);
}

static void never_called(lashup_node_t* node, void* userdata) {
  (void)node;
  (void)userdata;
  fail_msg("a callback set after start was called");
}

static void the_event_callback_runs_on_the_loop_thread_and_never_after_destroy(void** state) {
  struct node_env* env = *state;
  struct callback_record* record = calloc(1, sizeof *record);
  assert_non_null(record);
  record->main_thread = pthread_self();
  lashup_node_t* a = new_node(env, "a");
  record->node = a;
  assert_int_equal(lashup_node_set_event_cb(a, record_callback, record), LASHUP_OK);
  assert_int_equal(lashup_node_start(a), LASHUP_OK);
  assert_int_equal(lashup_node_set_event_cb(a, never_called, NULL), LASHUP_ERR_STATE);
  assert_int_equal(lashup_node_set_event_cb(a, NULL, NULL), LASHUP_ERR_STATE);

  char contact[256];
  node_contact(a, contact, sizeof contact);
  lashup_node_t* b = start_node(env, "b", contact);
  lashup_node_t* nodes[] = {a, b};
  wait_for_mesh(nodes, 2);
  ASSERT_EVENTUALLY(atomic_load(&record->calls) > 0, CONVERGE_MS);
  /* b keeps talking to a (probes), so a's loop is busy while it is destroyed. */
  lashup_node_destroy(a);
  atomic_store(&record->destroy_returned, 1);
  const int calls = atomic_load(&record->calls);
  /* Give a late callback the chance to show itself (b now reports a gone). */
  ASSERT_EVENTUALLY(member_state(b, "a") == LASHUP_UNREACHABLE, CONVERGE_MS);
  assert_int_equal(atomic_load(&record->calls), calls);
  assert_int_equal(atomic_load(&record->calls_after_destroy), 0);
  assert_int_equal(atomic_load(&record->calls_on_main_thread), 0);
  assert_int_equal(atomic_load(&record->calls_with_another_node), 0);
  free(record);
  lashup_node_destroy(b);
}

static void set_event_cb_before_start_accepts_null_to_remove_it(void** state) {
  lashup_node_t* node = new_node(*state, "a");
  assert_int_equal(lashup_node_set_event_cb(node, never_called, NULL), LASHUP_OK);
  assert_int_equal(lashup_node_set_event_cb(node, NULL, NULL), LASHUP_OK);
  assert_int_equal(lashup_node_set_event_cb(NULL, NULL, NULL), LASHUP_ERR_INVALID);
  assert_int_equal(lashup_node_start(node), LASHUP_OK);
  assert_int_equal(lashup_node_set_metadata(node, "m", 1), LASHUP_OK); /* queues an event on its own record */
  lashup_node_destroy(node);
}

static void an_advertise_address_is_the_address_the_node_gives(void** state) {
  lashup_config_t* cfg = node_config(*state, "a", 1, NULL);
  config_set(cfg, "advertise_address", "127.0.0.1:7999");
  lashup_node_t* node = start_node_from(cfg);
  char* address = NULL;
  assert_int_equal(lashup_node_address(node, &address), LASHUP_OK);
  assert_string_equal(address, "127.0.0.1:7999");
  lashup_members_t* members = NULL;
  assert_int_equal(lashup_node_members(node, &members), LASHUP_OK);
  assert_string_equal(lashup_members_address(members, 0), "127.0.0.1:7999");
  lashup_members_destroy(members);
  lashup_free(address);
  lashup_node_destroy(node);
}

static void poll_waits_for_its_timeout_and_then_says_again(void** state) {
  lashup_node_t* node = start_node(*state, "a", NULL);
  int rc = LASHUP_OK;
  int64_t waited = 0;
  /* A lone node is quiet; should an event come, the next poll waits again. */
  for (int attempt = 0; attempt < 50 && rc == LASHUP_OK; ++attempt) {
    lashup_event_t* ev = NULL;
    const int64_t before = now_ms();
    rc = lashup_node_poll(node, &ev, 200);
    waited = now_ms() - before;
    if (rc == LASHUP_OK) lashup_event_destroy(ev);
  }
  assert_int_equal(rc, LASHUP_ERR_AGAIN);
  assert_true(waited >= 190);
  lashup_event_t* ev = (lashup_event_t*)&ev;
  assert_int_equal(lashup_node_poll(node, &ev, 0), LASHUP_ERR_AGAIN);
  assert_null(ev);
  assert_int_equal(lashup_node_poll(node, NULL, 0), LASHUP_ERR_INVALID);
  assert_int_equal(lashup_node_poll(NULL, &ev, 0), LASHUP_ERR_INVALID);
  lashup_node_destroy(node);
}

struct reentrant_call {
  atomic_int called;
  atomic_int finished;
  atomic_int rc;
  atomic_long elapsed_ms;
};

static void set_metadata_from_the_callback(lashup_node_t* node, void* userdata) {
  struct reentrant_call* call = userdata;
  if (atomic_exchange(&call->called, 1)) return;
  const int64_t before = now_ms();
  atomic_store(&call->rc, lashup_node_set_metadata(node, "from the callback", 17));
  atomic_store(&call->elapsed_ms, (long)(now_ms() - before));
  atomic_store(&call->finished, 1);
}

/* The header forbids only destroy and stop in the callback, and asks it to
 * return quickly. set_metadata (and leave) wait for the loop thread, which
 * is the caller here: whatever they answer, they must not stall the loop. */
static void set_metadata_called_from_the_event_callback_does_not_stall_the_loop(void** state) {
  struct reentrant_call* call = calloc(1, sizeof *call);
  assert_non_null(call);
  lashup_node_t* node = new_node(*state, "a");
  assert_int_equal(lashup_node_set_event_cb(node, set_metadata_from_the_callback, call), LASHUP_OK);
  assert_int_equal(lashup_node_start(node), LASHUP_OK);
  uint64_t id = 0;
  assert_int_equal(lashup_node_health_check(node, "nobody", &id), LASHUP_OK); /* an event at once */
  ASSERT_EVENTUALLY(atomic_load(&call->finished), CONVERGE_MS);
  assert_int_equal(lashup_node_set_metadata(node, "after", 5), LASHUP_OK);
  lashup_node_destroy(node);
  const long elapsed_ms = atomic_load(&call->elapsed_ms);
  const int rc = atomic_load(&call->rc);
  free(call);
  if (elapsed_ms > 1000 || rc == LASHUP_ERR_INTERNAL) {
    fail_msg("set_metadata in the callback took %ld ms and gave %s", elapsed_ms, lashup_strerror(rc));
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(start_twice_is_a_state_error_and_stop_is_idempotent),
      cmocka_unit_test(destroy_without_start_and_destroy_of_null_are_fine),
      cmocka_unit_test(stop_without_start_is_ok),
      cmocka_unit_test(reads_before_start_are_state_errors),
      cmocka_unit_test(commands_before_start_and_after_stop_are_closed),
      cmocka_unit_test(a_started_node_knows_its_address_incarnation_and_itself),
      cmocka_unit_test(a_restart_on_the_same_data_dir_raises_the_incarnation),
      cmocka_unit_test(an_advertise_address_is_the_address_the_node_gives),
      cmocka_unit_test(poll_waits_for_its_timeout_and_then_says_again),
      cmocka_unit_test(event_fd_is_valid_from_new_and_quiet_before_start),
      cmocka_unit_test(poll_on_a_stopped_node_drains_then_says_closed),
      cmocka_unit_test(poll_on_a_node_stopped_before_start_says_closed),
      cmocka_unit_test(a_poll_waiting_forever_returns_closed_when_another_thread_stops_the_node),
      cmocka_unit_test(the_event_callback_runs_on_the_loop_thread_and_never_after_destroy),
      cmocka_unit_test(set_event_cb_before_start_accepts_null_to_remove_it),
      cmocka_unit_test(set_metadata_called_from_the_event_callback_does_not_stall_the_loop),
  };
  return cmocka_run_group_tests(tests, node_env_setup, node_env_teardown);
}
