// Failure detector transcripts.
#include "core/detector/detector.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "core/wire/detector_messages.h"
#include "core/wire/ping_messages.h"
#include "tests/unit/support/actions_util.h"

namespace lashup {
namespace {

using test::decode;
using test::sends_of;
using wire::MessageType;
using wire::PeerRef;

PeerRef peer(const std::string& name) { return {name, name + ":7450"}; }

// `out` asks `count` other neighbours to probe `target` (indirect probes).
void expect_probe_requests_about(const Actions& out, const NodeName& target, size_t count) {
  auto requests = sends_of(out, MessageType::probe_request);
  ASSERT_EQ(requests.size(), count);
  for (const auto& r : requests) {
    EXPECT_NE(r.to, target);
    EXPECT_EQ(decode(r.message, wire::decode_probe_request)->target.name, target);
  }
}

struct RecordingListener : DetectorListener {
  std::vector<NodeName> failed;
  std::vector<NodeName> broken;
  std::vector<std::vector<NodeName>> reports;
  void on_neighbor_failed(Time, const NodeName& p, Actions&) override { failed.push_back(p); }
  void on_link_broken(Time, const NodeName& p, Actions&) override { broken.push_back(p); }
  void on_link_reports_changed(Time, std::vector<NodeName> t, Actions&) override { reports.push_back(std::move(t)); }
};

class DetectorTest : public ::testing::Test {
 protected:
  DetectorTest() : random_(3), connections_(10s), detector_(config(), random_, connections_, listener_) {
    Actions out;
    for (const char* n : {"a", "b", "c", "d"}) {
      connections_.on_up(now_, n, 1, out);
      detector_.add_neighbor(now_, peer(n), out);
    }
    // Two answered rounds: every neighbour has round trips of 2 ms, so its
    // probe timeout is the floor (150 ms) instead of the ceiling.
    for (int round = 0; round < 2; ++round) {
      Actions probes = tick();
      now_ += 2ms;
      answer_pings(probes);
      now_ += 108ms;  // past every neighbour's next probe (interval 100 ms +/- 10%)
    }
  }

  static DetectorConfig config() {
    DetectorConfig c;
    c.probe_interval = 100ms;
    c.probe_timeout_min = 150ms;
    c.probe_timeout_max = 1000ms;
    c.indirect_probes = 2;
    c.suspicion_timeout = 400ms;
    return c;
  }

  Actions deliver(const NodeName& from, const Bytes& message) {
    Actions out;
    wire::Reader r(message);
    auto type = wire::read_message_type(r);
    EXPECT_TRUE(detector_.handle(now_, from, *type, r, out));
    return out;
  }

  Actions tick() {
    Actions out;
    detector_.tick(now_, out);
    return out;
  }

  // Answers every ping in `out` except those to `silent`.
  void answer_pings(const Actions& out, const std::set<NodeName>& silent = {}) {
    for (const auto& ping : sends_of(out, MessageType::ping)) {
      if (silent.count(ping.to)) continue;
      auto p = decode(ping.message, wire::decode_ping);
      deliver(ping.to, wire::encode(wire::Pong{p->sequence, p->sent_at_us}));
    }
  }

