#include "core/membership/membership.h"

#include <algorithm>
#include <functional>
#include <tuple>

namespace lashup {

namespace {

// A batch of records in one message stays far below the frame limit.
constexpr size_t kRecordsPerBatch = 512;
// A pulled record that has not arrived after this may be pulled elsewhere.
constexpr Duration kPullTimeout = 1s;
// Bound on names pulled and not yet received.
constexpr size_t kPullsInFlightMax = 1u << 17;

// reported_ holds this for a member no event has described yet.
constexpr auto kNotReported = static_cast<Reachability>(0xff);

bool newer(const wire::MemberRecord& a, const wire::MemberRecord& b) {
  return std::tie(a.incarnation, a.version) > std::tie(b.incarnation, b.version);
}

std::vector<NodeName> sorted_unique(std::vector<NodeName> names) {
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

}  // namespace

Membership::Membership(MembershipConfig config, wire::PeerRef self, Incarnation incarnation, Random& random,
                       Connections& connections, MembershipListener& listener)
    : config_(config), self_(std::move(self)), random_(random), connections_(connections), listener_(listener) {
  self_record_.name = self_.name;
  self_record_.address = self_.address;
  self_record_.incarnation = incarnation;
  self_record_.version = 1;
  self_id_ = intern(self_.name);
  Member& me = members_[self_id_];
  me.has_record = true;
  me.record = self_record_;
}

void Membership::start(Time now, Actions& out) {
  members_[self_id_].last_heard = now;
  next_refresh_at_ = config_.grid.at_or_after(now + random_.jittered(config_.refresh_interval, 0.2));
  next_expiry_at_ = config_.grid.at_or_after(now + 1s);
  next_sync_at_ = config_.grid.at_or_after(now + random_.jittered(config_.sync_interval, 0.5));
  out.wake_no_later_than(next_sync_at_);
  out.wake_no_later_than(next_refresh_at_);
  out.wake_no_later_than(next_expiry_at_);
}

void Membership::set_active_view(Time now, std::vector<NodeName> sorted_names, bool urgent, Actions& out) {
  if (sorted_names == self_record_.active_view) return;
  self_record_.active_view = std::move(sorted_names);
  set_edges_from(self_id_, self_record_.active_view);
  bump_own(now, out, urgent);
  // A new neighbour may end an isolation whose events are held.
  if (changes_pending_) out.wake_no_later_than(std::max(now, next_report_at_));
}

void Membership::set_link_reports(Time now, std::vector<NodeName> sorted_names, Actions& out) {
  if (sorted_names.size() > wire::kLinkReportsMax) sorted_names.resize(wire::kLinkReportsMax);
  if (sorted_names == self_record_.link_reports) return;
  self_record_.link_reports = std::move(sorted_names);
  bump_own(now, out);
}

Status Membership::set_metadata(Time now, Bytes metadata, Actions& out) {
  if (metadata.size() > config_.metadata_bytes_max) {
    return Status::too_large("metadata of " + std::to_string(metadata.size()) + " bytes exceeds membership.metadata_bytes_max (" +
                             std::to_string(config_.metadata_bytes_max) + ")");
  }
  if (metadata == self_record_.metadata) return Status::ok();
  self_record_.metadata = std::move(metadata);
  bump_own(now, out);
  return Status::ok();
}

void Membership::leave(Time now, Actions& out) {
  self_record_.leaving = true;
  self_record_.version += 1;
  members_[self_id_].record = self_record_;
  flood_own(now, out);
}

void Membership::on_neighbor_up(Time now, const NodeName& peer, Actions& out) {
  send_full_digest(now, peer, false, out);
}

void Membership::send_full_digest(Time now, const NodeName& to, bool reply_with_digest, Actions& out) {
  wire::MemberDigest digest;
  digest.full = true;
  digest.reply_with_digest = reply_with_digest;
  digest.entries.reserve(members_.size());
  for (const auto& m : members_) {
    if (m.has_record) digest.entries.push_back({m.name, m.record.incarnation, m.record.version});
  }
  ++stats_.digests_sent;
  connections_.send(now, to, std::string(), wire::encode(digest), out);
}

wire::MemberSummary Membership::summary() const {
  // Order-independent: a sum of per-record hashes.
  wire::MemberSummary s;
  for (const auto& m : members_) {
    if (!m.has_record) continue;
    ++s.count;
    // FNV-1a: the same on every build, so nodes of different builds agree.
    uint64_t h = 0xcbf29ce484222325ULL;
    for (unsigned char c : m.name) h = (h ^ c) * 0x100000001b3ULL;
    h ^= (m.record.incarnation + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2));
    h ^= (m.record.version + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2));
    h *= 0xff51afd7ed558ccdULL;
    s.hash += h ^ (h >> 33);
  }
  return s;
}

