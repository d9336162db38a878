// Membership transcripts: records in, floods, digests and events out.
#include "core/membership/membership.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "tests/unit/support/actions_util.h"

namespace lashup {
namespace {

using test::decode;
using test::events;
using test::sends_of;
using wire::MessageType;
using wire::MemberRecord;

struct RecordingListener : MembershipListener {
  std::vector<std::pair<NodeName, NodeName>> dropped;
  void on_dropped_by_other(Time, const NodeName& owner, const NodeName& d, Actions&) override {
    dropped.emplace_back(owner, d);
  }
};

MemberRecord record(const std::string& name, uint64_t version, std::vector<NodeName> view, Incarnation inc = 10) {
  MemberRecord r;
  r.name = name;
  r.address = name + ":7450";
  r.incarnation = inc;
  r.version = version;
  r.active_view = std::move(view);
  return r;
}

class MembershipTest : public ::testing::Test {
 protected:
  MembershipTest() : random_(1), connections_(10s) {
    MembershipConfig config;
    config.event_coalesce = 0ms;
    config.flood_gap = 0ms;
    config.forward_window = 0ms;  // forwards leave at the next tick
    config.settle_delay = 0ms;
    config.expire_after = 60s;
    membership_ = std::make_unique<Membership>(config, wire::PeerRef{"me", "me:7450"}, 5, random_, connections_,
                                               listener_);
    Actions out;
    membership_->start(now_, out);
    for (const char* n : {"a", "b"}) connections_.on_up(now_, n, wire::kProtocolVersion, out);
    membership_->set_active_view(now_, {"a", "b"}, true, out);
  }

  Actions receive(const NodeName& from, std::vector<MemberRecord> records, uint32_t ttl = 5) {
    Actions out;
    const Bytes message = wire::encode(wire::MemberRecords{ttl, std::move(records)});
    wire::Reader r(message);
    (void)wire::read_message_type(r);
    EXPECT_TRUE(membership_->handle(now_, from, MessageType::member_records, r, out));
    membership_->tick(now_, out);
    return out;
  }

