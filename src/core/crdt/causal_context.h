// The causal context of a CRDT object: every dot it has ever seen, whether
// the dot is still in its store or was removed. This memory is what tells
// "I saw that dot and dropped it" from "I have not seen it yet", so removes
// need no tombstones (crdt-notes §1.1).
//
// Compact form (Almeida et al., arXiv 1603.01529): per replica, the dots seen
// are kept as sorted, disjoint, non-adjacent runs [first, last]. A run that
// starts at 1 is the version-vector entry; the other runs are the dot cloud,
// compressed into runs so a delta group of consecutive dots stays small.
//
// The context also owns the replica table that the dots of its object refer
// to by index (see dot.h). Replica ids are (name, incarnation), so a node
// that restarts with an empty disk never reuses a dot (DESIGN §2 Identity).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "core/common/ids.h"
#include "core/crdt/dot.h"

namespace lashup::crdt {

struct DotRange {
  uint64_t first = 0;
  uint64_t last = 0;  // inclusive
  bool operator==(const DotRange&) const = default;
};

using DotRanges = std::vector<DotRange>;

class CausalContext {
 public:
  // --- replica table ---
  // The index of `id`, adding it to the table if it is new.
  ReplicaIndex intern(const ReplicaId& id);
  // The index of `id`, or kNoReplica.
  ReplicaIndex find(const ReplicaId& id) const;
  const ReplicaId& replica(ReplicaIndex index) const { return slots_[index].id; }
  size_t replica_count() const { return slots_.size(); }
  // For each replica of `other`, its index here (interning the new ones).
  std::vector<ReplicaIndex> intern_all(const CausalContext& other);
  // A context with the same replica table and no dots.
  CausalContext table_only() const;

  // --- dots ---
  bool contains(Dot dot) const;
  // Adds one dot; returns true if it was not there.
  bool insert(Dot dot);
  // The next dot `replica` would create: one above the highest it has seen.
  Dot next_dot(ReplicaIndex replica) const { return {replica, max_counter(replica) + 1}; }
  uint64_t max_counter(ReplicaIndex replica) const;
  const DotRanges& ranges(ReplicaIndex replica) const;
  // Replaces the runs of one replica (used to undo a failed batch).
  void set_ranges(ReplicaIndex replica, DotRanges ranges);
  bool empty() const;
  // Number of dots, saturating at UINT64_MAX.
  uint64_t dot_count() const;

  // Joins `other` into this; `to_mine[i]` is the index here of other's
  // replica i. Returns true if a dot was added.
  bool merge(const CausalContext& other, std::span<const ReplicaIndex> to_mine);
  bool merge(const CausalContext& other);

  // The dots of this context that `other` lacks, in this context's table.
  CausalContext minus(const CausalContext& other) const;

  // Whether every dot of `other` is here (compared by replica id).
  bool includes(const CausalContext& other) const;
  // Same dots, compared by replica id (the replica tables may differ).
  bool operator==(const CausalContext& other) const { return includes(other) && other.includes(*this); }

 private:
  struct Slot {
    ReplicaId id;
    DotRanges runs;
  };
  // Tables of up to this many replicas are searched linearly: a delta holds
  // one or two, and skipping the sorted index saves an allocation per delta.
  static constexpr size_t kLinearSearchMax = 8;

  std::vector<Slot> slots_;          // per replica index
  std::vector<ReplicaIndex> order_;  // indices sorted by id, kept once the table outgrows linear search
};

// Run-list operations, shared by the context and its codec.
DotRanges union_ranges(const DotRanges& a, const DotRanges& b);
DotRanges subtract_ranges(const DotRanges& a, const DotRanges& b);
bool ranges_include(const DotRanges& outer, const DotRanges& inner);

}  // namespace lashup::crdt
