// The shape every sans-IO protocol core presents to its host (the libevent
// runtime or the simulator). Inputs are a message, a tick, or a connection
// change, always with the current time; the output is Actions.
//
// Contract for hosts:
//  - call on_start once, before any other input;
//  - call on_tick at or after Actions::wake_at (earlier calls are harmless);
//  - deliver messages from one peer in the order they were sent (TCP);
//  - report every connection change, including a connection that failed to
//    open in answer to a ConnectAction;
//  - before reporting a connection up, tell the protocol version it speaks
//    (on_connection_version): the highest both ends speak. A host that
//    never tells leaves the core to assume its own highest version.
#pragma once

#include <cstdint>
#include <span>

#include "core/common/actions.h"
#include "core/common/ids.h"
#include "core/common/time.h"

namespace lashup {

class ProtocolCore {
 public:
  virtual ~ProtocolCore() = default;
  virtual Actions on_start(Time now) = 0;
  virtual Actions on_message(Time now, const NodeName& from, std::span<const uint8_t> message) = 0;
  virtual Actions on_tick(Time now) = 0;
  virtual Actions on_connection(Time now, const NodeName& peer, bool up) = 0;
  // The highest peer protocol version the core speaks (0: the core has no
  // versions).
  virtual uint32_t protocol_version_max() const { return 0; }
  // The version of the connection to `peer` that the next on_connection(up)
  // reports.
  virtual void on_connection_version(const NodeName& peer, uint32_t version) {
    (void)peer;
    (void)version;
  }
};

}  // namespace lashup
