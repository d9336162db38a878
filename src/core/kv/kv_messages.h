// What the KV store sends: a delta of one key, as the payload of a
// multicast message on the reserved topic "lashup/kv" (it travels down the
// writer's tree and is repaired like any multicast message).
#pragma once

#include <string>

#include "core/common/status.h"
#include "core/crdt/map.h"
#include "core/wire/codec.h"

namespace lashup::kv {

inline constexpr const char* kDeltaTopic = "lashup/kv";
inline constexpr uint8_t kDeltaVersion = 1;

struct KeyDelta {
  std::string key;
  crdt::Map delta;
};

wire::Bytes encode(const KeyDelta& d);
// Rejects another version, a key over kKeyBytesMax, a malformed map, and
// trailing bytes.
Result<KeyDelta> decode_key_delta(wire::ByteView bytes, const crdt::Limits& limits = {});

}  // namespace lashup::kv
