// Multicast along sender-rooted trees, delivered once (DESIGN §2
// Multicast; docs/MULTICAST.md).
//
// A message goes down the BFS tree rooted at its origin. Every node computes
// that tree from its own copy of the adjacency DB, so the packet carries no
// tree (the original put the whole tree, ≈84 B per cluster node, in every
// packet and sent it down two trees). Each node forwards to its children in
// the origin's tree and delivers to its local subscribers once: messages are
// identified by (origin, incarnation, sequence) and de-duplicated with a
// per-origin watermark plus the set of sequences received above it.
//
// Trees computed from adjacency DBs that disagree for a moment, a link that
// drops, or a full send queue can leave holes. They are repaired as in
// Plumtree: a node announces what it received to the neighbours it did not
// send it to (batched ranges, every announce_interval), and a node that
// learns of a message it lacks — from an announcement, or from a gap in an
// origin's sequence — pulls it after repair_delay from a neighbour that has
// it, retrying other holders every pull_timeout for as long as the message
// can still be in someone's history. A new neighbour gets a summary of the
// history, so messages sent during a partition reach the other side when it
// heals. Messages are kept for `history` (bounded in bytes).
//
// Guarantees: each message is delivered at most once per node (while its
// origin's state is kept: at least 2 × history after the last message).
// A joining node is not replayed the past: the first summary a neighbour
// sends it marks what was sent before it came (a message sent at that very
// moment may or may not reach it);
// everything sent later reaches it, through repair if need be, as long as
// some neighbour still holds it. Order: an origin's messages arrive in
// sequence order while they travel down an unchanged tree (each link is
// FIFO); a repaired message is delivered when it arrives, possibly after
// later ones. Subscriptions are local: a topic subscribed after a message
// arrived does not get it.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/common/actions.h"
#include "core/common/random.h"
#include "core/common/status.h"
#include "core/common/time.h"
#include "core/wire/message.h"
#include "core/wire/multicast_messages.h"

namespace lashup {

// Sequence numbers as disjoint, non-adjacent intervals [first, last].
class SeqSet {
 public:
  bool contains(uint64_t s) const;
  void insert(uint64_t s);
  bool empty() const { return intervals_.empty(); }
  size_t intervals() const { return intervals_.size(); }
  std::pair<uint64_t, uint64_t> front() const { return *intervals_.begin(); }
  void pop_front() { intervals_.erase(intervals_.begin()); }
  // The last sequence of the run of members starting at `s` (contained).
  uint64_t run_end(uint64_t s) const;

 private:
  std::map<uint64_t, uint64_t> intervals_;
};

struct MulticastConfig {
  RoundGrid grid;  // summaries and expiry start on it
  size_t max_payload_bytes = 65536;
  uint32_t hops = 32;  // TTL of a message, in hops
  Duration announce_interval = 20ms;
  Duration repair_delay = 30ms;  // wait for the tree copy before pulling
  Duration pull_timeout = 200ms;  // then ask the next holder
  Duration history = 30s;
  size_t history_bytes_max = 32u << 20;
  Duration summary_interval = 2s;  // to one random neighbour while history is not empty
  size_t origins_max = 65536;
  size_t missing_max = 65536;  // messages known to be missing, being pulled
};

// What multicast needs from the rest of the node.
class MulticastTopology {
 public:
  virtual ~MulticastTopology() = default;
  // This node's children in the BFS tree rooted at `origin`.
  virtual const std::vector<NodeName>& tree_children(const NodeName& origin) = 0;
  // The overlay neighbours, and whether a connection to `peer` is up now.
  virtual const std::vector<NodeName>& neighbors() = 0;
  virtual bool connected(const NodeName& peer) const = 0;
  // A message on a reserved topic ("lashup/..."): the node's own protocols
  // (the KV store's deltas) take it instead of subscribers, once.
  virtual void deliver_internal(Time now, const wire::McData& m, Actions& out) {
    (void)now, (void)m, (void)out;
  }
};

inline constexpr std::string_view kReservedTopicPrefix = "lashup/";

struct MulticastStats {
  uint64_t published = 0;
  uint64_t delivered = 0;              // to local subscribers
  uint64_t received = 0;               // data messages, first copies
  uint64_t duplicates_received = 0;    // second copies (not delivered, not forwarded)
  uint64_t stale_received = 0;         // from an older incarnation of the origin
  uint64_t forwarded = 0;              // data messages sent down a tree
  uint64_t no_subscriber = 0;          // first copies on a topic nobody here subscribes to
  uint64_t hops_exhausted = 0;         // received with no hops left: delivered, not forwarded
  uint64_t announcements_sent = 0;     // McAnnounce messages
  uint64_t pulls_sent = 0;             // McPull messages
  uint64_t repairs_sent = 0;           // data messages sent in answer to pulls
  uint64_t repaired = 0;               // first copies that came through a pull
  uint64_t pull_misses = 0;            // requested messages we no longer hold
  uint64_t lost = 0;                   // given up: no neighbour had it within history
  uint64_t history_evicted_early = 0;  // dropped from history by the byte bound before `history`
  uint64_t missing_overflow = 0;       // missing messages not tracked (missing_max reached)
  uint64_t late_tree_copies = 0;       // tree copies of messages already repaired (repair came too early)
  uint64_t skipped_unannounced = 0;    // holes nobody ever announced, skipped after history
};

class Multicast {
 public:
  Multicast(MulticastConfig config, NodeName self, Incarnation incarnation, Random& random,
            MulticastTopology& topology);