  Time now_{10s};
  Random random_;
  Connections connections_;
  RecordingListener listener_;
  Detector detector_;
};

TEST_F(DetectorTest, probes_every_neighbour_and_learns_round_trips) {
  Actions out = tick();
  EXPECT_EQ(sends_of(out, MessageType::ping).size(), 4u);
  EXPECT_EQ(detector_.probe_timeout("a"), 150ms);  // floor: 2 ms round trips
  EXPECT_FALSE(detector_.is_suspect("a"));
}

TEST_F(DetectorTest, a_new_neighbour_is_probed_at_once_with_the_ceiling_timeout) {
  Actions out;
  connections_.on_up(now_, "e", 1, out);
  detector_.add_neighbor(now_, peer("e"), out);
  EXPECT_EQ(detector_.probe_timeout("e"), 1000ms);
  Actions probes = tick();
  auto pings = sends_of(probes, MessageType::ping);
  EXPECT_TRUE(std::any_of(pings.begin(), pings.end(), [](const SendAction& s) { return s.to == "e"; }));
}

TEST_F(DetectorTest, the_timeout_adapts_to_slow_round_trips) {
  for (int round = 0; round < 16; ++round) {
    Actions probes = tick();
    now_ += 300ms;
    answer_pings(probes);
  }
  EXPECT_GE(detector_.probe_timeout("a"), 300ms);
  EXPECT_LE(detector_.probe_timeout("a"), 1000ms);
}

TEST_F(DetectorTest, answers_a_ping_with_a_pong) {
  Actions out = deliver("a", wire::encode(wire::Ping{42, 7}));
  auto pongs = sends_of(out, MessageType::pong);
  ASSERT_EQ(pongs.size(), 1u);
  EXPECT_EQ(*decode(pongs[0].message, wire::decode_pong), (wire::Pong{42, 7}));
}

TEST_F(DetectorTest, a_missed_probe_asks_k_others_and_evicts_only_after_the_suspicion_timeout) {
  Actions out = tick();
  now_ += 2ms;
  answer_pings(out, {"a"});
  now_ += 150ms;
  Actions missed = tick();
  EXPECT_TRUE(detector_.is_suspect("a"));
  expect_probe_requests_about(missed, "a", 2);
  now_ += 399ms;
  tick();
  EXPECT_TRUE(listener_.failed.empty());
  now_ += 2ms;
  tick();
  EXPECT_EQ(listener_.failed, (std::vector<NodeName>{"a"}));
}

TEST_F(DetectorTest, a_late_pong_clears_the_suspicion) {
  Actions out = tick();
  auto pings = sends_of(out, MessageType::ping);
  answer_pings(out, {"a"});
  now_ += 160ms;
  tick();
  ASSERT_TRUE(detector_.is_suspect("a"));
  for (const auto& ping : pings) {
    if (ping.to != "a") continue;
    auto p = decode(ping.message, wire::decode_ping);
    deliver("a", wire::encode(wire::Pong{p->sequence, p->sent_at_us}));
  }
  EXPECT_FALSE(detector_.is_suspect("a"));
  now_ += 500ms;
  tick();
  EXPECT_TRUE(listener_.failed.empty());
}

TEST_F(DetectorTest, reached_indirectly_but_not_directly_means_a_broken_link_and_a_report) {
  Actions out = tick();
  answer_pings(out, {"a"});
  now_ += 160ms;
  Actions missed = tick();
  auto requests = sends_of(missed, MessageType::probe_request);
  ASSERT_FALSE(requests.empty());
  auto request = decode(requests[0].message, wire::decode_probe_request);
  deliver(requests[0].to, wire::encode(wire::ProbeAck{"a", request->sequence}));
  now_ += 400ms;
  tick();
  EXPECT_TRUE(listener_.failed.empty());
  EXPECT_EQ(listener_.broken, (std::vector<NodeName>{"a"}));
  EXPECT_TRUE(detector_.has_link_report("a"));
  ASSERT_FALSE(listener_.reports.empty());
  EXPECT_EQ(listener_.reports.back(), (std::vector<NodeName>{"a"}));
}

TEST_F(DetectorTest, a_link_report_is_dropped_when_a_direct_recheck_succeeds) {
  answer_pings(tick(), {"a"});
  now_ += 160ms;
  Actions missed = tick();
  auto requests = sends_of(missed, MessageType::probe_request);
  deliver(requests[0].to, wire::encode(wire::ProbeAck{"a", decode(requests[0].message, wire::decode_probe_request)->sequence}));
  now_ += 400ms;
  tick();
  ASSERT_TRUE(detector_.has_link_report("a"));
  now_ += 3s;
  Actions recheck = tick();
  bool answered = false;
  for (const auto& ping : sends_of(recheck, MessageType::ping)) {
    if (ping.to != "a") continue;
    auto p = decode(ping.message, wire::decode_ping);
    deliver("a", wire::encode(wire::Pong{p->sequence, p->sent_at_us}));
    answered = true;
  }
  ASSERT_TRUE(answered);
  EXPECT_FALSE(detector_.has_link_report("a"));
}

TEST_F(DetectorTest, serves_an_indirect_probe_and_acks_when_the_target_answers) {
  Actions out = deliver("b", wire::encode(wire::ProbeRequest{peer("x"), 99}));
  Actions up;
  connections_.on_up(now_, "x", 1, up);
  auto pings = sends_of(up, MessageType::ping);
  ASSERT_EQ(pings.size(), 1u);
  auto p = decode(pings[0].message, wire::decode_ping);
  Actions acked = deliver("x", wire::encode(wire::Pong{p->sequence, p->sent_at_us}));
  auto acks = sends_of(acked, MessageType::probe_ack);
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(acks[0].to, "b");
  EXPECT_EQ(*decode(acks[0].message, wire::decode_probe_ack), (wire::ProbeAck{"x", 99}));
}

TEST_F(DetectorTest, health_check_reports_alive_with_round_trip_or_dead_after_timeout) {
  Actions out;
  detector_.health_check(now_, peer("a"), 7, out);
  auto pings = sends_of(out, MessageType::ping);
  ASSERT_EQ(pings.size(), 1u);
  now_ += 3ms;
  auto p = decode(pings[0].message, wire::decode_ping);
  Actions answered = deliver("a", wire::encode(wire::Pong{p->sequence, p->sent_at_us}));
  auto results = test::events<HealthCheckResult>(answered);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_TRUE(results[0].alive);
  EXPECT_EQ(results[0].round_trip, 3ms);
  EXPECT_EQ(results[0].request_id, 7u);

  Actions second;
  detector_.health_check(now_, peer("zz"), 8, second);
  now_ += 1001ms;
  auto dead = test::events<HealthCheckResult>(tick());
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_FALSE(dead[0].alive);
  EXPECT_EQ(dead[0].request_id, 8u);
}

TEST_F(DetectorTest, a_pong_from_someone_else_does_not_count) {
  Actions out = tick();
  auto pings = sends_of(out, MessageType::ping);
  for (const auto& ping : pings) {
    if (ping.to != "a") continue;
    auto p = decode(ping.message, wire::decode_ping);
    deliver("b", wire::encode(wire::Pong{p->sequence, p->sent_at_us}));  // forged by b
  }
  now_ += 160ms;
  tick();
  EXPECT_TRUE(detector_.is_suspect("a"));
}

// Neighbours on connections that speak protocol version 2 exchange
// heartbeats: one each way per round, each echoing the latest one received.
// The model: a round starts at R; our heartbeats leave at R and arrive at
// R + 1 ms; each neighbour sends its own at R + 1 ms, arriving at R + 2 ms,
// echoing the latest of ours that it received. Round trips are 2 ms.
class HeartbeatTest : public ::testing::Test {
 protected:
  static constexpr Duration kRound = 200ms;

