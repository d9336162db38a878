// HyParView transcripts: one overlay, messages in, actions out.
#include "core/overlay/overlay.h"

#include <gtest/gtest.h>

#include <set>

#include "core/wire/overlay_messages.h"
#include "tests/unit/support/actions_util.h"

namespace lashup {
namespace {

using test::decode;
using test::sends_of;
using wire::MessageType;
using wire::PeerRef;

PeerRef peer(const std::string& name) { return {name, name + ":7450"}; }

struct RecordingListener : OverlayListener {
  std::vector<NodeName> up;
  std::vector<std::pair<NodeName, NeighborDownReason>> down;
  std::set<NodeName> avoided;
  void on_neighbor_up(Time, const PeerRef& p, Actions&) override { up.push_back(p.name); }
  void on_neighbor_down(Time, const NodeName& p, NeighborDownReason r, Actions&) override { down.emplace_back(p, r); }
  bool avoid_as_neighbor(const NodeName& p) const override { return avoided.count(p) > 0; }
  std::vector<NodeName> unanswered;
  void on_neighbor_request_failed(Time, const PeerRef& p, Actions&) override { unanswered.push_back(p.name); }
};

class OverlayTest : public ::testing::Test {
 protected:
  OverlayTest() : random_(1), connections_(10s) {}

  Overlay& make(OverlayConfig config = {}, std::vector<PeerRef> contacts = {}) {
    overlay_ = std::make_unique<Overlay>(config, peer("self"), std::move(contacts), random_, connections_, listener_);
    Actions out;
    overlay_->start(now_, {}, out);
    return *overlay_;
  }

  // Delivers a message as if `from` sent it over an open connection.
  Actions deliver(const NodeName& from, const Bytes& message) {
    Actions out;
    connections_.on_up(now_, from, wire::kProtocolVersion, out);
    wire::Reader r(message);
    auto type = wire::read_message_type(r);
    EXPECT_TRUE(type.is_ok());
    EXPECT_TRUE(overlay_->handle(now_, from, *type, r, out));
    return out;
  }

  void fill_active(const std::vector<std::string>& names) {
    for (const auto& n : names) deliver(n, wire::encode(wire::Neighbor{peer(n), true}));
  }

