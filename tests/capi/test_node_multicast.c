/* Multicast through the C API, between nodes over TLS on 127.0.0.1:
 * publish and subscribe, delivery once to every subscriber (the origin
 * included), what a subscription covers, the argument checks, the state
 * rules, publishing from the event callback, the limits and the stats.
 *
 * "Exactly once" is checked by counting the copies a node delivers until
 * it has been quiet for QUIET_MS; the waits for a first copy are generous
 * (CONVERGE_MS) and never measure speed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node_harness.h"

/* Quiet time after which no further copy of a message is expected. */
#define QUIET_MS 1000

/* One delivered message, copied out of its event. */
struct message {
  char origin[64];
  char topic[256];
  uint64_t incarnation;
  uint64_t sequence;
  size_t len;
  unsigned char payload[64];
};

static void copy_message(const lashup_event_t* ev, struct message* out) {
  memset(out, 0, sizeof *out);
  snprintf(out->origin, sizeof out->origin, "%s", lashup_event_node(ev));
  snprintf(out->topic, sizeof out->topic, "%s", lashup_event_topic(ev));
  out->incarnation = lashup_event_incarnation(ev);
  out->sequence = lashup_event_sequence(ev);
  const void* data = lashup_event_payload(ev, &out->len);
  assert_non_null(data);
  memcpy(out->payload, data, out->len < sizeof out->payload ? out->len : sizeof out->payload);
}

/* The next multicast message `node` delivers (other events are discarded),
 * waiting up to timeout_ms; 0 when none arrived. */
static int next_message(lashup_node_t* node, struct message* out, int timeout_ms) {
  lashup_event_t* ev = wait_for_event(node, LASHUP_EVENT_MC_MESSAGE, NULL, -1, 0, timeout_ms);
  if (ev == NULL) return 0;
  copy_message(ev, out);
  lashup_event_destroy(ev);
  return 1;
}

/* Waits for the first message, then takes every message until QUIET_MS pass
 * without one; returns how many it took (at most max are kept in out). */
static size_t collect_messages(lashup_node_t* node, struct message* out, size_t max) {
  size_t count = 0;
  struct message m;
  int timeout_ms = CONVERGE_MS;
  while (next_message(node, &m, timeout_ms)) {
    if (count < max) out[count] = m;
    count++;
    timeout_ms = QUIET_MS;
  }
  return count;
}

static uint64_t incarnation_of(lashup_node_t* node) {
  uint64_t incarnation = 0;
  assert_int_equal(lashup_node_incarnation(node, &incarnation), LASHUP_OK);
  return incarnation;
}

static lashup_node_t* new_node(lashup_config_t* cfg) {
  lashup_node_t* node = NULL;
  char errbuf[256] = "";
  const int rc = lashup_node_new(&node, cfg, errbuf, sizeof errbuf);
  lashup_config_destroy(cfg);
  if (rc != LASHUP_OK) fail_msg("lashup_node_new: %s (%s)", lashup_strerror(rc), errbuf);
  return node;
}

static void start(lashup_node_t* node) {
  const int rc = lashup_node_start(node);
  if (rc != LASHUP_OK) fail_msg("lashup_node_start: %s (%s)", lashup_strerror(rc), lashup_last_error());
}

/* a, b and c, b and c joined through a, every one subscribed to "t". */
static void start_subscribed_trio(struct node_env* env, lashup_node_t* nodes[3]) {
  nodes[0] = start_node(env, "a", NULL);
  char contact[256];
  node_contact(nodes[0], contact, sizeof contact);
  nodes[1] = start_node(env, "b", contact);
  nodes[2] = start_node(env, "c", contact);
  wait_for_mesh(nodes, 3);
  for (int i = 0; i < 3; ++i) assert_int_equal(lashup_mc_subscribe(nodes[i], "t"), LASHUP_OK);
}

static void a_message_is_delivered_once_to_every_subscriber_including_its_origin(void** state) {
  lashup_node_t* nodes[3];
  start_subscribed_trio(*state, nodes);
  /* Bytes, not a string: a NUL and a high byte travel as they are. */
  static const unsigned char payload[] = {'h', 'i', 0, 0xff, '!'};
  uint64_t sequence = 0;
  assert_int_equal(lashup_mc_publish_seq(nodes[1], "t", payload, sizeof payload, &sequence), LASHUP_OK);
  assert_int_equal(sequence, 1);
  for (int i = 0; i < 3; ++i) {
    struct message got[4];
    const size_t count = collect_messages(nodes[i], got, 4);
    if (count != 1) fail_msg("%s delivered %zu copies, not 1", lashup_node_name(nodes[i]), count);
    assert_string_equal(got[0].origin, "b");
    assert_string_equal(got[0].topic, "t");
    assert_int_equal(got[0].sequence, sequence);
    assert_int_equal(got[0].incarnation, incarnation_of(nodes[1]));
    assert_int_equal(got[0].len, sizeof payload);
    assert_memory_equal(got[0].payload, payload, sizeof payload);
  }
  for (int i = 0; i < 3; ++i) lashup_node_destroy(nodes[i]);
}

