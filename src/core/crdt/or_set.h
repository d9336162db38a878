// Add-wins observed-remove set without tombstones (ORSWOT).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/common/ids.h"
#include "core/common/status.h"
#include "core/crdt/causal.h"

namespace lashup::crdt {

// Elements are byte strings. Each element holds the dots of the adds that
// created it (one in the common case); a remove drops the dots it saw, so an
// add concurrent with a remove wins, and a removed element leaves nothing
// behind but dots in the context. Elements live in an ordered tree: add,
// remove and contains are O(log n), and values read sorted (the original
// returned sets unsorted past 32 elements, reference §3).
class ORSet : public Causal<ORSet, ORSetStore, FieldType::set> {
 public:
  // Returns the delta.
  ORSet add(const ReplicaId& self, std::string_view element);
  // not_found, changing nothing, if the element is absent.
  Result<ORSet> remove(const ReplicaId& self, std::string_view element);
  // Removes every element seen; returns the delta (bottom if empty).
  ORSet reset(const ReplicaId& self);

  bool contains(std::string_view element) const { return store_.elements.contains(element); }
  size_t size() const { return store_.elements.size(); }
  // Sorted bytewise.
  std::vector<std::string> elements() const;
};

}  // namespace lashup::crdt
