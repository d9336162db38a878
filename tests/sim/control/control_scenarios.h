// Building blocks of the control-plane scenarios, shared with their tests.
#pragma once

#include <optional>
#include <string>

#include "control/control_cluster.h"

namespace lashup::sim {

struct BootstrapFigures {
  std::optional<Time> converged_at;
  double symmetric_ratio = 0;
  uint32_t components = 0;
};

// Starts every node and runs until the cluster converges or `limit`.
BootstrapFigures run_bootstrap(ControlCluster& cluster, Duration limit);

struct AsymmetricFigures {
  uint64_t nodes_marked_failed = 0;
  uint64_t false_evictions = 0;
  std::optional<Duration> link_reports_at;
  uint32_t components = 0;
  std::string failure;
};

AsymmetricFigures run_asymmetric_partition(uint64_t seed, bool one_way, Duration limit);

}  // namespace lashup::sim