  Time now_{1000s};
  Random random_;
  Connections connections_;
  RecordingListener listener_;
  std::unique_ptr<Overlay> overlay_;
};

TEST_F(OverlayTest, first_node_without_contacts_counts_as_joined) {
  Overlay& o = make();
  EXPECT_TRUE(o.joined());
}

TEST_F(OverlayTest, joining_node_sends_join_to_a_contact) {
  overlay_ = std::make_unique<Overlay>(OverlayConfig{}, peer("self"), std::vector<PeerRef>{peer("c1")}, random_,
                                       connections_, listener_);
  Actions out;
  overlay_->start(now_, {}, out);
  EXPECT_FALSE(overlay_->joined());
  // The join waits for the connection; once it is up the JOIN goes out.
  Actions up;
  connections_.on_up(now_, "c1", wire::kProtocolVersion, up);
  auto joins = sends_of(up, MessageType::join);
  ASSERT_EQ(joins.size(), 1u);
  EXPECT_EQ(joins[0].to, "c1");
  EXPECT_EQ(decode(joins[0].message, wire::decode_join)->joiner, peer("self"));
}

TEST_F(OverlayTest, accepted_join_adds_joiner_and_starts_walks_through_other_neighbours) {
  Overlay& o = make();
  fill_active({"a", "b"});
  Actions out = deliver("j", wire::encode(wire::Join{peer("j")}));
  EXPECT_TRUE(o.is_active("j"));
  auto walks = sends_of(out, MessageType::forward_join);
  ASSERT_EQ(walks.size(), 2u);
  std::set<NodeName> walked{walks[0].to, walks[1].to};
  EXPECT_EQ(walked, (std::set<NodeName>{"a", "b"}));
  auto walk = decode(walks[0].message, wire::decode_forward_join);
  EXPECT_EQ(walk->joiner, peer("j"));
  EXPECT_EQ(walk->ttl, 6u);
  auto replies = sends_of(out, MessageType::join_reply);
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_TRUE(decode(replies[0].message, wire::decode_join_reply)->accepted);
}

TEST_F(OverlayTest, joins_over_the_rate_limit_are_denied_with_hints) {
  OverlayConfig config;
  config.joins_per_second_max = 2;
  Overlay& o = make(config);
  fill_active({"a"});
  deliver("j1", wire::encode(wire::Join{peer("j1")}));
  deliver("j2", wire::encode(wire::Join{peer("j2")}));
  Actions out = deliver("j3", wire::encode(wire::Join{peer("j3")}));
  EXPECT_FALSE(o.is_active("j3"));
  auto replies = sends_of(out, MessageType::join_reply);
  ASSERT_EQ(replies.size(), 1u);
  auto reply = decode(replies[0].message, wire::decode_join_reply);
  EXPECT_FALSE(reply->accepted);
  EXPECT_FALSE(reply->hints.empty());
  EXPECT_EQ(o.stats().joins_denied, 1u);
  // A second later the window has moved on.
  now_ += 1s;
  deliver("j4", wire::encode(wire::Join{peer("j4")}));
  EXPECT_TRUE(o.is_active("j4"));
}

TEST_F(OverlayTest, a_walk_ends_in_a_neighbor_handshake_not_a_one_way_add) {
  Overlay& o = make();
  fill_active({"a", "b"});
  Actions out = deliver("a", wire::encode(wire::ForwardJoin{peer("j"), 0}));
  EXPECT_FALSE(o.is_active("j"));  // not until j accepts
  Actions up;
  connections_.on_up(now_, "j", wire::kProtocolVersion, up);
  auto requests = sends_of(up, MessageType::neighbor);
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_TRUE(decode(requests[0].message, wire::decode_neighbor)->high_priority);
  deliver("j", wire::encode(wire::NeighborReply{true, {}}));
  EXPECT_TRUE(o.is_active("j"));
}

TEST_F(OverlayTest, a_walk_passing_the_passive_length_leaves_the_joiner_in_the_passive_view) {
  Overlay& o = make();
  fill_active({"a", "b", "c"});
  Actions out = deliver("a", wire::encode(wire::ForwardJoin{peer("j"), 3}));
  auto forwards = sends_of(out, MessageType::forward_join);
  ASSERT_EQ(forwards.size(), 1u);
  EXPECT_NE(forwards[0].to, "a");
  EXPECT_EQ(decode(forwards[0].message, wire::decode_forward_join)->ttl, 2u);
  ASSERT_EQ(o.passive_view().size(), 1u);
  EXPECT_EQ(o.passive_view()[0].name, "j");
}

TEST_F(OverlayTest, low_priority_request_to_a_full_view_is_refused_with_a_sample) {
  OverlayConfig config;
  config.active_view_size = 2;
  Overlay& o = make(config);
  fill_active({"a", "b"});
  o.learn_passive(peer("p"));
  Actions out = deliver("x", wire::encode(wire::Neighbor{peer("x"), false}));
  EXPECT_FALSE(o.is_active("x"));
  auto replies = sends_of(out, MessageType::neighbor_reply);
  ASSERT_EQ(replies.size(), 1u);
  auto reply = decode(replies[0].message, wire::decode_neighbor_reply);
  EXPECT_FALSE(reply->accepted);
  ASSERT_EQ(reply->passive_sample.size(), 1u);
  EXPECT_EQ(reply->passive_sample[0].name, "p");
}

TEST_F(OverlayTest, high_priority_request_to_a_full_view_evicts_a_neighbour_with_disconnect) {
  OverlayConfig config;
  config.active_view_size = 2;
  Overlay& o = make(config);
  fill_active({"a", "b"});
  Actions out = deliver("x", wire::encode(wire::Neighbor{peer("x"), true}));
  EXPECT_TRUE(o.is_active("x"));
  EXPECT_EQ(o.active_view().size(), 2u);
  auto disconnects = sends_of(out, MessageType::disconnect);
  ASSERT_EQ(disconnects.size(), 1u);
  // The evicted neighbour stays known as a replacement.
  ASSERT_EQ(o.passive_view().size(), 1u);
  EXPECT_EQ(o.passive_view()[0].name, disconnects[0].to);
  ASSERT_FALSE(listener_.down.empty());
  EXPECT_EQ(listener_.down.back().second, NeighborDownReason::evicted);
}

TEST_F(OverlayTest, disconnect_moves_the_neighbour_to_the_passive_view) {
  Overlay& o = make();
  fill_active({"a"});
  deliver("a", wire::encode(wire::Disconnect{}));
  EXPECT_FALSE(o.is_active("a"));
  ASSERT_EQ(o.passive_view().size(), 1u);
  EXPECT_EQ(listener_.down.back().second, NeighborDownReason::disconnected);
}

TEST_F(OverlayTest, a_closed_connection_removes_the_neighbour_as_failed) {
  Overlay& o = make();
  fill_active({"a"});
  Actions out;
  o.on_connection_down(now_, "a", out);
  EXPECT_FALSE(o.is_active("a"));
  EXPECT_TRUE(o.passive_view().empty());
  EXPECT_EQ(listener_.down.back().second, NeighborDownReason::connection_closed);
}

TEST_F(OverlayTest, an_unanswered_neighbor_request_drops_the_candidate) {
  Overlay& o = make();
  o.learn_passive(peer("p"));
  Actions out;
  o.request_neighbor(now_, peer("p"), false, out);
  now_ += 3s;
  o.tick(now_, out);
  EXPECT_TRUE(std::none_of(o.passive_view().begin(), o.passive_view().end(),
                           [](const PeerRef& p) { return p.name == "p"; }));
  EXPECT_EQ(listener_.unanswered, (std::vector<NodeName>{"p"}));
}

TEST_F(OverlayTest, shuffle_at_the_end_of_its_walk_replies_and_keeps_what_it_received) {
  Overlay& o = make();
  fill_active({"a"});
  o.learn_passive(peer("p1"));
  Actions out = deliver("a", wire::encode(wire::Shuffle{peer("origin"), 0, {peer("s1"), peer("s2")}}));
  Actions up;
  connections_.on_up(now_, "origin", wire::kProtocolVersion, up);
  auto replies = sends_of(up, MessageType::shuffle_reply);
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0].to, "origin");
  std::set<NodeName> passive;
  for (const auto& p : o.passive_view()) passive.insert(p.name);
  EXPECT_TRUE(passive.count("s1") && passive.count("s2"));
}

