// One lashup node's control plane as a single sans-IO core: the overlay
// (HyParView), membership and routing, and the failure detector, wired
// together. Hosts (the runtime, the simulator) drive it through
// ProtocolCore and read it through the query methods.
#pragma once

#include <deque>
#include <map>
#include <optional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/common/protocol_core.h"
#include "core/config/config.h"
#include "core/detector/detector.h"
#include "core/kv/kv_store.h"
#include "core/kv/kv_sync.h"
#include "core/membership/membership.h"
#include "core/multicast/multicast.h"
#include "core/node/connections.h"
#include "core/overlay/overlay.h"

namespace lashup {

struct NodeConfig {
  wire::PeerRef self;
  std::vector<wire::PeerRef> contacts;
  OverlayConfig overlay;
  MembershipConfig membership;
  DetectorConfig detector;
  MulticastConfig multicast;
  kv::KvConfig kv;
  kv::KvSyncConfig kv_sync;
  Duration kv_coalesce = 10ms;  // subscription events, per key
  // Local writes made within this window after a delta was published are
  // joined per key and published together (kv.delta_batch_ms; 0: each write
  // publishes its own delta).
  Duration kv_delta_batch = 2ms;
  // Tombstones (docs/KV.md): how long a key stays deleted before this node
  // reports it, and how often it reports (kv.tombstone_grace_ms,
  // kv.tombstone_report_ms).
  Duration kv_tombstone_grace = 60s;
  Duration kv_tombstone_report = 10s;
  Duration departition_probe_interval = 2s;
  Duration idle_connection_timeout = 10s;
  // The highest peer protocol version this node speaks (protocol.version).
  uint32_t protocol_version = wire::kProtocolVersion;

  // Reads every tunable from a validated configuration. `self` and
  // `contacts` are filled by the host (it resolves names and addresses).
  static NodeConfig from(const config::Config& config);
};

// Keys of the node's persisted state (PersistAction / restart input).
inline constexpr const char* kPersistIncarnation = "node/incarnation";
inline constexpr const char* kPersistPassiveView = "overlay/passive";
inline constexpr const char* kPersistKnownMembers = "membership/known";
// Followed by the key: the key's whole state (core/kv).
inline constexpr std::string_view kPersistKvPrefix = "kv/";
// Followed by 16 hex digits (a sequence number), '/' and the key: a delta of
// the key since its last whole record. A change of a large value writes its
// delta, not the value; once a key's deltas add up to its value's size the
// whole value is written again and its deltas removed (docs/KV.md,
// Persistence).
inline constexpr std::string_view kPersistKvDeltaPrefix = "kvd/";
// Values smaller than this are always written whole.
inline constexpr size_t kKvDeltaRecordMinBytes = 1024;

struct NodeStats {
  uint64_t malformed_messages = 0;
  uint64_t neighbors_failed = 0;
  uint64_t neighbors_link_broken = 0;
  uint64_t connection_closes_detected = 0;
  uint64_t departition_probes = 0;
  uint64_t kv_deltas_malformed = 0;  // undecodable KV deltas (from their origin, through any relay)
  uint64_t kv_deltas_refused = 0;    // decodable, but refused by the store (namespaces)
  uint64_t kv_deltas_unsent = 0;     // local writes whose delta could not be published
  uint64_t kv_tombstone_reports_malformed = 0;
};

class NodeCore final : public ProtocolCore, OverlayListener, MembershipListener, DetectorListener, MulticastTopology {
 public:
  using PersistedState = std::map<std::string, Bytes>;

  // `incarnation` must be above every incarnation this node used before (see
  // next_incarnation); the core persists it at start.
  NodeCore(NodeConfig config, Incarnation incarnation, const PersistedState& persisted, uint64_t seed);