static void messages_of_one_origin_arrive_once_each_in_sequence_order(void** state) {
  lashup_node_t* nodes[3];
  start_subscribed_trio(*state, nodes);
  enum { kMessages = 200 };
  for (int i = 1; i <= kMessages; ++i) {
    char text[16];
    const int len = snprintf(text, sizeof text, "m%d", i);
    int rc;
    while ((rc = lashup_mc_publish(nodes[0], "t", text, (size_t)len)) == LASHUP_ERR_AGAIN) sleep_ms(1);
    assert_int_equal(rc, LASHUP_OK);
  }
  for (int n = 0; n < 3; ++n) {
    static struct message got[kMessages + 8];
    const size_t count = collect_messages(nodes[n], got, kMessages + 8);
    if (count != kMessages) fail_msg("%s delivered %zu messages, not %d", lashup_node_name(nodes[n]), count, kMessages);
    /* Numbered in the order of the calls: message k carries "mk". */
    int seen[kMessages + 1] = {0};
    size_t out_of_order = 0;
    for (size_t i = 0; i < count; ++i) {
      const uint64_t k = got[i].sequence;
      assert_true(k >= 1 && k <= kMessages);
      assert_int_equal(seen[k]++, 0);
      char text[16];
      const int len = snprintf(text, sizeof text, "m%" PRIu64, k);
      assert_string_equal(got[i].origin, "a");
      assert_int_equal(got[i].len, (size_t)len);
      assert_memory_equal(got[i].payload, text, (size_t)len);
      if (k != i + 1) out_of_order++;
    }
    /* a is every node's neighbour, so its tree does not change: messages
     * come down it in order. Only a repaired message (pulled from a
     * neighbour after the tree copy was late) may arrive out of order. */
    if (out_of_order > 0 && node_stat(nodes[n], "multicast.repaired") == 0) {
      ASSERT_EVENTUALLY(node_stat(nodes[n], "multicast.repaired") > 0, 2000);
    }
  }
  uint64_t sequence = 0;
  assert_int_equal(lashup_mc_publish_seq(nodes[0], "t", NULL, 0, &sequence), LASHUP_OK);
  assert_int_equal(sequence, kMessages + 1);
  for (int i = 0; i < 3; ++i) lashup_node_destroy(nodes[i]);
}

static void a_subscription_made_before_start_applies_from_the_start(void** state) {
  struct node_env* env = *state;
  lashup_node_t* a = new_node(node_config(env, "a", 1, NULL));
  assert_int_equal(lashup_mc_subscribe(a, "early"), LASHUP_OK);
  assert_int_equal(lashup_mc_subscribe(a, "early"), LASHUP_OK); /* idempotent */
  assert_int_equal(lashup_mc_subscribe(a, "dropped"), LASHUP_OK);
  assert_int_equal(lashup_mc_unsubscribe(a, "dropped"), LASHUP_OK);
  assert_int_equal(lashup_mc_unsubscribe(a, "dropped"), LASHUP_ERR_NOT_FOUND);
  start(a);
  char contact[256];
  node_contact(a, contact, sizeof contact);
  lashup_node_t* b = start_node(env, "b", contact);
  lashup_node_t* nodes[] = {a, b};
  wait_for_mesh(nodes, 2);
  assert_int_equal(lashup_mc_publish(b, "dropped", "x", 1), LASHUP_OK);
  assert_int_equal(lashup_mc_publish(b, "early", "y", 1), LASHUP_OK);
  struct message got[4];
  const size_t count = collect_messages(a, got, 4);
  assert_int_equal(count, 1);
  assert_string_equal(got[0].topic, "early");
  assert_int_equal(got[0].sequence, 2);
  /* The subscription is the one the core holds: unsubscribing it now works. */
  assert_int_equal(lashup_mc_unsubscribe(a, "early"), LASHUP_OK);
  assert_int_equal(lashup_mc_unsubscribe(a, "early"), LASHUP_ERR_NOT_FOUND);
  lashup_node_destroy(b);
  lashup_node_destroy(a);
}

