// lashup-sim: runs a registered scenario for one or more consecutive seeds
// and prints one JSON line of figures per seed on stdout. A failing seed
// also prints "seed=<n> ..." on stderr, so it can be replayed with --seed.
//
// Exit status: 0 all seeds passed, 1 a seed failed, 2 usage error.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>

#include "scenario.h"

namespace {

using lashup::sim::ScenarioInfo;
using lashup::sim::ScenarioOptions;

void print_usage(std::ostream& out) {
  out << "usage: lashup-sim --scenario NAME [--nodes N] [--seed S] [--seeds K] [--duration-s D]\n"
         "                  [--param KEY=VALUE]... [--trace-hash]\n"
         "       lashup-sim --list\n"
         "Runs scenario NAME for seeds S .. S+K-1 (default S=1, K=1) and prints one JSON line per seed.\n"
         "Scenarios:\n";
  for (const ScenarioInfo* info : lashup::sim::all_scenarios()) {
    out << "  " << info->name << " (default " << info->default_nodes << " nodes, "
        << lashup::to_seconds(info->default_duration) << " s): " << info->summary << "\n";
    for (const auto& [key, description] : info->params)
      out << "      --param " << key << "=...  " << description << "\n";
  }
}

int usage_error(const std::string& message) {
  std::cerr << "lashup-sim: " << message << "\n";
  print_usage(std::cerr);
  return 2;
}

std::optional<uint64_t> parse_unsigned(std::string_view text) {
  if (text.empty() || text.size() > 19) return std::nullopt;
  uint64_t value = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<uint64_t>(c - '0');
  }
  return value;
}

}  // namespace

int main(int argc, char** argv) {
  std::string scenario_name;
  std::optional<uint64_t> nodes;
  std::optional<uint64_t> duration_s;
  uint64_t seed = 1;
  uint64_t seeds = 1;
  ScenarioOptions options;

  for (int i = 1; i < argc; ++i) {
    const std::string_view flag = argv[i];
    if (flag == "--list") {
      print_usage(std::cout);
      return 0;
    }
    if (flag == "--help" || flag == "-h") {
      print_usage(std::cout);
      return 0;
    }
    if (flag == "--trace-hash") {
      options.trace_hash = true;
      continue;
    }
    if (i + 1 >= argc) return usage_error("missing value after " + std::string(flag));
    const std::string_view value = argv[++i];
    if (flag == "--scenario") {
      scenario_name = value;
    } else if (flag == "--param") {
      const size_t equals = value.find('=');
      if (equals == std::string_view::npos || equals == 0) return usage_error("--param wants KEY=VALUE");
      options.params[std::string(value.substr(0, equals))] = std::string(value.substr(equals + 1));
    } else {
      const auto number = parse_unsigned(value);
      if (!number)
        return usage_error(std::string(flag) + " wants a non-negative integer, not '" + std::string(value) + "'");
      if (flag == "--nodes") {
        if (*number == 0 || *number > 10'000'000) return usage_error("--nodes must be in 1..10000000");
        nodes = *number;
      } else if (flag == "--seed") {
        seed = *number;
      } else if (flag == "--seeds") {
        if (*number == 0) return usage_error("--seeds must be at least 1");
        seeds = *number;
      } else if (flag == "--duration-s") {
        if (*number == 0 || *number > 86'400 * 365) return usage_error("--duration-s must be in 1..31536000");
        duration_s = *number;
      } else {
        return usage_error("unknown flag " + std::string(flag));
      }
    }
  }
  if (scenario_name.empty()) return usage_error("--scenario is required");
  const ScenarioInfo* info = lashup::sim::find_scenario(scenario_name);
  if (info == nullptr) return usage_error("unknown scenario '" + scenario_name + "'");
  for (const auto& [key, value] : options.params) {
    bool known = false;
    for (const auto& [declared, description] : info->params) known = known || declared == key;
    if (!known) return usage_error("scenario " + info->name + " has no parameter '" + key + "'");
  }

  options.nodes = nodes ? static_cast<uint32_t>(*nodes) : info->default_nodes;
  options.duration =
      duration_s ? lashup::Duration(static_cast<int64_t>(*duration_s) * 1'000'000) : info->default_duration;
  int status = 0;
  for (uint64_t k = 0; k < seeds; ++k) {
    options.seed = seed + k;
    lashup::sim::ScenarioOutcome outcome = info->run(options);
    outcome.figures.add("ok", outcome.ok);
    if (!outcome.ok) outcome.figures.add("failure", outcome.failure);
    std::cout << outcome.figures.str() << "\n" << std::flush;
    if (!outcome.ok) {
      std::cerr << "seed=" << options.seed << " scenario=" << info->name << " failed: " << outcome.failure << "\n"
                << "replay: lashup-sim --scenario " << info->name << " --nodes " << options.nodes << " --seed "
                << options.seed << " --duration-s " << options.duration.count() / 1'000'000;
      for (const auto& [key, value] : options.params) std::cerr << " --param " << key << "=" << value;
      std::cerr << "\n";
      status = 1;
    }
  }
  return status;
}