  Time now_{100s};
  Random random_;
  Connections connections_;
  RecordingListener listener_;
  std::unique_ptr<Membership> membership_;
};

TEST_F(MembershipTest, own_record_changes_are_flooded_to_every_neighbour) {
  Actions out;
  connections_.on_up(now_, "c", wire::kProtocolVersion, out);
  membership_->set_active_view(now_, {"a", "b", "c"}, true, out);
  auto floods = sends_of(out, MessageType::member_records);
  ASSERT_EQ(floods.size(), 3u);
  auto m = decode(floods[0].message, wire::decode_member_records);
  ASSERT_EQ(m->records.size(), 1u);
  EXPECT_EQ(m->records[0].name, "me");
  EXPECT_EQ(m->records[0].active_view, (std::vector<NodeName>{"a", "b", "c"}));
  EXPECT_GE(m->ttl, 4u);
}

TEST_F(MembershipTest, a_newer_record_is_stored_and_forwarded_except_to_its_sender) {
  Actions out = receive("a", {record("a", 1, {"me", "x"})});
  auto floods = sends_of(out, MessageType::member_records);
  ASSERT_EQ(floods.size(), 1u);
  EXPECT_EQ(floods[0].to, "b");
  EXPECT_EQ(decode(floods[0].message, wire::decode_member_records)->ttl, 4u);
  ASSERT_TRUE(membership_->member("a"));
  EXPECT_EQ(membership_->member("a")->active_view, (std::vector<NodeName>{"me", "x"}));
}

TEST_F(MembershipTest, an_old_or_equal_version_is_neither_stored_nor_forwarded) {
  receive("a", {record("a", 3, {"me"})});
  Actions again = receive("b", {record("a", 3, {"me"})});
  EXPECT_TRUE(sends_of(again, MessageType::member_records).empty());
  Actions older = receive("b", {record("a", 2, {})});
  EXPECT_TRUE(sends_of(older, MessageType::member_records).empty());
  EXPECT_EQ(membership_->member("a")->version, 3u);
}

TEST_F(MembershipTest, a_higher_incarnation_wins_over_any_version) {
  receive("a", {record("a", 50, {"me"}, 10)});
  receive("a", {record("a", 1, {"me"}, 11)});
  EXPECT_EQ(membership_->member("a")->incarnation, 11u);
  EXPECT_EQ(membership_->member("a")->version, 1u);
}

TEST_F(MembershipTest, catch_up_records_are_announced_not_flooded) {
  Actions out = receive("a", {record("x", 1, {"a"})}, 0);
  EXPECT_TRUE(sends_of(out, MessageType::member_records).empty());
  EXPECT_TRUE(membership_->member("x"));
  auto announcements = sends_of(out, MessageType::member_digest);
  ASSERT_EQ(announcements.size(), 1u);
  EXPECT_EQ(announcements[0].to, "b");
  auto digest = decode(announcements[0].message, wire::decode_member_digest);
  EXPECT_FALSE(digest->full);
  ASSERT_EQ(digest->entries.size(), 1u);
  EXPECT_EQ(digest->entries[0].name, "x");
}

TEST_F(MembershipTest, a_newer_catch_up_record_of_a_reachable_member_is_announced_too) {
  // x is reachable through a; a newer version of x's record then arrives by
  // catch-up (a pull answer, ttl 0). We had an older one, so b may too: it is
  // announced to b, not kept here (a flood that missed b would otherwise
  // leave b with the old record until anti-entropy, hop by hop).
  receive("a", {record("a", 1, {"me", "x"}), record("x", 1, {"a"})});
  ASSERT_TRUE(membership_->reachable("x"));
  Actions out = receive("a", {record("x", 2, {"a", "y"})}, 0);
  EXPECT_TRUE(sends_of(out, MessageType::member_records).empty());
  auto announcements = sends_of(out, MessageType::member_digest);
  ASSERT_EQ(announcements.size(), 1u);
  EXPECT_EQ(announcements[0].to, "b");
  auto digest = decode(announcements[0].message, wire::decode_member_digest);
  EXPECT_FALSE(digest->full);
  ASSERT_EQ(digest->entries.size(), 1u);
  EXPECT_EQ(digest->entries[0].name, "x");
  EXPECT_EQ(digest->entries[0].version, 2u);
  // The same version again is not news: nothing more.
  Actions again = receive("b", {record("x", 2, {"a", "y"})}, 0);
  EXPECT_TRUE(sends_of(again, MessageType::member_digest).empty());
}

TEST_F(MembershipTest, our_new_version_is_offered_only_once_it_is_flooded) {
  // A change that waits settle_delay is not in our digests or pull answers
  // before its flood: a neighbour that pulled it early took the flood for
  // old news and did not pass it on.
  MembershipConfig config;
  config.flood_gap = 0ms;
  config.forward_window = 0ms;
  config.settle_delay = 250ms;
  Membership m(config, wire::PeerRef{"me", "me:7450"}, 5, random_, connections_, listener_);
  Actions out;
  m.start(now_, out);
  m.set_active_view(now_, {"a", "b"}, true, out);  // urgent: flooded at once
  const uint64_t flooded = m.own_record().version;
  connections_.on_up(now_, "c", wire::kProtocolVersion, out);
  Actions changed;
  m.set_active_view(now_, {"a", "b", "c"}, false, changed);  // waits settle_delay
  const uint64_t pending = m.own_record().version;
  ASSERT_GT(pending, flooded);
  EXPECT_TRUE(sends_of(changed, MessageType::member_records).empty());
  EXPECT_EQ(m.member("me")->version, pending);  // the API shows us as we are

  Actions digest_out;
  m.on_neighbor_up(now_, "c", digest_out);
  auto digests = sends_of(digest_out, MessageType::member_digest);
  ASSERT_EQ(digests.size(), 1u);
  auto digest = decode(digests[0].message, wire::decode_member_digest);
  bool listed = false;
  for (const auto& e : digest->entries) {
    if (e.name != "me") continue;
    listed = true;
    EXPECT_EQ(e.version, flooded);
  }
  EXPECT_TRUE(listed);

  const Bytes pull = wire::encode(wire::MemberPull{{"me"}});
  wire::Reader r(pull);
  (void)wire::read_message_type(r);
  Actions pulled;
  ASSERT_TRUE(m.handle(now_, "a", MessageType::member_pull, r, pulled));
  auto answers = sends_of(pulled, MessageType::member_records);
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_EQ(decode(answers[0].message, wire::decode_member_records)->records.at(0).version, flooded);

  Actions flood;
  m.tick(now_ + 250ms, flood);
  auto floods = sends_of(flood, MessageType::member_records);
  ASSERT_EQ(floods.size(), 3u);
  for (const auto& f : floods) {
    auto records = decode(f.message, wire::decode_member_records);
    EXPECT_GT(records->ttl, 0u);
    EXPECT_EQ(records->records.at(0).version, pending);
  }
}

// A few Membership instances wired together: every send is delivered, and
// every node ticks, until nothing is left in flight.
class Nodes {
 public:
  explicit Nodes(MembershipConfig config, std::vector<NodeName> names) {
    for (size_t i = 0; i < names.size(); ++i) {
      auto node = std::make_unique<Node>(i + 1);
      node->membership = std::make_unique<Membership>(config, wire::PeerRef{names[i], names[i] + ":7450"}, 5,
                                                      node->random, node->connections, node->listener);
      Actions out;
      node->membership->start(now, out);
      for (const auto& peer : names) node->connections.on_up(now, peer, wire::kProtocolVersion, out);
      nodes_.emplace(names[i], std::move(node));
    }
  }
  Membership& operator[](const NodeName& name) { return *nodes_.at(name)->membership; }

