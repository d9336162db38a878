// Events a node reports to the application (through the runtime's event
// queue, or to the simulator's observers). Each is emitted only on a real
// change.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "core/common/ids.h"
#include "core/common/status.h"
#include "core/common/time.h"

namespace lashup {

// A probe to `peer` was answered after `round_trip` (ping core).
struct ProbeAnswered {
  NodeName peer;
  Duration round_trip;
};

// A probe to `peer` was not answered within `timeout` (ping core).
struct ProbeTimedOut {
  NodeName peer;
  Duration timeout;
};

// A member appeared, or its address, metadata or leave flag changed.
struct MemberUpdated {
  NodeName name;
  Incarnation incarnation = 0;
};

// A member was forgotten (expired after being unreachable, or left).
struct MemberRemoved {
  NodeName name;
};

enum class Reachability : uint8_t { reachable, unreachable, left };

// Whether `name` can be reached from this node through the overlay changed.
struct ReachabilityChanged {
  NodeName name;
  Reachability state = Reachability::reachable;
};

// `reporter` says it cannot reach `target` directly although `target`
// answers others (present), or no longer says so.
struct LinkReportChanged {
  NodeName reporter;
  NodeName target;
  bool present = true;
};

// An active-view neighbour came or went (reason as in NeighborDownReason).
struct NeighborChanged {
  NodeName peer;
  bool up = true;
  const char* reason = "";
};

// The route tree from this node changed (coalesced).
struct RoutesChanged {
  uint32_t reachable_members = 0;
};

// The answer to a health check of `name` requested through the API.
struct HealthCheckResult {
  NodeName name;
  bool alive = false;
  Duration round_trip{0};
  uint64_t request_id = 0;
};

// A multicast message on a topic this node subscribes to, delivered once.
struct McDelivered {
  NodeName origin;
  Incarnation incarnation = 0;
  uint64_t sequence = 0;
  std::string topic;
  std::vector<uint8_t> payload;
};

// A key a KV subscription covers: part of its initial dump, or changed
// (coalesced per key over kv.subscription_coalesce_ms). `state` is the key's
// CRDT map state (core/crdt, encoded); a deleted key has an empty map.
struct KvChanged {
  uint64_t subscription = 0;
  std::string key;
  std::vector<uint8_t> state;
  bool initial = false;   // part of the dump made when the subscription began
  bool deleted = false;   // the key reads as absent now
};

// The initial dump of a KV subscription is complete (`keys` events).
struct KvDumpDone {
  uint64_t subscription = 0;
  uint64_t keys = 0;
};

// An asynchronous KV write (requested through the runtime with an id) was
// applied and persisted, or failed. Queued by the runtime, never the core.
struct KvUpdateDone {
  uint64_t request_id = 0;
  std::string key;
  Status status;
};

using Event = std::variant<ProbeAnswered, ProbeTimedOut, MemberUpdated, MemberRemoved, ReachabilityChanged,
                           LinkReportChanged, NeighborChanged, RoutesChanged, HealthCheckResult, McDelivered,
                           KvChanged, KvDumpDone, KvUpdateDone>;

}  // namespace lashup
