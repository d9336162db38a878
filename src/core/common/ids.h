// Node identity. A node is named by a short string chosen by the operator
// (unique in the cluster) and carries an incarnation that is persisted in its
// data directory and raised on every start. Replica ids for CRDT dots are the
// pair (name, incarnation), so a node that returns with an empty disk can
// never reuse a dot its peers have already seen (the original's identity
// hazard, reference §5).
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/common/status.h"

namespace lashup {

using NodeName = std::string;
using Incarnation = uint64_t;

inline constexpr size_t kNodeNameMaxBytes = 255;

// A node name is 1..255 bytes of [A-Za-z0-9._:@-]: safe in file names, in
// certificate subject alternative names, in keys ("nodes/<name>/") and logs.
inline Status validate_node_name(std::string_view name) {
  if (name.empty()) return Status::invalid("node name is empty");
  if (name.size() > kNodeNameMaxBytes) return Status::invalid("node name longer than 255 bytes");
  for (char c : name) {
    const bool allowed = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                         c == '.' || c == '_' || c == '-' || c == ':' || c == '@';
    if (!allowed) return Status::invalid("node name has a character outside [A-Za-z0-9._:@-]");
  }
  return Status::ok();
}

// The incarnation of a (re)starting node: strictly above the persisted one,
// and at least the wall-clock seconds so a node whose disk was wiped still
// starts above every incarnation it used before (DESIGN §2 Identity).
inline constexpr Incarnation next_incarnation(Incarnation persisted, uint64_t wall_clock_seconds) {
  const Incarnation bumped = persisted + 1;
  return bumped > wall_clock_seconds ? bumped : wall_clock_seconds;
}

struct ReplicaId {
  NodeName name;
  Incarnation incarnation = 0;
  auto operator<=>(const ReplicaId&) const = default;
};

}  // namespace lashup
