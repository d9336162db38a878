// Transcript tests of the multicast core: one Multicast object driven by
// hand-made messages, with a fake topology (tree children per origin,
// neighbours, connections).
#include "core/multicast/multicast.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "tests/unit/support/actions_util.h"

namespace lashup {
namespace {

using namespace std::chrono_literals;
using test::decode;
using test::events;
using test::sends_of;
using wire::MessageType;

class FakeTopology : public MulticastTopology {
 public:
  const std::vector<NodeName>& tree_children(const NodeName& origin) override {
    static const std::vector<NodeName> none;
    auto it = children.find(origin);
    return it == children.end() ? none : it->second;
  }
  const std::vector<NodeName>& neighbors() override { return neighbor_list; }
  bool connected(const NodeName& peer) const override { return up.count(peer) > 0; }

  std::map<NodeName, std::vector<NodeName>> children;
  std::vector<NodeName> neighbor_list;
  std::set<NodeName> up;
};

wire::McData data(const NodeName& origin, uint64_t sequence, std::string topic = "t", Incarnation inc = 1) {
  wire::McData m;
  m.origin = origin;
  m.incarnation = inc;
  m.sequence = sequence;
  m.topic = std::move(topic);
  m.hops_left = 10;
  m.payload = {1, 2, 3};
  return m;
}

class MulticastTest : public ::testing::Test {
 protected:
  MulticastTest() {
    topology_.neighbor_list = {"a", "b", "c"};
    topology_.up = {"a", "b", "c"};
    topology_.children["self"] = {"a", "b", "c"};
    topology_.children["o"] = {"b"};  // o's tree: o -> a -> self -> b; c is a lazy neighbour
    make();
  }

  void make(Duration uptime = 0ms) {
    mc_ = std::make_unique<Multicast>(config_, "self", 7, random_, topology_);
    mc_->start(now_);
    now_ += uptime;
  }

  Actions receive(const NodeName& from, const Bytes& message) {
    Actions out;
    wire::Reader r(message);
    auto type = wire::read_message_type(r);
    EXPECT_TRUE(type.is_ok());
    EXPECT_TRUE(mc_->handle(now_, from, *type, r, out));
    return out;
  }
  Actions receive(const NodeName& from, const wire::McData& m) { return receive(from, wire::encode(m)); }
  Actions announce(const NodeName& from, std::vector<wire::McRange> ranges, bool summary = false) {
    return receive(from, wire::encode(wire::McAnnounce{summary, std::move(ranges)}));
  }
  Actions advance(Duration d) {
    now_ += d;
    Actions out;
    mc_->tick(now_, out);
    return out;
  }
  // Ticks at every wish of the core until `d` passed, collecting the Actions.
  Actions run_for(Duration d) {
    const Time end = now_ + d;
    Actions all;
    while (true) {
      auto at = mc_->next_deadline();
      if (!at || *at > end) break;
      now_ = std::max(now_, *at);
      Actions out;
      mc_->tick(now_, out);
      all.append(std::move(out));
    }
    now_ = end;
    return all;
  }

