// Indirect probes: a node whose probe of `target` went unanswered asks other
// nodes to probe it (SWIM's ping-req), so a broken link is told apart from a
// dead node.
#pragma once

#include <cstdint>

#include "core/common/status.h"
#include "core/wire/codec.h"
#include "core/wire/message.h"
#include "core/wire/peer.h"

namespace lashup::wire {

struct ProbeRequest {
  PeerRef target;
  uint64_t sequence = 0;  // the requester's, echoed in the ack
  bool operator==(const ProbeRequest&) const = default;
};

// The helper reached `target` on the requester's behalf.
struct ProbeAck {
  NodeName target;
  uint64_t sequence = 0;
  bool operator==(const ProbeAck&) const = default;
};

Bytes encode(const ProbeRequest& m);
Bytes encode(const ProbeAck& m);
Result<ProbeRequest> decode_probe_request(Reader& body);
Result<ProbeAck> decode_probe_ack(Reader& body);

}  // namespace lashup::wire
