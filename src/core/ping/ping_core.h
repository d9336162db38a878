// A deliberately small protocol core: every node probes its configured peers
// round-robin and measures round trips. It exists to prove the simulator and
// the runtime against the ProtocolCore contract before the real protocols
// (overlay, membership, detector) arrive, and it is the simulator's `ping`
// scenario and throughput benchmark.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "core/common/protocol_core.h"
#include "core/common/random.h"

namespace lashup {

struct PingConfig {
  Duration probe_interval = 100ms;  // one peer probed per interval, round robin
  Duration probe_timeout = 1000ms;  // a probe unanswered after this is reported lost
};

struct PingStats {
  uint64_t pings_sent = 0;
  uint64_t pongs_received = 0;
  uint64_t probes_timed_out = 0;
  uint64_t malformed_messages = 0;
  int64_t round_trip_us_total = 0;
};

class PingCore final : public ProtocolCore {
 public:
  PingCore(NodeName self, std::vector<std::pair<NodeName, std::string>> peers, PingConfig config, uint64_t seed);

  Actions on_start(Time now) override;
  Actions on_message(Time now, const NodeName& from, std::span<const uint8_t> message) override;
  Actions on_tick(Time now) override;
  Actions on_connection(Time now, const NodeName& peer, bool up) override;

  const PingStats& stats() const { return stats_; }
  const NodeName& name() const { return self_; }

 private:
  struct Outstanding {
    uint32_t peer;  // index into peers_
    bool answered;
    Time deadline;
  };
  void probe_next_peer(Time now, Actions& out);
  void expire_probes(Time now, Actions& out);
  void drop_answered();
  void schedule(Actions& out) const;

  NodeName self_;
  std::vector<std::pair<NodeName, std::string>> peers_;  // (name, address)
  PingConfig config_;
  Random random_;
  PingStats stats_;
  size_t next_peer_ = 0;
  uint64_t next_sequence_ = 1;
  Time next_probe_at_{0};
  // Probes by sequence, from outstanding_base_ on: sequences and deadlines
  // only grow, so the front is always the next to expire. Bounded: one probe
  // per interval, for at most one timeout.
  std::deque<Outstanding> outstanding_;
  uint64_t outstanding_base_ = 1;
};

}  // namespace lashup