// Advances time in 50 ms steps until the overlay sends a shuffle, for at most
// `limit`; returns how long that took (nullopt: none sent).
std::optional<Duration> time_to_next_shuffle(Overlay& o, Time& now, Duration limit) {
  for (Duration waited{0}; waited <= limit; waited += 50ms, now += 50ms) {
    Actions out;
    o.tick(now, out);
    if (!sends_of(out, MessageType::shuffle).empty()) return waited;
  }
  return std::nullopt;
}

TEST_F(OverlayTest, shuffles_are_fast_while_the_passive_view_fills_and_slow_once_replies_teach_nothing) {
  OverlayConfig config;
  config.shuffle_interval = 30s;
  config.active_view_size = 1;  // full with "a": no neighbour requests take nodes out of the passive view
  Overlay& o = make(config);
  fill_active({"a"});
  o.learn_passive(peer("p1"));
  // Short passive view, nothing heard yet: the filling pace (2.5 s +/- 50%,
  // then the next round start).
  auto first = time_to_next_shuffle(o, now_, 5s);
  ASSERT_TRUE(first.has_value());
  auto second = time_to_next_shuffle(o, now_, 5s);
  ASSERT_TRUE(second.has_value());
  EXPECT_LE(*second, 3750ms);
  // A reply naming only nodes we know: the view is as full as this cluster
  // allows. The shuffle already scheduled comes, the next one only at the
  // configured pace (30 s +/- 50%).
  deliver("x", wire::encode(wire::ShuffleReply{{peer("p1"), peer("a")}}));
  ASSERT_TRUE(time_to_next_shuffle(o, now_, 5s).has_value());
  auto slow = time_to_next_shuffle(o, now_, 60s);
  ASSERT_TRUE(slow.has_value());
  EXPECT_GE(*slow, 15s);
  // A reply with a new node: fast again (after the one already scheduled).
  deliver("y", wire::encode(wire::ShuffleReply{{peer("p2")}}));
  ASSERT_TRUE(time_to_next_shuffle(o, now_, 60s).has_value());
  auto fast = time_to_next_shuffle(o, now_, 5s);
  ASSERT_TRUE(fast.has_value());
  EXPECT_LE(*fast, 3750ms);
}

TEST_F(OverlayTest, filling_skips_nodes_in_link_reports) {
  Overlay& o = make();
  o.learn_passive(peer("bad"));
  listener_.avoided.insert("bad");
  Actions out;
  now_ += 1s;
  o.tick(now_, out);
  Actions up;
  connections_.on_up(now_, "bad", wire::kProtocolVersion, up);
  EXPECT_TRUE(sends_of(up, MessageType::neighbor).empty());
}

TEST_F(OverlayTest, views_stay_disjoint_and_bounded_under_a_message_storm) {
  OverlayConfig config;
  config.active_view_size = 3;
  config.passive_view_size = 5;
  Overlay& o = make(config);
  Random storm(7);
  for (int i = 0; i < 2000; ++i) {
    const std::string from = "n" + std::to_string(storm.uniform(20));
    std::vector<PeerRef> sample;
    for (int k = 0; k < 3; ++k) sample.push_back(peer("n" + std::to_string(storm.uniform(20))));
    switch (storm.uniform(6)) {
      case 0: deliver(from, wire::encode(wire::Join{peer(from)})); break;
      case 1: deliver(from, wire::encode(wire::Neighbor{peer(from), storm.chance(0.5)})); break;
      case 2: deliver(from, wire::encode(wire::Disconnect{})); break;
      case 3: deliver(from, wire::encode(wire::Shuffle{peer(from), 0, sample})); break;
      case 4: deliver(from, wire::encode(wire::ForwardJoin{sample[0], static_cast<uint32_t>(storm.uniform(4))})); break;
      default: deliver(from, wire::encode(wire::NeighborReply{storm.chance(0.5), sample})); break;
    }
    now_ += 10ms;
    ASSERT_EQ(o.check_invariants(), "") << "after message " << i;
  }
}

}  // namespace
}  // namespace lashup
