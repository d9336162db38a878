#include "core/node/node_core.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <set>

#include "core/kv/kv_messages.h"
#include "core/wire/ping_messages.h"

namespace lashup {

namespace {

// Keys a batching window may hold before its deltas are published early.
constexpr size_t kKvOutboxKeysMax = 4096;

// The departition sweep: probe every unreachable member about once a
// minute, but never more than one probe per base_interval / 10 (and at
// least one per base interval). The original computed the inverse, so more
// unreachable nodes meant slower probing (reference §1.5, §7 item 8).
constexpr Duration kDepartitionSweep = 60s;

Duration departition_interval(Duration base, size_t unreachable) {
  if (unreachable == 0) return base;
  const Duration sweep = kDepartitionSweep / static_cast<int64_t>(unreachable);
  return std::clamp(sweep, base / 10, base);
}

}  // namespace

NodeConfig NodeConfig::from(const config::Config& c) {
  auto ms = [&](const char* key) { return from_ms(*c.get_int(key)); };
  auto count = [&](const char* key) { return static_cast<size_t>(*c.get_int(key)); };
  NodeConfig n;
  n.overlay.active_view_size = count("overlay.active_view_size");
  n.overlay.passive_view_size = count("overlay.passive_view_size");
  n.overlay.active_random_walk_length = static_cast<uint32_t>(*c.get_int("overlay.active_random_walk_length"));
  n.overlay.passive_random_walk_length = static_cast<uint32_t>(*c.get_int("overlay.passive_random_walk_length"));
  n.overlay.shuffle_interval = ms("overlay.shuffle_interval_ms");
  n.overlay.shuffle_active_sample = count("overlay.shuffle_active_sample");
  n.overlay.shuffle_passive_sample = count("overlay.shuffle_passive_sample");
  n.overlay.join_retry = ms("overlay.join_retry_ms");
  n.overlay.neighbor_retry = ms("overlay.neighbor_retry_ms");
  n.overlay.joins_per_second_max = static_cast<uint32_t>(*c.get_int("overlay.joins_per_second_max"));
  n.departition_probe_interval = ms("overlay.departition_probe_ms");
  n.detector.probe_interval = ms("detector.probe_interval_ms");
  n.detector.heartbeat_interval = ms("detector.heartbeat_interval_ms");
  n.protocol_version = static_cast<uint32_t>(*c.get_int("protocol.version"));
  n.detector.probe_timeout_min = ms("detector.probe_timeout_min_ms");
  n.detector.probe_timeout_max = ms("detector.probe_timeout_max_ms");
  n.detector.heartbeat_timeout_min = ms("detector.heartbeat_timeout_min_ms");
  n.detector.rtt_history = count("detector.rtt_history");
  n.detector.indirect_probes = count("detector.indirect_probes");
  n.detector.suspicion_timeout = ms("detector.indirect_probe_timeout_ms");
  n.membership.refresh_interval = ms("membership.refresh_interval_ms");
  n.membership.expire_after = ms("membership.expire_after_ms");
  n.membership.metadata_bytes_max = count("membership.metadata_bytes_max");
  n.membership.event_coalesce = ms("membership.event_coalesce_ms");
  n.membership.isolation_grace = ms("membership.isolation_grace_ms");
  n.multicast.max_payload_bytes = count("multicast.payload_bytes_max");
  n.multicast.hops = static_cast<uint32_t>(*c.get_int("multicast.hops"));
  n.multicast.announce_interval = ms("multicast.repair_interval_ms");
  n.multicast.repair_delay = ms("multicast.repair_delay_ms");
  n.multicast.pull_timeout = ms("multicast.pull_timeout_ms");
  n.multicast.history = ms("multicast.history_ms");
  n.multicast.history_bytes_max = count("multicast.history_bytes_max");
  n.multicast.origins_max = count("multicast.origins_max");
  n.kv.value_bytes_max = count("kv.value_bytes_max");
  n.kv_sync.interval = ms("kv.anti_entropy_interval_ms");
  n.kv_coalesce = ms("kv.subscription_coalesce_ms");
  n.kv_delta_batch = ms("kv.delta_batch_ms");
  n.kv_tombstone_grace = ms("kv.tombstone_grace_ms");
  n.kv_tombstone_report = ms("kv.tombstone_report_ms");
  return n;
}

NodeConfig NodeCore::on_round_grid(NodeConfig config) {
  const RoundGrid grid{config.detector.heartbeat_interval, config.detector.round_offset};
  config.overlay.grid = grid;
  config.membership.grid = grid;
  config.multicast.grid = grid;
  config.kv_sync.grid = grid;
  return config;
}

NodeCore::NodeCore(NodeConfig config, Incarnation incarnation, const PersistedState& persisted, uint64_t seed)
    : config_(on_round_grid(std::move(config))),
      grid_(config_.kv_sync.grid),
      incarnation_(incarnation),
      random_(seed),
      connections_(config_.idle_connection_timeout),
      overlay_(config_.overlay, config_.self, config_.contacts, random_, connections_, *this),
      membership_(config_.membership, config_.self, incarnation, random_, connections_, *this),
      detector_(config_.detector, random_, connections_, *this),
      multicast_(config_.multicast, config_.self.name, incarnation, random_, *this),
      kv_(config_.kv, ReplicaId{config_.self.name, incarnation}),
      kv_sync_(config_.kv_sync, kv_, random_,
               [this](Time now, const std::string& key, const crdt::JoinOutcome& outcome, Actions& out) {
                 key_changed(now, key, outcome.value_changed, out);
               }),
      kv_coalesce_(config_.kv_coalesce) {
  for (auto it = persisted.lower_bound(std::string(kPersistKvPrefix));
       it != persisted.end() && std::string_view(it->first).starts_with(kPersistKvPrefix); ++it) {
    const std::string_view key = std::string_view(it->first).substr(kPersistKvPrefix.size());
    if (Status s = kv_.load(key, it->second); !s && restore_status_) {
      restore_status_ = Status::storage("the data dir holds a damaged KV record: " + s.message());
    }
  }
  // Then the deltas written since each key's whole record.
  for (auto it = persisted.lower_bound(std::string(kPersistKvDeltaPrefix));
       it != persisted.end() && std::string_view(it->first).starts_with(kPersistKvDeltaPrefix); ++it) {
    const std::string_view name = std::string_view(it->first).substr(kPersistKvDeltaPrefix.size());
    uint64_t sequence = 0;
    const auto parsed = name.size() > 17 && name[16] == '/'
                            ? std::from_chars(name.data(), name.data() + 16, sequence, 16)
                            : std::from_chars_result{name.data(), std::errc::invalid_argument};
    Status s = parsed.ec == std::errc() && parsed.ptr == name.data() + 16
                   ? Status::ok()
                   : Status::invalid("bad delta record name \"" + it->first + "\"");
    const std::string_view key = name.size() > 17 ? name.substr(17) : std::string_view();
    if (s) {
      auto delta = crdt::Map::decode(it->second, config_.kv.limits);
      s = delta ? Status(kv_.apply(key, *delta).status()) : delta.status();
    }
    if (!s) {
      if (restore_status_) {
        restore_status_ = Status::storage("the data dir holds a damaged KV delta record: " + s.message());
      }
      continue;
    }
    auto& records = kv_delta_records_[std::string(key)];
    records.bytes += it->second.size();
    records.sequences.push_back(sequence);
    kv_next_delta_record_ = std::max(kv_next_delta_record_, sequence + 1);
  }
  if (auto it = persisted.find(kPersistPassiveView); it != persisted.end()) {
    remembered_ = Overlay::decode_passive(it->second);
  }
  if (auto it = persisted.find(kPersistKnownMembers); it != persisted.end()) {
    for (auto& peer : Membership::decode_known_members(it->second)) {
      const bool known = std::any_of(remembered_.begin(), remembered_.end(),
                                     [&](const wire::PeerRef& p) { return p.name == peer.name; });
      if (!known && remembered_.size() < config_.overlay.passive_view_size) remembered_.push_back(std::move(peer));
    }
  }
}

Actions NodeCore::on_start(Time now) {
  Actions out;
  wire::Writer w;
  w.varint(incarnation_);
  out.persist(kPersistIncarnation, w.take());
  membership_.start(now, out);
  multicast_.start(now);
  kv_sync_.start(now);
  for (auto& key : kv_.tombstones()) kv_tombstones_.emplace(std::move(key), now);
  next_tombstone_round_ = grid_.at_or_after(now + random_.jittered(config_.kv_tombstone_report, 0.5));
  out.wake_no_later_than(next_tombstone_round_);
  overlay_.start(now, remembered_, out);
  next_departition_at_ = grid_.at_or_after(now + random_.jittered(config_.departition_probe_interval, 0.5));
  next_persist_at_ = grid_.at_or_after(now + 1s);
  out.wake_no_later_than(next_departition_at_);
  out.wake_no_later_than(next_persist_at_);
  return out;
}

Actions NodeCore::on_message(Time now, const NodeName& from, std::span<const uint8_t> message) {
  Actions out;
  wire::Reader reader(message);
  auto type = wire::read_message_type(reader);
  bool ok = false;
  if (type) {
    using wire::MessageType;
    switch (*type) {
      case MessageType::ping:
      case MessageType::pong:
      case MessageType::probe_request:
      case MessageType::probe_ack:
        ok = detector_.handle(now, from, *type, reader, out);
        break;
      case MessageType::heartbeat:
        // Version 2: not on a connection that speaks version 1.
        ok = connections_.version(from) >= 2 && detector_.handle(now, from, *type, reader, out);
        break;
      case MessageType::join:
      case MessageType::join_reply:
      case MessageType::forward_join:
      case MessageType::neighbor:
      case MessageType::neighbor_reply:
      case MessageType::disconnect:
      case MessageType::shuffle:
      case MessageType::shuffle_reply:
        ok = overlay_.handle(now, from, *type, reader, out);
        break;
      case MessageType::member_records:
      case MessageType::member_digest:
      case MessageType::member_pull:
      case MessageType::member_summary:
        ok = membership_.handle(now, from, *type, reader, out);
        break;
      case MessageType::mc_data:
      case MessageType::mc_announce:
      case MessageType::mc_pull:
        ok = multicast_.handle(now, from, *type, reader, out);
        if (auto at = multicast_.next_deadline()) out.wake_no_later_than(*at);
        break;
      case MessageType::kv_summary:
      case MessageType::kv_groups:
      case MessageType::kv_buckets:
      case MessageType::kv_keys:
      case MessageType::kv_states:
        ok = kv_sync_.handle(now, from, *type, reader, out);
        break;
      case MessageType::handshake:
        break;  // the transport consumes handshakes; one here is a protocol error
    }
  }
  if (!ok) malformed(now, from, out);
  return out;
}

Actions NodeCore::on_tick(Time now) {
  Actions out;
  detector_.tick(now, out);
  overlay_.tick(now, out);
  membership_.tick(now, out);
  multicast_.tick(now, out);
  if (auto at = multicast_.next_deadline()) out.wake_no_later_than(*at);
  kv_sync_.tick(now, neighbor_names_, out);
  if (auto at = kv_sync_.next_deadline()) out.wake_no_later_than(*at);
  flush_kv_changes(now, out);
  if (kv_outbox_at_ && now >= *kv_outbox_at_) flush_kv_outbox(now, out);
  if (kv_outbox_at_) out.wake_no_later_than(*kv_outbox_at_);
  if (now >= next_tombstone_round_) tombstone_round(now, out);
  out.wake_no_later_than(next_tombstone_round_);
  if (now >= next_departition_at_) departition_probe(now, out);
  if (now >= next_persist_at_) persist_views(now, out);
  if (now >= next_refill_at_) refill_passive(now);
  connections_.tick(now, out);
  out.wake_no_later_than(next_refill_at_);
  out.wake_no_later_than(next_departition_at_);
  out.wake_no_later_than(next_persist_at_);
  return out;
}

Actions NodeCore::on_connection(Time now, const NodeName& peer, bool up) {
  Actions out;
  if (up) {
    uint32_t version = config_.protocol_version;
    if (auto it = connection_versions_.find(peer); it != connection_versions_.end()) {
      version = std::min(it->second, config_.protocol_version);
      connection_versions_.erase(it);
    }
    connections_.on_up(now, peer, version, out);
  } else {
    connection_lost(now, peer, out);
  }
  return out;
}

void NodeCore::on_connection_version(const NodeName& peer, uint32_t version) {
  // One entry per peer whose connection is coming up: bounded by the host's
  // connections.
  connection_versions_[peer] = version;
}

Actions NodeCore::set_metadata(Time now, Bytes metadata, Status& result) {
  Actions out;
  result = membership_.set_metadata(now, std::move(metadata), out);
  return out;
}

Actions NodeCore::leave(Time now) {
  Actions out;
  membership_.leave(now, out);
  return out;
}

Actions NodeCore::add_contact(Time now, const wire::PeerRef& contact) {
  Actions out;
  const bool known = std::any_of(config_.contacts.begin(), config_.contacts.end(),
                                 [&](const wire::PeerRef& c) { return c.name == contact.name; });
  if (known || contact.name == config_.self.name) return out;
  config_.contacts.push_back(contact);
  overlay_.add_contact(now, contact, out);
  return out;
}

Actions NodeCore::health_check(Time now, const NodeName& name, uint64_t request_id) {
  Actions out;
  if (name == config_.self.name) {  // we answer ourselves
    out.emit(HealthCheckResult{name, true, Duration(0), request_id});
    return out;
  }
  auto address = membership_.address_of(name);
  if (!address) {
    out.emit(HealthCheckResult{name, false, Duration(0), request_id});
    return out;
  }
  detector_.health_check(now, wire::PeerRef{name, *address}, request_id, out);
  return out;
}

void NodeCore::on_neighbor_up(Time now, const wire::PeerRef& peer, Actions& out) {
  detector_.add_neighbor(now, peer, out);
  neighbor_names_ = overlay_.active_names();
  membership_.set_active_view(now, neighbor_names_, false, out);
  membership_.on_neighbor_up(now, peer.name, out);
  multicast_.on_neighbor_up(now, peer.name, out);
  if (auto at = multicast_.next_deadline()) out.wake_no_later_than(*at);
  out.emit(NeighborChanged{peer.name, true, "added"});
}

void NodeCore::on_neighbor_down(Time now, const NodeName& peer, NeighborDownReason reason, Actions& out) {
  detector_.remove_neighbor(peer);
  // A dead neighbour must leave everyone's routes fast; a neighbour that is
  // alive elsewhere can wait for the next settled flood.
  const bool urgent = reason == NeighborDownReason::failed || reason == NeighborDownReason::connection_closed;
  neighbor_names_ = overlay_.active_names();
  membership_.set_active_view(now, neighbor_names_, urgent, out);
  out.emit(NeighborChanged{peer, false, to_string(reason)});
}

bool NodeCore::avoid_as_neighbor(const NodeName& peer) const { return detector_.has_link_report(peer); }

void NodeCore::on_neighbor_request_failed(Time now, const wire::PeerRef& peer, Actions& out) {
  // We could not open a link to a member that others still reach: that is a
  // link report, not a failure. It covers pairs that were never neighbours,
  // which probing alone would not see.
  if (membership_.reachable(peer.name) && !overlay_.is_active(peer.name)) detector_.add_link_report(now, peer, out);
}

void NodeCore::refill_passive(Time now) {
  next_refill_at_ = grid_.at_or_after(now + 500ms);
  // An active view that is not full needs candidates: members we know of
  // refill a passive view that failures or a small cluster left short.
  const auto& config = config_.overlay;
  if (overlay_.active_view().size() >= config.active_view_size) return;
  size_t candidates = 0;
  for (const auto& p : overlay_.passive_view()) candidates += avoid_as_neighbor(p.name) ? 0 : 1;
  if (candidates >= config.active_view_size - overlay_.active_view().size()) return;
  auto known = membership_.reachable_members();
  random_.shuffle(known);
  size_t learned = 0;
  for (const auto& peer : known) {
    if (learned >= 8) break;
    if (overlay_.is_active(peer.name) || avoid_as_neighbor(peer.name)) continue;
    overlay_.learn_passive(peer);
    ++learned;
  }
}

Actions NodeCore::mc_publish(Time now, std::string_view topic, wire::ByteView payload, Result<uint64_t>& result) {
  Actions out;
  if (topic.starts_with(kReservedTopicPrefix)) {
    result = Status::invalid("multicast topics starting with \"lashup/\" are reserved");
    return out;
  }
  result = multicast_.publish(now, topic, payload, out);
  if (auto at = multicast_.next_deadline()) out.wake_no_later_than(*at);
  return out;
}

Status NodeCore::mc_subscribe(std::string_view topic) { return multicast_.subscribe(topic); }

bool NodeCore::mc_unsubscribe(std::string_view topic) { return multicast_.unsubscribe(topic); }

Actions NodeCore::kv_update(Time now, std::string_view key, std::span<const crdt::FieldOp> ops,
                            const crdt::CausalContext* expected, Result<kv::KvStore::Written>& result) {
  result = kv_.update(key, ops, expected);
  if (!result || result->delta.is_bottom()) return {};
  Actions out = replicate(now, key, result->delta);
  return out;
}

Actions NodeCore::kv_remove(Time now, std::string_view key, Result<kv::KvStore::Written>& result) {
  result = kv_.remove(key);
  if (!result || result->delta.is_bottom()) return {};
  return replicate(now, key, result->delta);
}

bool NodeCore::KvSubscription::covers(std::string_view key) const {
  return glob ? kv::glob_match(pattern, key) : key.starts_with(pattern);
}

void NodeCore::key_changed(Time now, std::string_view key, bool value_changed, Actions& out,
                           const crdt::Map* delta) {
  persist_key(key, delta, out);
  if (const crdt::Map* state = kv_.get_state(key); state != nullptr && state->empty()) {
    kv_tombstones_.insert_or_assign(std::string(key), now);  // its grace starts again
  } else if (auto it = kv_tombstones_.find(key); it != kv_tombstones_.end()) {
    kv_tombstones_.erase(it);
  }
  if (!value_changed || kv_subscriptions_.empty()) return;
  bool covered = false;
  for (const auto& [id, sub] : kv_subscriptions_) covered = covered || sub.covers(key);
  if (!covered) return;
  auto [it, fresh] = kv_pending_.try_emplace(std::string(key), now + kv_coalesce_);
  if (fresh && (!kv_flush_at_ || it->second < *kv_flush_at_)) kv_flush_at_ = it->second;
  if (kv_flush_at_) out.wake_no_later_than(*kv_flush_at_);
}

KvChanged NodeCore::kv_event(uint64_t subscription, const std::string& key, bool initial) const {
  KvChanged e;
  e.subscription = subscription;
  e.key = key;
  e.initial = initial;
  const crdt::Map* state = kv_.get_state(key);
  e.deleted = state == nullptr || state->empty();
  if (state != nullptr) e.state = state->encode();
  return e;
}

void NodeCore::flush_kv_changes(Time now, Actions& out) {
  if (!kv_flush_at_ || now < *kv_flush_at_) return;
  kv_flush_at_.reset();
  for (auto it = kv_pending_.begin(); it != kv_pending_.end();) {
    if (it->second > now) {
      if (!kv_flush_at_ || it->second < *kv_flush_at_) kv_flush_at_ = it->second;
      ++it;
      continue;
    }
    for (const auto& [id, sub] : kv_subscriptions_) {
      if (sub.covers(it->first)) out.emit(kv_event(id, it->first, false));
    }
    it = kv_pending_.erase(it);
  }
  if (kv_flush_at_) out.wake_no_later_than(*kv_flush_at_);
}

Actions NodeCore::kv_subscribe(Time, uint64_t id, std::string pattern, bool glob, Status& result) {
  Actions out;
  if (kv_subscriptions_.count(id) > 0) {
    result = Status::invalid("subscription " + std::to_string(id) + " exists");
    return out;
  }
  if (pattern.size() > kv::kKeyBytesMax) {
    result = Status::too_large("pattern longer than 4096 bytes");
    return out;
  }
  const std::vector<std::string> keys = glob ? kv_.keys_matching(pattern) : kv_.keys_with_prefix(pattern);
  for (const auto& key : keys) out.emit(kv_event(id, key, true));
  out.emit(KvDumpDone{id, keys.size()});
  kv_subscriptions_.emplace(id, KvSubscription{std::move(pattern), glob});
  result = Status::ok();
  return out;
}

bool NodeCore::kv_unsubscribe(uint64_t id) { return kv_subscriptions_.erase(id) > 0; }

namespace {

std::string delta_record_name(uint64_t sequence, std::string_view key) {
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(sequence));
  return std::string(kPersistKvDeltaPrefix) + hex + "/" + std::string(key);
}

}  // namespace

