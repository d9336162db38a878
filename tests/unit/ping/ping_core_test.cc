// Transcripts of the ping core: inputs in, actions out.
#include "core/ping/ping_core.h"

#include <gtest/gtest.h>

#include "core/wire/ping_messages.h"

namespace lashup {
namespace {

std::vector<SendAction> sends(const Actions& actions) {
  std::vector<SendAction> out;
  for (const auto& action : actions.items) {
    if (const auto* send = std::get_if<SendAction>(&action)) out.push_back(*send);
  }
  return out;
}

template <typename E>
std::vector<E> events(const Actions& actions) {
  std::vector<E> out;
  for (const auto& action : actions.items) {
    if (const auto* emit = std::get_if<EmitAction>(&action)) {
      if (const auto* e = std::get_if<E>(&emit->event)) out.push_back(*e);
    }
  }
  return out;
}

PingCore make_core() {
  return PingCore("a", {{"b", "10.0.0.2:7450"}, {"c", "10.0.0.3:7450"}}, PingConfig{100ms, 500ms}, 1);
}

TEST(PingCore, connects_to_every_peer_at_start_and_asks_for_a_tick) {
  PingCore core = make_core();
  Actions out = core.on_start(kTimeZero);
  int connects = 0;
  for (const auto& action : out.items) connects += std::holds_alternative<ConnectAction>(action);
  EXPECT_EQ(connects, 2);
  ASSERT_TRUE(out.wake_at);
  EXPECT_LT(*out.wake_at, Time(100ms));
}

TEST(PingCore, probes_peers_round_robin) {
  PingCore core = make_core();
  Time now = *core.on_start(kTimeZero).wake_at;
  std::vector<NodeName> probed;
  for (int i = 0; i < 4; ++i) {
    Actions out = core.on_tick(now);
    for (const auto& send : sends(out)) probed.push_back(send.to);
    now = *out.wake_at;
  }
  EXPECT_EQ(probed, (std::vector<NodeName>{"b", "c", "b", "c"}));
}

TEST(PingCore, answers_a_ping_with_a_pong_echoing_its_fields) {
  PingCore core = make_core();
  core.on_start(kTimeZero);
  Actions out = core.on_message(Time(5ms), "b", wire::encode(wire::Ping{9, 1234}));
  auto sent = sends(out);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].to, "b");
  EXPECT_EQ(sent[0].message, wire::encode(wire::Pong{9, 1234}));
}

TEST(PingCore, reports_round_trip_of_an_answered_probe) {
  PingCore core = make_core();
  const Time first = *core.on_start(kTimeZero).wake_at;
  Actions probe = core.on_tick(first);
  auto sent = sends(probe);
  ASSERT_EQ(sent.size(), 1u);
  wire::Reader r(sent[0].message);
  ASSERT_TRUE(wire::read_message_type(r));
  auto ping = wire::decode_ping(r);
  ASSERT_TRUE(ping);
  Actions answer = core.on_message(first + 3ms, sent[0].to, wire::encode(wire::Pong{ping->sequence, ping->sent_at_us}));
  auto answered = events<ProbeAnswered>(answer);
  ASSERT_EQ(answered.size(), 1u);
  EXPECT_EQ(answered[0].round_trip, 3ms);
  EXPECT_EQ(core.stats().pongs_received, 1u);
}

TEST(PingCore, reports_a_probe_lost_after_its_timeout) {
  PingCore core = make_core();
  const Time first = *core.on_start(kTimeZero).wake_at;
  core.on_tick(first);
  Actions later = core.on_tick(first + 500ms);
  auto lost = events<ProbeTimedOut>(later);
  ASSERT_EQ(lost.size(), 1u);
  EXPECT_EQ(lost[0].peer, "b");
}

TEST(PingCore, ignores_a_pong_from_another_peer_than_the_probed_one) {
  PingCore core = make_core();
  const Time first = *core.on_start(kTimeZero).wake_at;
  core.on_tick(first);  // probes b with sequence 1
  Actions forged = core.on_message(first + 1ms, "c", wire::encode(wire::Pong{1, first.count()}));
  EXPECT_TRUE(events<ProbeAnswered>(forged).empty());
}

TEST(PingCore, closes_the_connection_of_a_peer_sending_garbage_and_counts_it) {
  PingCore core = make_core();
  core.on_start(kTimeZero);
  const Bytes garbage{0xff, 0xff, 0xff};
  Actions out = core.on_message(Time(1ms), "b", garbage);
  ASSERT_EQ(out.items.size(), 1u);
  ASSERT_TRUE(std::holds_alternative<DisconnectAction>(out.items[0]));
  EXPECT_EQ(std::get<DisconnectAction>(out.items[0]).peer, "b");
  EXPECT_EQ(core.stats().malformed_messages, 1u);
}

}  // namespace
}  // namespace lashup