  HeartbeatTest() : random_(5), connections_(10s), detector_(config(), random_, connections_, listener_) {
    Actions out;
    for (const char* n : {"a", "b", "c", "d"}) {
      connections_.on_up(now_, n, 2, out);
      detector_.add_neighbor(now_, peer(n), out);
    }
    for (int round = 0; round < 3; ++round) {
      round_start();
      now_ += kRound;
    }
  }

  static DetectorConfig config() {
    DetectorConfig c;
    c.probe_interval = 100ms;
    c.heartbeat_interval = kRound;
    // Heartbeat deadlines use their own floor, not the pings' (which apply
    // to pings for indirect probes and health checks).
    c.heartbeat_timeout_min = 150ms;
    c.probe_timeout_min = 250ms;
    c.probe_timeout_max = 1000ms;
    c.indirect_probes = 2;
    c.suspicion_timeout = 400ms;
    return c;
  }

  Actions deliver(const NodeName& from, const wire::Heartbeat& beat) {
    Actions out;
    const Bytes message = wire::encode(beat);
    wire::Reader r(message);
    auto type = wire::read_message_type(r);
    EXPECT_TRUE(detector_.handle(now_, from, *type, r, out));
    return out;
  }
  Actions tick() {
    Actions out;
    detector_.tick(now_, out);
    return out;
  }
  // The heartbeat `n` sent 1 ms ago (it arrives now).
  wire::Heartbeat beat_from(const NodeName& n) {
    wire::Heartbeat beat;
    beat.sent_at_us = (now_ - 1ms).count();
    if (auto it = received_.find(n); it != received_.end()) {
      beat.has_echo = true;
      beat.echo_sent_at_us = it->second;
      // Received 1 ms after we sent it, echoed now - 1 ms.
      beat.echo_held_us = static_cast<uint64_t>((now_ - 1ms - (Time(it->second) + 1ms)).count());
    }
    return beat;
  }
  // At a round start: our tick, then (2 ms later) the neighbours'
  // heartbeats, except from `silent`; ours to `cut_to` are lost. Returns
  // everything the detector did; leaves now_ 2 ms into the round.
  Actions round_start(const std::set<NodeName>& silent = {}, const std::set<NodeName>& cut_to = {}) {
    Actions out = tick();
    std::map<NodeName, int64_t> arrived;
    for (const auto& beat : sends_of(out, MessageType::heartbeat)) {
      if (!cut_to.count(beat.to)) arrived[beat.to] = decode(beat.message, wire::decode_heartbeat)->sent_at_us;
    }
    now_ += 2ms;
    for (const char* n : {"a", "b", "c", "d"}) {
      if (!silent.count(n)) out.append(deliver(n, beat_from(n)));
    }
    for (auto& [n, sent] : arrived) received_[n] = sent;  // echoed from the next round on
    now_ -= 2ms;
    return out;
  }