static void only_subscribed_topics_are_delivered_and_unsubscribe_stops_delivery(void** state) {
  lashup_node_t* b = NULL;
  lashup_node_t* a = start_pair(*state, &b);
  assert_int_equal(lashup_mc_subscribe(a, "t1"), LASHUP_OK);
  assert_int_equal(lashup_mc_subscribe(a, "t3"), LASHUP_OK);
  assert_int_equal(lashup_mc_publish(b, "t2", "not for a", 9), LASHUP_OK);
  assert_int_equal(lashup_mc_publish(b, "t1", "for a", 5), LASHUP_OK);
  struct message got[4];
  size_t count = collect_messages(a, got, 4);
  assert_int_equal(count, 1);
  assert_string_equal(got[0].topic, "t1");
  assert_int_equal(got[0].sequence, 2);
  ASSERT_EVENTUALLY(node_stat(a, "multicast.no_subscriber") >= 1, CONVERGE_MS);
  /* b does not subscribe to anything: its own messages are not delivered to it. */
  lashup_event_t* ev = NULL;
  while (lashup_node_poll(b, &ev, 0) == LASHUP_OK) {
    assert_int_not_equal(lashup_event_type(ev), LASHUP_EVENT_MC_MESSAGE);
    lashup_event_destroy(ev);
  }
  assert_int_equal(lashup_mc_unsubscribe(a, "t1"), LASHUP_OK);
  assert_int_equal(lashup_mc_publish(b, "t1", "too late", 8), LASHUP_OK);
  assert_int_equal(lashup_mc_publish(b, "t3", "marker", 6), LASHUP_OK);
  count = collect_messages(a, got, 4);
  assert_int_equal(count, 1);
  assert_string_equal(got[0].topic, "t3");
  assert_int_equal(got[0].sequence, 4);
  lashup_node_destroy(b);
  lashup_node_destroy(a);
}

static void a_late_subscriber_is_not_given_messages_it_received_before(void** state) {
  lashup_node_t* b = NULL;
  lashup_node_t* a = start_pair(*state, &b);
  assert_int_equal(lashup_mc_subscribe(a, "t"), LASHUP_OK);
  assert_int_equal(lashup_mc_publish(a, "t", "first", 5), LASHUP_OK);
  /* b has the first message, with no subscriber for it. */
  ASSERT_EVENTUALLY(node_stat(b, "multicast.received") == 1, CONVERGE_MS);
  assert_int_equal(node_stat(b, "multicast.no_subscriber"), 1);
  assert_int_equal(lashup_mc_subscribe(b, "t"), LASHUP_OK);
  assert_int_equal(lashup_mc_publish(a, "t", "second", 6), LASHUP_OK);
  struct message got[4];
  const size_t count = collect_messages(b, got, 4);
  assert_int_equal(count, 1);
  assert_int_equal(got[0].sequence, 2);
  assert_memory_equal(got[0].payload, "second", 6);
  lashup_node_destroy(b);
  lashup_node_destroy(a);
}

static void a_payload_of_the_largest_size_travels_intact(void** state) {
  lashup_node_t* b = NULL;
  lashup_node_t* a = start_pair(*state, &b);
  assert_int_equal(lashup_mc_subscribe(b, "big"), LASHUP_OK);
  const size_t len = 1048576; /* multicast.payload_bytes_max's default */
  unsigned char* payload = malloc(len);
  assert_non_null(payload);
  for (size_t i = 0; i < len; ++i) payload[i] = (unsigned char)(i * 7 + i / 256);
  assert_int_equal(lashup_mc_publish(a, "big", payload, len), LASHUP_OK);
  lashup_event_t* ev = wait_for_event(b, LASHUP_EVENT_MC_MESSAGE, "a", -1, 0, CONVERGE_MS);
  assert_non_null(ev);
  size_t got = 0;
  const void* data = lashup_event_payload(ev, &got);
  assert_int_equal(got, len);
  assert_memory_equal(data, payload, len);
  lashup_event_destroy(ev);
  assert_int_equal(lashup_mc_publish(a, "big", payload, len + 1), LASHUP_ERR_TOO_LARGE);
  free(payload);
  lashup_node_destroy(b);
  lashup_node_destroy(a);
}

