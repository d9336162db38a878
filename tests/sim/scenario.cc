#include "scenario.h"

#include <cassert>
#include <charconv>
#include <memory>

namespace lashup::sim {
namespace {

// A function-local static: registrations run during static initialisation
// of other translation units, in no particular order.
std::map<std::string, std::unique_ptr<ScenarioInfo>, std::less<>>& registry() {
  static std::map<std::string, std::unique_ptr<ScenarioInfo>, std::less<>> scenarios;
  return scenarios;
}

}  // namespace

Result<int64_t> ScenarioOptions::int_param(std::string_view key, int64_t fallback) const {
  const auto found = params.find(key);
  if (found == params.end()) return fallback;
  const std::string& text = found->second;
  int64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) {
    return Status::invalid("parameter " + std::string(key) + " is not an integer: '" + text + "'");
  }
  return value;
}

bool register_scenario(ScenarioInfo info) {
  assert(info.run && !info.name.empty());
  std::string name = info.name;
  const bool inserted = registry().emplace(std::move(name), std::make_unique<ScenarioInfo>(std::move(info))).second;
  assert(inserted && "two scenarios share a name");
  return inserted;
}

const ScenarioInfo* find_scenario(std::string_view name) {
  const auto found = registry().find(name);
  return found == registry().end() ? nullptr : found->second.get();
}

std::vector<const ScenarioInfo*> all_scenarios() {
  std::vector<const ScenarioInfo*> out;
  for (const auto& [name, info] : registry()) out.push_back(info.get());
  return out;
}

JsonLine begin_figures(std::string_view scenario, const ScenarioOptions& options) {
  JsonLine line;
  line.add("scenario", scenario).add("nodes", options.nodes).add("seed", options.seed);
  return line;
}

}  // namespace lashup::sim
