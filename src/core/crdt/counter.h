// PN counter with reset on remove: increments and decrements by any replica,
// and a reset (a map field remove) that drops every increment it observed.
#pragma once

#include <cstdint>

#include "core/common/ids.h"
#include "core/crdt/causal.h"

namespace lashup::crdt {

// Each replica holds one dot carrying its running total (Baquero's causal
// counter). Values wrap modulo 2^64, so the sum is the same in any order.
//
// Reset semantics (docs/CRDT.md, "Anomalies"): a reset removes the totals it
// observed; after it, a replica counts from zero again. An increment
// concurrent with the reset survives carrying that replica's whole running
// total since it last saw a reset — the anomaly riak_dt documents for its
// embedded counters. Removing it exactly needs causal stability (Younes et
// al., "Compact Resettable Counters through Causal Stability", PaPoC 2017).
class Counter : public Causal<Counter, CounterStore, FieldType::counter> {
 public:
  // Adds `amount` (negative to subtract); returns the delta.
  Counter increment(const ReplicaId& self, int64_t amount);
  // Drops every increment this replica has seen; returns the delta (bottom
  // if there was nothing to drop).
  Counter reset(const ReplicaId& self);
  int64_t value() const { return detail::counter_value(store_); }
};

}  // namespace lashup::crdt