bool Membership::handle(Time now, const NodeName& from, wire::MessageType type, wire::Reader& body, Actions& out) {
  switch (type) {
    case wire::MessageType::member_records: {
      auto m = wire::decode_member_records(body);
      if (!m) return false;
      std::vector<MemberId> applied;
      for (auto& record : m->records) {
        ++stats_.records_received;
        const NodeName name = record.name;
        const uint64_t version = record.version;
        const Incarnation incarnation = record.incarnation;
        pulls_in_flight_.erase(name);
        if (apply(now, std::move(record), out)) {
          applied.push_back(*find(name));
        } else if (auto id = find(name); id && m->ttl > 0) {
          // The sender has this version: if we were about to forward it,
          // not to the sender.
          auto pending = pending_forwards_.find(*id);
          if (pending != pending_forwards_.end() && members_[*id].record.version == version &&
              members_[*id].record.incarnation == incarnation) {
            auto& heard = pending->second.heard_from;
            if (std::find(heard.begin(), heard.end(), from) == heard.end()) heard.push_back(from);
          }
        }
      }
      for (MemberId id : applied) {
        // Catch-up records (ttl 0) are not flooded: most of our neighbours
        // may have them. Every one that was news here is announced, and
        // pulled only where missing: a version a flood missed (lost, or
        // stopped by a node that had it already) then reaches every node
        // that lacks it within a few round trips of the first repair, not
        // one anti-entropy period per hop.
        queue_forward(now, id, m->ttl > 0 ? m->ttl - 1 : 0, from, out);
      }
      report_changes(now, out);
      if (changes_pending_) out.wake_no_later_than(report_due_at());
      return true;
    }
    case wire::MessageType::member_digest: {
      auto m = wire::decode_member_digest(body);
      if (!m) return false;
      // A full digest (new neighbour) and an announcement are answered the
      // same way: pull what is newer there. Both sides of a new link send
      // one, so each learns what it lacks, and a record several new
      // neighbours offer at once is pulled from one of them only.
      pull_newer(now, from, m->entries, out);
      if (m->full && m->reply_with_digest) send_full_digest(now, from, false, out);
      return true;
    }
    case wire::MessageType::member_summary: {
      auto m = wire::decode_member_summary(body);
      if (!m) return false;
      if (*m != summary()) {
        ++stats_.summaries_differing;
        send_full_digest(now, from, true, out);
      }
      return true;
    }
    case wire::MessageType::member_pull: {
      auto m = wire::decode_member_pull(body);
      if (!m) return false;
      std::vector<MemberId> ids;
      for (const auto& name : m->names) {
        if (auto id = find(name); id && members_[*id].has_record) ids.push_back(*id);
      }
      if (!ids.empty()) send_records(now, from, ids, 0, out);
      return true;
    }
    default:
      return false;
  }
}

