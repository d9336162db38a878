// Ping and pong: the probe exchange of the ping protocol core (used by the
// simulator's reference scenario) and by the failure detector.
#pragma once

#include <cstdint>

#include "core/common/status.h"
#include "core/wire/codec.h"
#include "core/wire/message.h"

namespace lashup::wire {

struct Ping {
  uint64_t sequence = 0;
  int64_t sent_at_us = 0;  // the sender's clock; echoed untouched in the pong
  bool operator==(const Ping&) const = default;
};

struct Pong {
  uint64_t sequence = 0;
  int64_t sent_at_us = 0;
  bool operator==(const Pong&) const = default;
};

Bytes encode(const Ping& ping);
Bytes encode(const Pong& pong);
// Decode the body that follows the message type.
Result<Ping> decode_ping(Reader& body);
Result<Pong> decode_pong(Reader& body);

}  // namespace lashup::wire
