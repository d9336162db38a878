// Property tests: random operations on 3-5 replicas whose deltas are
// delivered in random order, duplicated and lost, then repaired with full
// states. Every replica must end with the identical state and value, and the
// lattice laws must hold on every state and delta seen on the way.
#include <gtest/gtest.h>

#include <set>

#include "core/common/random.h"
#include "core/crdt/counter.h"
#include "core/crdt/map.h"
#include "core/crdt/or_set.h"
#include "printers.h"

namespace lashup::crdt {
namespace {

using Ops = std::vector<FieldOp>;

ReplicaId replica_id(size_t i) { return ReplicaId{"r" + std::to_string(i), 1 + i}; }

// --- random batches on a map ---

std::string pick_name(Random& rng, const char* prefix, int count) {
  return prefix + std::to_string(rng.uniform(static_cast<uint64_t>(count)));
}

const MapStore* nested(const MapStore& store, const std::string& name) {
  auto it = store.fields.find(FieldKey{name, FieldType::map});
  return it == store.fields.end() ? nullptr : &*std::get<MapBox>(it->second);
}

// One random operation that is valid against `store` (nullptr: absent map).
FieldOp random_op(Random& rng, const MapStore* store, int depth) {
  static const MapStore kEmpty;
  const MapStore& s = store ? *store : kEmpty;
  for (;;) {
    switch (rng.uniform(9)) {
      case 0: return FieldOp::increment(pick_name(rng, "c", 2), rng.uniform_between(-5, 5));
      case 1: return FieldOp::assign(pick_name(rng, "r", 2), pick_name(rng, "v", 4), rng.uniform_between(1, 20));
      case 2: return FieldOp::enable(pick_name(rng, "f", 2));
      case 3: return FieldOp::disable(pick_name(rng, "f", 2));
      case 4: {
        std::vector<std::string> elements;
        for (uint64_t n = 1 + rng.uniform(3); n > 0; --n) elements.push_back(pick_name(rng, "e", 8));
        return FieldOp::add(pick_name(rng, "s", 2), elements);
      }
      case 5: {
        const std::string name = pick_name(rng, "s", 2);
        auto it = s.fields.find(FieldKey{name, FieldType::set});
        if (it == s.fields.end()) continue;
        const auto& elements = std::get<ORSetStore>(it->second).elements;
        auto element = elements.begin();
        std::advance(element, static_cast<ptrdiff_t>(rng.uniform(elements.size())));
        return FieldOp::remove(name, {element->first});
      }
      case 6: {
        if (s.fields.empty()) continue;
        auto it = s.fields.begin();
        std::advance(it, static_cast<ptrdiff_t>(rng.uniform(s.fields.size())));
        return FieldOp::remove_field(it->first.name, it->first.type);
      }
      default: {
        if (depth >= 3) continue;
        const std::string name = pick_name(rng, "m", 2);
        return FieldOp::update(name, {random_op(rng, nested(s, name), depth + 1)});
      }
    }
  }
}

// A batch of 1-3 operations, each valid against the state the earlier ones
// leave (checked by applying them one at a time to a scratch copy).
Ops random_batch(Random& rng, const Map& map) {
  Ops ops;
  Map scratch = map;
  for (uint64_t n = 1 + rng.uniform(3); n > 0; --n) {
    FieldOp op = random_op(rng, &scratch.store(), 1);
    if (!scratch.apply(ReplicaId{"scratch", 0}, Ops{op})) continue;
    ops.push_back(std::move(op));
  }
  return ops;
}

// The formal content of an object: its dots and payloads, without the
// markers and complete bits that only steer how a delta is joined. Joining
// into an empty state (complete) drops markers.
template <typename T>
T semantic(const T& x) {
  T out;
  out.join(x);
  return out;
}

template <typename T>
bool is_complete(const T& x) {
  if constexpr (requires { x.store().complete; }) {
    return x.store().complete;
  } else {
    return true;
  }
}

// Checks the lattice laws on a sample of states and deltas.
template <typename T>
void check_lattice_laws(const std::vector<T>& sample, Random& rng) {
  for (int round = 0; round < 40 && sample.size() >= 3; ++round) {
    const T& a = rng.pick(sample);
    const T& b = rng.pick(sample);
    const T& c = rng.pick(sample);
    T ab = a, ba = b;
    ab.join(b);
    ba.join(a);
    ASSERT_EQ(ab, ba) << "join is not commutative";
    T ab_c = ab, bc = b;
    ab_c.join(c);
    bc.join(c);
    T a_bc = a;
    a_bc.join(bc);
    ASSERT_EQ(ab_c, a_bc) << "join is not associative";
    if (is_complete(a)) {
      // A partial delta visits only the keys it lists; the result must be
      // the formal join with its full content.
      T formal = a;
      formal.join(semantic(b));
      ASSERT_EQ(ab, formal) << "a delta's listed keys do not cover its context";
    }
    T aa = a;
    EXPECT_FALSE(aa.join(T(a)).state_changed);
    ASSERT_EQ(aa, a) << "join is not idempotent";
    // The difference: x ⊔ Δ(d, x) == x ⊔ d, and Δ is bottom iff x includes d.
    const T delta = b.difference(a);
    T via_delta = a;
    via_delta.join(delta);
    ASSERT_EQ(semantic(via_delta), semantic(ab)) << "x ⊔ Δ(d, x) differs from x ⊔ d";
    ASSERT_EQ(delta.is_bottom(), a.includes(b));
    ASSERT_EQ(a.includes(b), semantic(ab) == semantic(a)) << "includes disagrees with the join";
    ASSERT_TRUE(ab.includes(a));
    ASSERT_TRUE(ab.includes(b));
    // The encoding is canonical and the decoder accepts every valid object.
    auto decoded = T::decode(ab.encode());
    ASSERT_TRUE(decoded) << decoded.status().message();
    ASSERT_EQ(*decoded, ab);
  }
}

struct Message {
  size_t to;
  Map payload;
};

struct Scenario {
  size_t replicas;
  int steps;
  double loss;
  double duplication;
};

void run_map_scenario(uint64_t seed, const Scenario& scenario) {
  SCOPED_TRACE("seed " + std::to_string(seed));
  Random rng(seed);
  std::vector<Map> replicas(scenario.replicas);
  std::vector<Message> in_flight;
  std::vector<Map> sample;
  for (int step = 0; step < scenario.steps; ++step) {
    const uint64_t action = rng.uniform(10);
    if (action < 5) {
      // A local batch: x ⊔ δ(x) == m(x), and the delta travels.
      const size_t r = rng.uniform(replicas.size());
      const Map before = replicas[r];
      const Ops ops = random_batch(rng, replicas[r]);
      auto delta = replicas[r].apply(replica_id(r), ops);
      ASSERT_TRUE(delta) << delta.status().message();
      Map rebuilt = before;
      rebuilt.join(*delta);
      ASSERT_EQ(rebuilt, replicas[r]) << "x ⊔ delta(x) != mutate(x)";
      ASSERT_EQ(delta->is_bottom(), before == replicas[r]);
      sample.push_back(*delta);
      for (size_t to = 0; to < replicas.size(); ++to) {
        if (to == r || rng.chance(scenario.loss)) continue;
        in_flight.push_back({to, *delta});
        if (rng.chance(scenario.duplication)) in_flight.push_back({to, *delta});
      }
    } else if (action < 6) {
      // An invalid batch fails and changes nothing.
      const size_t r = rng.uniform(replicas.size());
      const Map before = replicas[r];
      Ops ops = random_batch(rng, replicas[r]);
      ops.push_back(FieldOp::remove("no-such-set", {"x"}));
      ASSERT_FALSE(replicas[r].apply(replica_id(r), ops));
      ASSERT_EQ(replicas[r], before);
    } else if (action < 9 && !in_flight.empty()) {
      // Deliver a random message, sometimes only its new part Δ(d, x).
      const size_t i = rng.uniform(in_flight.size());
      Message message = std::move(in_flight[i]);
      in_flight.erase(in_flight.begin() + static_cast<ptrdiff_t>(i));
      Map& target = replicas[message.to];
      if (rng.chance(0.3)) {
        Map expected = target;
        expected.join(message.payload);
        const Map novel = message.payload.difference(target);
        target.join(novel);
        ASSERT_EQ(target, expected);
      } else {
        target.join(message.payload);
      }
    } else {
      // A full state to one neighbour, as the repair path would send.
      const size_t from = rng.uniform(replicas.size());
      const size_t to = rng.uniform(replicas.size());
      if (from != to) replicas[to].join(Map(replicas[from]));
    }
    if (step % 10 == 0) sample.push_back(replicas[rng.uniform(replicas.size())]);
    // Every change of state is named by a dot, so equal contexts mean equal
    // states: the key-level compare-and-set and the version-vector compare
    // of anti-entropy rely on it.
    for (size_t i = 1; i < replicas.size(); ++i) {
      if (replicas[i].context() == replicas[0].context()) ASSERT_EQ(replicas[i], replicas[0]);
    }
  }
  // Drain what is still in flight, in random order, then one round of
  // full-state repair from every replica to every other.
  rng.shuffle(in_flight);
  for (Message& message : in_flight) replicas[message.to].join(message.payload);
  const std::vector<Map> snapshot = replicas;
  for (size_t to = 0; to < replicas.size(); ++to) {
    for (size_t from = 0; from < replicas.size(); ++from) {
      if (from != to) replicas[to].join(snapshot[from]);
    }
  }
  for (size_t r = 1; r < replicas.size(); ++r) {
    ASSERT_EQ(replicas[r], replicas[0]) << "replica " << r << " did not converge";
    ASSERT_EQ(replicas[r].value(), replicas[0].value());
    ASSERT_EQ(replicas[r].digest(), replicas[0].digest());
  }
  sample.insert(sample.end(), replicas.begin(), replicas.end());
  check_lattice_laws(sample, rng);
}

TEST(MapProperties, replicas_converge_under_reordering_duplication_and_loss) {
  for (uint64_t seed = 1; seed <= 40; ++seed) {
    run_map_scenario(seed, Scenario{3 + seed % 3, 200, 0.2, 0.2});
    if (HasFatalFailure()) return;
  }
}

TEST(MapProperties, replicas_converge_with_heavy_loss_through_state_repair) {
  for (uint64_t seed = 100; seed < 110; ++seed) {
    run_map_scenario(seed, Scenario{5, 300, 0.7, 0.1});
    if (HasFatalFailure()) return;
  }
}

// Every delta joined in every order gives the same state as the replica
// that made them (delta groups: joins of deltas are deltas).
TEST(MapProperties, a_delta_group_equals_its_deltas_applied_one_by_one) {
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    Random rng(seed);
    Map origin, group, target, one_by_one;
    std::vector<Map> deltas;
    for (int i = 0; i < 30; ++i) {
      auto delta = origin.apply(replica_id(0), random_batch(rng, origin));
      ASSERT_TRUE(delta);
      deltas.push_back(*delta);
      group.join(*delta);
    }
    rng.shuffle(deltas);
    for (const Map& delta : deltas) one_by_one.join(delta);
    target.join(group);
    EXPECT_EQ(target, origin);
    EXPECT_EQ(one_by_one, origin);
  }
}

TEST(ORSetProperties, matches_a_sequential_set_and_converges) {
  for (uint64_t seed = 1; seed <= 30; ++seed) {
    Random rng(seed);
    std::vector<ORSet> replicas(3);
    std::vector<std::pair<size_t, ORSet>> in_flight;
    std::vector<ORSet> sample;
    for (int step = 0; step < 300; ++step) {
      const size_t r = rng.uniform(replicas.size());
      ORSet& set = replicas[r];
      const std::vector<std::string> elements = set.elements();
      std::set<std::string> model(elements.begin(), elements.end());
      const ORSet before = set;
      ORSet delta;
      const std::string element = pick_name(rng, "e", 12);
      if (rng.chance(0.6)) {
        delta = set.add(replica_id(r), element);
        model.insert(element);
      } else if (auto removed = set.remove(replica_id(r), element)) {
        delta = *removed;
        model.erase(element);
      } else {
        ASSERT_EQ(model.count(element), 0u);
        continue;
      }
      ASSERT_EQ(set.elements(), std::vector<std::string>(model.begin(), model.end()));
      ORSet rebuilt = before;
      rebuilt.join(delta);
      ASSERT_EQ(rebuilt, set);
      sample.push_back(delta);
      for (size_t to = 0; to < replicas.size(); ++to) {
        if (to != r && !rng.chance(0.3)) in_flight.emplace_back(to, delta);
      }
      if (rng.chance(0.3) && !in_flight.empty()) {
        const size_t i = rng.uniform(in_flight.size());
        replicas[in_flight[i].first].join(in_flight[i].second);
        in_flight.erase(in_flight.begin() + static_cast<ptrdiff_t>(i));
      }
      if (step % 20 == 0) sample.push_back(set);
    }
    for (auto& [to, delta] : in_flight) replicas[to].join(delta);
    const std::vector<ORSet> snapshot = replicas;
    for (auto& replica : replicas) {
      for (const auto& other : snapshot) replica.join(other);
    }
    EXPECT_EQ(replicas[0], replicas[1]);
    EXPECT_EQ(replicas[1], replicas[2]);
    sample.insert(sample.end(), replicas.begin(), replicas.end());
    check_lattice_laws(sample, rng);
  }
}

TEST(CounterProperties, converges_to_the_sum_of_all_increments) {
  Random rng(7);
  std::vector<Counter> replicas(4);
  std::vector<Counter> sample;
  int64_t expected = 0;
  for (int step = 0; step < 400; ++step) {
    const size_t r = rng.uniform(replicas.size());
    const int64_t amount = rng.uniform_between(-10, 10);
    expected += amount;
    const Counter delta = replicas[r].increment(replica_id(r), amount);
    sample.push_back(delta);
    replicas[rng.uniform(replicas.size())].join(delta);
    if (rng.chance(0.2)) replicas[rng.uniform(replicas.size())].join(Counter(replicas[r]));
  }
  const std::vector<Counter> snapshot = replicas;
  for (auto& replica : replicas) {
    for (const auto& other : snapshot) replica.join(other);
    EXPECT_EQ(replica.value(), expected);
  }
  sample.insert(sample.end(), replicas.begin(), replicas.end());
  check_lattice_laws(sample, rng);
}

}  // namespace
}  // namespace lashup::crdt