void Membership::pull_newer(Time now, const NodeName& from, const std::vector<wire::DigestEntry>& announced,
                            Actions& out) {
  wire::MemberPull pull;
  for (const auto& entry : announced) {
    if (entry.name == self_.name) continue;
    auto id = find(entry.name);
    if (id && members_[*id].has_record &&
        std::tie(entry.incarnation, entry.version) <=
            std::tie(members_[*id].record.incarnation, members_[*id].record.version)) {
      continue;
    }
    auto in_flight = pulls_in_flight_.find(entry.name);
    if (in_flight != pulls_in_flight_.end() && in_flight->second > now) continue;
    if (pulls_in_flight_.size() >= kPullsInFlightMax) break;
    pulls_in_flight_[entry.name] = now + kPullTimeout;
    pull.names.push_back(entry.name);
  }
  if (pull.names.empty()) return;
  connections_.send(now, from, std::string(), wire::encode(pull), out);
}

void Membership::send_announcement(Time now, const NodeName& to, const std::vector<MemberId>& ids, Actions& out) {
  wire::MemberDigest announcement;
  announcement.full = false;
  for (MemberId id : ids) {
    const Member& m = members_[id];
    announcement.entries.push_back({m.name, m.record.incarnation, m.record.version});
  }
  connections_.send(now, to, std::string(), wire::encode(announcement), out);
}

void Membership::queue_forward(Time now, MemberId id, uint32_t ttl, const NodeName& heard_from, Actions& out) {
  PendingForward& pending = pending_forwards_[id];
  // A newer version replaces what was queued: who had the old one does not
  // have this one.
  pending.heard_from.assign(1, heard_from);
  pending.ttl = std::max(pending.ttl, ttl);
  if (!forward_flush_at_) {
    forward_flush_at_ = now + config_.forward_window;
    out.wake_no_later_than(*forward_flush_at_);
  }
}

void Membership::flush_forwards(Time now, Actions& out) {
  forward_flush_at_.reset();
  if (pending_forwards_.empty()) return;
  // Deterministic order: by name. Records that came with a TTL are flooded
  // on; catch-up records (TTL 0) are announced.
  std::vector<std::pair<NodeName, MemberId>> ids;
  uint32_t ttl = 0;
  for (const auto& [id, pending] : pending_forwards_) {
    if (members_[id].has_record) ids.emplace_back(members_[id].name, id);
    ttl = std::max(ttl, pending.ttl);
  }
  std::sort(ids.begin(), ids.end());
  for (const auto& neighbor : self_record_.active_view) {
    std::vector<MemberId> flood;
    std::vector<MemberId> announce;
    for (const auto& [name, id] : ids) {
      const PendingForward& pending = pending_forwards_[id];
      if (name == neighbor ||
          std::find(pending.heard_from.begin(), pending.heard_from.end(), neighbor) != pending.heard_from.end()) {
        continue;
      }
      (pending.ttl > 0 ? flood : announce).push_back(id);
    }
    if (!flood.empty()) send_records(now, neighbor, flood, ttl, out);
    if (!announce.empty()) send_announcement(now, neighbor, announce, out);
  }
  pending_forwards_.clear();
}

void Membership::tick(Time now, Actions& out) {
  if (!pulls_in_flight_.empty() && now >= next_pull_cleanup_at_) {
    next_pull_cleanup_at_ = now + kPullTimeout;
    std::erase_if(pulls_in_flight_, [now](const auto& entry) { return entry.second <= now; });
  }
  if (forward_flush_at_ && now >= *forward_flush_at_) flush_forwards(now, out);
  if (forward_flush_at_) out.wake_no_later_than(*forward_flush_at_);
  if (own_dirty_ && now >= own_flood_at_) flood_own(now, out);
  if (now >= next_refresh_at_) {
    next_refresh_at_ = config_.grid.at_or_after(now + random_.jittered(config_.refresh_interval, 0.2));
    bump_own(now, out);
  }
  if (now >= next_expiry_at_) {
    next_expiry_at_ = config_.grid.at_or_after(now + 1s);
    expire(now, out);
  }
  if (now >= next_sync_at_) {
    next_sync_at_ = config_.grid.at_or_after(now + random_.jittered(config_.sync_interval, 0.5));
    if (!self_record_.active_view.empty()) {
      ++stats_.summaries_sent;
      connections_.send(now, random_.pick(self_record_.active_view), std::string(), wire::encode(summary()), out);
    }
  }
  out.wake_no_later_than(next_sync_at_);
  report_changes(now, out);
  if (own_dirty_) out.wake_no_later_than(own_flood_at_);
  if (changes_pending_) out.wake_no_later_than(report_due_at());
  out.wake_no_later_than(next_refresh_at_);
  out.wake_no_later_than(next_expiry_at_);
}

