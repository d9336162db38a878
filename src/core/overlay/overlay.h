// HyParView (Leitão, Pereira, Rodrigues, DSN 2007): a small symmetric active
// view of neighbours with live connections, and a larger passive view of
// replacements, maintained by JOIN/FORWARD_JOIN random walks, NEIGHBOR
// requests and SHUFFLE exchanges.
//
// Where we differ from the original (reference §1.2, §7):
//  - a random walk ends in a NEIGHBOR handshake, so active views are
//    symmetric (the original added the joiner one-way);
//  - SHUFFLE sends samples of k_a active and k_p passive nodes, and the
//    receiver evicts the nodes it sent back first (the paper's rule);
//  - joins over the rate limit are denied with hints of other nodes to try;
//  - the passive view is persisted and used again at restart;
//  - invariant violations are counted and reported, never crashed on.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/common/actions.h"
#include "core/common/random.h"
#include "core/node/connections.h"
#include "core/wire/codec.h"
#include "core/wire/message.h"
#include "core/wire/overlay_messages.h"
#include "core/wire/peer.h"

namespace lashup {

// Longest mean period of shuffles while the passive view is less than half
// full (the original shuffled every 5 s then, and every 60 s after).
inline constexpr Duration kFillingShuffleInterval = 2500ms;

struct OverlayConfig {
  RoundGrid grid;  // shuffles start on it
  size_t active_view_size = 7;
  size_t passive_view_size = 42;
  uint32_t active_random_walk_length = 6;
  uint32_t passive_random_walk_length = 3;
  // Mean period of shuffles once the passive view is at least half full;
  // below that, every kFillingShuffleInterval at most. Most shuffles open a
  // TLS connection for the reply (its origin is rarely a neighbour), the
  // costliest thing an idle node does, and members known from membership
  // refill a short passive view anyway (NodeCore::refill_passive).
  Duration shuffle_interval = 30s;
  size_t shuffle_active_sample = 3;
  size_t shuffle_passive_sample = 4;
  Duration join_retry = 500ms;
  Duration neighbor_retry = 250ms;
  Duration neighbor_reply_timeout = 2s;
  uint32_t joins_per_second_max = 50;
};

enum class NeighborDownReason {
  disconnected,      // the neighbour sent DISCONNECT (it keeps us as a passive node)
  evicted,           // we made room for another neighbour
  failed,            // the failure detector (or a closed connection) says it is dead
  link_broken,       // it is alive but we cannot reach it directly
  connection_closed  // the connection closed
};

const char* to_string(NeighborDownReason reason);

// How the overlay tells its node about active-view changes.
class OverlayListener {
 public:
  virtual ~OverlayListener() = default;
  virtual void on_neighbor_up(Time now, const wire::PeerRef& peer, Actions& out) = 0;
  virtual void on_neighbor_down(Time now, const NodeName& peer, NeighborDownReason reason, Actions& out) = 0;
  // Whether `peer` should not be asked to become a neighbour now (it is in
  // a link report: alive, but not reachable from us directly).
  virtual bool avoid_as_neighbor(const NodeName& peer) const = 0;
  // A NEIGHBOR request got no answer: its connection failed or timed out.
  virtual void on_neighbor_request_failed(Time now, const wire::PeerRef& peer, Actions& out) = 0;
};

struct OverlayStats {
  uint64_t joins_accepted = 0;
  uint64_t joins_denied = 0;
  uint64_t neighbor_requests_sent = 0;
  uint64_t neighbor_requests_refused = 0;
  uint64_t shuffles_sent = 0;
  uint64_t walks_dropped = 0;
  uint64_t invariant_violations = 0;
};

class Overlay {
 public:
  Overlay(OverlayConfig config, wire::PeerRef self, std::vector<wire::PeerRef> contacts, Random& random,
          Connections& connections, OverlayListener& listener);

  // Starts joining. `remembered` are passive nodes persisted by an earlier
  // run: asked for NEIGHBOR at once, in parallel with the contact nodes.
  void start(Time now, const std::vector<wire::PeerRef>& remembered, Actions& out);

  // Handles an overlay message; false if it was malformed.
  bool handle(Time now, const NodeName& from, wire::MessageType type, wire::Reader& body, Actions& out);
  void tick(Time now, Actions& out);
  void on_connection_down(Time now, const NodeName& peer, Actions& out);

