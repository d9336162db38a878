// Global membership: every node keeps the record of every member (its
// active view, link reports and metadata), floods its own record when it
// changes and on a slow refresh, and computes reachability and route trees
// over the adjacency DB the records form.
//
// Where we differ from the original (reference §1.3, §7 item 9):
//  - the flood TTL is derived from the graph (twice the eccentricity of this
//    node, plus slack), not a fixed 10, and is decremented once per hop;
//  - a record is never sent back to the neighbour it came from, nor to the
//    member it describes;
//  - a new neighbour gets a digest and pushes back only what we lack,
//    in both directions;
//  - a new version of our own record is published by its flood (digests
//    and pull answers offer the previous one until then), and a record
//    learned by catch-up that was news is announced onward: a node that
//    learns a version always passes it on;
//  - graceful leave is announced and reported as `left`, not as a failure;
//  - `last heard` uses one clock.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/common/actions.h"
#include "core/common/random.h"
#include "core/membership/routing.h"
#include "core/node/connections.h"
#include "core/wire/membership_messages.h"

namespace lashup {

struct MembershipConfig {
  RoundGrid grid;  // refreshes and digest exchanges start on it
  Duration refresh_interval = 300s;
  Duration expire_after = 3600s;
  size_t metadata_bytes_max = 1024;
  Duration event_coalesce = 20ms;
  // A node cut off from every member at once holds its reachability events
  // this long: see report_changes().
  Duration isolation_grace = 1s;
  // Own-record floods are at least this far apart (changes in between are
  // sent together).
  Duration flood_gap = 20ms;
  Duration settle_delay = 250ms;
  // Anti-entropy: a summary of all records goes to one random neighbour this
  // often (randomized by +/-50%). A flood lost anywhere (a full buffer, a
  // connection that closed under it) is repaired within a few periods: the
  // first node that pulls the missing version announces it onward.
  Duration sync_interval = 2s;
  // Records to forward are gathered for this long and sent as one batch per
  // neighbour: a record heard from several neighbours meanwhile is sent to
  // none of them, and a version superseded meanwhile is not sent at all.
  Duration forward_window = 5ms;
};

class MembershipListener {
 public:
  virtual ~MembershipListener() = default;
  // `owner`'s new record no longer lists `dropped` as a neighbour.
  virtual void on_dropped_by_other(Time now, const NodeName& owner, const NodeName& dropped, Actions& out) = 0;
};

struct MembershipStats {
  uint64_t records_received = 0;
  uint64_t records_applied = 0;  // newer than what we had
  uint64_t records_sent = 0;
  uint64_t record_messages_sent = 0;
  uint64_t digests_sent = 0;
  uint64_t summaries_sent = 0;
  uint64_t summaries_differing = 0;
  uint64_t own_floods = 0;
  uint64_t members_expired = 0;
};

// What the API reports about one member.
struct MemberInfo {
  NodeName name;
  std::string address;
  Incarnation incarnation = 0;
  uint64_t version = 0;
  Reachability state = Reachability::reachable;
  Time last_heard{0};
  Bytes metadata;
  std::vector<NodeName> active_view;
  std::vector<NodeName> link_reports;
};

class Membership {
 public:
  Membership(MembershipConfig config, wire::PeerRef self, Incarnation incarnation, Random& random,
             Connections& connections, MembershipListener& listener);

  void start(Time now, Actions& out);

  // Our own record.
  // `urgent`: a neighbour failed or its connection closed; the change is
  // flooded within flood_gap. Other changes (a neighbour added, or dropped
  // while alive) wait settle_delay, so the churn of a join or a heal costs
  // one flood instead of one per change.
  void set_active_view(Time now, std::vector<NodeName> sorted_names, bool urgent, Actions& out);
  void set_link_reports(Time now, std::vector<NodeName> sorted_names, Actions& out);
  Status set_metadata(Time now, Bytes metadata, Actions& out);
  void leave(Time now, Actions& out);

  void on_neighbor_up(Time now, const NodeName& peer, Actions& out);
  bool handle(Time now, const NodeName& from, wire::MessageType type, wire::Reader& body, Actions& out);
  void tick(Time now, Actions& out);

  // Queries (all from this node's view of the cluster).
  size_t member_count() const;  // members with a record, self included
  size_t reachable_member_count() const;  // members with a record reachable from here, self excluded
  std::vector<MemberInfo> members(Time now) const;
  std::optional<MemberInfo> member(const NodeName& name) const;
  bool reachable(const NodeName& name) const;
  // Hops from this node; nullopt if unreachable or unknown.
  std::optional<uint32_t> distance(const NodeName& name) const;
  std::vector<NodeName> path_to(const NodeName& name) const;
  // The BFS tree from `root` as (node, parent, distance) for every member
  // reachable from it; empty if root is unknown.
  struct TreeEntry {
    NodeName name;
    NodeName parent;  // empty for the root
    uint32_t distance = 0;
  };
  std::vector<TreeEntry> route_tree(const NodeName& root);
  // This node's children in the BFS tree from `origin` (multicast forwards
  // to them); empty if `origin` is unknown or we are not in its tree.
  // Cached per origin until the graph changes.
  const std::vector<NodeName>& tree_children(const NodeName& origin);
  // Members not reachable from here that have an address, and are not left.
  std::vector<wire::PeerRef> unreachable_members() const;
  std::vector<wire::PeerRef> reachable_members() const;
  std::optional<std::string> address_of(const NodeName& name) const;
  const wire::MemberRecord& own_record() const { return self_record_; }
  const MembershipStats& stats() const { return stats_; }
  // Bytes held for members, records and the adjacency (for the footprint figure).
  size_t footprint_bytes() const;