  MulticastConfig config_;
  Random random_{42};
  FakeTopology topology_;
  std::unique_ptr<Multicast> mc_;
  Time now_{1'000'000};
};

TEST(McWire, RoundTripsAndRejectsMalformed) {
  wire::McData m = data("origin", 5, "topic");
  m.repair = true;
  auto back = decode(wire::encode(m), wire::decode_mc_data);
  ASSERT_TRUE(back.is_ok());
  EXPECT_EQ(*back, m);

  wire::McAnnounce a{true, {{"o", 3, 10, 20}, {"p", 1, 1, 1}}};
  auto a2 = decode(wire::encode(a), wire::decode_mc_announce);
  ASSERT_TRUE(a2.is_ok());
  EXPECT_EQ(*a2, a);

  auto bad = [](wire::McData x) { return decode(wire::encode(x), wire::decode_mc_data).is_ok(); };
  EXPECT_FALSE(bad(data("o", 0)));             // sequence 0
  EXPECT_FALSE(bad(data("o", 1, "")));         // empty topic
  EXPECT_FALSE(bad(data("", 1)));              // empty origin
  Bytes trailing = wire::encode(data("o", 1));
  trailing.push_back(0);
  EXPECT_FALSE(decode(trailing, wire::decode_mc_data).is_ok());
  Bytes flags = wire::encode(data("o", 1));
  flags[flags.size() - 5] = 0x80;  // the flags byte before the 3-byte payload and its length
  EXPECT_FALSE(decode(flags, wire::decode_mc_data).is_ok());

  // A range longer than kMcRangeSpanMax, or one that overflows.
  wire::Writer w = wire::begin_message(MessageType::mc_pull);
  w.varint(1);
  w.string("o");
  w.varint(1);
  w.varint(UINT64_MAX - 1);
  w.varint(5);
  EXPECT_FALSE(decode(w.take(), wire::decode_mc_pull).is_ok());
  wire::Writer w2 = wire::begin_message(MessageType::mc_pull);
  w2.varint(1);
  w2.string("o");
  w2.varint(1);
  w2.varint(1);
  w2.varint(wire::kMcRangeSpanMax);
  EXPECT_FALSE(decode(w2.take(), wire::decode_mc_pull).is_ok());
}

TEST(SeqSet, MergesAdjacentRuns) {
  SeqSet s;
  s.insert(5);
  s.insert(7);
  EXPECT_EQ(s.intervals(), 2u);
  s.insert(6);
  EXPECT_EQ(s.intervals(), 1u);
  EXPECT_TRUE(s.contains(5) && s.contains(6) && s.contains(7));
  EXPECT_FALSE(s.contains(4) || s.contains(8));
  s.insert(4);
  s.insert(8);
  EXPECT_EQ(s.front(), (std::pair<uint64_t, uint64_t>{4, 8}));
  EXPECT_EQ(s.run_end(5), 8u);
  s.insert(6);  // already there
  EXPECT_EQ(s.intervals(), 1u);
}

TEST_F(MulticastTest, PublishSendsDownOwnTreeAndDeliversLocally) {
  ASSERT_TRUE(mc_->subscribe("t"));
  Actions out;
  auto seq = mc_->publish(now_, "t", Bytes{9, 9}, out);
  ASSERT_TRUE(seq.is_ok());
  EXPECT_EQ(*seq, 1u);
  auto data_sends = sends_of(out, MessageType::mc_data);
  ASSERT_EQ(data_sends.size(), 3u);
  auto m = decode(data_sends[0].message, wire::decode_mc_data);
  ASSERT_TRUE(m.is_ok());
  EXPECT_EQ(m->origin, "self");
  EXPECT_EQ(m->incarnation, 7u);
  EXPECT_EQ(m->sequence, 1u);
  EXPECT_EQ(m->hops_left, config_.hops - 1);
  EXPECT_FALSE(m->repair);
  auto delivered = events<McDelivered>(out);
  ASSERT_EQ(delivered.size(), 1u);
  EXPECT_EQ(delivered[0].payload, (Bytes{9, 9}));
  Actions out2;
  EXPECT_EQ(*mc_->publish(now_, "t", {}, out2), 2u);
}

TEST_F(MulticastTest, PublishValidatesTopicAndSize) {
  Actions out;
  EXPECT_EQ(mc_->publish(now_, "", {}, out).status().code(), StatusCode::invalid);
  EXPECT_EQ(mc_->publish(now_, std::string(256, 'x'), {}, out).status().code(), StatusCode::invalid);
  Bytes big(config_.max_payload_bytes + 1);
  auto r = mc_->publish(now_, "t", big, out);
  EXPECT_EQ(r.status().code(), StatusCode::too_large);
  EXPECT_NE(r.status().message().find("multicast.payload_bytes_max"), std::string::npos);
  EXPECT_TRUE(out.items.empty());
  EXPECT_EQ(mc_->stats().published, 0u);
}

TEST_F(MulticastTest, ForwardsToChildrenAnnouncesToOthersAndDropsDuplicates) {
  ASSERT_TRUE(mc_->subscribe("t"));
  Actions out = receive("a", data("o", 1));
  auto forwarded = sends_of(out, MessageType::mc_data);
  ASSERT_EQ(forwarded.size(), 1u);
  EXPECT_EQ(forwarded[0].to, "b");
  EXPECT_EQ(decode(forwarded[0].message, wire::decode_mc_data)->hops_left, 9u);
  EXPECT_EQ(events<McDelivered>(out).size(), 1u);
  EXPECT_TRUE(sends_of(out, MessageType::mc_announce).empty());  // batched

  Actions later = run_for(config_.announce_interval);
  auto announced = sends_of(later, MessageType::mc_announce);
  ASSERT_EQ(announced.size(), 1u);
  EXPECT_EQ(announced[0].to, "c");  // not a (sender), not b (child)
  auto a = decode(announced[0].message, wire::decode_mc_announce);
  ASSERT_TRUE(a.is_ok());
  EXPECT_FALSE(a->summary);
  EXPECT_EQ(a->ranges, (std::vector<wire::McRange>{{"o", 1, 1, 1}}));

  Actions dup = receive("c", data("o", 1));
  EXPECT_TRUE(dup.items.empty());
  EXPECT_EQ(mc_->stats().duplicates_received, 1u);
  EXPECT_EQ(mc_->stats().delivered, 1u);
}

TEST_F(MulticastTest, UnsubscribedTopicIsForwardedNotDelivered) {
  Actions out = receive("a", data("o", 1, "other"));
  EXPECT_EQ(sends_of(out, MessageType::mc_data).size(), 1u);
  EXPECT_TRUE(events<McDelivered>(out).empty());
  EXPECT_EQ(mc_->stats().no_subscriber, 1u);
  ASSERT_TRUE(mc_->subscribe("other"));
  EXPECT_TRUE(mc_->unsubscribe("other"));
  EXPECT_FALSE(mc_->unsubscribe("other"));
}

TEST_F(MulticastTest, NoHopsLeftIsDeliveredButNotForwarded) {
  ASSERT_TRUE(mc_->subscribe("t"));
  auto m = data("o", 1);
  m.hops_left = 0;
  Actions out = receive("a", m);
  EXPECT_TRUE(sends_of(out, MessageType::mc_data).empty());
  EXPECT_EQ(events<McDelivered>(out).size(), 1u);
  EXPECT_EQ(mc_->stats().hops_exhausted, 1u);
  // b did not get it down the tree: it is told lazily.
  auto announced = sends_of(run_for(config_.announce_interval), MessageType::mc_announce);
  EXPECT_EQ(announced.size(), 2u);
}

TEST_F(MulticastTest, GapIsPulledFromTheSenderAndDeliveredOnce) {
  ASSERT_TRUE(mc_->subscribe("t"));
  receive("a", data("o", 1));
  Actions out = receive("a", data("o", 3));
  EXPECT_EQ(events<McDelivered>(out).size(), 1u);
  EXPECT_EQ(mc_->missing_count(), 1u);
  // The tree copy of 2 gets repair_delay to arrive; then it is pulled.
  Actions early = run_for(config_.repair_delay - 1ms);
  EXPECT_TRUE(sends_of(early, MessageType::mc_pull).empty());
  Actions pulled = run_for(2ms);
  auto pulls = sends_of(pulled, MessageType::mc_pull);
  ASSERT_EQ(pulls.size(), 1u);
  EXPECT_EQ(pulls[0].to, "a");
  EXPECT_EQ(decode(pulls[0].message, wire::decode_mc_pull)->ranges,
            (std::vector<wire::McRange>{{"o", 1, 2, 2}}));

  auto repair = data("o", 2);
  repair.repair = true;
  Actions got = receive("a", repair);
  EXPECT_EQ(events<McDelivered>(got).size(), 1u);
  EXPECT_EQ(mc_->stats().repaired, 1u);
  EXPECT_EQ(mc_->missing_count(), 0u);
  EXPECT_TRUE(receive("b", data("o", 2)).items.empty());  // the late tree copy
  EXPECT_EQ(mc_->stats().delivered, 3u);
}

TEST_F(MulticastTest, AnnouncedMessageIsPulledUnlessTheTreeCopyArrives) {
  ASSERT_TRUE(mc_->subscribe("t"));
  receive("a", data("o", 1));
  announce("c", {{"o", 1, 2, 3}});
  EXPECT_EQ(mc_->missing_count(), 2u);
  receive("a", data("o", 2));  // the tree copy of 2 in time
  Actions out = run_for(config_.repair_delay + 1ms);
  auto pulls = sends_of(out, MessageType::mc_pull);
  ASSERT_EQ(pulls.size(), 1u);
  EXPECT_EQ(pulls[0].to, "c");
  EXPECT_EQ(decode(pulls[0].message, wire::decode_mc_pull)->ranges,
            (std::vector<wire::McRange>{{"o", 1, 3, 3}}));
  // Unanswered: asked again later (another holder or neighbour).
  Actions retry = run_for(config_.pull_timeout + 1ms);
  EXPECT_EQ(sends_of(retry, MessageType::mc_pull).size(), 1u);
}

TEST_F(MulticastTest, PullIsAnsweredFromHistoryUntilItExpires) {
  Actions out;
  ASSERT_TRUE(mc_->publish(now_, "t", Bytes{4}, out).is_ok());
  receive("a", data("o", 1));
  Actions answer = receive("c", wire::encode(wire::McPull{{{"self", 7, 1, 1}, {"o", 1, 1, 2}}}));
  auto repairs = sends_of(answer, MessageType::mc_data);
  ASSERT_EQ(repairs.size(), 2u);
  for (auto& r : repairs) {
    EXPECT_EQ(r.to, "c");
    EXPECT_TRUE(decode(r.message, wire::decode_mc_data)->repair);
  }
  EXPECT_EQ(mc_->stats().pull_misses, 1u);  // o/2 was never here

  run_for(config_.history + 2s);
  Actions none = receive("c", wire::encode(wire::McPull{{{"self", 7, 1, 1}}}));
  EXPECT_TRUE(sends_of(none, MessageType::mc_data).empty());
  EXPECT_EQ(mc_->history_bytes(), 0u);
}

TEST_F(MulticastTest, NewNeighbourGetsASummaryOfHistory) {
  Actions out;
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(mc_->publish(now_, "t", {}, out).is_ok());
  receive("a", data("o", 4));
  receive("a", data("o", 5));
  topology_.up.insert("d");
  Actions up;
  mc_->on_neighbor_up(now_, "d", up);
  auto summaries = sends_of(up, MessageType::mc_announce);
  ASSERT_EQ(summaries.size(), 1u);
  auto s = decode(summaries[0].message, wire::decode_mc_announce);
  ASSERT_TRUE(s.is_ok());
  EXPECT_TRUE(s->summary);
  std::set<std::tuple<NodeName, uint64_t, uint64_t>> ranges;
  for (auto& r : s->ranges) ranges.emplace(r.origin, r.first, r.last);
  EXPECT_EQ(ranges, (std::set<std::tuple<NodeName, uint64_t, uint64_t>>{{"self", 1, 3}, {"o", 4, 5}}));
}

TEST_F(MulticastTest, AJoiningNodeIsNotReplayedThePastButCatchesUpOnWhatCameAfter) {
  ASSERT_TRUE(mc_->subscribe("t"));
  Actions up;
  mc_->on_neighbor_up(now_, "a", up);
  // Joining: the neighbour's summary is the past.
  announce("a", {{"o", 1, 1, 5}}, true);
  EXPECT_EQ(mc_->missing_count(), 0u);
  EXPECT_TRUE(events<McDelivered>(receive("a", data("o", 5))).empty());
  EXPECT_EQ(events<McDelivered>(receive("a", data("o", 6))).size(), 1u);

  // Later, a summary lists what we missed since: it is pulled, and an origin
  // we never heard of is pulled from its first message on.
  run_for(2s);
  announce("c", {{"o", 1, 6, 8}, {"p", 1, 1, 3}}, true);
  EXPECT_EQ(mc_->missing_count(), 5u);
  Actions out = run_for(1ms);
  auto pulls = sends_of(out, MessageType::mc_pull);
  ASSERT_EQ(pulls.size(), 1u);
  EXPECT_EQ(pulls[0].to, "c");
  // A summary may also list a message still on its way down the tree here.
  announce("c", {{"q", 1, 1, 1}}, true);
  EXPECT_EQ(events<McDelivered>(receive("a", data("q", 1))).size(), 1u);
  EXPECT_TRUE(events<McDelivered>(receive("c", data("q", 1))).empty());
}

TEST_F(MulticastTest, OnlyTheFirstSummaryIsThePastLaterOnesAreCaughtUpOn) {
  ASSERT_TRUE(mc_->subscribe("t"));
  Actions up;
  mc_->on_neighbor_up(now_, "a", up);
  announce("a", {{"o", 1, 1, 5}}, true);  // the past
  now_ += 100ms;
  mc_->on_neighbor_up(now_, "b", up);
  announce("b", {{"o", 1, 1, 7}}, true);  // 6 and 7 were sent since we came
  EXPECT_EQ(mc_->missing_count(), 2u);
}

TEST_F(MulticastTest, TreeCopiesLateUnderLoadRaiseTheRepairDelay) {
  receive("a", data("o", 1));
  // 2 is announced, pulled after repair_delay, repaired; its tree copy
  // then arrives 300 ms after we first heard of it: the tree is slow.
  announce("c", {{"o", 1, 2, 2}});
  run_for(config_.repair_delay + 1ms);
  auto repair = data("o", 2);
  repair.repair = true;
  receive("c", repair);
  now_ += 270ms;
  receive("a", data("o", 2));
  EXPECT_EQ(mc_->stats().late_tree_copies, 1u);
  // The next announced message waits longer than repair_delay for its tree copy.
  announce("c", {{"o", 1, 3, 3}});
  Actions early = run_for(config_.repair_delay + 10ms);
  EXPECT_TRUE(sends_of(early, MessageType::mc_pull).empty());
  Actions later = run_for(50ms);
  EXPECT_EQ(sends_of(later, MessageType::mc_pull).size(), 1u);
}

TEST_F(MulticastTest, ReservedTopicsCannotBeSubscribed) {
  EXPECT_EQ(mc_->subscribe("lashup/kv").code(), StatusCode::invalid);
}

TEST_F(MulticastTest, RestartedOriginStartsAgainAndOldIncarnationIsStale) {
  ASSERT_TRUE(mc_->subscribe("t"));
  receive("a", data("o", 1, "t", 1));
  receive("a", data("o", 2, "t", 1));
  EXPECT_EQ(events<McDelivered>(receive("a", data("o", 1, "t", 2))).size(), 1u);
  EXPECT_TRUE(events<McDelivered>(receive("a", data("o", 3, "t", 1))).empty());
  EXPECT_EQ(mc_->stats().stale_received, 1u);
  // Our own message coming back is a duplicate.
  EXPECT_TRUE(receive("a", data("self", 1, "t", 7)).items.empty());
}

TEST_F(MulticastTest, MessageNobodyHasIsGivenUpAfterHistory) {
  receive("a", data("o", 1));
  receive("a", data("o", 3));
  EXPECT_EQ(mc_->missing_count(), 1u);
  Actions all = run_for(config_.history + 5s);
  EXPECT_GE(sends_of(all, MessageType::mc_pull).size(), 3u);
  EXPECT_EQ(mc_->missing_count(), 0u);
  EXPECT_EQ(mc_->stats().lost, 1u);
  // The floor moved past the hole: 2 is old now, not delivered.
  ASSERT_TRUE(mc_->subscribe("t"));
  EXPECT_TRUE(events<McDelivered>(receive("a", data("o", 2))).empty());
  EXPECT_EQ(events<McDelivered>(receive("a", data("o", 4))).size(), 1u);
}

TEST_F(MulticastTest, HostileAnnouncementsAreBounded) {
  config_.missing_max = 1000;
  make();
  receive("a", data("o", 1));
  std::vector<wire::McRange> ranges;
  for (uint64_t i = 0; i < 100; ++i) ranges.push_back({"o", 1, 2 + i * 65536, 2 + i * 65536 + 65535});
  announce("c", ranges);
  EXPECT_EQ(mc_->missing_count(), 1000u);
  EXPECT_GT(mc_->stats().missing_overflow, 0u);
  // Pulls are bounded by the missing set, one message per holder.
  Actions out = run_for(config_.repair_delay + 1ms);
  auto pulls = sends_of(out, MessageType::mc_pull);
  ASSERT_EQ(pulls.size(), 1u);
}

TEST_F(MulticastTest, MalformedMessagesAreRejected) {
  Actions out;
  Bytes bad = wire::encode(data("o", 1));
  bad.resize(bad.size() - 2);
  wire::Reader r(bad);
  (void)wire::read_message_type(r);
  EXPECT_FALSE(mc_->handle(now_, "a", MessageType::mc_data, r, out));
  EXPECT_TRUE(out.items.empty());
}

}  // namespace
}  // namespace lashup