size_t Membership::member_count() const {
  return static_cast<size_t>(std::count_if(members_.begin(), members_.end(), [](const Member& m) { return m.has_record; }));
}

size_t Membership::reachable_member_count() const {
  const RouteTree& tree = own_tree();
  size_t count = 0;
  for (MemberId id = 0; id < members_.size(); ++id) {
    if (id != self_id_ && members_[id].has_record && !members_[id].left && tree.reachable(id)) ++count;
  }
  return count;
}

std::vector<MemberInfo> Membership::members(Time) const {
  std::vector<MemberInfo> out;
  for (const auto& m : members_) {
    if (!m.has_record) continue;
    if (auto info = member(m.name)) out.push_back(std::move(*info));
  }
  std::sort(out.begin(), out.end(), [](const MemberInfo& a, const MemberInfo& b) { return a.name < b.name; });
  return out;
}

std::optional<MemberInfo> Membership::member(const NodeName& name) const {
  auto id = find(name);
  if (!id || !members_[*id].has_record) return std::nullopt;
  const Member& m = members_[*id];
  // Ourselves as we are now, including a version not flooded yet.
  const wire::MemberRecord& record = *id == self_id_ ? self_record_ : m.record;
  MemberInfo info;
  info.name = m.name;
  info.address = record.address;
  info.incarnation = record.incarnation;
  info.version = record.version;
  info.last_heard = m.last_heard;
  info.metadata = record.metadata;
  info.active_view = record.active_view;
  info.link_reports = record.link_reports;
  info.state = m.left ? Reachability::left : reachable(name) ? Reachability::reachable : Reachability::unreachable;
  return info;
}

bool Membership::reachable(const NodeName& name) const {
  auto id = find(name);
  if (!id) return false;
  if (*id == self_id_) return true;
  if (members_[*id].left) return false;
  return own_tree().reachable(*id);
}

std::optional<uint32_t> Membership::distance(const NodeName& name) const {
  auto id = find(name);
  if (!id || !reachable(name)) return std::nullopt;
  if (*id == self_id_) return 0;  // reachable() answers for self without a tree
  return own_tree().distance[*id];
}

std::vector<NodeName> Membership::path_to(const NodeName& name) const {
  std::vector<NodeName> path;
  auto id = find(name);
  if (!id || !reachable(name)) return path;
  for (MemberId v : own_tree().path_to(*id)) path.push_back(members_[v].name);
  return path;
}

std::vector<Membership::TreeEntry> Membership::route_tree(const NodeName& root) {
  std::vector<TreeEntry> entries;
  auto root_id = find(root);
  if (!root_id) return entries;
  const RouteTree tree = *root_id == self_id_ ? own_tree() : graph_.bfs(*root_id, excluded());
  for (MemberId v = 0; v < tree.distance.size(); ++v) {
    if (!tree.reachable(v)) continue;
    TreeEntry e;
    e.name = members_[v].name;
    e.distance = tree.distance[v];
    if (tree.parent[v] != kNoMember) e.parent = members_[tree.parent[v]].name;
    entries.push_back(std::move(e));
  }
  std::sort(entries.begin(), entries.end(), [](const TreeEntry& a, const TreeEntry& b) {
    return std::tie(a.distance, a.name) < std::tie(b.distance, b.name);
  });
  return entries;
}

