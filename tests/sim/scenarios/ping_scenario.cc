#include "scenarios/ping_scenario.h"

#include <algorithm>
#include <chrono>
#include <memory>
#include <vector>

#include "core/common/random.h"
#include "scenario.h"

namespace lashup::sim {
namespace {

// Distinct random peers for every node, drawn from the scenario's own
// stream (derived from the seed, separate from the simulation's).
std::vector<std::vector<NodeIndex>> choose_peers(const PingScenarioConfig& config) {
  Random random(config.seed ^ 0x70696e67ULL);  // "ping"
  std::vector<std::vector<NodeIndex>> peers(config.nodes);
  if (config.nodes < 2) return peers;
  const uint32_t most = std::min(config.peers_max, config.nodes - 1);
  const uint32_t least = std::min(config.peers_min, most);
  for (NodeIndex node = 0; node < config.nodes; ++node) {
    const auto count = static_cast<uint32_t>(random.uniform_between(least, most));
    auto& chosen = peers[node];
    while (chosen.size() < count) {
      const auto peer = static_cast<NodeIndex>(random.uniform(config.nodes));
      if (peer == node || std::find(chosen.begin(), chosen.end(), peer) != chosen.end()) continue;
      chosen.push_back(peer);
    }
  }
  return peers;
}

NodeName node_name(NodeIndex node) { return "n" + std::to_string(node); }

}  // namespace

PingScenarioFigures run_ping_scenario(const PingScenarioConfig& config) {
  const auto peers = choose_peers(config);
  // The scenario reads each core's stats at the end; a restart would replace
  // the pointer (this scenario has none, but the factory keeps it right).
  std::vector<PingCore*> cores(config.nodes, nullptr);

  SimConfig sim_config;
  sim_config.nodes = config.nodes;
  sim_config.seed = config.seed;
  sim_config.network = config.network;
  sim_config.trace_hash = config.trace_hash;
  sim_config.name_of = node_name;
  auto factory = [&](const NodeContext& node) -> std::unique_ptr<ProtocolCore> {
    std::vector<std::pair<NodeName, std::string>> peer_list;
    peer_list.reserve(peers[node.index].size());
    for (NodeIndex peer : peers[node.index]) {
      // Addresses are for the runtime; the simulator routes by name.
      peer_list.emplace_back(node_name(peer), node_name(peer) + ":7450");
    }
    auto core = std::make_unique<PingCore>(node.name, std::move(peer_list), config.ping, node.seed);
    cores[node.index] = core.get();
    return core;
  };
  Simulation sim(sim_config, factory);

  const auto wall_start = std::chrono::steady_clock::now();
  sim.start_all();
  PingScenarioFigures figures;
  figures.run = sim.run_for(config.duration);
  figures.wall_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - wall_start).count();

  int64_t round_trip_us_total = 0;
  for (NodeIndex node = 0; node < config.nodes; ++node) {
    if (sim.core(node) == nullptr) continue;
    const PingStats& stats = cores[node]->stats();
    figures.pings_sent += stats.pings_sent;
    figures.pongs_received += stats.pongs_received;
    figures.probes_timed_out += stats.probes_timed_out;
    figures.malformed_messages += stats.malformed_messages;
    round_trip_us_total += stats.round_trip_us_total;
  }
  figures.network = sim.stats();
  figures.trace_hash = sim.trace_hash();
  if (figures.pongs_received > 0) {
    figures.rtt_mean_ms = static_cast<double>(round_trip_us_total) / static_cast<double>(figures.pongs_received) / 1e3;
  }
  return figures;
}

namespace {

ScenarioOutcome run_ping(const ScenarioOptions& options) {
  ScenarioOutcome outcome;
  PingScenarioConfig config;
  config.nodes = options.nodes;
  config.seed = options.seed;
  config.duration = options.duration;
  config.trace_hash = options.trace_hash;
  const auto peers_min = options.int_param("peers_min", config.peers_min);
  const auto peers_max = options.int_param("peers_max", config.peers_max);
  const auto interval_ms = options.int_param("probe_interval_ms", to_ms(config.ping.probe_interval));
  const auto latency_us = options.int_param("latency_base_us", config.network.latency.base.count());
  const auto jitter_us = options.int_param("latency_jitter_us", config.network.latency.jitter.count());
  for (const auto* param : {&peers_min, &peers_max, &interval_ms, &latency_us, &jitter_us}) {
    if (!*param) {
      outcome.ok = false;
      outcome.failure = param->status().message();
      outcome.figures = begin_figures("ping", options);
      return outcome;
    }
  }
  config.peers_min = static_cast<uint32_t>(std::clamp<int64_t>(*peers_min, 0, 1000));
  config.peers_max = static_cast<uint32_t>(std::clamp<int64_t>(*peers_max, *peers_min, 1000));
  config.ping.probe_interval = from_ms(std::max<int64_t>(*interval_ms, 1));
  config.network.latency.base = Duration(std::max<int64_t>(*latency_us, 1));
  config.network.latency.jitter = Duration(std::max<int64_t>(*jitter_us, 0));

  const PingScenarioFigures figures = run_ping_scenario(config);
  const double wall_s = figures.wall_ms / 1e3;
  outcome.figures = begin_figures("ping", options);
  outcome.figures.add("sim_seconds", to_seconds(options.duration))
      .add("events", figures.network.events)
      .add("wall_ms", figures.wall_ms)
      .add("events_per_s", wall_s > 0 ? static_cast<double>(figures.network.events) / wall_s : 0.0)
      .add("pings_sent", figures.pings_sent)
      .add("pongs_received", figures.pongs_received)
      .add("probes_timed_out", figures.probes_timed_out)
      .add("malformed_messages", figures.malformed_messages)
      .add("rtt_mean_ms", figures.rtt_mean_ms)
      .add("messages_delivered", figures.network.messages_delivered)
      .add("messages_dropped", figures.network.dropped_partition + figures.network.dropped_queue_full +
                                   figures.network.dropped_no_connection + figures.network.dropped_closed +
                                   figures.network.dropped_node_down);
  if (options.trace_hash) outcome.figures.add("trace_hash", std::to_string(figures.trace_hash));
  outcome.ok = figures.run.ok;
  outcome.failure = figures.run.failure;
  // Nothing fails in this scenario: a lost probe or a malformed message is a simulator bug.
  if (outcome.ok && (figures.probes_timed_out > 0 || figures.malformed_messages > 0)) {
    outcome.ok = false;
    outcome.failure = "probes timed out or messages were malformed on a healthy network";
  }
  return outcome;
}

const bool registered = register_scenario({
    .name = "ping",
    .summary = "N nodes, each pinging 4-8 random peers every 100 ms on a healthy LAN; every probe answered",
    .default_nodes = 1000,
    .default_duration = 60s,
    .params = {{"peers_min", "fewest peers per node (default 4)"},
               {"peers_max", "most peers per node (default 8)"},
               {"probe_interval_ms", "one probe per interval per node (default 100)"},
               {"latency_base_us", "one-way link latency, fixed part (default 1000)"},
               {"latency_jitter_us", "one-way link latency, uniform extra (default 500)"}},
    .run = run_ping,
});

}  // namespace
}  // namespace lashup::sim