  Actions on_start(Time now) override;
  Actions on_message(Time now, const NodeName& from, std::span<const uint8_t> message) override;
  Actions on_tick(Time now) override;
  Actions on_connection(Time now, const NodeName& peer, bool up) override;
  uint32_t protocol_version_max() const override { return config_.protocol_version; }
  void on_connection_version(const NodeName& peer, uint32_t version) override;

  // Commands.
  Actions set_metadata(Time now, Bytes metadata, Status& result);
  Actions leave(Time now);
  // A contact node configured by address only, once a connection told its
  // name: joined through, and probed like the named contacts.
  Actions add_contact(Time now, const wire::PeerRef& contact);
  // Emits HealthCheckResult with request_id; an unknown member fails at once.
  Actions health_check(Time now, const NodeName& name, uint64_t request_id);
  // Multicast (see core/multicast/multicast.h). Topics starting with
  // "lashup/" are reserved for the node's own protocols.
  Actions mc_publish(Time now, std::string_view topic, wire::ByteView payload, Result<uint64_t>& result);
  Status mc_subscribe(std::string_view topic);
  bool mc_unsubscribe(std::string_view topic);
  // The replicated KV store (see core/kv/kv_store.h): a write applies here
  // and its delta goes to every node over multicast.
  Actions kv_update(Time now, std::string_view key, std::span<const crdt::FieldOp> ops,
                    const crdt::CausalContext* expected, Result<kv::KvStore::Written>& result);
  Actions kv_remove(Time now, std::string_view key, Result<kv::KvStore::Written>& result);
  // Subscribes `id` (chosen by the caller, unique) to the keys starting
  // with `pattern`, or matching it as a glob (kv/kv_store.h glob_match):
  // emits a KvChanged (initial) per live key, then KvDumpDone; later one
  // KvChanged per real change of a covered key, coalesced per key.
  Actions kv_subscribe(Time now, uint64_t id, std::string pattern, bool glob, Status& result);
  bool kv_unsubscribe(uint64_t id);
  const kv::KvStore& kv() const { return kv_; }
  const kv::KvSync& kv_sync() const { return kv_sync_; }
  // Whether the persisted state given at construction was readable; a node
  // must not start on a damaged data dir (it would lose data silently).
  const Status& restore_status() const { return restore_status_; }

  const NodeName& name() const { return config_.self.name; }
  Incarnation incarnation() const { return incarnation_; }
  const Overlay& overlay() const { return overlay_; }
  Membership& membership() { return membership_; }
  const Membership& membership() const { return membership_; }
  const Detector& detector() const { return detector_; }
  const Multicast& multicast() const { return multicast_; }
  const Connections& connections() const { return connections_; }
  const NodeStats& stats() const { return stats_; }

 private:
  // OverlayListener
  void on_neighbor_up(Time now, const wire::PeerRef& peer, Actions& out) override;
  void on_neighbor_down(Time now, const NodeName& peer, NeighborDownReason reason, Actions& out) override;
  bool avoid_as_neighbor(const NodeName& peer) const override;
  void on_neighbor_request_failed(Time now, const wire::PeerRef& peer, Actions& out) override;
  // MembershipListener
  void on_dropped_by_other(Time now, const NodeName& owner, const NodeName& dropped, Actions& out) override;
  // DetectorListener
  void on_neighbor_failed(Time now, const NodeName& peer, Actions& out) override;
  void on_link_broken(Time now, const NodeName& peer, Actions& out) override;
  void on_link_reports_changed(Time now, std::vector<NodeName> sorted_targets, Actions& out) override;
  // MulticastTopology
  const std::vector<NodeName>& tree_children(const NodeName& origin) override;
  const std::vector<NodeName>& neighbors() override { return neighbor_names_; }
  bool connected(const NodeName& peer) const override { return connections_.is_up(peer); }
  void deliver_internal(Time now, const wire::McData& m, Actions& out) override;
  Actions replicate(Time now, std::string_view key, const crdt::Map& delta);
  // `delta`: what changed, if known (a local write or a peer's delta); a
  // state from anti-entropy is written whole.
  void persist_key(std::string_view key, const crdt::Map* delta, Actions& out);
  // Removes a key's records (whole and deltas).
  void unpersist_key(std::string_view key, Actions& out);
  // A key's state changed here (any source): persist it; if what readers see
  // changed, tell the subscriptions that cover it (coalesced).
  void key_changed(Time now, std::string_view key, bool value_changed, Actions& out,
                   const crdt::Map* delta = nullptr);
  void flush_kv_changes(Time now, Actions& out);
  // Publishes the joined deltas waiting in kv_outbox_ (as many batch
  // messages as multicast's payload limit needs).
  void flush_kv_outbox(Time now, Actions& out);
  void publish_kv_payload(Time now, Bytes payload, size_t keys, Actions& out);
  // Reports the tombstones held past the grace period and collects those
  // every other member reported with the same digest.
  void tombstone_round(Time now, Actions& out);
  KvChanged kv_event(uint64_t subscription, const std::string& key, bool initial) const;

