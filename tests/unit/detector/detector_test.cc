// Failure detector transcripts.
#include "core/detector/detector.h"

#include <gtest/gtest.h>

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
      connections_.on_up(now_, n, out);
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
  connections_.on_up(now_, "e", out);
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
  auto requests = sends_of(missed, MessageType::probe_request);
  ASSERT_EQ(requests.size(), 2u);
  for (const auto& r : requests) {
    EXPECT_NE(r.to, "a");
    EXPECT_EQ(decode(r.message, wire::decode_probe_request)->target.name, "a");
  }
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
  connections_.on_up(now_, "x", up);
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

}  // namespace
}  // namespace lashup
