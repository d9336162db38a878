#include "core/overlay/overlay.h"

#include <algorithm>
#include <set>

#include "core/wire/overlay_messages.h"

namespace lashup {

using wire::PeerRef;

const char* to_string(NeighborDownReason reason) {
  switch (reason) {
    case NeighborDownReason::disconnected: return "disconnected";
    case NeighborDownReason::evicted: return "evicted";
    case NeighborDownReason::failed: return "failed";
    case NeighborDownReason::link_broken: return "link_broken";
    case NeighborDownReason::connection_closed: return "connection_closed";
  }
  return "unknown";
}

namespace {

bool contains(const std::vector<PeerRef>& view, const NodeName& name) {
  return std::any_of(view.begin(), view.end(), [&](const PeerRef& p) { return p.name == name; });
}

bool erase_from(std::vector<PeerRef>& view, const NodeName& name) {
  auto it = std::find_if(view.begin(), view.end(), [&](const PeerRef& p) { return p.name == name; });
  if (it == view.end()) return false;
  view.erase(it);
  return true;
}

}  // namespace

Overlay::Overlay(OverlayConfig config, PeerRef self, std::vector<PeerRef> contacts, Random& random,
                 Connections& connections, OverlayListener& listener)
    : config_(config),
      self_(std::move(self)),
      random_(random),
      connections_(connections),
      listener_(listener) {
  for (auto& contact : contacts) {
    if (contact.name != self_.name && !contains(contacts_, contact.name)) contacts_.push_back(std::move(contact));
  }
}

void Overlay::start(Time now, const std::vector<PeerRef>& remembered, Actions& out) {
  for (const auto& peer : remembered) {
    if (peer.name != self_.name && !peer.address.empty()) add_passive(peer);
  }
  // A restarted node asks remembered nodes directly, in parallel with the
  // contact nodes: either is enough to rejoin.
  std::vector<PeerRef> first = sample(passive_, config_.active_view_size);
  for (const auto& peer : first) request_neighbor(now, peer, true, out);
  if (contacts_.empty()) {
    joined_ = true;  // the first node of a cluster has no one to join
  } else {
    try_join(now, out);
  }
  next_fill_at_ = now + random_.jittered(config_.neighbor_retry, 0.5);
  next_shuffle_at_ = config_.grid.at_or_after(now + random_.jittered(shuffle_period(), 0.5));
  out.wake_no_later_than(std::min({next_join_at_, next_fill_at_, next_shuffle_at_}));
}

bool Overlay::handle(Time now, const NodeName& from, wire::MessageType type, wire::Reader& body, Actions& out) {
  using wire::MessageType;
  switch (type) {
    case MessageType::join: {
      auto m = wire::decode_join(body);
      if (!m || m->joiner.name != from) return false;
      on_join(now, from, std::move(*m), out);
      return true;
    }
    case MessageType::join_reply: {
      auto m = wire::decode_join_reply(body);
      if (!m) return false;
      on_join_reply(now, from, std::move(*m), out);
      return true;
    }
    case MessageType::forward_join: {
      auto m = wire::decode_forward_join(body);
      if (!m) return false;
      on_forward_join(now, from, std::move(*m), out);
      return true;
    }
    case MessageType::neighbor: {
      auto m = wire::decode_neighbor(body);
      if (!m || m->requester.name != from) return false;
      on_neighbor(now, from, std::move(*m), out);
      return true;
    }
    case MessageType::neighbor_reply: {
      auto m = wire::decode_neighbor_reply(body);
      if (!m) return false;
      on_neighbor_reply(now, from, std::move(*m), out);
      return true;
    }
    case MessageType::disconnect: {
      if (!wire::decode_disconnect(body)) return false;
      on_disconnect(now, from, out);
      return true;
    }
    case MessageType::shuffle: {
      auto m = wire::decode_shuffle(body);
      if (!m) return false;
      on_shuffle(now, from, std::move(*m), out);
      return true;
    }
    case MessageType::shuffle_reply: {
      auto m = wire::decode_shuffle_reply(body);
      if (!m) return false;
      on_shuffle_reply(now, std::move(*m), out);
      return true;
    }
    default:
      return false;
  }
}

void Overlay::on_join(Time now, const NodeName& from, wire::Join m, Actions& out) {
  if (m.joiner.name == self_.name) return;
  if (!accept_join(now)) {
    // The original answered a throttled join with nothing useful; we name
    // other nodes the joiner can ask, which spreads a mass start.
    ++stats_.joins_denied;
    std::vector<PeerRef> candidates = active_;
    candidates.insert(candidates.end(), passive_.begin(), passive_.end());
    send_to(now, m.joiner, wire::encode(wire::JoinReply{false, sample(candidates, 8, from)}), out);
    return;
  }
  ++stats_.joins_accepted;
  add_active(now, m.joiner, out);
  for (const auto& neighbor : active_) {
    if (neighbor.name == m.joiner.name) continue;
    send_to_active(now, neighbor.name, wire::encode(wire::ForwardJoin{m.joiner, config_.active_random_walk_length}),
                   out);
  }
  send_to_active(now, from, wire::encode(wire::JoinReply{true, sample(passive_, config_.shuffle_passive_sample)}),
                 out);
}

void Overlay::on_join_reply(Time now, const NodeName& from, wire::JoinReply m, Actions& out) {
  for (const auto& hint : m.hints) {
    if (hint.name != self_.name && !is_active(hint.name)) add_passive(hint);
  }
  if (m.accepted) {
    if (auto contact = address_of(from)) add_active(now, *contact, out);
    return;
  }
  // Denied: ask one of the hints at once instead of waiting for the retry.
  if (!joined_ && !m.hints.empty()) {
    const PeerRef& hint = random_.pick(m.hints);
    if (hint.name != self_.name) {
      send_to(now, hint, wire::encode(wire::Join{self_}), out);
      next_join_at_ = now + random_.jittered(config_.join_retry, 0.5);
      out.wake_no_later_than(next_join_at_);
    }
  }
}

void Overlay::on_forward_join(Time now, const NodeName& from, wire::ForwardJoin m, Actions& out) {
  if (m.joiner.name == self_.name) return;
  std::vector<PeerRef> next_hops;
  for (const auto& p : active_) {
    if (p.name != from && p.name != m.joiner.name) next_hops.push_back(p);
  }
  if (m.ttl == 0 || active_.size() <= 1 || next_hops.empty()) {
    // End of the walk: a NEIGHBOR handshake makes the link symmetric. The
    // original added the joiner one-way here, or dropped the walk.
    if (!is_active(m.joiner.name)) request_neighbor(now, m.joiner, true, out);
    return;
  }
  if (m.ttl == config_.passive_random_walk_length) add_passive(m.joiner);
  const PeerRef& next = random_.pick(next_hops);
  send_to_active(now, next.name, wire::encode(wire::ForwardJoin{m.joiner, m.ttl - 1}), out);
}

void Overlay::on_neighbor(Time now, const NodeName& from, wire::Neighbor m, Actions& out) {
  if (from == self_.name) return;
  if (is_active(from)) {
    send_to_active(now, from, wire::encode(wire::NeighborReply{true, {}}), out);
    return;
  }
  if (m.high_priority || active_.size() < config_.active_view_size) {
    add_active(now, m.requester, out);
    send_to_active(now, from, wire::encode(wire::NeighborReply{true, {}}), out);
    return;
  }
  send_to(now, m.requester,
          wire::encode(wire::NeighborReply{false, sample(passive_, config_.shuffle_passive_sample, from)}), out);
}

void Overlay::on_neighbor_reply(Time now, const NodeName& from, wire::NeighborReply m, Actions& out) {
  auto pending = pending_neighbors_.find(from);
  std::optional<PeerRef> peer;
  if (pending != pending_neighbors_.end()) {
    peer = pending->second.peer;
    pending_neighbors_.erase(pending);
  } else {
    peer = address_of(from);
  }
  if (m.accepted) {
    // Even when our request had timed out: the other side now counts us as
    // its neighbour, and views must stay symmetric.
    if (peer && !is_active(from)) add_active(now, *peer, out);
    return;
  }
  ++stats_.neighbor_requests_refused;
  for (const auto& p : m.passive_sample) {
    if (p.name != self_.name && !is_active(p.name)) add_passive(p);
  }
}

void Overlay::on_disconnect(Time now, const NodeName& from, Actions& out) {
  auto it = std::find_if(active_.begin(), active_.end(), [&](const PeerRef& p) { return p.name == from; });
  if (it == active_.end()) return;
  const PeerRef peer = *it;
  active_.erase(it);
  connections_.pin(from, false);
  add_passive(peer);
  listener_.on_neighbor_down(now, from, NeighborDownReason::disconnected, out);
  out.wake_no_later_than(std::max(now, next_fill_at_));  // refill on the usual pace
}

void Overlay::on_shuffle(Time now, const NodeName& from, wire::Shuffle m, Actions& out) {
  if (m.origin.name == self_.name) return;
  if (m.ttl > 0 && active_.size() > 1) {
    std::vector<PeerRef> next_hops;
    for (const auto& p : active_) {
      if (p.name != from && p.name != m.origin.name) next_hops.push_back(p);
    }
    if (!next_hops.empty()) {
      const PeerRef& next = random_.pick(next_hops);
      m.ttl -= 1;
      send_to_active(now, next.name, wire::encode(m), out);
      return;
    }
  }
  std::vector<PeerRef> reply = sample(passive_, m.sample.size(), m.origin.name);
  std::vector<NodeName> sent_back;
  for (const auto& p : reply) sent_back.push_back(p.name);
  send_to(now, m.origin, wire::encode(wire::ShuffleReply{reply}), out);
  for (const auto& p : m.sample) {
    if (p.name != self_.name && !is_active(p.name)) add_passive(p, &sent_back);
  }
}

void Overlay::on_shuffle_reply(Time, wire::ShuffleReply m, Actions&) {
  last_shuffle_taught_ = false;
  for (const auto& p : m.sample) {
    if (p.name != self_.name && !is_active(p.name) && add_passive(p, &last_shuffle_sample_)) {
      last_shuffle_taught_ = true;
    }
  }
  last_shuffle_sample_.clear();
}

// Shuffle quickly while the passive view is still filling (as the original
// did), at the configured pace once it is half full. A view that stays short
// because the cluster is small (16 nodes leave at most 8 for it next to 7
// neighbours) is full as far as shuffles go: once a reply teaches us no
// node we did not know, the pace is the configured one.
Duration Overlay::shuffle_period() const {
  const bool filling = passive_.size() < config_.passive_view_size / 2 && last_shuffle_taught_;
  return filling ? std::min(config_.shuffle_interval, kFillingShuffleInterval) : config_.shuffle_interval;
}

void Overlay::tick(Time now, Actions& out) {
  std::vector<PeerRef> unanswered;
  for (auto it = pending_neighbors_.begin(); it != pending_neighbors_.end();) {
    if (it->second.deadline <= now) {
      // No answer: the node is probably gone. The original meant to do this
      // but its timer was never cancelled (reference §7 item 7).
      remove_passive(it->first);
      unanswered.push_back(it->second.peer);
      it = pending_neighbors_.erase(it);
    } else {
      ++it;
    }
  }
  std::sort(unanswered.begin(), unanswered.end(), [](const PeerRef& a, const PeerRef& b) { return a.name < b.name; });
  for (const auto& peer : unanswered) listener_.on_neighbor_request_failed(now, peer, out);
  if (!joined_ && active_.empty() && now >= next_join_at_) try_join(now, out);
  if (now >= next_fill_at_) {
    fill_active_view(now, out);
    next_fill_at_ = now + random_.jittered(config_.neighbor_retry, 0.5);
  }
  if (now >= next_shuffle_at_) {
    send_shuffle(now, out);
    next_shuffle_at_ = config_.grid.at_or_after(now + random_.jittered(shuffle_period(), 0.5));
  }
  if (!joined_ && active_.empty()) out.wake_no_later_than(next_join_at_);
  // A full active view needs no refill: no wake-up for it (a removal asks
  // for one at once).
  if (active_.size() < config_.active_view_size) out.wake_no_later_than(next_fill_at_);
  out.wake_no_later_than(next_shuffle_at_);
  for (const auto& [name, pending] : pending_neighbors_) out.wake_no_later_than(pending.deadline);
}

void Overlay::on_connection_down(Time now, const NodeName& peer, Actions& out) {
  if (auto pending = pending_neighbors_.find(peer); pending != pending_neighbors_.end()) {
    const PeerRef requested = pending->second.peer;
    pending_neighbors_.erase(pending);
    remove_passive(peer);
    listener_.on_neighbor_request_failed(now, requested, out);
  }
  auto it = std::find_if(active_.begin(), active_.end(), [&](const PeerRef& p) { return p.name == peer; });
  if (it == active_.end()) return;
  active_.erase(it);
  // A closed connection is how a crashed process shows itself: the
  // neighbour is treated as failed at once, not kept as a replacement.
  listener_.on_neighbor_down(now, peer, NeighborDownReason::connection_closed, out);
  next_fill_at_ = now;
  out.wake_no_later_than(now);
}

void Overlay::remove_neighbor(Time now, const NodeName& peer, NeighborDownReason reason, Actions& out) {
  auto it = std::find_if(active_.begin(), active_.end(), [&](const PeerRef& p) { return p.name == peer; });
  if (it == active_.end()) return;
  const PeerRef removed = *it;
  active_.erase(it);
  connections_.pin(peer, false);
  if (reason == NeighborDownReason::failed) {
    remove_passive(peer);
    connections_.close(peer, out);
  } else {
    // Alive, just not directly reachable: tell it, and keep it as a node we
    // know (it is skipped as a candidate while the link report stands).
    connections_.send(now, removed, wire::encode(wire::Disconnect{}), out);
    add_passive(removed);
  }
  listener_.on_neighbor_down(now, peer, reason, out);
  next_fill_at_ = now;
  out.wake_no_later_than(now);
}

void Overlay::request_neighbor(Time now, const PeerRef& peer, bool high_priority, Actions& out) {
  if (peer.name == self_.name || is_active(peer.name) || pending_neighbors_.count(peer.name) > 0) return;
  ++stats_.neighbor_requests_sent;
  pending_neighbors_[peer.name] = PendingNeighbor{peer, now + config_.neighbor_reply_timeout, high_priority};
  send_to(now, peer, wire::encode(wire::Neighbor{self_, high_priority}), out);
  out.wake_no_later_than(now + config_.neighbor_reply_timeout);
}

void Overlay::learn_passive(const PeerRef& peer) {
  if (peer.name == self_.name || peer.address.empty() || is_active(peer.name) || contains(passive_, peer.name)) return;
  if (passive_.size() >= config_.passive_view_size) return;  // learned nodes never evict shuffled ones
  passive_.push_back(peer);
}

void Overlay::forget(const NodeName& peer) {
  remove_passive(peer);
  pending_neighbors_.erase(peer);
}

bool Overlay::is_active(const NodeName& peer) const { return contains(active_, peer); }

std::vector<NodeName> Overlay::active_names() const {
  std::vector<NodeName> names;
  names.reserve(active_.size());
  for (const auto& p : active_) names.push_back(p.name);
  std::sort(names.begin(), names.end());
  return names;
}

std::string Overlay::check_invariants() const {
  std::string problems;
  std::set<NodeName> seen;
  for (const auto& p : active_) {
    if (p.name == self_.name) problems += "self in active view; ";
    if (!seen.insert(p.name).second) problems += "duplicate " + p.name + " in active view; ";
  }
  std::set<NodeName> passive_seen;
  for (const auto& p : passive_) {
    if (p.name == self_.name) problems += "self in passive view; ";
    if (seen.count(p.name) > 0) problems += p.name + " in both views; ";
    if (!passive_seen.insert(p.name).second) problems += "duplicate " + p.name + " in passive view; ";
  }
  if (active_.size() > config_.active_view_size) problems += "active view over its size; ";
  if (passive_.size() > config_.passive_view_size) problems += "passive view over its size; ";
  return problems;
}

void Overlay::add_contact(Time now, const PeerRef& contact, Actions& out) {
  if (contact.name == self_.name || contact.address.empty() || contains(contacts_, contact.name)) return;
  contacts_.push_back(contact);
  if (active_.empty()) {
    joined_ = false;  // a node that started alone now has someone to join
    try_join(now, out);
  }
}

void Overlay::try_join(Time now, Actions& out) {
  next_join_at_ = now + random_.jittered(config_.join_retry, 0.5);
  out.wake_no_later_than(next_join_at_);
  if (contacts_.empty()) return;
  const PeerRef& contact = random_.pick(contacts_);
  send_to(now, contact, wire::encode(wire::Join{self_}), out);
}

void Overlay::fill_active_view(Time now, Actions& out) {
  size_t wanted = config_.active_view_size;
  const size_t have = active_.size() + pending_neighbors_.size();
  if (have >= wanted) return;
  std::vector<PeerRef> candidates;
  for (const auto& p : passive_) {
    if (pending_neighbors_.count(p.name) == 0 && !listener_.avoid_as_neighbor(p.name)) candidates.push_back(p);
  }
  random_.shuffle(candidates);
  // At most two requests per round: filling is steady, not a burst.
  const size_t n = std::min({wanted - have, candidates.size(), size_t{2}});
  for (size_t i = 0; i < n; ++i) request_neighbor(now, candidates[i], active_.empty(), out);
}

void Overlay::send_shuffle(Time now, Actions& out) {
  if (active_.empty()) return;
  const PeerRef target = random_.pick(active_);
  std::vector<PeerRef> shuffle_sample = sample(active_, config_.shuffle_active_sample, target.name);
  for (auto& p : sample(passive_, config_.shuffle_passive_sample)) shuffle_sample.push_back(std::move(p));
  last_shuffle_sample_.clear();
  for (const auto& p : shuffle_sample) last_shuffle_sample_.push_back(p.name);
  shuffle_sample.push_back(self_);
  ++stats_.shuffles_sent;
  send_to_active(now, target.name, wire::encode(wire::Shuffle{self_, config_.active_random_walk_length, shuffle_sample}),
                 out);
}

void Overlay::add_active(Time now, const PeerRef& peer, Actions& out) {
  if (peer.name == self_.name || is_active(peer.name)) return;
  remove_passive(peer.name);
  pending_neighbors_.erase(peer.name);
  if (active_.size() >= config_.active_view_size) drop_random_active(now, out);
  active_.push_back(peer);
  connections_.open(now, peer.name, peer.address, out);
  connections_.pin(peer.name, true);
  joined_ = true;
  listener_.on_neighbor_up(now, peer, out);
}

void Overlay::drop_random_active(Time now, Actions& out) {
  if (active_.empty()) return;
  const size_t index = random_.uniform(active_.size());
  const PeerRef dropped = active_[index];
  active_.erase(active_.begin() + static_cast<std::ptrdiff_t>(index));
  connections_.send(now, dropped, wire::encode(wire::Disconnect{}), out);
  connections_.pin(dropped.name, false);
  add_passive(dropped);
  listener_.on_neighbor_down(now, dropped.name, NeighborDownReason::evicted, out);
}

bool Overlay::add_passive(const PeerRef& peer, const std::vector<NodeName>* prefer_evict) {
  if (peer.name == self_.name || peer.address.empty() || is_active(peer.name)) return false;
  for (auto& p : passive_) {
    if (p.name == peer.name) {
      p.address = peer.address;  // the newest address wins
      return false;
    }
  }
  if (config_.passive_view_size == 0) return false;
  if (passive_.size() >= config_.passive_view_size) {
    size_t victim = passive_.size();
    if (prefer_evict != nullptr) {
      for (size_t i = 0; i < passive_.size() && victim == passive_.size(); ++i) {
        if (std::find(prefer_evict->begin(), prefer_evict->end(), passive_[i].name) != prefer_evict->end()) victim = i;
      }
    }
    if (victim == passive_.size()) victim = random_.uniform(passive_.size());
    passive_.erase(passive_.begin() + static_cast<std::ptrdiff_t>(victim));
  }
  passive_.push_back(peer);
  return true;
}

void Overlay::remove_passive(const NodeName& peer) { erase_from(passive_, peer); }

std::optional<PeerRef> Overlay::address_of(const NodeName& name) const {
  for (const auto* view : {&active_, &passive_, &contacts_}) {
    for (const auto& p : *view) {
      if (p.name == name) return p;
    }
  }
  if (auto it = pending_neighbors_.find(name); it != pending_neighbors_.end()) return it->second.peer;
  return std::nullopt;
}

std::vector<PeerRef> Overlay::sample(const std::vector<PeerRef>& from, size_t n, const NodeName& exclude) const {
  std::vector<PeerRef> pool;
  pool.reserve(from.size());
  for (const auto& p : from) {
    if (p.name != exclude) pool.push_back(p);
  }
  random_.shuffle(pool);
  if (pool.size() > n) pool.resize(n);
  return pool;
}

void Overlay::send_to(Time now, const PeerRef& peer, Bytes message, Actions& out) {
  connections_.send(now, peer, std::move(message), out);
}

void Overlay::send_to_active(Time now, const NodeName& peer, Bytes message, Actions& out) {
  connections_.send(now, peer, std::string(), std::move(message), out);
}

bool Overlay::accept_join(Time now) {
  while (!recent_joins_.empty() && now - recent_joins_.front() >= 1s) recent_joins_.pop_front();
  if (recent_joins_.size() >= config_.joins_per_second_max) return false;
  recent_joins_.push_back(now);
  return true;
}

Bytes Overlay::encode_passive(const std::vector<PeerRef>& passive) {
  wire::Writer w;
  w.u8(1);  // format version
  wire::write_peers(w, passive);
  return w.take();
}

std::vector<PeerRef> Overlay::decode_passive(const Bytes& bytes) {
  wire::Reader r(bytes);
  uint8_t version = 0;
  std::vector<PeerRef> peers;
  if (!r.u8(version) || version != 1 || !wire::read_peers(r, peers) || !r.finish()) return {};
  return peers;
}

}  // namespace lashup
