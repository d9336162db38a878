// The failure detector: probes every active neighbour over its connection,
// with a timeout adapted from the neighbour's round-trip history. A missed
// probe makes the neighbour a suspect and asks k other neighbours to probe
// it (SWIM's indirect probes, Das, Gupta, Motivala, DSN 2002). After the
// suspicion timeout:
//  - no answer from anyone: the neighbour failed and is evicted;
//  - others reached it, we did not: the link is broken, the neighbour is
//    alive; it is replaced in the active view and kept in a link report that
//    our membership record carries, so every node sees the asymmetric
//    partition. The report is re-checked directly until the link works.
// Any pong from a suspect, even to an older probe, clears the suspicion: a
// node that stalled and then answered is not evicted.
//
// On a connection that speaks protocol version 2, neighbours exchange one
// heartbeat each way per round (heartbeat_interval) instead of a ping and a
// pong each way: a neighbour is suspected when no heartbeat arrived for an
// interval plus its probe timeout (it hangs, or its link to us is cut), or
// when its heartbeats stopped echoing ours for two intervals plus the
// timeout (our link to it is cut). Half the messages, and each node wakes
// about once per round (docs/DETECTOR.md "Heartbeats").
//
// The original evicted a neighbour on one missed pong (reference §4, §7
// item 17) and could not tell a broken link from a dead node.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <unordered_map>
#include <vector>

#include "core/common/actions.h"
#include "core/common/random.h"
#include "core/detector/rtt_history.h"
#include "core/node/connections.h"
#include "core/wire/detector_messages.h"
#include "core/wire/message.h"
#include "core/wire/peer.h"

namespace lashup {

struct DetectorConfig {
  // Neighbours are probed in rounds, all at once, at the times t with
  // (t + round_offset) a multiple of probe_interval. Hosts whose clocks
  // agree (NTP, or one machine) pass the offset that aligns rounds to their
  // common clock: every node's pings, pongs and timer then fall in one short
  // burst per round, and a node wakes a few times per round instead of once
  // per message (see docs/ARCHITECTURE.md).
  Duration probe_interval = 100ms;
  // Rounds of heartbeats with neighbours on version-2 connections (aligned
  // like probe rounds).
  Duration heartbeat_interval = 250ms;
  Duration round_offset{0};
  Duration probe_timeout_min = 150ms;
  Duration probe_timeout_max = 2000ms;
  // Floor of the time a heartbeat may be late. Lower than the probe
  // timeout's: heartbeats of aligned rounds arrive within a few ms of the
  // round's start, and a late one only starts indirect probes. With the
  // round it bounds the silence before suspicion (250 + 100 ms, as 200 + 150
  // before heartbeats got longer rounds; docs/ARCHITECTURE.md).
  Duration heartbeat_timeout_min = 100ms;
  size_t rtt_history = 16;
  size_t indirect_probes = 3;
  Duration suspicion_timeout = 400ms;
  Duration link_recheck_interval = 2s;
  size_t link_reports_max = 64;
};

class DetectorListener {
 public:
  virtual ~DetectorListener() = default;
  virtual void on_neighbor_failed(Time now, const NodeName& peer, Actions& out) = 0;
  virtual void on_link_broken(Time now, const NodeName& peer, Actions& out) = 0;
  virtual void on_link_reports_changed(Time now, std::vector<NodeName> sorted_targets, Actions& out) = 0;
};

struct DetectorStats {
  uint64_t probes_sent = 0;    // pings and heartbeats to neighbours, pings for others
  uint64_t probes_missed = 0;  // unanswered pings, late heartbeats or echoes
  uint64_t heartbeats_received = 0;
  uint64_t indirect_requests_sent = 0;
  uint64_t indirect_requests_served = 0;
  uint64_t indirect_acks_received = 0;
  uint64_t suspicions_cleared = 0;
  uint64_t evictions_failed = 0;
  uint64_t evictions_link_broken = 0;
  uint64_t health_checks = 0;
};

class Detector {
 public:
  Detector(DetectorConfig config, Random& random, Connections& connections, DetectorListener& listener);

  void add_neighbor(Time now, const wire::PeerRef& peer, Actions& out);
  void remove_neighbor(const NodeName& peer);
  // Probe `peer` now (the cascade: someone else dropped it).
  void probe_now(Time now, const NodeName& peer, Actions& out);
  // Direct probe of any node on behalf of the application.
  void health_check(Time now, const wire::PeerRef& peer, uint64_t request_id, Actions& out);

