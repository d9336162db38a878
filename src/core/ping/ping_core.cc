#include "core/ping/ping_core.h"

#include <algorithm>

#include "core/wire/message.h"
#include "core/wire/ping_messages.h"

namespace lashup {

PingCore::PingCore(NodeName self, std::vector<std::pair<NodeName, std::string>> peers, PingConfig config,
                   uint64_t seed)
    : self_(std::move(self)), peers_(std::move(peers)), config_(config), random_(seed) {}

Actions PingCore::on_start(Time now) {
  Actions out;
  for (const auto& [name, address] : peers_) out.connect(name, address);
  // Nodes started together must not probe in lockstep.
  next_probe_at_ = now + Duration(random_.uniform(static_cast<uint64_t>(config_.probe_interval.count())));
  schedule(out);
  return out;
}

Actions PingCore::on_message(Time now, const NodeName& from, std::span<const uint8_t> message) {
  Actions out;
  wire::Reader reader(message);
  auto type = wire::read_message_type(reader);
  if (!type) {
    ++stats_.malformed_messages;
    out.disconnect(from);
    return out;
  }
  switch (*type) {
    case wire::MessageType::ping: {
      auto ping = wire::decode_ping(reader);
      if (!ping) break;
      out.send(from, wire::encode(wire::Pong{ping->sequence, ping->sent_at_us}));
      return out;
    }
    case wire::MessageType::pong: {
      auto pong = wire::decode_pong(reader);
      if (!pong) break;
      auto it = outstanding_.find(pong->sequence);
      // A late or forged pong for a probe we no longer wait for is ignored.
      if (it == outstanding_.end() || it->second.peer != from) return out;
      outstanding_.erase(it);
      const Duration round_trip = now - Time(pong->sent_at_us);
      ++stats_.pongs_received;
      stats_.round_trip_us_total += round_trip.count();
      out.emit(ProbeAnswered{from, round_trip});
      return out;
    }
    default:
      break;
  }
  ++stats_.malformed_messages;
  out.disconnect(from);
  return out;
}

Actions PingCore::on_tick(Time now) {
  Actions out;
  expire_probes(now, out);
  if (now >= next_probe_at_) {
    probe_next_peer(now, out);
    next_probe_at_ = now + random_.jittered(config_.probe_interval, 0.1);
  }
  schedule(out);
  return out;
}

Actions PingCore::on_connection(Time, const NodeName&, bool) { return {}; }

void PingCore::probe_next_peer(Time now, Actions& out) {
  if (peers_.empty()) return;
  const auto& peer = peers_[next_peer_ % peers_.size()].first;
  ++next_peer_;
  const uint64_t sequence = next_sequence_++;
  outstanding_.emplace(sequence, Outstanding{peer, now + config_.probe_timeout});
  ++stats_.pings_sent;
  out.send(peer, wire::encode(wire::Ping{sequence, now.count()}));
}

void PingCore::expire_probes(Time now, Actions& out) {
  for (auto it = outstanding_.begin(); it != outstanding_.end();) {
    if (it->second.deadline <= now) {
      ++stats_.probes_timed_out;
      out.emit(ProbeTimedOut{it->second.peer, config_.probe_timeout});
      it = outstanding_.erase(it);
    } else {
      ++it;
    }
  }
}

void PingCore::schedule(Actions& out) const {
  out.wake_no_later_than(next_probe_at_);
  for (const auto& [sequence, probe] : outstanding_) out.wake_no_later_than(probe.deadline);
}

}  // namespace lashup