  // Queues what `from` asked to send.
  void take(const NodeName& from, const Actions& out) {
    for (auto& send : test::sends(out)) in_flight_.push_back({from, send.to, send.message});
  }
  void settle() {
    for (int round = 0; round < 100; ++round) {
      while (!in_flight_.empty()) {
        auto [from, to, message] = in_flight_.front();
        in_flight_.erase(in_flight_.begin());
        auto it = nodes_.find(to);
        if (it == nodes_.end()) continue;  // not simulated
        wire::Reader r(message);
        auto type = wire::read_message_type(r);
        Actions out;
        ASSERT_TRUE(type && it->second->membership->handle(now, from, *type, r, out));
        take(to, out);
      }
      for (auto& [name, node] : nodes_) {
        Actions out;
        node->membership->tick(now, out);
        take(name, out);
      }
      if (in_flight_.empty()) return;
    }
    FAIL() << "still sending after 100 rounds";
  }

  Time now{100s};

 private:
  struct Node {
    explicit Node(uint64_t seed) : random(seed), connections(10s) {}
    Random random;
    Connections connections;
    RecordingListener listener;
    std::unique_ptr<Membership> membership;
  };
  struct Message {
    NodeName from, to;
    Bytes bytes;
  };
  std::map<NodeName, std::unique_ptr<Node>> nodes_;
  std::vector<Message> in_flight_;
};

TEST(MembershipFlood, a_version_pulled_before_its_flood_still_reaches_the_nodes_behind_the_puller) {
  // The chain o - a - b. o adds a neighbour (a change that waits
  // settle_delay); before o floods it, a pulls o's record (a new link's
  // digest or anti-entropy do that). b, behind a, must still get the new
  // version, well before anti-entropy (the first summary is >= 1 s away).
  MembershipConfig config;
  config.flood_gap = 0ms;
  config.forward_window = 0ms;
  config.settle_delay = 250ms;
  config.event_coalesce = 0ms;
  Nodes nodes(config, {"o", "a", "b"});
  const std::map<NodeName, std::vector<NodeName>> views = {{"o", {"a"}}, {"a", {"b", "o"}}, {"b", {"a"}}};
  for (const auto& [name, view] : views) {
    Actions out;
    nodes[name].set_active_view(nodes.now, view, true, out);
    for (const auto& peer : view) nodes[name].on_neighbor_up(nodes.now, peer, out);
    nodes.take(name, out);
  }
  nodes.settle();
  ASSERT_EQ(nodes["b"].member("o")->version, nodes["o"].own_record().version);

  nodes.now += 10ms;
  Actions changed;
  nodes["o"].set_active_view(nodes.now, {"a", "c"}, false, changed);
  nodes.take("o", changed);
  const uint64_t version = nodes["o"].own_record().version;
  Actions pull;
  {
    const Bytes message = wire::encode(wire::MemberPull{{"o"}});
    wire::Reader r(message);
    (void)wire::read_message_type(r);
    ASSERT_TRUE(nodes["o"].handle(nodes.now, "a", MessageType::member_pull, r, pull));
  }
  nodes.take("o", pull);
  nodes.settle();

  nodes.now += 250ms;  // o floods its change
  nodes.settle();
  EXPECT_EQ(nodes["a"].member("o")->version, version);
  ASSERT_TRUE(nodes["b"].member("o"));
  EXPECT_EQ(nodes["b"].member("o")->version, version);
  EXPECT_EQ(nodes["b"].member("o")->active_view, (std::vector<NodeName>{"a", "c"}));
}

TEST_F(MembershipTest, an_announcement_is_answered_with_a_pull_of_what_is_newer) {
  receive("a", {record("x", 5, {"a"})});
  wire::MemberDigest announcement;
  announcement.full = false;
  announcement.entries = {{"x", 10, 5}, {"y", 10, 1}};
  const Bytes message = wire::encode(announcement);
  wire::Reader r(message);
  (void)wire::read_message_type(r);
  Actions out;
  ASSERT_TRUE(membership_->handle(now_, "b", MessageType::member_digest, r, out));
  auto pulls = sends_of(out, MessageType::member_pull);
  ASSERT_EQ(pulls.size(), 1u);
  EXPECT_EQ(decode(pulls[0].message, wire::decode_member_pull)->names, (std::vector<NodeName>{"y"}));
}

TEST_F(MembershipTest, a_record_heard_from_two_neighbours_in_one_window_goes_to_neither) {
  MembershipConfig config;
  config.forward_window = 5ms;
  config.flood_gap = 0ms;
  Membership m(config, wire::PeerRef{"me", "me:7450"}, 5, random_, connections_, listener_);
  Actions out;
  m.start(now_, out);
  connections_.on_up(now_, "c", wire::kProtocolVersion, out);
  m.set_active_view(now_, {"a", "b", "c"}, true, out);
  const Bytes message = wire::encode(wire::MemberRecords{5, {record("x", 1, {"a"})}});
  for (const char* from : {"a", "b"}) {
    wire::Reader r(message);
    (void)wire::read_message_type(r);
    ASSERT_TRUE(m.handle(now_, from, MessageType::member_records, r, out));
  }
  Actions flushed;
  m.tick(now_ + 5ms, flushed);
  auto floods = sends_of(flushed, MessageType::member_records);
  ASSERT_EQ(floods.size(), 1u);
  EXPECT_EQ(floods[0].to, "c");
}

TEST_F(MembershipTest, reachability_follows_the_graph_and_is_reported_once_per_change) {
  Actions first = receive("a", {record("a", 1, {"me", "x"}), record("x", 1, {"a"})});
  EXPECT_TRUE(membership_->reachable("x"));
  EXPECT_EQ(membership_->distance("x"), 2u);
  EXPECT_EQ(membership_->path_to("x"), (std::vector<NodeName>{"me", "a", "x"}));
  auto reported = events<ReachabilityChanged>(first);
  EXPECT_EQ(reported.size(), 2u);  // a and x became reachable

  now_ += 1s;
  Actions second = receive("a", {record("a", 2, {"me"})});  // a dropped x
  EXPECT_FALSE(membership_->reachable("x"));
  auto changes = events<ReachabilityChanged>(second);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].name, "x");
  EXPECT_EQ(changes[0].state, Reachability::unreachable);