static void bad_arguments_fail_at_once_with_a_reason(void** state) {
  struct node_env* env = *state;
  lashup_config_t* cfg = node_config(env, "a", 1, NULL);
  config_set(cfg, "multicast.payload_bytes_max", "100");
  lashup_node_t* a = start_node_from(cfg);
  char payload[101] = {0};
  char topic[257];
  memset(topic, 'x', sizeof topic - 1);
  topic[256] = '\0';

  assert_int_equal(lashup_mc_publish(NULL, "t", "x", 1), LASHUP_ERR_INVALID);
  assert_int_equal(lashup_mc_publish(a, NULL, "x", 1), LASHUP_ERR_INVALID);
  assert_non_null(strstr(lashup_last_error(), "topic"));
  assert_int_equal(lashup_mc_publish(a, "t", NULL, 1), LASHUP_ERR_INVALID);
  assert_non_null(strstr(lashup_last_error(), "data"));
  assert_int_equal(lashup_mc_publish(a, "", "x", 1), LASHUP_ERR_INVALID);
  assert_non_null(strstr(lashup_last_error(), "empty"));
  assert_int_equal(lashup_mc_publish(a, topic, "x", 1), LASHUP_ERR_INVALID);
  assert_non_null(strstr(lashup_last_error(), "255"));
  topic[255] = '\0'; /* 255 bytes is allowed */
  assert_int_equal(lashup_mc_publish(a, topic, "x", 1), LASHUP_OK);
  assert_string_equal(lashup_last_error(), "");
  assert_int_equal(lashup_mc_publish(a, "lashup/kv", "x", 1), LASHUP_ERR_INVALID);
  assert_non_null(strstr(lashup_last_error(), "reserved"));
  assert_int_equal(lashup_mc_publish(a, "t", payload, sizeof payload), LASHUP_ERR_TOO_LARGE);
  assert_non_null(strstr(lashup_last_error(), "multicast.payload_bytes_max"));
  assert_int_equal(lashup_mc_publish(a, "t", payload, sizeof payload - 1), LASHUP_OK);
  assert_int_equal(lashup_mc_publish(a, "t", NULL, 0), LASHUP_OK);

  uint64_t sequence = 0;
  assert_int_equal(lashup_mc_publish_seq(a, "", "x", 1, &sequence), LASHUP_ERR_INVALID);
  assert_int_equal(lashup_mc_publish_seq(a, "t", payload, sizeof payload, &sequence), LASHUP_ERR_TOO_LARGE);
  assert_int_equal(sequence, 0);
  /* Refused publishes took no sequence. */
  assert_int_equal(lashup_mc_publish_seq(a, "t", "x", 1, NULL), LASHUP_OK);
  assert_int_equal(lashup_mc_publish_seq(a, "t", "x", 1, &sequence), LASHUP_OK);
  assert_int_equal(sequence, 5);

  assert_int_equal(lashup_mc_subscribe(NULL, "t"), LASHUP_ERR_INVALID);
  assert_int_equal(lashup_mc_subscribe(a, NULL), LASHUP_ERR_INVALID);
  assert_int_equal(lashup_mc_subscribe(a, ""), LASHUP_ERR_INVALID);
  topic[255] = 'x';
  assert_int_equal(lashup_mc_subscribe(a, topic), LASHUP_ERR_INVALID);
  assert_int_equal(lashup_mc_subscribe(a, "lashup/kv"), LASHUP_ERR_INVALID);
  assert_non_null(strstr(lashup_last_error(), "reserved"));
  assert_int_equal(lashup_mc_unsubscribe(NULL, "t"), LASHUP_ERR_INVALID);
  assert_int_equal(lashup_mc_unsubscribe(a, NULL), LASHUP_ERR_INVALID);
  assert_int_equal(lashup_mc_unsubscribe(a, "never"), LASHUP_ERR_NOT_FOUND);
  assert_non_null(strstr(lashup_last_error(), "never"));
  lashup_node_destroy(a);
}

