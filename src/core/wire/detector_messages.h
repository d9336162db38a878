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

// Protocol version 2: neighbours on a version-2 connection send each other
// one heartbeat per round instead of a ping and a pong each way. A
// heartbeat proves that its sender is alive and its link to us works; its
// echo of our latest heartbeat proves that our link to it works too and
// gives the round trip (now - echo_sent_at_us - echo_held_us).
struct Heartbeat {
  int64_t sent_at_us = 0;  // the sender's clock; echoed untouched
  // An answer to a heartbeat from a node that is not the sender's
  // neighbour (views differ for a moment); never answered itself.
  bool reply = false;
  bool has_echo = false;   // false until the sender heard a heartbeat from us
  int64_t echo_sent_at_us = 0;  // sent_at_us of the latest heartbeat it received from us
  uint64_t echo_held_us = 0;    // from receiving that heartbeat to sending this one
  bool operator==(const Heartbeat&) const = default;
};

Bytes encode(const ProbeRequest& m);
Bytes encode(const ProbeAck& m);
Bytes encode(const Heartbeat& m);
Result<ProbeRequest> decode_probe_request(Reader& body);
Result<ProbeAck> decode_probe_ack(Reader& body);
Result<Heartbeat> decode_heartbeat(Reader& body);

}  // namespace lashup::wire
