// The KV store of one node: local writes, deltas joined from peers in any
// order, namespaces, deletes, key listing, and the original's kv_SUITE cases.
#include "core/kv/kv_store.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "core/common/random.h"

namespace lashup::kv {
namespace {

using crdt::FieldOp;
using crdt::FieldType;
using Ops = std::vector<FieldOp>;

const ReplicaId kA{"a", 1};
const ReplicaId kB{"b", 1};

int64_t counter(const KvStore& s, const std::string& key, const std::string& field) {
  const crdt::Map* m = s.get(key);
  if (m == nullptr) return -1;
  auto v = m->value();
  const auto* f = v.find(field, FieldType::counter);
  return f == nullptr ? -1 : std::get<int64_t>(f->value);
}

TEST(KvKeys, NamespacesAndGlobs) {
  EXPECT_EQ(namespace_owner("nodes/n1/tasks"), std::optional<std::string_view>("n1"));
  EXPECT_EQ(namespace_owner("nodes/n1"), std::optional<std::string_view>("n1"));
  EXPECT_EQ(namespace_owner("vips/10.0.0.1"), std::nullopt);
  EXPECT_FALSE(validate_key(""));
  EXPECT_FALSE(validate_key("nodes/"));
  EXPECT_FALSE(validate_key(std::string(kKeyBytesMax + 1, 'k')));
  EXPECT_TRUE(validate_key("a/b/c"));

  EXPECT_TRUE(glob_match("a/b/*", "a/b/c"));
  EXPECT_FALSE(glob_match("a/b/*", "a/b/c/d"));
  EXPECT_TRUE(glob_match("a/**", "a/b/c/d"));
  EXPECT_TRUE(glob_match("a/?/c", "a/b/c"));
  EXPECT_FALSE(glob_match("a/?/c", "a//c/c"));
  EXPECT_TRUE(glob_match("*/b/*", "a/b/d"));
  EXPECT_FALSE(glob_match("x/*", "a/b"));
  EXPECT_TRUE(glob_match("nodes/*/tasks", "nodes/n1/tasks"));
}

// kv_SUITE fetch_keys: [a,b,c], [a,b,d], [x,y,z]; a pattern over the first
// two levels finds the first two only.
TEST(KvStore, FetchKeysByPrefixAndPattern) {
  KvStore s({}, kA);
  for (const char* key : {"a/b/c", "a/b/d", "x/y/z"}) {
    ASSERT_TRUE(s.update(key, Ops{FieldOp::enable("flag")}));
  }
  EXPECT_EQ(s.keys_matching("a/b/*"), (std::vector<std::string>{"a/b/c", "a/b/d"}));
  EXPECT_EQ(s.keys_with_prefix("a/"), (std::vector<std::string>{"a/b/c", "a/b/d"}));
  EXPECT_EQ(s.keys_matching("**"), (std::vector<std::string>{"a/b/c", "a/b/d", "x/y/z"}));
  EXPECT_EQ(s.size(), 3u);
}

// kv_SUITE remove_forgiving, inverted: removing an absent field is an error
// that names it, and changes nothing (the original reported success).
TEST(KvStore, RemovingAnAbsentFieldIsAPreciseErrorAndChangesNothing) {
  KvStore s({}, kA);
  ASSERT_TRUE(s.update("k", Ops{FieldOp::assign("f", "v", 1)}));
  const uint64_t before = s.digest();
  ASSERT_TRUE(s.update("k", Ops{FieldOp::remove_field("f", FieldType::lww_register)}));
  auto again = s.update("k", Ops{FieldOp::remove_field("f", FieldType::lww_register)});
  ASSERT_FALSE(again);
  EXPECT_EQ(again.status().code(), StatusCode::not_found);
  EXPECT_NE(again.status().message().find("\"f\""), std::string::npos) << again.status().message();
  EXPECT_NE(before, s.digest());
  const uint64_t after_remove = s.digest();
  EXPECT_FALSE(s.update("k", Ops{FieldOp::remove_field("f", FieldType::lww_register)}));
  EXPECT_EQ(s.digest(), after_remove);
}

TEST(KvStore, ATypeMismatchIsReported) {
  KvStore s({}, kA);
  FieldOp bad = FieldOp::add("f", {"x"});
  bad.field.type = FieldType::counter;
  auto r = s.update("k", Ops{bad});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.status().code(), StatusCode::type_mismatch);
  EXPECT_EQ(s.get("k"), nullptr);
  EXPECT_EQ(s.entries(), 0u);
}

TEST(KvStore, WritesToAnotherNodesNamespaceAreRefusedAtTheWriteAndAtTheJoin) {
  KvStore a({}, kA);
  KvStore b({}, kB);
  auto own = a.update("nodes/a/state", Ops{FieldOp::increment("n", 1)});
  ASSERT_TRUE(own);
  auto theirs = a.update("nodes/b/state", Ops{FieldOp::increment("n", 1)});
  ASSERT_FALSE(theirs);
  EXPECT_EQ(theirs.status().code(), StatusCode::permission);
  EXPECT_FALSE(a.remove("nodes/b/state"));

  // b accepts a's delta for a's namespace...
  ASSERT_TRUE(b.apply("nodes/a/state", own->delta));
  EXPECT_EQ(counter(b, "nodes/a/state", "n"), 1);
  // ...but not a delta a made for a key in c's namespace (a forged write).
  KvStore forger({}, kA);
  auto forged = forger.update("elsewhere", Ops{FieldOp::increment("n", 5)});
  ASSERT_TRUE(forged);
  auto r = b.apply("nodes/c/state", forged->delta);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.status().code(), StatusCode::permission);
  EXPECT_EQ(b.get("nodes/c/state"), nullptr);
  EXPECT_EQ(b.stats().deltas_rejected, 1u);
}

