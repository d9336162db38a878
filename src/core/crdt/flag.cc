#include "core/crdt/flag.h"

#include "core/crdt/mutators.h"

namespace lashup::crdt {

Flag Flag::enable(const ReplicaId& self) {
  Flag delta;
  const ReplicaIndex me = context_.intern(self);
  detail::DeltaSink sink(context_, delta.context_);
  detail::flag_enable(store_, context_, me, delta.store_, sink);
  return delta;
}

Flag Flag::disable(const ReplicaId& self) {
  Flag delta;
  detail::DeltaSink sink(context_, delta.context_);
  if (detail::flag_disable(store_, delta.store_, sink)) detail::record_event(context_, context_.intern(self), sink);
  return delta;
}

}  // namespace lashup::crdt