static void publishing_needs_a_running_node(void** state) {
  struct node_env* env = *state;
  lashup_node_t* a = new_node(node_config(env, "a", 1, NULL));
  uint64_t sequence = 0;
  /* As the other commands: the node does not run yet. Bad arguments are
   * still reported as such. */
  assert_int_equal(lashup_mc_publish(a, "t", "x", 1), LASHUP_ERR_CLOSED);
  assert_int_equal(lashup_mc_publish_seq(a, "t", "x", 1, &sequence), LASHUP_ERR_CLOSED);
  assert_int_equal(lashup_mc_publish(a, "", "x", 1), LASHUP_ERR_INVALID);
  assert_int_equal(lashup_mc_unsubscribe(a, "t"), LASHUP_ERR_NOT_FOUND);
  start(a);
  assert_int_equal(lashup_mc_publish(a, "t", "x", 1), LASHUP_OK);
  assert_int_equal(lashup_node_stop(a), LASHUP_OK);
  assert_int_equal(lashup_mc_publish(a, "t", "x", 1), LASHUP_ERR_CLOSED);
  assert_int_equal(lashup_mc_publish_seq(a, "t", "x", 1, &sequence), LASHUP_ERR_CLOSED);
  assert_int_equal(lashup_mc_subscribe(a, "t"), LASHUP_ERR_CLOSED);
  assert_int_equal(lashup_mc_unsubscribe(a, "t"), LASHUP_ERR_CLOSED);
  lashup_node_destroy(a);
}

/* The event callback publishes one answer per message on "ask"; calls from
 * the loop thread run at once instead of waiting for the loop. */
struct answering {
  atomic_int answers;
  atomic_int failures;
  atomic_int seen;
};

static struct answering answering;

static void answer_from_callback(lashup_node_t* node, void* userdata) {
  struct answering* state = userdata;
  /* Only signals: the test thread drains the queue. Publish once. */
  if (atomic_fetch_add(&state->seen, 1) != 0) return;
  uint64_t sequence = 0;
  if (lashup_mc_publish_seq(node, "answer", "from callback", 13, &sequence) == LASHUP_OK && sequence == 1) {
    atomic_fetch_add(&state->answers, 1);
  } else {
    atomic_fetch_add(&state->failures, 1);
  }
  if (lashup_mc_publish(node, "answer", "async", 5) != LASHUP_OK) atomic_fetch_add(&state->failures, 1);
  if (lashup_mc_subscribe(node, "late") != LASHUP_OK) atomic_fetch_add(&state->failures, 1);
}

static void the_event_callback_may_publish_and_subscribe(void** state) {
  struct node_env* env = *state;
  atomic_init(&answering.answers, 0);
  atomic_init(&answering.failures, 0);
  atomic_init(&answering.seen, 0);
  lashup_node_t* a = new_node(node_config(env, "a", 1, NULL));
  assert_int_equal(lashup_node_set_event_cb(a, answer_from_callback, &answering), LASHUP_OK);
  assert_int_equal(lashup_mc_subscribe(a, "answer"), LASHUP_OK);
  start(a);
  char contact[256];
  node_contact(a, contact, sizeof contact);
  lashup_node_t* b = start_node(env, "b", contact); /* its arrival makes events on a */
  struct message m;
  assert_true(next_message(a, &m, CONVERGE_MS));
  assert_string_equal(m.origin, "a");
  assert_int_equal(m.sequence, 1);
  assert_true(next_message(a, &m, CONVERGE_MS));
  assert_int_equal(m.sequence, 2);
  assert_int_equal(atomic_load(&answering.answers), 1);
  assert_int_equal(atomic_load(&answering.failures), 0);
  /* The subscription made in the callback holds. */
  assert_int_equal(lashup_mc_unsubscribe(a, "late"), LASHUP_OK);
  lashup_node_destroy(b);
  lashup_node_destroy(a);
}

static void the_stats_count_published_delivered_and_received_messages(void** state) {
  lashup_node_t* b = NULL;
  lashup_node_t* a = start_pair(*state, &b);
  assert_int_equal(lashup_mc_subscribe(a, "t"), LASHUP_OK);
  assert_int_equal(lashup_mc_subscribe(b, "t"), LASHUP_OK);
  for (int i = 0; i < 3; ++i) assert_int_equal(lashup_mc_publish(a, "t", "x", 1), LASHUP_OK);
  struct message got[8];
  assert_int_equal(collect_messages(b, got, 8), 3);
  /* Counters reach the snapshot within a second. */
  ASSERT_EVENTUALLY(node_stat(a, "multicast.published") == 3, CONVERGE_MS);
  ASSERT_EVENTUALLY(node_stat(a, "multicast.delivered") == 3, CONVERGE_MS);
  ASSERT_EVENTUALLY(node_stat(b, "multicast.received") == 3, CONVERGE_MS);
  ASSERT_EVENTUALLY(node_stat(b, "multicast.delivered") == 3, CONVERGE_MS);
  assert_int_equal(node_stat(b, "multicast.lost"), 0);
  assert_int_equal(node_stat(a, "multicast.publishes_failed"), 0);
  assert_int_equal(node_stat(b, "node.malformed_messages"), 0);
  lashup_node_destroy(b);
  lashup_node_destroy(a);
}