void NodeCore::persist_key(std::string_view key, const crdt::Map* delta, Actions& out) {
  const size_t value_bytes = kv_.encoded_bytes(key);
  if (delta != nullptr && value_bytes >= kKvDeltaRecordMinBytes) {
    Bytes encoded = delta->encode();
    auto it = kv_delta_records_.find(key);
    const size_t pending = it == kv_delta_records_.end() ? 0 : it->second.bytes;
    // Deltas since the whole record stay below the value's size: what is
    // written per change is the delta, and restoring reads at most twice
    // the value.
    if (pending + encoded.size() < value_bytes) {
      if (it == kv_delta_records_.end()) it = kv_delta_records_.emplace(std::string(key), KvDeltaRecords{}).first;
      const uint64_t sequence = kv_next_delta_record_++;
      it->second.bytes += encoded.size();
      it->second.sequences.push_back(sequence);
      out.persist(delta_record_name(sequence, key), std::move(encoded));
      return;
    }
  }
  out.persist(std::string(kPersistKvPrefix) + std::string(key), kv_.take_state(key));
  if (auto it = kv_delta_records_.find(key); it != kv_delta_records_.end()) {
    for (uint64_t sequence : it->second.sequences) out.persist(delta_record_name(sequence, key), {});
    kv_delta_records_.erase(it);
  }
}

