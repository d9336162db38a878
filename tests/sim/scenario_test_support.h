// Runs a registered scenario from a gtest at a reduced size.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <string>

#include "scenario.h"

namespace lashup::sim {

inline ScenarioOutcome run_scenario(const std::string& name, uint32_t nodes, uint64_t seed,
                                    std::map<std::string, std::string, std::less<>> params = {},
                                    std::optional<Duration> duration = std::nullopt) {
  const ScenarioInfo* info = find_scenario(name);
  EXPECT_NE(info, nullptr) << name;
  if (info == nullptr) return {};
  ScenarioOptions options;
  options.nodes = nodes;
  options.seed = seed;
  options.duration = duration.value_or(info->default_duration);
  options.params = std::move(params);
  return info->run(options);
}

}  // namespace lashup::sim
