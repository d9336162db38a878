// Enable-wins flag.
#pragma once

#include "core/common/ids.h"
#include "core/crdt/causal.h"

namespace lashup::crdt {

// Enabled while it holds a dot. An enable creates a dot; a disable drops the
// dots it saw, so an enable concurrent with a disable wins (riak_dt_od_flag).
class Flag : public Causal<Flag, FlagStore, FieldType::flag> {
 public:
  Flag enable(const ReplicaId& self);
  // Bottom delta when already disabled.
  Flag disable(const ReplicaId& self);
  bool value() const { return !store_.dots.empty(); }
};

}  // namespace lashup::crdt