TEST(KvStore, CompareAndSetConflictsOnAStaleContext) {
  KvStore s({}, kA);
  ASSERT_TRUE(s.update("k", Ops{FieldOp::increment("n", 1)}));
  const crdt::CausalContext read = s.get("k")->context();
  ASSERT_TRUE(s.update("k", Ops{FieldOp::increment("n", 1)}, &read));
  auto stale = s.update("k", Ops{FieldOp::increment("n", 1)}, &read);
  ASSERT_FALSE(stale);
  EXPECT_EQ(stale.status().code(), StatusCode::conflict);
  EXPECT_EQ(counter(s, "k", "n"), 2);
}

TEST(KvStore, ValuesOverTheLimitAreRefused) {
  KvConfig config;
  config.value_bytes_max = 1024;
  KvStore s(config, kA);
  auto big = s.update("k", Ops{FieldOp::assign("f", std::string(2000, 'x'), 1)});
  ASSERT_FALSE(big);
  EXPECT_EQ(big.status().code(), StatusCode::too_large);
  EXPECT_EQ(s.entries(), 0u);
}

TEST(KvStore, DeleteHidesTheKeyAndAConcurrentUpdateSurvives) {
  KvStore a({}, kA);
  KvStore b({}, kB);
  auto w = a.update("k", Ops{FieldOp::add("s", {"x"})});
  ASSERT_TRUE(w);
  ASSERT_TRUE(b.apply("k", w->delta));
  auto del = a.remove("k");
  ASSERT_TRUE(del);
  EXPECT_EQ(a.get("k"), nullptr);
  EXPECT_EQ(a.size(), 0u);
  EXPECT_EQ(a.remove("k").status().code(), StatusCode::not_found);
  // b adds concurrently; each joins the other's delta: "y" survives, "x" not.
  auto add = b.update("k", Ops{FieldOp::add("s", {"y"})});
  ASSERT_TRUE(add);
  ASSERT_TRUE(a.apply("k", add->delta));
  ASSERT_TRUE(b.apply("k", del->delta));
  ASSERT_NE(a.get("k"), nullptr);
  EXPECT_EQ(a.digest(), b.digest());
  const crdt::MapValue value = a.get("k")->value();
  const auto* f = value.find("s", FieldType::set);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(std::get<std::vector<std::string>>(f->value), (std::vector<std::string>{"y"}));
}

// A collected tombstone leaves no trace in the digests; the same tombstone
// coming back (from a node that has not collected it) is dropped until the
// store forgets the collection; a key written again after its collection
// gets dots above the old ones, so a replica still holding the old
// tombstone takes the new write.
TEST(KvStore, TombstonesAreCollectedWithoutReusingDots) {
  KvStore a({}, kA);
  KvStore b({}, kB);
  KvStore empty({}, kA);
  for (int i = 0; i < 3; ++i) {
    auto w = a.update("k", Ops{FieldOp::increment("n", 1)});
    ASSERT_TRUE(w);
    ASSERT_TRUE(b.apply("k", w->delta));
  }
  auto other = a.update("other", Ops{FieldOp::increment("n", 1)});
  ASSERT_TRUE(other);
  EXPECT_FALSE(a.collect("k"));  // live: not a tombstone
  auto del = a.remove("k");
  ASSERT_TRUE(del);
  ASSERT_TRUE(b.apply("k", del->delta));
  EXPECT_EQ(a.tombstone_count(), 1u);
  EXPECT_EQ(a.tombstones(), std::vector<std::string>{"k"});
  const uint64_t tombstone_digest = a.key_digest("k");
  ASSERT_EQ(tombstone_digest, b.key_digest("k"));

  ASSERT_TRUE(a.collect("k"));
  EXPECT_EQ(a.tombstone_count(), 0u);
  EXPECT_EQ(a.key_digest("k"), 0u);
  EXPECT_EQ(a.get_state("k"), nullptr);
  EXPECT_EQ(a.stats().tombstones_collected, 1u);
  // The store digest is that of a store that never had the key.
  ASSERT_TRUE(empty.apply("other", *a.get_state("other")));
  EXPECT_EQ(a.digest(), empty.digest());
  EXPECT_EQ(a.bucket_digest(bucket_of("k")), empty.bucket_digest(bucket_of("k")));
  for (const auto& [key, digest] : a.bucket_keys(bucket_of("k"))) EXPECT_NE(key, "k");

  // b still holds the tombstone and sends it back: dropped.
  auto back = a.apply("k", *b.get_state("k"));
  ASSERT_TRUE(back);
  EXPECT_FALSE(back->state_changed);
  EXPECT_EQ(a.get_state("k"), nullptr);

  // Written again on a: the new dot is above the three old ones, so b (with
  // the old tombstone) takes it.
  auto again = a.update("k", Ops{FieldOp::increment("n", 5)});
  ASSERT_TRUE(again);
  auto joined = b.apply("k", again->delta);
  ASSERT_TRUE(joined);
  EXPECT_TRUE(joined->value_changed);
  EXPECT_EQ(counter(b, "k", "n"), 5);
  EXPECT_EQ(counter(a, "k", "n"), 5);
  EXPECT_EQ(a.key_digest("k"), b.key_digest("k"));

  // Once the collection is forgotten, a tombstone is taken like any state.
  KvStore c({}, kB);
  auto wc = c.update("z", Ops{FieldOp::increment("n", 1)});
  ASSERT_TRUE(wc);
  auto dc = c.remove("z");
  ASSERT_TRUE(dc);
  ASSERT_TRUE(c.collect("z"));
  KvStore d({}, kA);
  ASSERT_TRUE(d.apply("z", wc->delta));
  ASSERT_TRUE(d.apply("z", dc->delta));
  EXPECT_FALSE(c.apply("z", *d.get_state("z"))->state_changed);
  c.forget_collected("z");
  EXPECT_TRUE(c.apply("z", *d.get_state("z"))->state_changed);
  EXPECT_EQ(c.tombstone_count(), 1u);
}

