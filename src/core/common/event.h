// Events a core reports to the application (through the runtime's event
// queue, or to the simulator's observers).
#pragma once

#include <variant>

#include "core/common/ids.h"
#include "core/common/time.h"

namespace lashup {

// A probe to `peer` was answered after `round_trip`.
struct ProbeAnswered {
  NodeName peer;
  Duration round_trip;
};

// A probe to `peer` was not answered within `timeout`.
struct ProbeTimedOut {
  NodeName peer;
  Duration timeout;
};

using Event = std::variant<ProbeAnswered, ProbeTimedOut>;

}  // namespace lashup
