// The scenario registry: what `lashup-sim --scenario NAME` runs. A scenario
// builds a Simulation, scripts its faults and checks, runs it, and reports
// its figures as one JSON line. Each lives in its own file under
// tests/sim/scenarios/ and registers itself there:
//
//   namespace {
//   ScenarioOutcome run_my_scenario(const ScenarioOptions& options) { ... }
//   const bool registered = register_scenario({
//       .name = "my-scenario",
//       .summary = "100 nodes, one-way partition of 2 nodes, nobody marked dead",
//       .default_nodes = 100,
//       .default_duration = 30s,
//       .params = {{"victims", "nodes on the cut side (default 2)"}},
//       .run = run_my_scenario,
//   });
//   }  // namespace
//
// (Scenario files are compiled into an object library, never a static
// archive, so this static registration is never dropped by the linker.)
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/common/status.h"
#include "core/common/time.h"
#include "json_line.h"

namespace lashup::sim {

struct ScenarioOptions {
  uint32_t nodes = 0;  // already defaulted by the registry when the user gave none
  uint64_t seed = 1;
  Duration duration{0};                                    // idem
  bool trace_hash = false;                                 // the caller wants a "trace_hash" figure
  std::map<std::string, std::string, std::less<>> params;  // --param key=value, validated against ScenarioInfo::params

  // A numeric parameter, or `fallback` when absent; malformed → Status::invalid.
  Result<int64_t> int_param(std::string_view key, int64_t fallback) const;
};

struct ScenarioOutcome {
  bool ok = true;
  std::string failure;  // what failed and when (RunResult::failure), when !ok
  JsonLine figures;     // starts with "scenario", "nodes", "seed"; units last in names
};

struct ScenarioInfo {
  std::string name;
  std::string summary;  // cluster, fault, expected outcome — shown by --list
  uint32_t default_nodes = 100;
  Duration default_duration{60'000'000};
  std::vector<std::pair<std::string, std::string>> params;  // (key, description)
  std::function<ScenarioOutcome(const ScenarioOptions&)> run;
};

// Registers a scenario; returns true so it can initialise a static. A
// duplicate name is a programming error (asserts).
bool register_scenario(ScenarioInfo info);
const ScenarioInfo* find_scenario(std::string_view name);
// Sorted by name.
std::vector<const ScenarioInfo*> all_scenarios();

// The first fields every scenario reports.
JsonLine begin_figures(std::string_view scenario, const ScenarioOptions& options);

}  // namespace lashup::sim