// Two keys whose states differ the same way on two replicas (each counter
// one write behind) must not cancel out in the store's digest.
TEST(KvStore, DigestsOfEqualDifferencesOnTwoKeysDoNotCancel) {
  KvStore a({}, kA);
  KvStore b({}, kB);
  for (const char* key : {"k1", "k2"}) {
    for (int i = 0; i < 3; ++i) {
      auto w = a.update(key, Ops{FieldOp::increment("n", 1)});
      ASSERT_TRUE(w);
      if (i < 2) ASSERT_TRUE(b.apply(key, w->delta));
    }
  }
  ASSERT_NE(a.key_digest("k1"), b.key_digest("k1"));
  ASSERT_NE(a.key_digest("k2"), b.key_digest("k2"));
  EXPECT_NE(a.digest(), b.digest());
  EXPECT_NE(a.bucket_digest(bucket_of("k1")) ^ a.bucket_digest(bucket_of("k2")),
            b.bucket_digest(bucket_of("k1")) ^ b.bucket_digest(bucket_of("k2")));
}

// Deltas from many writers, delivered in a different order, some twice, to
// each replica: every replica ends identical.
TEST(KvStore, DeltasInAnyOrderAndRepeatedConverge) {
  constexpr int kWriters = 4;
  std::vector<KvStore> writers;
  for (int i = 0; i < kWriters; ++i) writers.emplace_back(KvConfig{}, ReplicaId{"w" + std::to_string(i), 1});
  Random random(7);
  std::vector<std::pair<std::string, crdt::Map>> deltas;
  for (int round = 0; round < 200; ++round) {
    const int w = static_cast<int>(random.uniform(kWriters));
    const std::string key = "k" + std::to_string(random.uniform(10));
    Ops ops;
    switch (random.uniform(4)) {
      case 0: ops = {FieldOp::increment("c", static_cast<int64_t>(random.uniform(5)) - 2)}; break;
      case 1: ops = {FieldOp::add("s", {"e" + std::to_string(random.uniform(6))})}; break;
      case 2: ops = {FieldOp::assign("r", "v" + std::to_string(round), static_cast<uint64_t>(round))}; break;
      default: ops = {FieldOp::update("m", {FieldOp::enable("f")})}; break;
    }
    auto r = writers[w].update(key, ops);
    if (!r) continue;
    deltas.emplace_back(key, r->delta);
  }
  std::vector<KvStore> replicas;
  for (int i = 0; i < 3; ++i) {
    replicas.emplace_back(KvConfig{}, ReplicaId{"r" + std::to_string(i), 1});
    auto order = deltas;
    Random shuffle(100 + i);
    shuffle.shuffle(order);
    for (size_t d = 0; d < order.size(); ++d) {
      ASSERT_TRUE(replicas[i].apply(order[d].first, order[d].second));
      if (d % 3 == 0) ASSERT_TRUE(replicas[i].apply(order[d].first, order[d].second));  // a duplicate
    }
  }
  EXPECT_EQ(replicas[0].digest(), replicas[1].digest());
  EXPECT_EQ(replicas[1].digest(), replicas[2].digest());
  EXPECT_GT(replicas[0].stats().deltas_redundant, 0u);
}

}  // namespace
}  // namespace lashup::kv