  now_ += 1s;
  Actions third = receive("b", {record("b", 1, {"me"})});
  EXPECT_TRUE(events<ReachabilityChanged>(third).size() == 1u);  // only b is new
}

TEST_F(MembershipTest, a_member_heard_of_before_it_links_in_is_not_reported_unreachable) {
  // x's record arrives before anyone lists it: known, not reachable, and no
  // event (it was never reachable); reachable is reported once it links.
  Actions first = receive("a", {record("a", 1, {"me"}), record("x", 1, {"a"})});
  EXPECT_FALSE(membership_->reachable("x"));
  for (const auto& change : events<ReachabilityChanged>(first)) EXPECT_NE(change.name, "x");
  now_ += 1s;
  Actions second = receive("a", {record("a", 2, {"me", "x"})});
  auto changes = events<ReachabilityChanged>(second);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].name, "x");
  EXPECT_EQ(changes[0].state, Reachability::reachable);
}

TEST_F(MembershipTest, an_isolated_node_holds_its_events_until_it_reaches_a_member_again_and_not_longer) {
  receive("a", {record("a", 1, {"me"}), record("b", 1, {"me"})});
  ASSERT_TRUE(membership_->reachable("a") && membership_->reachable("b"));
  // Both neighbours gone at once: the node reaches nobody, and holds the news.
  Actions out;
  membership_->set_active_view(now_, {}, true, out);
  membership_->tick(now_, out);
  EXPECT_TRUE(events<ReachabilityChanged>(out).empty());
  // Held: the next look is at the end of the grace (membership.isolation_grace_ms), not at once.
  now_ += 1ms;
  Actions held;
  membership_->tick(now_, held);
  EXPECT_TRUE(events<ReachabilityChanged>(held).empty());
  ASSERT_TRUE(held.wake_at.has_value());
  EXPECT_EQ(*held.wake_at, now_ - 1ms + 1s);
  // 100 ms later it links in through a new neighbour: everything is reported
  // at once, not at the end of the grace.
  now_ += 100ms;
  Actions linked;
  connections_.on_up(now_, "c", wire::kProtocolVersion, linked);
  membership_->set_active_view(now_, {"c"}, true, linked);
  Actions records = receive("c", {record("c", 1, {"me", "y"}), record("y", 1, {"c"})});
  std::map<NodeName, Reachability> reported;
  for (const auto& change : events<ReachabilityChanged>(linked)) reported[change.name] = change.state;
  for (const auto& change : events<ReachabilityChanged>(records)) reported[change.name] = change.state;
  EXPECT_EQ(reported, (std::map<NodeName, Reachability>{{"a", Reachability::unreachable},
                                                         {"b", Reachability::unreachable},
                                                         {"c", Reachability::reachable},
                                                         {"y", Reachability::reachable}}));
}