  Time now_{10s};  // a round start (offset 0)
  Random random_;
  Connections connections_;
  RecordingListener listener_;
  Detector detector_;
  std::map<NodeName, int64_t> received_;  // per neighbour: our latest heartbeat it received
};

TEST_F(HeartbeatTest, sends_one_heartbeat_per_neighbour_per_round_and_no_ping) {
  Actions out = tick();
  EXPECT_EQ(sends_of(out, MessageType::heartbeat).size(), 4u);
  EXPECT_TRUE(sends_of(out, MessageType::ping).empty());
  now_ += 100ms;
  EXPECT_TRUE(sends_of(tick(), MessageType::heartbeat).empty());  // not before the next round
  now_ += 100ms;
  EXPECT_EQ(sends_of(tick(), MessageType::heartbeat).size(), 4u);
}

TEST_F(HeartbeatTest, echoes_the_latest_heartbeat_received_and_learns_round_trips) {
  auto beats = sends_of(tick(), MessageType::heartbeat);
  ASSERT_EQ(beats.size(), 4u);
  auto beat = decode(beats[0].message, wire::decode_heartbeat);
  ASSERT_TRUE(beat->has_echo);
  EXPECT_FALSE(beat->reply);
  // Its heartbeat of the last round, sent 1 ms into it and received 2 ms in.
  EXPECT_EQ(beat->echo_sent_at_us, (now_ - kRound + 1ms).count());
  EXPECT_EQ(beat->echo_held_us, static_cast<uint64_t>((kRound - 2ms).count()));
  EXPECT_EQ(detector_.probe_timeout("a"), 250ms);  // 2 ms round trips: the pings' floor
}

TEST_F(HeartbeatTest, a_silent_neighbour_is_suspected_a_round_and_the_timeout_after_its_last_heartbeat) {
  round_start({"a"});
  // a's last heartbeat arrived 2 ms into the previous round and echoed ours
  // of the round before: suspected at the earlier of its silence deadline
  // (2 ms + 200 ms + 150 ms after the previous round's start) and its echo
  // deadline (2 rounds + 150 ms after the echoed heartbeat): 150 ms into
  // this round.
  now_ += 149ms;
  Actions early = tick();
  EXPECT_FALSE(detector_.is_suspect("a"));
  ASSERT_TRUE(early.wake_at);
  EXPECT_EQ(*early.wake_at, now_ + 1ms);
  now_ += 1ms;
  Actions missed = tick();
  EXPECT_TRUE(detector_.is_suspect("a"));
  expect_probe_requests_about(missed, "a", 2);
  now_ += 399ms;
  tick();
  EXPECT_TRUE(listener_.failed.empty());
  now_ += 1ms;
  tick();
  EXPECT_EQ(listener_.failed, (std::vector<NodeName>{"a"}));
  EXPECT_TRUE(listener_.broken.empty());
}

TEST_F(HeartbeatTest, a_neighbour_that_stops_echoing_ours_is_suspected_and_reported_as_a_broken_link) {
  // From this round on our heartbeats to a are lost; a's still arrive (a
  // one-way cut). a last received ours of the previous round (R - 200 ms):
  // suspected 2 rounds and the timeout after that, at R + 350 ms.
  const Time cut_at = now_;
  round_start({}, {"a"});
  now_ += kRound;
  round_start({}, {"a"});
  EXPECT_FALSE(detector_.is_suspect("a"));
  now_ = cut_at + 350ms;
  Actions missed = tick();
  ASSERT_TRUE(detector_.is_suspect("a"));
  auto requests = sends_of(missed, MessageType::probe_request);
  ASSERT_FALSE(requests.empty());
  // A helper reaches a: the link is broken, a is alive. a's heartbeats keep
  // arriving with stale echoes, which do not clear the suspicion.
  auto request = decode(requests[0].message, wire::decode_probe_request);
  Actions acked;
  const Bytes ack = wire::encode(wire::ProbeAck{"a", request->sequence});
  wire::Reader r(ack);
  auto type = wire::read_message_type(r);
  ASSERT_TRUE(detector_.handle(now_, requests[0].to, *type, r, acked));
  now_ = cut_at + 2 * kRound;
  round_start({}, {"a"});
  EXPECT_TRUE(detector_.is_suspect("a"));
  now_ = cut_at + 350ms + 400ms;
  tick();
  EXPECT_TRUE(listener_.failed.empty());
  EXPECT_EQ(listener_.broken, (std::vector<NodeName>{"a"}));
}

TEST_F(HeartbeatTest, a_heartbeat_with_a_fresh_echo_clears_the_suspicion) {
  round_start({"a"});
  now_ += 152ms;
  tick();
  ASSERT_TRUE(detector_.is_suspect("a"));
  deliver("a", beat_from("a"));  // it was only slow
  EXPECT_FALSE(detector_.is_suspect("a"));
  now_ += 500ms;
  tick();
  EXPECT_TRUE(listener_.failed.empty());
  EXPECT_TRUE(listener_.broken.empty());
}

TEST_F(HeartbeatTest, answers_a_heartbeat_from_a_non_neighbour_once_and_never_a_reply) {
  Actions out;
  connections_.on_up(now_, "x", 2, out);
  wire::Heartbeat from_x;
  from_x.sent_at_us = 1234;
  Actions answered = deliver("x", from_x);
  auto replies = sends_of(answered, MessageType::heartbeat);
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0].to, "x");
  auto reply = decode(replies[0].message, wire::decode_heartbeat);
  EXPECT_TRUE(reply->reply);
  EXPECT_TRUE(reply->has_echo);
  EXPECT_EQ(reply->echo_sent_at_us, 1234);
  // A reply is not answered: two nodes that are not each other's neighbours
  // do not bounce heartbeats forever.
  from_x.reply = true;
  EXPECT_TRUE(sends_of(deliver("x", from_x), MessageType::heartbeat).empty());
}