  void start(Time now);

  // Sends `payload` to every node; delivered here too when subscribed.
  // Returns the message's sequence.
  Result<uint64_t> publish(Time now, std::string_view topic, wire::ByteView payload, Actions& out);
  // Idempotent; a subscribed topic is delivered as McDelivered events.
  Status subscribe(std::string_view topic);
  bool unsubscribe(std::string_view topic);
  bool subscribed(std::string_view topic) const { return topics_.count(std::string(topic)) > 0; }

  // A multicast message from `from`; false if it is malformed.
  bool handle(Time now, const NodeName& from, wire::MessageType type, wire::Reader& body, Actions& out);
  void on_neighbor_up(Time now, const NodeName& peer, Actions& out);
  void tick(Time now, Actions& out);
  std::optional<Time> next_deadline() const;

  const MulticastStats& stats() const { return stats_; }
  size_t history_bytes() const { return history_bytes_; }
  size_t missing_count() const { return missing_count_; }

 private:
  struct Missing {
    Time due{0};
    Time first_noticed{0};
    uint32_t attempts = 0;
    std::vector<NodeName> holders;  // at most kHoldersMax
  };
  struct Origin {
    Incarnation incarnation = 0;
    uint64_t next = 1;                      // every sequence below was received (or given up)
    SeqSet above;                           // received sequences > next
    uint64_t highest = 0;                   // highest sequence received
    std::optional<Time> hole_since;         // since when `next` is missing while later ones arrived
    std::map<uint64_t, wire::McData> kept;  // history, by sequence
    std::map<uint64_t, Missing> missing;
    std::map<uint64_t, Time> repaired_noticed;  // repaired sequence -> when we learned it was missing
    Time last_active{0};
  };
  struct HistoryEntry {
    Time at;
    NodeName origin;
    Incarnation incarnation;
    uint64_t sequence;
    size_t bytes;
  };

  // The origin's state for `incarnation`, created (or reset for a newer
  // incarnation); null for ourselves, an older incarnation, or when the
  // origin table is full. `first`: the sequence that made contact.
  Origin* origin_for(Time now, const NodeName& name, Incarnation incarnation, uint64_t first, bool is_data);
  bool received(const Origin& o, uint64_t sequence) const { return sequence < o.next || o.above.contains(sequence); }
  void mark_received(Origin& o, uint64_t sequence);
  // Moves the floor to `to`, giving up what is missing below it (counted
  // as lost when `count_lost`).
  void advance_floor(Origin& o, uint64_t to, bool count_lost);
  void note_missing(Time now, Origin& o, uint64_t sequence, const NodeName& holder, Time due);
  void accept(Time now, const NodeName& from, wire::McData m, Actions& out);
  void deliver(Time now, const wire::McData& m, Actions& out);
  // repair_delay, raised to twice how late tree copies have been arriving
  // after we learned of their message (under load, queues delay the tree,
  // and pulling early only adds load).
  Duration repair_delay() const;
  void sample_lateness(Duration late);
  void send_down_tree(Time now, const wire::McData& m, const NodeName& from, Actions& out);
  void keep(Time now, Origin& o, const wire::McData& m);
  void queue_announcement(Time now, const NodeName& to, const wire::McData& m);
  void on_announce(Time now, const NodeName& from, const wire::McAnnounce& m);
  void on_pull(Time now, const NodeName& from, const wire::McPull& m, Actions& out);
  void flush_announcements(Time now, Actions& out);
  void send_pulls(Time now, Actions& out);
  void send_summary(Time now, const NodeName& to, Actions& out);
  void expire(Time now);
  void erase_missing(Origin& o, std::map<uint64_t, Missing>::iterator it);

  MulticastConfig config_;
  NodeName self_;
  Incarnation incarnation_;
  Random& random_;
  MulticastTopology& topology_;
  MulticastStats stats_;
  std::optional<Time> joined_at_;  // the first neighbour came up
  bool horizon_open_ = true;       // no summary received yet (see on_announce)
  Duration tree_lateness_{0};      // EWMA

  uint64_t next_sequence_ = 1;
  std::unordered_set<std::string> topics_;
  std::unordered_map<NodeName, Origin> origins_;
  std::deque<HistoryEntry> history_;
  size_t history_bytes_ = 0;
  size_t missing_count_ = 0;
  std::optional<Time> next_pull_at_;
  // Announcements waiting for the next flush, per neighbour.
  std::unordered_map<NodeName, std::vector<wire::McRange>> announce_;
  std::optional<Time> announce_at_;
  Time next_summary_at_{0};
  Time next_expire_at_{0};
};

}  // namespace lashup