void NodeCore::unpersist_key(std::string_view key, Actions& out) {
  out.persist(std::string(kPersistKvPrefix) + std::string(key), {});  // an empty value removes the record
  if (auto it = kv_delta_records_.find(key); it != kv_delta_records_.end()) {
    for (uint64_t sequence : it->second.sequences) out.persist(delta_record_name(sequence, key), {});
    kv_delta_records_.erase(it);
  }
}

Actions NodeCore::replicate(Time now, std::string_view key, const crdt::Map& delta) {
  Actions out;
  // Durable (per the durability mode) before the delta leaves and before
  // the write is acknowledged: persist actions run first.
  key_changed(now, key, true, out, &delta);
  if (kv_outbox_.empty() && now >= kv_published_at_ + config_.kv_delta_batch) {
    // The first write after a quiet window leaves at once; the writes that
    // follow it within the window are joined and leave at its end, so a
    // burst costs the cluster one message per window, not one per write.
    kv_published_at_ = now;
    publish_kv_payload(now, kv::encode(kv::KeyDelta{std::string(key), delta}), 1, out);
    return out;
  }
  auto it = kv_outbox_.find(key);
  if (it == kv_outbox_.end()) {
    kv_outbox_.emplace(std::string(key), delta);
  } else {
    it->second.join(delta);
  }
  if (!kv_outbox_at_) kv_outbox_at_ = std::max(now, kv_published_at_ + config_.kv_delta_batch);
  if (kv_outbox_.size() >= kKvOutboxKeysMax) {
    flush_kv_outbox(now, out);
  } else {
    out.wake_no_later_than(*kv_outbox_at_);
  }
  return out;
}