std::vector<wire::PeerRef> Membership::unreachable_members() const {
  std::vector<wire::PeerRef> out;
  const RouteTree& tree = own_tree();
  for (MemberId id = 0; id < members_.size(); ++id) {
    const Member& m = members_[id];
    if (m.has_record && !m.left && id != self_id_ && !tree.reachable(id) && !m.record.address.empty()) {
      out.push_back({m.name, m.record.address});
    }
  }
  return out;
}

std::vector<wire::PeerRef> Membership::reachable_members() const {
  std::vector<wire::PeerRef> out;
  const RouteTree& tree = own_tree();
  for (MemberId id = 0; id < members_.size(); ++id) {
    const Member& m = members_[id];
    if (m.has_record && !m.left && id != self_id_ && tree.reachable(id) && !m.record.address.empty()) {
      out.push_back({m.name, m.record.address});
    }
  }
  return out;
}

std::optional<std::string> Membership::address_of(const NodeName& name) const {
  auto id = find(name);
  if (!id || !members_[*id].has_record || members_[*id].record.address.empty()) return std::nullopt;
  return members_[*id].record.address;
}

size_t Membership::footprint_bytes() const {
  size_t bytes = sizeof(*this) + members_.capacity() * sizeof(Member) + ids_.size() * (sizeof(NodeName) + 32);
  for (const auto& m : members_) {
    bytes += m.name.capacity() + m.record.name.capacity() + m.record.address.capacity() + m.record.metadata.capacity();
    bytes += m.record.active_view.capacity() * sizeof(NodeName);
    for (const auto& n : m.record.active_view) bytes += n.capacity() > 15 ? n.capacity() : 0;
    bytes += m.record.link_reports.capacity() * sizeof(NodeName);
  }
  for (MemberId id = 0; id < graph_.size(); ++id) bytes += graph_.edges(id).capacity() * sizeof(MemberId) + 24;
  bytes += own_tree_.distance.capacity() * sizeof(uint32_t) + own_tree_.parent.capacity() * sizeof(MemberId);
  bytes += reported_.capacity() + reported_distance_.capacity() * sizeof(uint32_t);
  return bytes;
}

Bytes Membership::encode_known_members() const {
  std::vector<wire::PeerRef> known;
  for (const auto& m : members_) {
    if (m.has_record && !m.left && m.name != self_.name && !m.record.address.empty()) {
      known.push_back({m.name, m.record.address});
    }
  }
  wire::Writer w;
  w.u8(1);  // format version
  wire::write_peers(w, known);
  return w.take();
}

std::vector<wire::PeerRef> Membership::decode_known_members(const Bytes& bytes) {
  wire::Reader r(bytes);
  uint8_t version = 0;
  std::vector<wire::PeerRef> peers;
  if (!r.u8(version) || version != 1 || !wire::read_peers(r, peers, 1u << 20) || !r.finish()) return {};
  return peers;
}

MemberId Membership::intern(const NodeName& name) {
  if (auto it = ids_.find(name); it != ids_.end()) return it->second;
  MemberId id;
  if (!free_ids_.empty()) {
    id = free_ids_.back();
    free_ids_.pop_back();
  } else {
    id = static_cast<MemberId>(members_.size());
    members_.emplace_back();
    graph_.resize(members_.size());
  }
  members_[id] = Member{};
  members_[id].name = name;
  ids_.emplace(name, id);
  return id;
}

std::optional<MemberId> Membership::find(const NodeName& name) const {
  auto it = ids_.find(name);
  if (it == ids_.end()) return std::nullopt;
  return it->second;
}

