#include "core/crdt/counter.h"

#include "core/crdt/mutators.h"

namespace lashup::crdt {

Counter Counter::increment(const ReplicaId& self, int64_t amount) {
  Counter delta;
  const ReplicaIndex me = context_.intern(self);
  detail::DeltaSink sink(context_, delta.context_);
  detail::counter_add(store_, context_, me, amount, delta.store_, sink);
  return delta;
}

Counter Counter::reset(const ReplicaId& self) {
  // The delta: no entry, and the context of every entry seen.
  Counter delta;
  if (store_.entries.empty()) return delta;
  detail::reset_store(store_, [](auto& store) { store.entries.clear(); }, context_, delta.context_, self);
  return delta;
}

}  // namespace lashup::crdt