void NodeCore::publish_kv_payload(Time now, Bytes payload, size_t keys, Actions& out) {
  // Too large for one multicast message: anti-entropy carries it.
  if (!multicast_.publish(now, kv::kDeltaTopic, std::move(payload), out)) stats_.kv_deltas_unsent += keys;
  if (auto at = multicast_.next_deadline()) out.wake_no_later_than(*at);
}

void NodeCore::flush_kv_outbox(Time now, Actions& out) {
  kv_outbox_at_.reset();
  if (kv_outbox_.empty()) return;
  kv_published_at_ = now;
  // Batches up to the multicast payload limit, each key's entry encoded
  // once. One that alone exceeds the limit is left to anti-entropy (counted
  // unsent).
  constexpr size_t kHeaderBytes = 16;  // version and count
  const size_t limit = config_.multicast.max_payload_bytes;
  wire::Writer entries;
  size_t count = 0;
  auto flush = [&] {
    if (count == 0) return;
    publish_kv_payload(now, kv::encode_batch_entries(count, entries.view()), count, out);
    entries = wire::Writer();
    count = 0;
  };
  for (const auto& [key, delta] : kv_outbox_) {
    const Bytes entry = kv::encode_batch_entry(key, delta);
    if (entry.size() + kHeaderBytes > limit) {
      ++stats_.kv_deltas_unsent;
      continue;
    }
    if (entries.size() + entry.size() + kHeaderBytes > limit) flush();
    entries.raw(entry);
    ++count;
  }
  flush();
  kv_outbox_.clear();
}

