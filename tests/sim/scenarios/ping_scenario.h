// The `ping` scenario: N nodes running PingCore, each probing a few random
// peers round robin. Its purpose is to prove the simulator against the
// ProtocolCore contract (every probe is answered when nothing fails) and to
// measure the simulator's own throughput (events per wall-clock second).
#pragma once

#include <cstdint>

#include "core/ping/ping_core.h"
#include "simulation.h"

namespace lashup::sim {

struct PingScenarioConfig {
  uint32_t nodes = 200;
  uint64_t seed = 1;
  Duration duration{60'000'000};
  // Each node probes a uniform number of distinct random peers in [peers_min, peers_max].
  uint32_t peers_min = 4;
  uint32_t peers_max = 8;
  PingConfig ping;
  NetworkConfig network;
  bool trace_hash = false;
};

struct PingScenarioFigures {
  RunResult run;
  SimStats network;
  uint64_t trace_hash = 0;
  double wall_ms = 0;
  uint64_t pings_sent = 0;
  uint64_t pongs_received = 0;
  uint64_t probes_timed_out = 0;
  uint64_t malformed_messages = 0;
  double rtt_mean_ms = 0;
};

PingScenarioFigures run_ping_scenario(const PingScenarioConfig& config);

}  // namespace lashup::sim