bool Membership::apply(Time now, wire::MemberRecord record, Actions& out) {
  if (record.name == self_.name) {
    // Someone holds a version of us at least as new as ours (we restarted
    // and lost state): refute it with a higher version.
    if (std::tie(record.incarnation, record.version) >= std::tie(self_record_.incarnation, self_record_.version)) {
      self_record_.incarnation = std::max(self_record_.incarnation, record.incarnation);
      self_record_.version = record.version;
      bump_own(now, out);
    }
    return false;
  }
  const MemberId id = intern(record.name);
  Member& m = members_[id];
  if (m.has_record && !newer(record, m.record)) return false;
  ++stats_.records_applied;

  record.active_view = sorted_unique(std::move(record.active_view));
  record.link_reports = sorted_unique(std::move(record.link_reports));
  const bool is_new = !m.has_record;
  const bool changed = is_new || m.record.address != record.address || m.record.metadata != record.metadata ||
                       m.record.leaving != record.leaving || m.record.incarnation != record.incarnation;
  if (!is_new) {
    // The cascade: whoever this member dropped, we check at once if it is
    // our neighbour too (reference §1.3 process_new_member).
    for (const auto& old_neighbor : m.record.active_view) {
      if (!std::binary_search(record.active_view.begin(), record.active_view.end(), old_neighbor)) {
        listener_.on_dropped_by_other(now, record.name, old_neighbor, out);
      }
    }
    for (const auto& target : m.record.link_reports) {
      if (!std::binary_search(record.link_reports.begin(), record.link_reports.end(), target)) {
        out.emit(LinkReportChanged{record.name, target, false});
      }
    }
  }
  for (const auto& target : record.link_reports) {
    if (is_new || !std::binary_search(m.record.link_reports.begin(), m.record.link_reports.end(), target)) {
      out.emit(LinkReportChanged{record.name, target, true});
    }
  }
  const bool edges_changed = set_edges_from(id, record.active_view);
  Member& member = members_[id];  // set_edges_from may have grown members_
  const bool left_changed = member.left != record.leaving;
  if (left_changed) {
    own_tree_version_ = ~uint64_t{0};
    ++excluded_epoch_;
  }  // reachability changes, edges do not
  member.left = record.leaving;
  member.record = std::move(record);
  member.has_record = true;
  member.last_heard = now;
  if (changed) out.emit(MemberUpdated{member.name, member.record.incarnation});
  // A refresh (same edges, same flags) changes nothing anyone reports: no
  // reachability pass for it.
  if (is_new || edges_changed || left_changed) changes_pending_ = true;
  return true;
}

bool Membership::set_edges_from(MemberId id, const std::vector<NodeName>& names) {
  std::vector<MemberId> targets;
  targets.reserve(names.size());
  for (const auto& name : names) {
    if (name == members_[id].name) continue;
    targets.push_back(intern(name));
  }
  if (graph_.edges(id) == targets) return false;
  const std::vector<MemberId> old = graph_.edges(id);
  for (MemberId t : targets) ++members_[t].referenced_by;
  graph_.set_edges(id, std::move(targets));
  for (MemberId t : old) {
    if (--members_[t].referenced_by == 0 && !members_[t].has_record && t != self_id_) release(t);
  }
  changes_pending_ = true;
  return true;
}

void Membership::release(MemberId id) {
  pending_forwards_.erase(id);
  ids_.erase(members_[id].name);
  graph_.set_edges(id, {});
  members_[id] = Member{};
  if (id < ever_reachable_.size()) ever_reachable_[id] = false;
  if (id < reported_.size()) reported_[id] = kNotReported;
  if (id < reported_distance_.size()) reported_distance_[id] = kUnreachable;
  free_ids_.push_back(id);
}