void NodeCore::tombstone_round(Time now, Actions& out) {
  next_tombstone_round_ = grid_.at_or_after(now + random_.jittered(config_.kv_tombstone_report, 0.2));
  // Forget the members that left the table, and the collected keys whose
  // copies have had time to be collected everywhere.
  std::set<NodeName> others;
  for (const auto& member : membership_.members(now)) {
    if (member.name != config_.self.name && member.state != Reachability::left) others.insert(member.name);
  }
  std::erase_if(kv_tombstone_reports_, [&](const auto& entry) { return others.count(entry.first) == 0; });
  for (auto& [member, held] : kv_tombstone_reports_) {
    std::erase_if(held, [&](const auto& entry) { return entry.second.second + 3 * config_.kv_tombstone_report <= now; });
  }
  while (!kv_collected_.empty() && kv_collected_.front().first + 3 * config_.kv_tombstone_grace +
                                           3 * config_.kv_tombstone_report <= now) {
    kv_.forget_collected(kv_collected_.front().second);
    kv_collected_.pop_front();
  }
  // The tombstones past their grace, by key hash: every node reports the
  // smallest hashes first, so the members' reports cover the same keys.
  std::vector<std::pair<uint64_t, const std::string*>> ripe;
  for (const auto& [key, since] : kv_tombstones_) {
    if (since + config_.kv_tombstone_grace <= now) ripe.emplace_back(kv::key_hash(key), &key);
  }
  if (ripe.empty()) return;
  std::sort(ripe.begin(), ripe.end());
  if (ripe.size() > kv::kTombstoneReportMax) ripe.resize(kv::kTombstoneReportMax);
  // Collect what every other member reported holding identically. A member
  // that is unreachable cannot report, so nothing is collected while one is.
  auto held_everywhere = [&](uint64_t hash, uint64_t digest) {
    return std::all_of(others.begin(), others.end(), [&](const NodeName& member) {
      auto report = kv_tombstone_reports_.find(member);
      if (report == kv_tombstone_reports_.end()) return false;
      auto held = report->second.find(hash);
      return held != report->second.end() && held->second.first == digest;
    });
  };
  kv::TombstoneReport report;
  std::vector<std::string> collected;
  for (const auto& [hash, key] : ripe) {
    const uint64_t digest = kv_.key_digest(*key);
    report.tombstones.emplace_back(hash, digest);
    if (held_everywhere(hash, digest)) collected.push_back(*key);
  }
  for (const auto& key : collected) {
    if (!kv_.collect(key)) continue;
    unpersist_key(key, out);
    kv_tombstones_.erase(key);
    kv_collected_.emplace_back(now, key);
  }
  // Reported even when collected here this round: the others may still be
  // waiting for this node's report.
  multicast_.publish(now, kv::kTombstoneTopic, kv::encode(report), out);
  if (auto at = multicast_.next_deadline()) out.wake_no_later_than(*at);
}

