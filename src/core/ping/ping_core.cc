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
      // A late or forged pong for a probe we no longer wait for is ignored.
      if (pong->sequence < outstanding_base_ || pong->sequence - outstanding_base_ >= outstanding_.size()) return out;
      Outstanding& probe = outstanding_[pong->sequence - outstanding_base_];
      if (probe.answered || peers_[probe.peer].first != from) return out;
      probe.answered = true;
      drop_answered();
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
  const auto index = static_cast<uint32_t>(next_peer_ % peers_.size());
  const auto& peer = peers_[index].first;
  ++next_peer_;
  const uint64_t sequence = next_sequence_++;
  if (outstanding_.empty()) outstanding_base_ = sequence;
  outstanding_.push_back(Outstanding{index, false, now + config_.probe_timeout});
  ++stats_.pings_sent;
  out.send(peer, wire::encode(wire::Ping{sequence, now.count()}));
}

void PingCore::expire_probes(Time now, Actions& out) {
  while (!outstanding_.empty() && outstanding_.front().deadline <= now) {
    if (!outstanding_.front().answered) {
      ++stats_.probes_timed_out;
      out.emit(ProbeTimedOut{peers_[outstanding_.front().peer].first, config_.probe_timeout});
    }
    outstanding_.pop_front();
    ++outstanding_base_;
  }
  drop_answered();
}

void PingCore::drop_answered() {
  while (!outstanding_.empty() && outstanding_.front().answered) {
    outstanding_.pop_front();
    ++outstanding_base_;
  }
}

void PingCore::schedule(Actions& out) const {
  out.wake_no_later_than(next_probe_at_);
  if (!outstanding_.empty()) out.wake_no_later_than(outstanding_.front().deadline);
}

}  // namespace lashup