TEST_F(MembershipTest, dropping_a_neighbour_triggers_the_cascade_hook) {
  receive("a", {record("a", 1, {"me", "b"})});
  receive("a", {record("a", 2, {"me"})});
  ASSERT_EQ(listener_.dropped.size(), 1u);
  EXPECT_EQ(listener_.dropped[0], (std::pair<NodeName, NodeName>{"a", "b"}));
}

TEST_F(MembershipTest, a_new_neighbours_digest_is_answered_with_a_pull_of_what_it_has_newer) {
  receive("a", {record("a", 1, {"me"}), record("x", 4, {"a"}), record("y", 2, {"a"})});
  wire::MemberDigest digest;
  digest.full = true;
  digest.entries = {{"x", 10, 4}, {"y", 10, 3}, {"z", 10, 1}, {"me", 5, 1}};  // y newer, z unknown
  const Bytes message = wire::encode(digest);
  wire::Reader r(message);
  (void)wire::read_message_type(r);
  Actions out;
  connections_.on_up(now_, "n", wire::kProtocolVersion, out);
  ASSERT_TRUE(membership_->handle(now_, "n", MessageType::member_digest, r, out));
  auto pulls = sends_of(out, MessageType::member_pull);
  ASSERT_EQ(pulls.size(), 1u);
  EXPECT_EQ(decode(pulls[0].message, wire::decode_member_pull)->names, (std::vector<NodeName>{"y", "z"}));
}

TEST_F(MembershipTest, a_record_offered_by_two_neighbours_is_pulled_from_one) {
  wire::MemberDigest announcement;
  announcement.full = false;
  announcement.entries = {{"z", 10, 1}};
  const Bytes message = wire::encode(announcement);
  size_t pulls = 0;
  for (const char* from : {"a", "b"}) {
    wire::Reader r(message);
    (void)wire::read_message_type(r);
    Actions out;
    ASSERT_TRUE(membership_->handle(now_, from, MessageType::member_digest, r, out));
    pulls += sends_of(out, MessageType::member_pull).size();
  }
  EXPECT_EQ(pulls, 1u);
}

TEST_F(MembershipTest, anti_entropy_answers_a_differing_summary_with_a_digest_and_an_equal_one_with_nothing) {
  receive("a", {record("a", 1, {"me"})});
  Actions out;
  now_ += 3s;
  membership_->tick(now_, out);  // the sync period elapsed: a summary goes to a neighbour
  auto summaries = sends_of(out, MessageType::member_summary);
  ASSERT_EQ(summaries.size(), 1u);
  auto ours = decode(summaries[0].message, wire::decode_member_summary);
  EXPECT_EQ(ours->count, 2u);

  auto answer = [&](const wire::MemberSummary& theirs) {
    const Bytes message = wire::encode(theirs);
    wire::Reader r(message);
    (void)wire::read_message_type(r);
    Actions reply;
    EXPECT_TRUE(membership_->handle(now_, "b", MessageType::member_summary, r, reply));
    return reply;
  };
  EXPECT_TRUE(answer(*ours).items.empty());
  auto digests = sends_of(answer(wire::MemberSummary{2, ours->hash + 1}), MessageType::member_digest);
  ASSERT_EQ(digests.size(), 1u);
  auto digest = decode(digests[0].message, wire::decode_member_digest);
  EXPECT_TRUE(digest->full);
  EXPECT_TRUE(digest->reply_with_digest);
}