TEST_F(HeartbeatTest, ignores_echoes_from_the_future) {
  // b's latest echo is of our heartbeat at the last round start.
  wire::Heartbeat beat = beat_from("b");
  beat.echo_sent_at_us = (now_ + 1s).count();
  deliver("b", beat);
  // Had the echo counted, b would be safe for a second; without it, b's
  // deadline stays 2 rounds and the timeout after our last echoed heartbeat.
  now_ += 2ms;
  for (const char* n : {"a", "c", "d"}) deliver(n, beat_from(n));
  now_ = now_ - 2ms + 2 * kRound;  // no heartbeat from b for two rounds
  tick();
  EXPECT_TRUE(detector_.is_suspect("b"));
}

TEST_F(HeartbeatTest, a_neighbour_on_a_version_1_connection_is_pinged) {
  Actions out;
  connections_.on_up(now_, "e", 1, out);
  detector_.add_neighbor(now_, peer("e"), out);
  Actions probes = tick();
  auto pings = sends_of(probes, MessageType::ping);
  ASSERT_EQ(pings.size(), 1u);
  EXPECT_EQ(pings[0].to, "e");
  for (const auto& beat : sends_of(probes, MessageType::heartbeat)) EXPECT_NE(beat.to, "e");
}

}  // namespace
}  // namespace lashup