void Membership::bump_own(Time now, Actions& out, bool urgent) {
  self_record_.version += 1;
  // The new version stays private until its flood: digests, summaries and
  // pull answers offer the last flooded one. A version that leaked out by
  // catch-up first made the neighbours that pulled it drop the flood as old
  // news, and the nodes behind them never got it.
  members_[self_id_].last_heard = now;
  const Time earliest = last_own_flood_ + config_.flood_gap;
  const Time when = std::max(earliest, urgent ? now : now + config_.settle_delay);
  if (!own_dirty_ || when < own_flood_at_) own_flood_at_ = when;
  own_dirty_ = true;
  if (own_flood_at_ <= now) {
    flood_own(now, out);
  } else {
    out.wake_no_later_than(own_flood_at_);
  }
}

void Membership::flood_own(Time now, Actions& out) {
  members_[self_id_].record = self_record_;  // published from now on
  own_dirty_ = false;
  last_own_flood_ = now;
  ++stats_.own_floods;
  forward(now, {self_id_}, flood_ttl(), std::string(), out);
}

void Membership::forward(Time now, const std::vector<MemberId>& ids, uint32_t ttl, const NodeName& except,
                         Actions& out) {
  for (const auto& neighbor : self_record_.active_view) {
    if (neighbor == except) continue;
    send_records(now, neighbor, ids, ttl, out);
  }
}

void Membership::send_records(Time now, const NodeName& to, const std::vector<MemberId>& ids, uint32_t ttl,
                              Actions& out) {
  for (size_t start = 0; start < ids.size(); start += kRecordsPerBatch) {
    wire::MemberRecords message;
    message.ttl = ttl;
    const size_t end = std::min(ids.size(), start + kRecordsPerBatch);
    for (size_t i = start; i < end; ++i) {
      const Member& m = members_[ids[i]];
      if (m.name == to) continue;  // it knows itself best
      message.records.push_back(m.record);
    }
    if (message.records.empty()) continue;
    stats_.records_sent += message.records.size();
    ++stats_.record_messages_sent;
    connections_.send(now, to, std::string(), wire::encode(message), out);
  }
}

uint32_t Membership::flood_ttl() {
  const uint32_t eccentricity = own_tree().max_distance;
  return std::clamp<uint32_t>(2 * eccentricity + 2, 4, 64);
}

const RouteTree& Membership::own_tree() const {
  // A new member grows the graph without changing any edge: the tree must
  // cover it too.
  if (own_tree_version_ != graph_.version() || own_tree_.distance.size() != graph_.size()) {
    own_tree_ = graph_.bfs(self_id_, excluded());
    own_tree_version_ = graph_.version();
    ever_reachable_.resize(own_tree_.distance.size(), false);
    for (MemberId id = 0; id < own_tree_.distance.size(); ++id) {
      if (own_tree_.reachable(id)) ever_reachable_[id] = true;
    }
  }
  return own_tree_;
}

const std::vector<NodeName>& Membership::tree_children(const NodeName& origin) {
  static const std::vector<NodeName> kNone;
  auto& cache = children_cache_;
  if (cache.graph_version != graph_.version() || cache.excluded_epoch != excluded_epoch_ ||
      cache.graph_size != graph_.size()) {
    cache.by_origin.clear();
    cache.graph_version = graph_.version();
    cache.excluded_epoch = excluded_epoch_;
    cache.graph_size = graph_.size();
  }
  if (auto it = cache.by_origin.find(origin); it != cache.by_origin.end()) return it->second;
  auto root = find(origin);
  if (!root) return kNone;
  constexpr size_t kOriginsCached = 1024;
  if (cache.by_origin.size() >= kOriginsCached) cache.by_origin.clear();
  std::vector<NodeName> names;
  for (MemberId id : graph_.children_in_bfs(*root, self_id_, excluded())) names.push_back(members_[id].name);
  return cache.by_origin.emplace(origin, std::move(names)).first->second;
}

std::vector<bool> Membership::excluded() const {
  std::vector<bool> out(members_.size(), false);
  bool any = false;
  for (MemberId id = 0; id < members_.size(); ++id) {
    if (members_[id].left) out[id] = any = true;
  }
  if (!any) out.clear();
  return out;
}