TEST_F(MembershipTest, a_pull_is_answered_with_the_current_records) {
  receive("a", {record("a", 1, {"me"}), record("x", 4, {"a"})});
  const Bytes message = wire::encode(wire::MemberPull{{"x", "unknown"}});
  wire::Reader r(message);
  (void)wire::read_message_type(r);
  Actions out;
  ASSERT_TRUE(membership_->handle(now_, "b", MessageType::member_pull, r, out));
  auto replies = sends_of(out, MessageType::member_records);
  ASSERT_EQ(replies.size(), 1u);
  auto records = decode(replies[0].message, wire::decode_member_records);
  EXPECT_EQ(records->ttl, 0u);
  ASSERT_EQ(records->records.size(), 1u);
  EXPECT_EQ(records->records[0].name, "x");
  EXPECT_EQ(records->records[0].version, 4u);
}

TEST_F(MembershipTest, a_record_about_ourselves_that_is_newer_is_refuted) {
  const uint64_t before = membership_->own_record().version;
  Actions out = receive("a", {record("me", before + 10, {}, 5)});
  EXPECT_GT(membership_->own_record().version, before + 10);
  EXPECT_FALSE(sends_of(out, MessageType::member_records).empty());
}

TEST_F(MembershipTest, a_graceful_leave_is_reported_as_left_not_unreachable) {
  receive("a", {record("a", 1, {"me"})});
  now_ += 1s;
  MemberRecord leaving = record("a", 2, {"me"});
  leaving.leaving = true;
  Actions out = receive("a", {leaving});
  auto changes = events<ReachabilityChanged>(out);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].state, Reachability::left);
  EXPECT_FALSE(membership_->reachable("a"));
}

TEST_F(MembershipTest, unreachable_members_expire_after_the_configured_time) {
  receive("a", {record("a", 1, {"me", "x"}), record("x", 1, {"a"})});
  receive("a", {record("a", 2, {"me"})});
  ASSERT_FALSE(membership_->reachable("x"));
  Actions out;
  now_ += 30s;
  membership_->tick(now_, out);
  EXPECT_TRUE(membership_->member("x"));
  now_ += 31s;
  Actions later;
  membership_->tick(now_, later);
  EXPECT_FALSE(membership_->member("x"));
  auto removed = events<MemberRemoved>(later);
  ASSERT_EQ(removed.size(), 1u);
  EXPECT_EQ(removed[0].name, "x");
  EXPECT_TRUE(membership_->member("a"));  // reachable members never expire
}

TEST_F(MembershipTest, metadata_over_the_limit_is_refused) {
  Actions out;
  Status s = membership_->set_metadata(now_, Bytes(2000, 1), out);
  EXPECT_EQ(s.code(), StatusCode::too_large);
  EXPECT_TRUE(membership_->set_metadata(now_, Bytes(10, 1), out));
  EXPECT_EQ(membership_->own_record().metadata.size(), 10u);
}

TEST_F(MembershipTest, route_tree_from_another_root_lists_parents_and_distances) {
  receive("a", {record("a", 1, {"me", "x"}), record("x", 1, {"a"}), record("b", 1, {"me"})});
  auto tree = membership_->route_tree("a");
  std::map<NodeName, std::pair<NodeName, uint32_t>> by_name;
  for (const auto& e : tree) by_name[e.name] = {e.parent, e.distance};
  EXPECT_EQ(by_name["a"], (std::pair<NodeName, uint32_t>{"", 0}));
  EXPECT_EQ(by_name["me"], (std::pair<NodeName, uint32_t>{"a", 1}));
  EXPECT_EQ(by_name["b"], (std::pair<NodeName, uint32_t>{"me", 2}));
}

TEST_F(MembershipTest, distance_to_self_is_zero_before_any_route_was_computed) {
  // A fresh membership has no route tree yet; asking for ourselves first
  // must not read it.
  EXPECT_EQ(membership_->distance("me"), std::optional<uint32_t>(0));
  EXPECT_EQ(membership_->path_to("me"), std::vector<NodeName>{"me"});
  EXPECT_EQ(membership_->distance("nobody"), std::nullopt);
}

}  // namespace
}  // namespace lashup