  // Removes an active neighbour on the failure detector's word.
  void remove_neighbor(Time now, const NodeName& peer, NeighborDownReason reason, Actions& out);
  // Asks `peer` to become a neighbour (departition probing uses high priority).
  void request_neighbor(Time now, const wire::PeerRef& peer, bool high_priority, Actions& out);
  // A contact node whose name the host learned after start (configured by
  // address only). A node still without neighbours joins through it.
  void add_contact(Time now, const wire::PeerRef& contact, Actions& out);
  // Adds nodes learned elsewhere (membership) as replacement candidates.
  void learn_passive(const wire::PeerRef& peer);
  void forget(const NodeName& peer);

  bool is_active(const NodeName& peer) const;
  std::vector<NodeName> active_names() const;
  const std::vector<wire::PeerRef>& active_view() const { return active_; }
  const std::vector<wire::PeerRef>& passive_view() const { return passive_; }
  bool joined() const { return joined_; }
  const OverlayStats& stats() const { return stats_; }

  // Views disjoint, bounded, without self or duplicates. Empty if they hold.
  std::string check_invariants() const;

  // Persisted form of the passive view (and its decoder).
  static Bytes encode_passive(const std::vector<wire::PeerRef>& passive);
  static std::vector<wire::PeerRef> decode_passive(const Bytes& bytes);

 private:
  struct PendingNeighbor {
    wire::PeerRef peer;
    Time deadline;
    bool high_priority = false;
  };

  void on_join(Time now, const NodeName& from, wire::Join m, Actions& out);
  void on_join_reply(Time now, const NodeName& from, wire::JoinReply m, Actions& out);
  void on_forward_join(Time now, const NodeName& from, wire::ForwardJoin m, Actions& out);
  void on_neighbor(Time now, const NodeName& from, wire::Neighbor m, Actions& out);
  void on_neighbor_reply(Time now, const NodeName& from, wire::NeighborReply m, Actions& out);
  void on_disconnect(Time now, const NodeName& from, Actions& out);
  void on_shuffle(Time now, const NodeName& from, wire::Shuffle m, Actions& out);
  void on_shuffle_reply(Time now, wire::ShuffleReply m, Actions& out);

  void try_join(Time now, Actions& out);
  void fill_active_view(Time now, Actions& out);
  void send_shuffle(Time now, Actions& out);
  Duration shuffle_period() const;

  // Adds to the active view, evicting a random neighbour when full.
  void add_active(Time now, const wire::PeerRef& peer, Actions& out);
  void drop_random_active(Time now, Actions& out);
  // Adds to the passive view, evicting a random entry when full (never one
  // of `keep` if it can be avoided).
  // True if `peer` is new to the passive view.
  bool add_passive(const wire::PeerRef& peer, const std::vector<NodeName>* prefer_evict = nullptr);
  void remove_passive(const NodeName& peer);
  std::optional<wire::PeerRef> address_of(const NodeName& name) const;

  std::vector<wire::PeerRef> sample(const std::vector<wire::PeerRef>& from, size_t n,
                                    const NodeName& exclude = {}) const;
  void send_to(Time now, const wire::PeerRef& peer, Bytes message, Actions& out);
  void send_to_active(Time now, const NodeName& peer, Bytes message, Actions& out);
  bool accept_join(Time now);

  OverlayConfig config_;
  wire::PeerRef self_;
  std::vector<wire::PeerRef> contacts_;
  Random& random_;
  Connections& connections_;
  OverlayListener& listener_;
  OverlayStats stats_;

  std::vector<wire::PeerRef> active_;
  std::vector<wire::PeerRef> passive_;
  std::unordered_map<NodeName, PendingNeighbor> pending_neighbors_;
  std::deque<Time> recent_joins_;  // accepted in the last second; bounded by joins_per_second_max

  bool joined_ = false;
  Time next_join_at_{0};
  Time next_fill_at_{0};
  Time next_shuffle_at_{0};
  // Nodes sent in our last shuffle: evicted first when the reply arrives.
  std::vector<NodeName> last_shuffle_sample_;
  bool last_shuffle_taught_ = true;  // the last shuffle reply held a node new to the passive view
};

}  // namespace lashup