Time Membership::report_due_at() const {
  return isolated_since_ ? std::max(next_report_at_, *isolated_since_ + config_.isolation_grace) : next_report_at_;
}

void Membership::report_changes(Time now, Actions& out) {
  if (!changes_pending_ || now < next_report_at_) return;
  const RouteTree& tree = own_tree();
  // Cut off from every member at once, a node cannot tell whether it was
  // stopped (SIGSTOP, a VM pause: its neighbours dropped it meanwhile and it
  // reconnects within moments) or its own network failed. It holds its
  // events for isolation_grace: back in time, it never tells the
  // application that everyone else was unreachable.
  bool reaches_any = false;
  bool had_reachable = false;
  for (MemberId id = 0; id < members_.size() && !reaches_any; ++id) {
    if (id == self_id_ || !members_[id].has_record || members_[id].left) continue;
    reaches_any = tree.reachable(id);
    had_reachable = had_reachable || (id < reported_.size() && reported_[id] == Reachability::reachable);
  }
  if (reaches_any || !had_reachable) {
    isolated_since_.reset();
  } else {
    if (!isolated_since_) isolated_since_ = now;
    // changes_pending_ stays set: the caller asks to wake at the end of the
    // grace (report_due_at), and any change before it (a neighbour again)
    // is looked at when it comes, so the hold ends with the isolation.
    if (now < *isolated_since_ + config_.isolation_grace) return;
  }
  changes_pending_ = false;
  next_report_at_ = now + config_.event_coalesce;
  reported_.resize(members_.size(), kNotReported);
  reported_distance_.resize(members_.size(), kUnreachable);
  bool routes_changed = false;
  uint32_t reachable_count = 0;
  for (MemberId id = 0; id < members_.size(); ++id) {
    const Member& m = members_[id];
    if (tree.distance[id] != reported_distance_[id]) {
      routes_changed = true;
      reported_distance_[id] = tree.distance[id];
    }
    if (!m.has_record || id == self_id_) continue;
    const Reachability state =
        m.left ? Reachability::left : tree.reachable(id) ? Reachability::reachable : Reachability::unreachable;
    if (state == Reachability::reachable) ++reachable_count;
    if (reported_[id] == kNotReported && state == Reachability::unreachable &&
        (id >= ever_reachable_.size() || !ever_reachable_[id])) {
      // A member first heard of before the records that link it into the
      // graph (every join looks like this for a moment), never seen
      // reachable: nothing the application was told changed. Reachable is
      // reported when it links in.
      reported_[id] = state;
    } else if (reported_[id] != state) {
      reported_[id] = state;
      out.emit(ReachabilityChanged{m.name, state});
    }
  }
  if (routes_changed) out.emit(RoutesChanged{reachable_count});
}

void Membership::expire(Time now, Actions& out) {
  const RouteTree& tree = own_tree();
  std::vector<MemberId> expired;
  for (MemberId id = 0; id < members_.size(); ++id) {
    const Member& m = members_[id];
    if (!m.has_record || id == self_id_) continue;
    if ((m.left || !tree.reachable(id)) && now - m.last_heard >= config_.expire_after) expired.push_back(id);
  }
  for (MemberId id : expired) {
    ++stats_.members_expired;
    Member& m = members_[id];
    m.has_record = false;
    if (m.left) {
      own_tree_version_ = ~uint64_t{0};
      ++excluded_epoch_;
    }
    m.left = false;
    m.record = wire::MemberRecord{};
    set_edges_from(id, {});
    if (id < ever_reachable_.size()) ever_reachable_[id] = false;
    if (id < reported_.size()) reported_[id] = kNotReported;
    out.emit(MemberRemoved{members_[id].name});
    if (members_[id].referenced_by == 0) release(id);
  }
}

}  // namespace lashup