void NodeCore::deliver_internal(Time now, const wire::McData& m, Actions& out) {
  if (m.topic == kv::kTombstoneTopic) {
    auto report = kv::decode_tombstone_report(m.payload);
    if (!report) {
      ++stats_.kv_tombstone_reports_malformed;
      return;
    }
    auto& held = kv_tombstone_reports_[m.origin];
    for (const auto& [hash, digest] : report->tombstones) held.insert_or_assign(hash, std::make_pair(digest, now));
    return;
  }
  if (m.topic != kv::kDeltaTopic) return;  // a newer node's protocol: not ours to read
  auto deltas = kv::decode_key_deltas(m.payload, config_.kv.limits);
  if (!deltas) {
    ++stats_.kv_deltas_malformed;
    return;
  }
  for (const auto& d : *deltas) {
    auto joined = kv_.apply(d.key, d.delta);
    if (!joined) {
      ++stats_.kv_deltas_refused;
      continue;
    }
    if (joined->state_changed) key_changed(now, d.key, joined->value_changed, out, &d.delta);
  }
}

const std::vector<NodeName>& NodeCore::tree_children(const NodeName& origin) {
  return membership_.tree_children(origin);
}

void NodeCore::on_dropped_by_other(Time now, const NodeName&, const NodeName& dropped, Actions& out) {
  if (dropped != config_.self.name && overlay_.is_active(dropped)) detector_.probe_now(now, dropped, out);
}

