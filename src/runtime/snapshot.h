// An immutable picture of one node's view of the cluster, published by the
// loop thread after each change and read by API threads without waiting for
// the loop: readers take a shared_ptr to the current snapshot and keep it as
// long as they like (it outlives the node).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/common/event.h"
#include "core/common/ids.h"

namespace lashup::runtime {

inline constexpr uint32_t kUnreachableDistance = UINT32_MAX;

struct MemberView {
  std::string name;
  std::string address;
  Reachability state = Reachability::reachable;
  uint64_t incarnation = 0;
  uint64_t last_heard_ms = 0;  // before the snapshot was taken; 0 for self
  uint32_t distance = kUnreachableDistance;  // hops from this node
  std::vector<uint8_t> metadata;
  std::vector<std::string> neighbors;     // the member's announced active view
  std::vector<std::string> link_reports;  // nodes it cannot reach directly
};

// Counters and gauges, in the order of kStatNames.
inline constexpr std::array<const char*, 119> kStatNames = {
    "members",                       // members with a record, this node included
    "members.reachable",             // reachable from this node, itself excluded
    "members.unreachable",           // known but unreachable (not left)
    "overlay.active",                // active-view neighbours
    "overlay.passive",               // passive-view entries
    "overlay.departition_probes",    // NEIGHBOR requests to unreachable members and contacts
    "detector.neighbors_failed",     // neighbours evicted after direct and indirect probes failed
    "detector.links_broken",         // neighbours dropped as alive but not directly reachable
    "detector.connection_closes",    // neighbours lost because their connection closed
    "membership.records_received",   // member records received
    "membership.records_applied",    // ... that were newer than ours
    "membership.records_sent",       // member records sent
    "membership.members_expired",    // members forgotten after being unreachable
    "node.malformed_messages",       // peer messages the core could not decode (connection closed)
    "transport.connections",         // open sockets of every kind (gauge)
    "transport.connections_accepted",
    "transport.connections_opened",
    "transport.handshake_failures",  // wrong cluster id, protocol version, name, timeouts
    "transport.tls_failures",        // TLS handshake or certificate failures
    "transport.malformed_frames",    // oversized or garbage frames (connection closed)
    "transport.version_mismatches",  // handshakes refused: no protocol version in common
    "transport.messages_sent",
    "transport.messages_received",
    "transport.bytes_sent",
    "transport.bytes_received",
    "transport.send_queue_drops",    // messages dropped because a peer's send queue was full
    "transport.connects_deferred",   // connection attempts refused by the reconnect backoff
    "events.dropped",                // events dropped because the event queue was full
    "commands.refused",              // API commands refused because the command queue was full
    "storage.errors",                // failed store writes (the first is kept as the node's error)
    "storage.checkpoints",           // Berkeley DB checkpoints taken
    "snapshots.published",           // snapshots published by the loop thread

    // Multicast (core/multicast/multicast.h).
    "multicast.published",              // messages this node published (its KV deltas included)
    "multicast.delivered",              // messages delivered to this node's subscribers (its own included)
    "multicast.received",               // first copies of others' messages
    "multicast.duplicates_received",    // further copies (neither delivered nor forwarded)
    "multicast.stale_received",         // from an older incarnation of their origin
    "multicast.forwarded",              // copies sent down an origin's tree
    "multicast.no_subscriber",          // first copies of a topic nobody here subscribes to
    "multicast.hops_exhausted",         // received with no hops left: delivered, not forwarded
    "multicast.announcements_sent",     // lazy-repair announcements and summaries
    "multicast.pulls_sent",             // requests for missed messages
    "multicast.repairs_sent",           // messages sent in answer to pulls
    "multicast.repaired",               // first copies that came through a pull
    "multicast.pull_misses",            // requested messages this node no longer held
    "multicast.lost",                   // missed messages given up: no neighbour had them within the history
    "multicast.history_evicted_early",  // kept messages dropped by multicast.history_bytes_max before history_ms
    "multicast.missing_overflow",       // missed messages not tracked (too many missing at once)
    "multicast.history_bytes",          // bytes of messages kept to answer pulls (gauge)
    "multicast.missing",                // messages known to be missing, being pulled (gauge)
    "multicast.publishes_failed",       // queued publishes the core refused (a bug if not 0)
    "multicast.late_tree_copies",       // tree copies of messages already repaired (the repair delay adapts)
    "multicast.skipped_unannounced",    // gaps nobody ever announced, skipped after the history
    // Replicated KV store (core/kv).
    "kv.keys",                          // live keys in this replica (gauge)
    "kv.local_updates",                 // writes made here (updates and deletes)
    "kv.deltas_applied",                // deltas and states from peers that changed this replica
    "kv.deltas_redundant",              // deltas and states from peers that changed nothing
    "kv.deltas_rejected",               // refused by the store (another node's namespace, a bad key)
    "kv.deltas_malformed",              // KV deltas that did not decode
    "kv.deltas_unsent",                 // local writes whose delta was too large for multicast (anti-entropy carries them)
    "kv.sync_rounds",                   // anti-entropy rounds started
    "kv.sync_rounds_equal",             // rounds answered by nothing: the stores were equal
    "kv.sync_states_sent",              // key states sent by anti-entropy
    "kv.sync_states_applied",           // key states received that changed this replica
    "kv.sync_bytes_sent",               // bytes of anti-entropy messages sent
    "kv.sync_rounds_followed_up",       // rounds started at once after a large states message
    "kv.tombstones",                    // deleted keys whose tombstone is kept (gauge)
    "kv.tombstones_collected",          // tombstones every member held, dropped here
    // Operations (src/runtime/http, docs/ADMIN.md).
    "members.left",                     // members that announced a leave (gauge)
    "membership.unreachable_marks",     // members this node marked unreachable (transitions)
    "membership.reachable_marks",       // members this node marked reachable again (transitions)
    "detector.probes_sent",             // direct probes of neighbours
    "detector.probes_missed",           // direct probes unanswered in time
    "detector.indirect_requests_sent",  // indirect probes asked of other neighbours
    "detector.indirect_acks_received",  // indirect probes that came back answered
    "detector.heartbeats_received",     // heartbeats from neighbours (protocol version 2)
    "commands.queued",                  // API commands waiting for the loop thread (gauge)
    "events.queued",                    // events waiting to be polled (gauge)
    "admin.requests",                   // admin and metrics HTTP requests
    "admin.requests_refused",           // ... answered with a 4xx or 5xx status
    "admin.streams",                    // open kv watch and mc subscribe streams (gauge)
    // Histograms (runtime/http/histogram.h): count, sum, cumulative buckets by upper bound.
    // storage.commit_us: Berkeley DB commit of one batch of writes, µs
    "storage.commit_us.count", "storage.commit_us.sum", "storage.commit_us.le_100",
    "storage.commit_us.le_250", "storage.commit_us.le_500", "storage.commit_us.le_1000",
    "storage.commit_us.le_2500", "storage.commit_us.le_5000", "storage.commit_us.le_10000",
    "storage.commit_us.le_25000", "storage.commit_us.le_100000",
    // detection.unreachable_ms: last heard of a member to marking it unreachable, ms
    "detection.unreachable_ms.count", "detection.unreachable_ms.sum", "detection.unreachable_ms.le_250",
    "detection.unreachable_ms.le_500", "detection.unreachable_ms.le_1000", "detection.unreachable_ms.le_2000",
    "detection.unreachable_ms.le_5000", "detection.unreachable_ms.le_10000",
    "detection.unreachable_ms.le_30000",
    // convergence.whole_ms: from this node's view becoming partial (its start, or a member
    // becoming unreachable or newly known and not yet reachable) until every member it knows is
    // reachable again, ms; one sample per partial period
    "convergence.whole_ms.count", "convergence.whole_ms.sum", "convergence.whole_ms.le_250",
    "convergence.whole_ms.le_500", "convergence.whole_ms.le_1000", "convergence.whole_ms.le_2000",
    "convergence.whole_ms.le_5000", "convergence.whole_ms.le_10000", "convergence.whole_ms.le_30000",
    // health.rtt_us: answered health checks, round trip µs
    "health.rtt_us.count", "health.rtt_us.sum", "health.rtt_us.le_250", "health.rtt_us.le_500",
    "health.rtt_us.le_1000", "health.rtt_us.le_2500", "health.rtt_us.le_10000", "health.rtt_us.le_50000",
    "health.rtt_us.le_250000",
};

// The index of a stat by name, checked at compile time.
consteval size_t stat_index(std::string_view name) {
  for (size_t i = 0; i < kStatNames.size(); ++i) {
    if (name == kStatNames[i]) return i;
  }
  throw "no such stat";
}

struct RouteEntry {
  std::string node;
  std::string parent;  // empty for the root
  uint32_t distance = 0;
};

struct Snapshot {
  std::string self;
  std::vector<MemberView> members;  // sorted by name, this node included
  std::array<uint64_t, kStatNames.size()> stats{};

  // Index of `name` in members, or -1.
  long index_of(const std::string& name) const;
  // The breadth-first tree rooted at `root` over the announced active views
  // (members that left are skipped), sorted by (distance, name); neighbours
  // are visited in name order, as the core's route trees do. Empty for an
  // unknown root.
  std::vector<RouteEntry> route_tree(const std::string& root) const;
};

}  // namespace lashup::runtime