  void departition_probe(Time now, Actions& out);
  void refill_passive(Time now);
  void persist_views(Time now, Actions& out);
  void malformed(Time now, const NodeName& from, Actions& out);
  void connection_lost(Time now, const NodeName& peer, Actions& out);

  NodeConfig config_;
  RoundGrid grid_;  // of the lazy periodic work
  Incarnation incarnation_;
  Random random_;
  Connections connections_;
  // Lazy periodic work starts on the detector's heartbeat rounds (RoundGrid).
  static NodeConfig on_round_grid(NodeConfig config);
  // Told by the host for the next on_connection(up) of each peer.
  std::unordered_map<NodeName, uint32_t> connection_versions_;
  Overlay overlay_;
  Membership membership_;
  Detector detector_;
  Multicast multicast_;
  kv::KvStore kv_;
  kv::KvSync kv_sync_;
  struct KvSubscription {
    std::string pattern;
    bool glob = false;
    bool covers(std::string_view key) const;
  };
  std::map<uint64_t, KvSubscription> kv_subscriptions_;
  // Changed keys waiting for the end of their coalescing window.
  std::map<std::string, Time> kv_pending_;
  std::optional<Time> kv_flush_at_;
  Duration kv_coalesce_{10'000};
  // Deltas of local writes waiting for the end of the batching window, per
  // key (each the join of that key's writes), and the window's end.
  std::map<std::string, crdt::Map, std::less<>> kv_outbox_;
  std::optional<Time> kv_outbox_at_;
  Time kv_published_at_{-1'000'000'000};  // the last delta publication
  // Tombstones held here, and since when (their last change).
  std::map<std::string, Time, std::less<>> kv_tombstones_;
  // What each member reported lately: key hash -> (key digest, when heard).
  // Kept for a few rounds, so a member that collected a key (and no longer
  // reports it) still counts for the others for a while.
  std::map<NodeName, std::map<uint64_t, std::pair<uint64_t, Time>>> kv_tombstone_reports_;
  // Collected keys, oldest first: forgotten by the store after a while.
  std::deque<std::pair<Time, std::string>> kv_collected_;
  Time next_tombstone_round_{0};
  // The delta records of each key written since its whole record.
  struct KvDeltaRecords {
    size_t bytes = 0;
    std::vector<uint64_t> sequences;
  };
  std::map<std::string, KvDeltaRecords, std::less<>> kv_delta_records_;
  uint64_t kv_next_delta_record_ = 1;
  Status restore_status_;
  NodeStats stats_;
  std::vector<NodeName> neighbor_names_;  // the active view, for multicast

  std::vector<wire::PeerRef> remembered_;
  Time next_departition_at_{0};
  Time next_persist_at_{0};
  Time next_refill_at_{0};
  Bytes persisted_passive_;
  Bytes persisted_known_;
};

}  // namespace lashup
