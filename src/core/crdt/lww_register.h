// Last-writer-wins register with explicit timestamps.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/common/ids.h"
#include "core/crdt/causal.h"

namespace lashup::crdt {

// The caller supplies the timestamp (e.g. microseconds of its wall clock):
// the core reads no clock. The value read is the greatest assignment in the
// LWW order — higher timestamp, then on equal timestamps the
// lexicographically greater bytes (see Timestamped). Equal (timestamp,
// value) pairs are the same value, so the tie-break never depends on which
// replica wrote.
//
// Concurrent assignments are all kept until one replica writes again, and
// the read picks the winner; a field remove drops every assignment it saw, so
// a remove concurrent with an assignment keeps only that assignment.
class LwwRegister : public Causal<LwwRegister, RegisterStore, FieldType::lww_register> {
 public:
  // Returns the delta; it is bottom (a no-op) when (timestamp, value) does
  // not beat the current value — the write lost, as it would have on merge.
  LwwRegister assign(const ReplicaId& self, std::string value, uint64_t timestamp);
  // Drops every assignment seen; returns the delta (bottom if empty).
  LwwRegister reset(const ReplicaId& self);
  // The winning value, or nullopt when never assigned (or reset).
  std::optional<Timestamped> value() const;
};

}  // namespace lashup::crdt
