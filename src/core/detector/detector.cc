#include "core/detector/detector.h"

#include <algorithm>

#include "core/wire/detector_messages.h"
#include "core/wire/ping_messages.h"

namespace lashup {

namespace {
// Probes in flight at once, all purposes together; indirect requests beyond
// it are refused, so a peer cannot grow this table without bound.
constexpr size_t kOutstandingMax = 4096;
// Sequences per neighbour whose late pong still clears a suspicion.
constexpr size_t kRecentSequencesMax = 16;
}  // namespace

Detector::Detector(DetectorConfig config, Random& random, Connections& connections, DetectorListener& listener)
    : config_(config), random_(random), connections_(connections), listener_(listener) {}

void Detector::add_neighbor(Time now, const wire::PeerRef& peer, Actions& out) {
  auto [it, inserted] = neighbors_.try_emplace(peer.name, peer, config_.rtt_history);
  if (!inserted) return;
  // The first probe goes out at once: it measures a round trip before the
  // neighbour's timeout matters.
  it->second.next_probe_at = now;
  out.wake_no_later_than(now);
  // A neighbour we can talk to again is no longer a link report.
  if (link_reports_.erase(peer.name) > 0) listener_.on_link_reports_changed(now, link_reports(), out);
}

void Detector::remove_neighbor(const NodeName& peer) { neighbors_.erase(peer); }

void Detector::probe_now(Time now, const NodeName& peer, Actions& out) {
  auto it = neighbors_.find(peer);
  if (it == neighbors_.end() || it->second.probe_in_flight) return;
  Neighbor& n = it->second;
  if (n.heartbeats) {
    // Heartbeats would answer only next round: ping it now.
    const Duration timeout = n.rtt.timeout(config_.probe_timeout_min, config_.probe_timeout_max);
    const uint64_t sequence = send_ping(now, n.peer, Purpose::neighbor_probe, timeout, out);
    n.probe_in_flight = true;
    n.recent_sequences.push_back(sequence);
    if (n.recent_sequences.size() > kRecentSequencesMax) n.recent_sequences.pop_front();
    return;
  }
  n.next_probe_at = now;
  out.wake_no_later_than(now);
}

void Detector::health_check(Time now, const wire::PeerRef& peer, uint64_t request_id, Actions& out) {
  ++stats_.health_checks;
  Duration timeout = config_.probe_timeout_max;
  if (auto it = neighbors_.find(peer.name); it != neighbors_.end()) {
    timeout = it->second.rtt.timeout(config_.probe_timeout_min, config_.probe_timeout_max);
  }
  send_ping(now, peer, Purpose::health_check, timeout, out, {}, request_id);
}

bool Detector::handle(Time now, const NodeName& from, wire::MessageType type, wire::Reader& body, Actions& out) {
  using wire::MessageType;
  switch (type) {
    case MessageType::ping: {
      auto ping = wire::decode_ping(body);
      if (!ping) return false;
      connections_.send(now, from, std::string(), wire::encode(wire::Pong{ping->sequence, ping->sent_at_us}), out);
      return true;
    }
    case MessageType::pong: {
      auto pong = wire::decode_pong(body);
      if (!pong) return false;
      on_pong(now, from, pong->sequence, pong->sent_at_us, out);
      return true;
    }
    case MessageType::heartbeat: {
      auto beat = wire::decode_heartbeat(body);
      if (!beat) return false;
      on_heartbeat(now, from, *beat, out);
      return true;
    }
    case MessageType::probe_request: {
      auto request = wire::decode_probe_request(body);
      if (!request) return false;
      if (outstanding_.size() >= kOutstandingMax) return true;  // overloaded: let the requester time out
      ++stats_.indirect_requests_served;
      send_ping(now, request->target, Purpose::indirect_probe, config_.suspicion_timeout, out, from,
                request->sequence);
      return true;
    }
    case MessageType::probe_ack: {
      auto ack = wire::decode_probe_ack(body);
      if (!ack) return false;
      auto it = neighbors_.find(ack->target);
      if (it != neighbors_.end() && it->second.suspect_since && it->second.indirect_sequence == ack->sequence) {
        ++stats_.indirect_acks_received;
        it->second.reached_indirectly = true;
      }
      return true;
    }
    default:
      return false;
  }
}

void Detector::tick(Time now, Actions& out) {
  // Expired probes.
  for (auto it = outstanding_.begin(); it != outstanding_.end();) {
    Outstanding& o = it->second;
    if (o.deadline > now) {
      ++it;
      continue;
    }
    switch (o.purpose) {
      case Purpose::neighbor_probe:
        if (auto n = neighbors_.find(o.target); n != neighbors_.end()) {
          n->second.probe_in_flight = false;
          ++stats_.probes_missed;
          suspect(now, n->second, out);
        }
        break;
      case Purpose::health_check:
        out.emit(HealthCheckResult{o.target, false, Duration(0), o.request_id});
        break;
      case Purpose::indirect_probe:
      case Purpose::link_recheck:
        break;
    }
    it = outstanding_.erase(it);
  }

  // A second round of indirect probes halfway through a suspicion, through
  // other helpers: the first ones may have been cut off too (a partition
  // often takes out several neighbours at once).
  for (auto& [name, n] : neighbors_) {
    if (n.suspect_since && !n.reached_indirectly && !n.second_round_sent &&
        now >= *n.suspect_since + config_.suspicion_timeout / 2) {
      n.second_round_sent = true;
      ask_helpers(now, n, out);
    }
  }

  decide(now, out);

  // Regular probes: heartbeats on version-2 connections, pings otherwise.
  for (auto& [name, n] : neighbors_) {
    const bool heartbeats = connections_.version(name) >= 2;
    if (heartbeats != n.heartbeats) {
      n.heartbeats = heartbeats;
      if (heartbeats) {
        // A fresh start: the deadlines count from the first heartbeat.
        n.next_beat_at = now;
        n.last_heard_at = now;
        n.last_echoed_at = now;
      } else {
        n.next_probe_at = now;
      }
    }
    if (n.heartbeats) {
      tick_heartbeats(now, n, out);
    } else {
      if (now >= n.next_probe_at && !n.probe_in_flight) {
        const Duration timeout = n.rtt.timeout(config_.probe_timeout_min, config_.probe_timeout_max);
        const uint64_t sequence = send_ping(now, n.peer, Purpose::neighbor_probe, timeout, out);
        n.probe_in_flight = true;
        n.recent_sequences.push_back(sequence);
        if (n.recent_sequences.size() > kRecentSequencesMax) n.recent_sequences.pop_front();
        n.next_probe_at = next_round(now, config_.probe_interval);
      }
      // While a probe is in flight its deadline (below) is the next wake-up;
      // the next probe goes out once it is answered or timed out.
      if (!n.probe_in_flight) out.wake_no_later_than(n.next_probe_at);
    }
    if (n.suspect_since) {
      if (!n.second_round_sent && !n.reached_indirectly) {
        out.wake_no_later_than(*n.suspect_since + config_.suspicion_timeout / 2);
      }
      out.wake_no_later_than(*n.suspect_since + config_.suspicion_timeout);
    }
  }

  // Link reports: try the direct link again now and then.
  for (auto& [name, report] : link_reports_) {
    if (now >= report.next_recheck_at) {
      report.next_recheck_at = now + random_.jittered(config_.link_recheck_interval, 0.2);
      send_ping(now, report.peer, Purpose::link_recheck, config_.probe_timeout_max, out);
    }
    out.wake_no_later_than(report.next_recheck_at);
  }
  for (const auto& [sequence, o] : outstanding_) out.wake_no_later_than(o.deadline);
}

void Detector::tick_heartbeats(Time now, Neighbor& n, Actions& out) {
  if (now >= n.next_beat_at) {
    send_heartbeat(now, n, out);
    n.next_beat_at = next_round(now, config_.heartbeat_interval);
  }
  out.wake_no_later_than(n.next_beat_at);
  if (n.suspect_since) return;
  const Time deadline = heartbeat_deadline(n);
  if (now >= deadline) {
    ++stats_.probes_missed;
    suspect(now, n, out);
  } else {
    out.wake_no_later_than(deadline);
  }
}

Time Detector::heartbeat_deadline(const Neighbor& n) const {
  const Duration timeout = n.rtt.timeout(config_.heartbeat_timeout_min, config_.probe_timeout_max);
  // Its heartbeats arrive a round apart, give or take the variation of the
  // delay, which the timeout covers; before any round trip was measured the
  // floor does (a round trip of unknown length delays each heartbeat alike).
  const Duration silence = n.rtt.size() > 0 ? timeout : config_.heartbeat_timeout_min;
  // Its echo of ours rides on its next heartbeat: up to a round and a round
  // trip after ours.
  return std::min(n.last_heard_at + config_.heartbeat_interval + silence,
                  n.last_echoed_at + 2 * config_.heartbeat_interval + timeout);
}

void Detector::send_heartbeat(Time now, Neighbor& n, Actions& out) {
  wire::Heartbeat beat;
  beat.sent_at_us = now.count();
  if (n.heard) {
    beat.has_echo = true;
    beat.echo_sent_at_us = n.heard_sent_at_us;
    beat.echo_held_us = static_cast<uint64_t>(std::max<int64_t>(0, (now - n.heard_at).count()));
  }
  ++stats_.probes_sent;
  connections_.send(now, n.peer, wire::encode(beat), out);
}

void Detector::on_heartbeat(Time now, const NodeName& from, const wire::Heartbeat& beat, Actions& out) {
  ++stats_.heartbeats_received;
  auto it = neighbors_.find(from);
  if ((it == neighbors_.end() || !it->second.heartbeats) && !beat.reply) {
    // It counts us as its neighbour and we do not (views differ for a
    // moment), or our next tick has not switched it to heartbeats yet:
    // answer at once, as a pong, so it does not suspect us.
    wire::Heartbeat answer;
    answer.sent_at_us = now.count();
    answer.reply = true;
    answer.has_echo = true;
    answer.echo_sent_at_us = beat.sent_at_us;
    connections_.send(now, from, std::string(), wire::encode(answer), out);
  }
  if (it == neighbors_.end()) return;
  Neighbor& n = it->second;
  n.last_heard_at = now;
  n.heard = true;
  n.heard_sent_at_us = beat.sent_at_us;
  n.heard_at = now;
  if (beat.has_echo) {
    const Time echoed(beat.echo_sent_at_us);
    // An echo from the future, or of a heartbeat older than the latest
    // echoed, is ignored.
    if (echoed <= now && echoed >= n.last_echoed_at) {
      n.last_echoed_at = echoed;
      const Duration round_trip = now - echoed - Duration(static_cast<int64_t>(std::min<uint64_t>(
                                                      beat.echo_held_us, static_cast<uint64_t>(INT64_MAX))));
      if (round_trip >= Duration(0)) n.rtt.add(round_trip);
    }
  }
  if (!n.heartbeats) return;
  if (now < heartbeat_deadline(n)) {
    n.last_answer_at = now;
    if (n.suspect_since) {
      n.suspect_since.reset();
      n.reached_indirectly = false;
      ++stats_.suspicions_cleared;
    }
  }
}

Time Detector::next_round(Time now, Duration round) const {
  const int64_t interval = std::max<int64_t>(round.count(), 1);
  const int64_t shifted = now.count() + config_.round_offset.count();
  const int64_t into = ((shifted % interval) + interval) % interval;
  return now + Duration(interval - into);
}

bool Detector::has_link_report(const NodeName& target) const { return link_reports_.count(target) > 0; }

void Detector::add_link_report(Time now, const wire::PeerRef& peer, Actions& out) {
  if (link_reports_.count(peer.name) > 0 || link_reports_.size() >= config_.link_reports_max) return;
  link_reports_[peer.name] = LinkReport{peer, now + random_.jittered(config_.link_recheck_interval, 0.2)};
  out.wake_no_later_than(link_reports_[peer.name].next_recheck_at);
  listener_.on_link_reports_changed(now, link_reports(), out);
}

std::vector<NodeName> Detector::link_reports() const {
  std::vector<NodeName> names;
  names.reserve(link_reports_.size());
  for (const auto& [name, report] : link_reports_) names.push_back(name);
  std::sort(names.begin(), names.end());
  return names;
}

bool Detector::is_suspect(const NodeName& peer) const {
  auto it = neighbors_.find(peer);
  return it != neighbors_.end() && it->second.suspect_since.has_value();
}

Duration Detector::probe_timeout(const NodeName& peer) const {
  auto it = neighbors_.find(peer);
  if (it == neighbors_.end()) return config_.probe_timeout_max;
  return it->second.rtt.timeout(config_.probe_timeout_min, config_.probe_timeout_max);
}

uint64_t Detector::send_ping(Time now, const wire::PeerRef& target, Purpose purpose, Duration timeout, Actions& out,
                             NodeName requester, uint64_t request_id) {
  const uint64_t sequence = next_sequence_++;
  outstanding_.emplace(sequence,
                       Outstanding{purpose, target.name, now, now + timeout, std::move(requester), request_id});
  ++stats_.probes_sent;
  connections_.send(now, target, wire::encode(wire::Ping{sequence, now.count()}), out);
  out.wake_no_later_than(now + timeout);
  return sequence;
}

void Detector::on_pong(Time now, const NodeName& from, uint64_t sequence, int64_t sent_at_us, Actions& out) {
  auto it = outstanding_.find(sequence);
  if (it == outstanding_.end() || it->second.target != from) {
    // A late pong (its probe timed out) from a suspect still proves that
    // it is alive and that the link works both ways.
    auto n = neighbors_.find(from);
    if (n != neighbors_.end() && n->second.suspect_since &&
        std::find(n->second.recent_sequences.begin(), n->second.recent_sequences.end(), sequence) !=
            n->second.recent_sequences.end()) {
      n->second.suspect_since.reset();
      n->second.reached_indirectly = false;
      n->second.last_answer_at = now;
      ++stats_.suspicions_cleared;
      n->second.rtt.add(now - Time(sent_at_us));
    }
    return;
  }
  const Outstanding o = std::move(it->second);
  outstanding_.erase(it);
  const Duration round_trip = now - o.sent_at;
  switch (o.purpose) {
    case Purpose::neighbor_probe:
      if (auto n = neighbors_.find(from); n != neighbors_.end()) {
        n->second.probe_in_flight = false;
        n->second.last_answer_at = now;
        out.wake_no_later_than(std::max(now, n->second.next_probe_at));
        n->second.rtt.add(round_trip);
        if (n->second.suspect_since) ++stats_.suspicions_cleared;
        n->second.suspect_since.reset();
        n->second.reached_indirectly = false;
      }
      break;
    case Purpose::indirect_probe:
      connections_.send(now, o.requester, std::string(), wire::encode(wire::ProbeAck{o.target, o.request_id}), out);
      break;
    case Purpose::health_check:
      out.emit(HealthCheckResult{o.target, true, round_trip, o.request_id});
      break;
    case Purpose::link_recheck:
      if (link_reports_.erase(from) > 0) listener_.on_link_reports_changed(now, link_reports(), out);
      break;
  }
}

void Detector::suspect(Time now, Neighbor& n, Actions& out) {
  if (n.suspect_since) return;
  n.suspect_since = now;
  n.reached_indirectly = false;
  n.indirect_sequence = next_sequence_++;
  n.helpers_asked.clear();
  n.second_round_sent = false;
  out.wake_no_later_than(now + config_.suspicion_timeout / 2);
  out.wake_no_later_than(now + config_.suspicion_timeout);
  ask_helpers(now, n, out);
}

bool Detector::healthy(const Neighbor& n, Time now) const {
  // Answered recently, and not suspected itself: a request sent through it
  // is likely to arrive.
  return !n.suspect_since && now - n.last_answer_at <= 2 * interval(n) + config_.probe_timeout_min;
}

void Detector::ask_helpers(Time now, Neighbor& n, Actions& out) {
  std::vector<const Neighbor*> healthy_helpers;
  std::vector<const Neighbor*> other_helpers;
  for (const auto& [name, other] : neighbors_) {
    if (name == n.peer.name || other.suspect_since) continue;
    if (std::find(n.helpers_asked.begin(), n.helpers_asked.end(), name) != n.helpers_asked.end()) continue;
    (healthy(other, now) ? healthy_helpers : other_helpers).push_back(&other);
  }
  // unordered_map order is not part of the protocol: sort, then shuffle
  // with the node's seeded random source.
  auto by_name = [](const Neighbor* a, const Neighbor* b) { return a->peer.name < b->peer.name; };
  std::sort(healthy_helpers.begin(), healthy_helpers.end(), by_name);
  std::sort(other_helpers.begin(), other_helpers.end(), by_name);
  random_.shuffle(healthy_helpers);
  random_.shuffle(other_helpers);
  healthy_helpers.insert(healthy_helpers.end(), other_helpers.begin(), other_helpers.end());
  if (healthy_helpers.size() > config_.indirect_probes) healthy_helpers.resize(config_.indirect_probes);
  for (const auto* helper : healthy_helpers) {
    ++stats_.indirect_requests_sent;
    n.helpers_asked.push_back(helper->peer.name);
    connections_.send(now, helper->peer, wire::encode(wire::ProbeRequest{n.peer, n.indirect_sequence}), out);
  }
}

void Detector::decide(Time now, Actions& out) {
  std::vector<NodeName> failed;
  std::vector<wire::PeerRef> broken;
  for (const auto& [name, n] : neighbors_) {
    if (!n.suspect_since || now < *n.suspect_since + config_.suspicion_timeout) continue;
    if (n.reached_indirectly) {
      broken.push_back(n.peer);
    } else {
      failed.push_back(name);
    }
  }
  std::sort(failed.begin(), failed.end());
  std::sort(broken.begin(), broken.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  for (const auto& name : failed) {
    ++stats_.evictions_failed;
    neighbors_.erase(name);
    listener_.on_neighbor_failed(now, name, out);
  }
  bool reports_changed = false;
  for (const auto& peer : broken) {
    ++stats_.evictions_link_broken;
    neighbors_.erase(peer.name);
    if (link_reports_.size() < config_.link_reports_max) {
      link_reports_[peer.name] = LinkReport{peer, now + random_.jittered(config_.link_recheck_interval, 0.2)};
      reports_changed = true;
    }
    listener_.on_link_broken(now, peer.name, out);
  }
  if (reports_changed) listener_.on_link_reports_changed(now, link_reports(), out);
}

}  // namespace lashup