  bool handle(Time now, const NodeName& from, wire::MessageType type, wire::Reader& body, Actions& out);
  void tick(Time now, Actions& out);

  bool has_link_report(const NodeName& target) const;
  // Records that `peer` cannot be reached directly although it is alive
  // (the caller knows it from membership); re-checked like every report.
  void add_link_report(Time now, const wire::PeerRef& peer, Actions& out);
  std::vector<NodeName> link_reports() const;
  // Drops reports whose target no longer matters (unreachable or left).
  template <typename Predicate>
  void drop_link_reports_if(Time now, Predicate should_drop, Actions& out) {
    bool changed = false;
    for (auto it = link_reports_.begin(); it != link_reports_.end();) {
      if (should_drop(it->first)) {
        it = link_reports_.erase(it);
        changed = true;
      } else {
        ++it;
      }
    }
    if (changed) listener_.on_link_reports_changed(now, link_reports(), out);
  }

  bool is_suspect(const NodeName& peer) const;
  Duration probe_timeout(const NodeName& peer) const;
  const DetectorStats& stats() const { return stats_; }

 private:
  enum class Purpose : uint8_t { neighbor_probe, indirect_probe, health_check, link_recheck };
  struct Outstanding {
    Purpose purpose;
    NodeName target;
    Time sent_at;
    Time deadline;
    NodeName requester;          // indirect_probe
    uint64_t request_id = 0;     // requester's sequence, or health-check id
  };
  struct Neighbor {
    Neighbor(wire::PeerRef p, size_t history) : peer(std::move(p)), rtt(history) {}
    wire::PeerRef peer;
    RttHistory rtt;
    Time next_probe_at{0};
    bool probe_in_flight = false;
    std::optional<Time> suspect_since;
    bool reached_indirectly = false;
    Time last_answer_at{0};
    uint64_t indirect_sequence = 0;
    std::vector<NodeName> helpers_asked;  // during the current suspicion
    bool second_round_sent = false;
    std::deque<uint64_t> recent_sequences;  // probes whose late pong still counts
    // Heartbeats (the connection speaks version 2).
    bool heartbeats = false;
    Time next_beat_at{0};
    Time last_heard_at{0};    // its latest heartbeat arrived
    Time last_echoed_at{0};   // our clock when we sent the latest heartbeat it echoed
    bool heard = false;       // its latest heartbeat, echoed in ours:
    int64_t heard_sent_at_us = 0;
    Time heard_at{0};
  };
  struct LinkReport {
    wire::PeerRef peer;
    Time next_recheck_at{0};
  };

  // The first boundary of a round of `interval` after `now`.
  Time next_round(Time now, Duration interval) const;
  Duration interval(const Neighbor& n) const { return n.heartbeats ? config_.heartbeat_interval : config_.probe_interval; }
  void tick_heartbeats(Time now, Neighbor& n, Actions& out);
  void send_heartbeat(Time now, Neighbor& n, Actions& out);
  void on_heartbeat(Time now, const NodeName& from, const wire::Heartbeat& beat, Actions& out);
  // When a neighbour on heartbeats becomes a suspect unless it is heard from
  // (with an echo of ours) before.
  Time heartbeat_deadline(const Neighbor& n) const;
  uint64_t send_ping(Time now, const wire::PeerRef& target, Purpose purpose, Duration timeout, Actions& out,
                     NodeName requester = {}, uint64_t request_id = 0);
  void on_pong(Time now, const NodeName& from, uint64_t sequence, int64_t sent_at_us, Actions& out);
  void suspect(Time now, Neighbor& n, Actions& out);
  // Asks up to k helpers not asked yet, healthy ones first.
  void ask_helpers(Time now, Neighbor& n, Actions& out);
  bool healthy(const Neighbor& n, Time now) const;
  void decide(Time now, Actions& out);

  DetectorConfig config_;
  Random& random_;
  Connections& connections_;
  DetectorListener& listener_;
  DetectorStats stats_;
  uint64_t next_sequence_ = 1;
  std::unordered_map<NodeName, Neighbor> neighbors_;
  std::unordered_map<uint64_t, Outstanding> outstanding_;
  std::unordered_map<NodeName, LinkReport> link_reports_;
};

}  // namespace lashup
