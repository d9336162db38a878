// What scenario implementations share: the wall clock they report, and the
// common end of every outcome (simulated time, events, wall time; the
// simulation's own failure; the seed in every failure message).
#pragma once

#include <chrono>
#include <string>

#include "scenario.h"
#include "simulation.h"

namespace lashup::sim {

struct WallClock {
  std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
  double ms() const {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  }
};

inline ScenarioOutcome finish_outcome(ScenarioOutcome outcome, const Simulation& sim, const WallClock& wall) {
  outcome.figures.add("sim_seconds", to_seconds(sim.now() - Time(0)))
      .add("events", sim.stats().events)
      .add("wall_ms", wall.ms());
  if (outcome.ok && sim.failed()) {
    outcome.ok = false;
    outcome.failure = sim.result().describe();
  }
  if (!outcome.ok && outcome.failure.find("seed=") == std::string::npos) {
    outcome.failure = "seed=" + std::to_string(sim.seed()) + " " + outcome.failure;
  }
  return outcome;
}

}  // namespace lashup::sim