void NodeCore::on_neighbor_failed(Time now, const NodeName& peer, Actions& out) {
  ++stats_.neighbors_failed;
  overlay_.remove_neighbor(now, peer, NeighborDownReason::failed, out);
}

void NodeCore::on_link_broken(Time now, const NodeName& peer, Actions& out) {
  ++stats_.neighbors_link_broken;
  overlay_.remove_neighbor(now, peer, NeighborDownReason::link_broken, out);
}

void NodeCore::on_link_reports_changed(Time now, std::vector<NodeName> sorted_targets, Actions& out) {
  membership_.set_link_reports(now, std::move(sorted_targets), out);
}

void NodeCore::departition_probe(Time now, Actions& out) {
  // Drop link reports about nodes that are no longer alive anywhere.
  detector_.drop_link_reports_if(
      now, [&](const NodeName& target) { return !membership_.reachable(target); }, out);

  std::vector<wire::PeerRef> candidates;
  for (auto& peer : membership_.unreachable_members()) {
    if (!detector_.has_link_report(peer.name)) candidates.push_back(std::move(peer));
  }
  // Contact nodes too, when they are unknown or unreachable: a node that
  // came up while every contact was down still finds the cluster
  // (DCOS_OSS-4328 in the reference).
  for (const auto& contact : config_.contacts) {
    if (contact.name == config_.self.name || membership_.reachable(contact.name)) continue;
    const bool listed = std::any_of(candidates.begin(), candidates.end(),
                                    [&](const wire::PeerRef& p) { return p.name == contact.name; });
    if (!listed && !contact.address.empty()) candidates.push_back(contact);
  }
  next_departition_at_ = grid_.at_or_after(
      now + random_.jittered(departition_interval(config_.departition_probe_interval, candidates.size()), 0.5));
  out.wake_no_later_than(next_departition_at_);
  if (candidates.empty() || !overlay_.joined()) return;
  ++stats_.departition_probes;
  overlay_.request_neighbor(now, random_.pick(candidates), true, out);
}

void NodeCore::persist_views(Time now, Actions& out) {
  next_persist_at_ = grid_.at_or_after(now + 1s);
  out.wake_no_later_than(next_persist_at_);
  Bytes passive = Overlay::encode_passive(overlay_.passive_view());
  if (passive != persisted_passive_) {
    persisted_passive_ = passive;
    out.persist(kPersistPassiveView, std::move(passive));
  }
  Bytes known = membership_.encode_known_members();
  if (known != persisted_known_) {
    persisted_known_ = known;
    out.persist(kPersistKnownMembers, std::move(known));
  }
}

void NodeCore::malformed(Time now, const NodeName& from, Actions& out) {
  ++stats_.malformed_messages;
  connections_.close(from, out);
  connection_lost(now, from, out);
}

void NodeCore::connection_lost(Time now, const NodeName& peer, Actions& out) {
  connection_versions_.erase(peer);
  const bool was_neighbor = overlay_.is_active(peer);
  connections_.on_down(peer);
  if (was_neighbor) ++stats_.connection_closes_detected;
  overlay_.on_connection_down(now, peer, out);
}

}  // namespace lashup
