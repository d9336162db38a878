// Anti-entropy between two stores: equal stores cost one message, one
// differing key a fixed handful, whatever the store size; every difference
// (a key one side lacks, states that diverged, a delete) is repaired both
// ways; namespaces hold.
#include "core/kv/kv_sync.h"

#include <gtest/gtest.h>

#include <deque>

#include "tests/unit/support/actions_util.h"

namespace lashup::kv {
namespace {

using crdt::FieldOp;
using Ops = std::vector<FieldOp>;

struct Side {
  Side(const std::string& name, uint64_t seed)
      : store({}, ReplicaId{name, 1}),
        random(seed),
        sync({}, store, random, [this](Time, const std::string& key, const crdt::JoinOutcome&, Actions&) { changed.push_back(key); }),
        name(name) {}
  KvStore store;
  Random random;
  KvSync sync;
  std::string name;
  std::vector<std::string> changed;
};

struct Exchange {
  size_t messages = 0;
  size_t bytes = 0;
};

// A starts a round with B; messages are passed until none is left.
Exchange run_round(Side& a, Side& b) {
  Exchange x;
  Actions first;
  a.sync.start(Time(0));
  a.sync.tick(Time(10s), {b.name}, first);
  std::deque<std::pair<Side*, SendAction>> queue;
  for (auto& s : test::sends(first)) queue.emplace_back(&b, s);
  while (!queue.empty()) {
    auto [to, send] = std::move(queue.front());
    queue.pop_front();
    ++x.messages;
    x.bytes += send.message.size();
    Side& from = to == &a ? b : a;
    wire::Reader r(send.message);
    auto type = wire::read_message_type(r);
    EXPECT_TRUE(type.is_ok());
    Actions out;
    EXPECT_TRUE(to->sync.handle(Time(10s), from.name, *type, r, out));
    for (auto& s : test::sends(out)) queue.emplace_back(&from, s);
  }
  return x;
}

void fill(KvStore& s, int keys) {
  for (int i = 0; i < keys; ++i) {
    ASSERT_TRUE(s.update("k/" + std::to_string(i), Ops{FieldOp::increment("n", i)}));
  }
}

TEST(KvSync, EqualStoresCostOneMessage) {
  Side a("a", 1), b("b", 2);
  fill(a.store, 2000);
  for (const auto& key : a.store.keys_with_prefix("")) ASSERT_TRUE(b.store.apply(key, *a.store.get_state(key)));
  ASSERT_EQ(a.store.digest(), b.store.digest());
  EXPECT_EQ(run_round(a, b).messages, 1u);
  EXPECT_EQ(b.sync.stats().rounds_equal, 1u);
}

TEST(KvSync, OneDifferingKeyAmongTwentyThousandMovesInSixMessages) {
  Side a("a", 1), b("b", 2);
  fill(a.store, 20000);
  for (const auto& key : a.store.keys_with_prefix("")) ASSERT_TRUE(b.store.apply(key, *a.store.get_state(key)));
  ASSERT_TRUE(b.store.update("k/7", Ops{FieldOp::increment("n", 1)}));
  const Exchange x = run_round(a, b);
  EXPECT_EQ(x.messages, 6u);
  EXPECT_EQ(a.store.digest(), b.store.digest());
  EXPECT_EQ(a.changed, (std::vector<std::string>{"k/7"}));
  EXPECT_LT(x.bytes, 20000u) << "the repair must not scale with the store";
}

TEST(KvSync, MissingKeysDivergedStatesAndDeletesAreRepairedBothWays) {
  Side a("a", 1), b("b", 2);
  fill(a.store, 100);
  ASSERT_TRUE(b.store.update("only-b", Ops{FieldOp::add("s", {"x"})}));
  auto shared = a.store.update("shared", Ops{FieldOp::add("s", {"y"})});
  ASSERT_TRUE(shared);
  ASSERT_TRUE(b.store.apply("shared", shared->delta));
  ASSERT_TRUE(b.store.remove("shared"));                                   // b deletes
  ASSERT_TRUE(a.store.update("other", Ops{FieldOp::enable("f")}));         // a writes more
  for (int round = 0; round < 3 && a.store.digest() != b.store.digest(); ++round) run_round(a, b);
  EXPECT_EQ(a.store.digest(), b.store.digest());
  EXPECT_EQ(a.store.get("shared"), nullptr);  // the delete reached a
  EXPECT_NE(a.store.get("only-b"), nullptr);
  EXPECT_EQ(b.store.size(), 102u);
}

TEST(KvSync, AForgedStateForAnotherNodesNamespaceIsRefused) {
  Side a("a", 1), b("b", 2);
  // a's state for nodes/c/... written with a's own dots: b must refuse it.
  KvStore forger({}, ReplicaId{"a", 1});
  auto w = forger.update("x", Ops{FieldOp::increment("n", 1)});
  ASSERT_TRUE(w);
  ASSERT_TRUE(a.store.update("nodes/a/ok", Ops{FieldOp::increment("n", 1)}));
  KvStates states;
  states.states.push_back(KeyDelta{"nodes/c/state", forger.get_state("x") ? *forger.get_state("x") : crdt::Map{}});
  const wire::Bytes bytes = encode(states);
  wire::Reader r(bytes);
  ASSERT_TRUE(wire::read_message_type(r).is_ok());
  Actions out;
  ASSERT_TRUE(b.sync.handle(Time(0), "a", wire::MessageType::kv_states, r, out));
  EXPECT_EQ(b.sync.stats().states_refused, 1u);
  EXPECT_EQ(b.store.get("nodes/c/state"), nullptr);
}

TEST(KvSync, MalformedMessagesAreRejected) {
  Side b("b", 2);
  Actions out;
  // A key listed under a bucket it does not belong to.
  wire::Writer w = wire::begin_message(wire::MessageType::kv_keys);
  w.varint(1);
  w.varint((bucket_of("k") + 1) % kBuckets);
  w.varint(1);
  w.string("k");
  w.fixed64(1);
  const wire::Bytes bytes = w.take();
  wire::Reader r(bytes);
  ASSERT_TRUE(wire::read_message_type(r).is_ok());
  EXPECT_FALSE(b.sync.handle(Time(0), "a", wire::MessageType::kv_keys, r, out));
  const wire::Bytes truncated{static_cast<uint8_t>(wire::MessageType::kv_summary), 1, 2};
  wire::Reader r2(truncated);
  ASSERT_TRUE(wire::read_message_type(r2).is_ok());
  EXPECT_FALSE(b.sync.handle(Time(0), "a", wire::MessageType::kv_summary, r2, out));
}

}  // namespace
}  // namespace lashup::kv