static void a_payload_limit_the_transport_cannot_carry_is_refused_at_creation(void** state) {
  struct node_env* env = *state;
  lashup_config_t* cfg = node_config(env, "a", 1, NULL);
  config_set(cfg, "transport.frame_bytes_max", "65536");
  config_set(cfg, "multicast.payload_bytes_max", "61441"); /* 4096 short of the frame, plus one */
  lashup_node_t* node = (lashup_node_t*)&node;
  char errbuf[256] = "";
  assert_int_equal(lashup_node_new(&node, cfg, errbuf, sizeof errbuf), LASHUP_ERR_INVALID);
  assert_null(node);
  assert_non_null(strstr(errbuf, "multicast.payload_bytes_max"));
  assert_non_null(strstr(errbuf, "transport.frame_bytes_max"));
  config_set(cfg, "multicast.payload_bytes_max", "61440");
  assert_int_equal(lashup_node_new(&node, cfg, errbuf, sizeof errbuf), LASHUP_OK);
  lashup_node_destroy(node);
  /* Nor more than the wire format carries (1 MiB), whatever the frame size:
   * the configuration refuses the value itself. */
  config_set(cfg, "transport.frame_bytes_max", "16777216");
  assert_int_equal(lashup_config_set(cfg, "multicast.payload_bytes_max", "2097152", errbuf, sizeof errbuf),
                   LASHUP_ERR_INVALID);
  assert_non_null(strstr(errbuf, "multicast.payload_bytes_max"));
  lashup_config_destroy(cfg);
}

static void event_accessors_of_other_events_read_as_nothing(void** state) {
  lashup_node_t* b = NULL;
  lashup_node_t* a = start_pair(*state, &b);
  lashup_event_t* ev = wait_for_event(a, LASHUP_EVENT_NEIGHBOR, "b", 1, 0, CONVERGE_MS);
  assert_non_null(ev);
  size_t len = 99;
  assert_null(lashup_event_payload(ev, &len));
  assert_int_equal(len, 0);
  assert_string_equal(lashup_event_topic(ev), "");
  assert_int_equal(lashup_event_sequence(ev), 0);
  lashup_event_destroy(ev);
  len = 99;
  assert_null(lashup_event_payload(NULL, &len));
  assert_int_equal(len, 0);
  assert_null(lashup_event_payload(NULL, NULL));
  assert_string_equal(lashup_event_topic(NULL), "");
  assert_int_equal(lashup_event_sequence(NULL), 0);
  /* An empty payload is a non-NULL pointer and a length of 0. */
  assert_int_equal(lashup_mc_subscribe(b, "t"), LASHUP_OK);
  assert_int_equal(lashup_mc_publish(a, "t", NULL, 0), LASHUP_OK);
  ev = wait_for_event(b, LASHUP_EVENT_MC_MESSAGE, "a", -1, 0, CONVERGE_MS);
  assert_non_null(ev);
  len = 99;
  assert_non_null(lashup_event_payload(ev, &len));
  assert_int_equal(len, 0);
  assert_non_null(lashup_event_payload(ev, NULL));
  lashup_event_destroy(ev);
  lashup_node_destroy(b);
  lashup_node_destroy(a);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(a_message_is_delivered_once_to_every_subscriber_including_its_origin),
      cmocka_unit_test(messages_of_one_origin_arrive_once_each_in_sequence_order),
      cmocka_unit_test(a_subscription_made_before_start_applies_from_the_start),
      cmocka_unit_test(only_subscribed_topics_are_delivered_and_unsubscribe_stops_delivery),
      cmocka_unit_test(a_late_subscriber_is_not_given_messages_it_received_before),
      cmocka_unit_test(a_payload_of_the_largest_size_travels_intact),
      cmocka_unit_test(bad_arguments_fail_at_once_with_a_reason),
      cmocka_unit_test(publishing_needs_a_running_node),
      cmocka_unit_test(the_event_callback_may_publish_and_subscribe),
      cmocka_unit_test(the_stats_count_published_delivered_and_received_messages),
      cmocka_unit_test(a_payload_limit_the_transport_cannot_carry_is_refused_at_creation),
      cmocka_unit_test(event_accessors_of_other_events_read_as_nothing),
  };
  return cmocka_run_group_tests(tests, node_env_setup, node_env_teardown);
}
