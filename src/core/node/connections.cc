#include "core/node/connections.h"

namespace lashup {

void Connections::send(Time now, const NodeName& peer, const std::string& address, Bytes message, Actions& out) {
  auto it = peers_.find(peer);
  if (it == peers_.end()) {
    if (address.empty()) {
      ++stats_.messages_dropped;
      return;
    }
    open(now, peer, address, out);
    it = peers_.find(peer);
  }
  Peer& p = it->second;
  p.last_used = now;
  if (p.up) {
    out.send(peer, std::move(message));
  } else if (p.pending.size() < kPendingMessagesMax) {
    p.pending.push_back(std::move(message));
  } else {
    ++stats_.messages_dropped;
  }
}

void Connections::open(Time now, const NodeName& peer, const std::string& address, Actions& out) {
  auto [it, inserted] = peers_.try_emplace(peer);
  it->second.last_used = now;
  if (inserted) {
    it->second.address = address;
    ++stats_.connects_requested;
    out.connect(peer, address);
  }
  out.wake_no_later_than(now + idle_timeout_);
}

void Connections::pin(const NodeName& peer, bool pinned) {
  if (auto it = peers_.find(peer); it != peers_.end()) it->second.pinned = pinned;
}

void Connections::close(const NodeName& peer, Actions& out) {
  auto it = peers_.find(peer);
  if (it == peers_.end()) return;
  stats_.messages_dropped += it->second.pending.size();
  peers_.erase(it);
  out.disconnect(peer);
}

void Connections::on_up(Time now, const NodeName& peer, uint32_t version, Actions& out) {
  Peer& p = peers_[peer];
  p.up = true;
  p.version = version;
  p.last_used = now;
  for (auto& message : p.pending) out.send(peer, std::move(message));
  p.pending.clear();
  out.wake_no_later_than(now + idle_timeout_);
}

void Connections::on_down(const NodeName& peer) {
  auto it = peers_.find(peer);
  if (it == peers_.end()) return;
  stats_.messages_dropped += it->second.pending.size();
  peers_.erase(it);
}

void Connections::tick(Time now, Actions& out) {
  for (auto it = peers_.begin(); it != peers_.end();) {
    const Peer& p = it->second;
    if (!p.pinned && now - p.last_used >= idle_timeout_) {
      ++stats_.idle_closed;
      stats_.messages_dropped += p.pending.size();
      out.disconnect(it->first);
      it = peers_.erase(it);
    } else {
      ++it;
    }
  }
  if (auto next = next_deadline()) out.wake_no_later_than(*next);
}

std::optional<Time> Connections::next_deadline() const {
  std::optional<Time> next;
  for (const auto& [name, p] : peers_) {
    if (p.pinned) continue;
    const Time t = p.last_used + idle_timeout_;
    if (!next || t < *next) next = t;
  }
  return next;
}

bool Connections::is_up(const NodeName& peer) const {
  auto it = peers_.find(peer);
  return it != peers_.end() && it->second.up;
}

uint32_t Connections::version(const NodeName& peer) const {
  auto it = peers_.find(peer);
  return it != peers_.end() && it->second.up ? it->second.version : 0;
}

}  // namespace lashup
