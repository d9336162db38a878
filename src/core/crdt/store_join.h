// Internal: the join and the difference of dot stores, shared by every CRDT
// type of this folder. Not part of the public API.
//
// Join of causal CRDTs (Almeida et al., arXiv 1603.01529): for stores s, s'
// with contexts c, c', a dot survives if both stores hold it, or if one store
// holds it and the other context has not seen it. A dot one side has seen
// but no longer holds was removed there, and stays removed.
#pragma once

#include <vector>

#include "core/crdt/causal_context.h"
#include "core/crdt/stores.h"

namespace lashup::crdt::detail {

// The replica tables of two objects side by side: `a` is the object being
// written (joined into, or the delta whose difference is taken), `b` the
// other one. Dots are held in `a`'s index space.
class Bridge {
 public:
  // For a join into `a`: every replica with dots in `b` is interned into `a`.
  static Bridge for_join(CausalContext& a, const CausalContext& b);
  // For comparing without changing either table.
  static Bridge for_compare(const CausalContext& a, const CausalContext& b);

  const CausalContext& a() const { return *a_; }
  const CausalContext& b() const { return *b_; }
  // A dot of `b` in `a`'s index space; its replica is kNoReplica if `a` does
  // not know the replica (never after for_join).
  Dot to_a(Dot b_dot) const { return {b_to_a_[b_dot.replica], b_dot.counter}; }
  // For each replica index of `b`, its index in `a` (kNoReplica: unknown).
  const std::vector<ReplicaIndex>& b_to_a() const { return b_to_a_; }
  Dot to_b(Dot a_dot) const {
    return {a_dot.replica < a_to_b_.size() ? a_to_b_[a_dot.replica] : kNoReplica, a_dot.counter};
  }
  // Whether `b`'s context has seen a dot given in `a`'s index space.
  bool b_saw(Dot a_dot) const {
    const Dot d = to_b(a_dot);
    return d.replica != kNoReplica && b_->contains(d);
  }

 private:
  Bridge(const CausalContext& a, const CausalContext& b);
  const CausalContext* a_;
  const CausalContext* b_;
  std::vector<ReplicaIndex> b_to_a_;
  std::vector<ReplicaIndex> a_to_b_;
};

struct Changes {
  bool store = false;  // a dot was added to or dropped from the store
  bool value = false;  // what a reader sees changed
};

// a ⊔= b, with the contexts of the Bridge (a's context not yet merged).
void join_store(CounterStore& a, const CounterStore& b, const Bridge& bridge, Changes& changes);
void join_store(RegisterStore& a, const RegisterStore& b, const Bridge& bridge, Changes& changes);
void join_store(FlagStore& a, const FlagStore& b, const Bridge& bridge, Changes& changes);
void join_store(ORSetStore& a, const ORSetStore& b, const Bridge& bridge, Changes& changes);
void join_store(MapStore& a, const MapStore& b, const Bridge& bridge, Changes& changes);

// Collects the difference Δ(d, x) = ⊔{y ∈ ⇓d | y ⋢ x} (Enes et al., "Efficient
// Synchronization of State-based CRDTs", arXiv 1803.02750): the store dots of
// d that x has not seen, and the dots x still holds that d removed.
struct DiffSink {
  CausalContext* out = nullptr;  // the result's context (d's table)
  CausalContext novel_store;     // d's store dots x has not seen
  void novel(Dot dot) {
    out->insert(dot);
    novel_store.insert(dot);
  }
  void removed(Dot dot) { out->insert(dot); }
};

// Writes into `r` (an empty store, in d's index space) the part of `d` not in
// `x` (nullptr: x holds nothing here). Bridge: a = d, b = x. Returns true if
// anything was written.
bool diff_store(const CounterStore& d, const CounterStore* x, const Bridge& bridge, CounterStore& r, DiffSink& sink);
bool diff_store(const RegisterStore& d, const RegisterStore* x, const Bridge& bridge, RegisterStore& r, DiffSink& sink);
bool diff_store(const FlagStore& d, const FlagStore* x, const Bridge& bridge, FlagStore& r, DiffSink& sink);
bool diff_store(const ORSetStore& d, const ORSetStore* x, const Bridge& bridge, ORSetStore& r, DiffSink& sink);
bool diff_store(const MapStore& d, const MapStore* x, const Bridge& bridge, MapStore& r, DiffSink& sink);

// Adds to `r` a marker for every key `d` lists, and d's complete bits: used
// when the difference carries removed dots whose key is unknown (see
// causal.h, difference()).
void add_skeleton(const CounterStore& d, CounterStore& r);
void add_skeleton(const RegisterStore& d, RegisterStore& r);
void add_skeleton(const FlagStore& d, FlagStore& r);
void add_skeleton(const ORSetStore& d, ORSetStore& r);
void add_skeleton(const MapStore& d, MapStore& r);

// Sets the complete bit of a container and all its descendants, dropping the
// markers a complete node must not hold.
void mark_complete(ORSetStore& store);
void mark_complete(MapStore& store);

// Calls fn(dot) for every dot of a store.
template <typename Fn>
void for_each_dot(const FieldStore& store, Fn&& fn);

template <typename Fn>
void for_each_dot(const CounterStore& store, Fn&& fn) {
  for (const auto& entry : store.entries) fn(entry.dot);
}
template <typename Fn>
void for_each_dot(const RegisterStore& store, Fn&& fn) {
  for (const auto& entry : store.entries) fn(entry.dot);
}
template <typename Fn>
void for_each_dot(const FlagStore& store, Fn&& fn) {
  for (Dot dot : store.dots) fn(dot);
}
template <typename Fn>
void for_each_dot(const ORSetStore& store, Fn&& fn) {
  for (const auto& [element, dots] : store.elements) {
    for (Dot dot : dots) fn(dot);
  }
}
template <typename Fn>
void for_each_dot(const MapStore& store, Fn&& fn) {
  for (const auto& [key, field] : store.fields) for_each_dot(field, fn);
}
template <typename Fn>
void for_each_dot(const FieldStore& store, Fn&& fn) {
  std::visit(
      [&](const auto& s) {
        if constexpr (std::is_same_v<std::decay_t<decltype(s)>, MapBox>) {
          for_each_dot(*s, fn);
        } else {
          for_each_dot(s, fn);
        }
      },
      store);
}

// Values read from leaf stores.
int64_t counter_value(const CounterStore& store);
// The winning entry, or nullptr when the register is empty.
const DotEntry<Timestamped>* register_winner(const RegisterStore& store);

}  // namespace lashup::crdt::detail