  // Persisted list of known members (name, address), and its decoder.
  Bytes encode_known_members() const;
  static std::vector<wire::PeerRef> decode_known_members(const Bytes& bytes);

 private:
  struct Member {
    NodeName name;
    bool has_record = false;
    wire::MemberRecord record;
    Time last_heard{0};
    bool left = false;
    uint32_t referenced_by = 0;  // records listing this member as a neighbour
  };

  MemberId intern(const NodeName& name);
  std::optional<MemberId> find(const NodeName& name) const;
  // Applies a record received from a peer; true if it was newer.
  bool apply(Time now, wire::MemberRecord record, Actions& out);
  // Returns true if the edges changed.
  bool set_edges_from(MemberId id, const std::vector<NodeName>& names);
  void release(MemberId id);
  void bump_own(Time now, Actions& out, bool urgent = true);
  void flood_own(Time now, Actions& out);
  void forward(Time now, const std::vector<MemberId>& ids, uint32_t ttl, const NodeName& except, Actions& out);
  void queue_forward(Time now, MemberId id, uint32_t ttl, const NodeName& heard_from, Actions& out);
  void flush_forwards(Time now, Actions& out);
  void send_announcement(Time now, const NodeName& to, const std::vector<MemberId>& ids, Actions& out);
  void pull_newer(Time now, const NodeName& from, const std::vector<wire::DigestEntry>& announced, Actions& out);
  void send_full_digest(Time now, const NodeName& to, bool reply_with_digest, Actions& out);
  wire::MemberSummary summary() const;
  void send_records(Time now, const NodeName& to, const std::vector<MemberId>& ids, uint32_t ttl, Actions& out);
  uint32_t flood_ttl();
  // The BFS tree from this node, cached until the graph changes.
  const RouteTree& own_tree() const;
  std::vector<bool> excluded() const;
  void report_changes(Time now, Actions& out);
  // When pending changes are to be reported: after the coalescing window,
  // or while this node reaches no member, at the end of the isolation grace.
  Time report_due_at() const;
  void expire(Time now, Actions& out);

  MembershipConfig config_;
  wire::PeerRef self_;
  Random& random_;
  Connections& connections_;
  MembershipListener& listener_;
  MembershipStats stats_;

  wire::MemberRecord self_record_;
  MemberId self_id_ = 0;
  std::vector<Member> members_;
  std::vector<MemberId> free_ids_;
  std::unordered_map<NodeName, MemberId> ids_;
  Graph graph_;

  mutable RouteTree own_tree_;
  // Bumped when the set of members excluded from routing changes (a leave,
  // an expiry): trees change although no edge did.
  uint64_t excluded_epoch_ = 0;
  struct ChildrenCache {
    uint64_t graph_version = ~uint64_t{0};
    uint64_t excluded_epoch = 0;
    size_t graph_size = 0;
    std::unordered_map<NodeName, std::vector<NodeName>> by_origin;
  };
  ChildrenCache children_cache_;
  mutable uint64_t own_tree_version_ = ~uint64_t{0};
  // Members some computation of our tree found reachable since they were
  // interned: only those are reported unreachable when they stop being so.
  mutable std::vector<bool> ever_reachable_;
  std::vector<Reachability> reported_;  // by id, what events last said
  bool changes_pending_ = false;
  Time next_report_at_{0};
  std::optional<Time> isolated_since_;  // this node reached no member since then
  std::vector<uint32_t> reported_distance_;

  struct PendingForward {
    uint32_t ttl = 0;
    std::vector<NodeName> heard_from;  // at most the active view
  };
  std::unordered_map<MemberId, PendingForward> pending_forwards_;
  std::optional<Time> forward_flush_at_;

  // Names pulled from a peer and not received yet, with the time after
  // which another peer may be asked.
  std::unordered_map<NodeName, Time> pulls_in_flight_;
  Time next_pull_cleanup_at_{0};
  Time next_sync_at_{0};

  bool own_dirty_ = false;
  Time own_flood_at_{0};  // when the pending own-record flood goes out
  Time last_own_flood_{-1'000'000'000};
  Time next_refresh_at_{0};
  Time next_expiry_at_{0};
};

}  // namespace lashup
