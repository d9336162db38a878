// Internal: the delta-mutators of every type, written once and used both by
// the standalone types and by the map's batches.
//
// Each mutator changes the live store in place, drawing a new dot from (and
// recording it in) the live context, and writes its delta-mutation m^δ(X)
// into a delta store so that X ⊔ m^δ(X) == m(X) (Almeida et al., arXiv
// 1603.01529, Definition 1). The delta's context receives every dot the
// mutation saw or replaced, through a DeltaSink.
#pragma once

#include <string_view>
#include <vector>

#include "core/crdt/causal_context.h"
#include "core/crdt/stores.h"

namespace lashup::crdt::detail {

// Writes dots of the live object into the delta's context, translating from
// the live replica table to the delta's own (which holds only the replicas
// the delta mentions, so a delta stays small on the wire).
class DeltaSink {
 public:
  DeltaSink(const CausalContext& live, CausalContext& delta) : live_(&live), delta_(&delta) {}
  Dot translate(Dot live_dot);
  void saw(Dot live_dot) { delta_->insert(translate(live_dot)); }
  template <typename Store>
  void saw_all(const Store& store);

 private:
  const CausalContext* live_;
  CausalContext* delta_;
  // The last translation: a mutation mostly translates the same replica.
  ReplicaIndex last_live_ = kNoReplica;
  ReplicaIndex last_delta_ = kNoReplica;
};

// Draws a new dot that only goes into the contexts, never into a store: the
// event of a change that created no store dot (a remove, a disable, a
// reset). With it every change of state is named by a dot, so two replicas
// whose contexts are equal hold equal states — what the key-level
// compare-and-set and the version-vector compare of anti-entropy rely on.
// (A remove that only recorded the removed dots would leave the context of
// a replica that saw the add unchanged.)
void record_event(CausalContext& context, ReplicaIndex self, DeltaSink& sink);

// Resets a whole object: the delta's context covers every dot `store` holds
// (so whoever joins the delta drops them), `clear` empties the live store,
// and a reset event names the change. Shared by every type's reset().
template <typename Store, typename Clear>
void reset_store(Store& store, Clear clear, CausalContext& context, CausalContext& delta_context,
                 const ReplicaId& self) {
  DeltaSink sink(context, delta_context);
  sink.saw_all(store);
  clear(store);
  record_event(context, context.intern(self), sink);
}

// Adds `amount` (negative: subtracts) to the replica's running total and
// moves it to a new dot.
void counter_add(CounterStore& live, CausalContext& context, ReplicaIndex self, int64_t amount, CounterStore& delta,
                 DeltaSink& sink);
// Returns false, changing nothing, if `value` does not beat the current
// value in the LWW order (an equal or older write is a no-op).
bool register_assign(RegisterStore& live, CausalContext& context, ReplicaIndex self, Timestamped value,
                     RegisterStore& delta, DeltaSink& sink);
void flag_enable(FlagStore& live, CausalContext& context, ReplicaIndex self, FlagStore& delta, DeltaSink& sink);
// Returns false if the flag was already disabled.
bool flag_disable(FlagStore& live, FlagStore& delta, DeltaSink& sink);
void set_add(ORSetStore& live, CausalContext& context, ReplicaIndex self, std::string_view element, ORSetStore& delta,
             DeltaSink& sink);
// Returns false, changing nothing, if the element is absent.
bool set_remove(ORSetStore& live, std::string_view element, ORSetStore& delta, DeltaSink& sink);

}  // namespace lashup::crdt::detail

#include "core/crdt/store_join.h"

template <typename Store>
void lashup::crdt::detail::DeltaSink::saw_all(const Store& store) {
  for_each_dot(store, [this](Dot dot) { saw(dot); });
}
