// Every message on a connection starts with its type as a varint; the body
// follows, encoded by the message's own codec. The registry of types lives
// here so a number is never used twice. Types are never renumbered: a new
// protocol version may add types, and a receiver rejects a type it does not
// know by closing the connection (it is counted as malformed).
#pragma once

#include <cstdint>

#include "core/common/status.h"
#include "core/wire/codec.h"

namespace lashup::wire {

// Versions of the peer protocol this build speaks. The connection handshake
// carries each side's range and the connection speaks the highest version in
// both (runtime/transport/handshake.h); the cores learn it per connection and
// send a peer only what its version knows. docs/PROTOCOL.md "Versions" lists
// what each version added.
//   1: the first protocol.
//   2: heartbeats between neighbours (MessageType::heartbeat) instead of
//      ping/pong rounds; handshakes carry a version range.
inline constexpr uint32_t kProtocolVersion = 2;
inline constexpr uint32_t kProtocolVersionMin = 1;

enum class MessageType : uint32_t {
  handshake = 1,
  ping = 2,
  pong = 3,
  // Overlay (HyParView).
  join = 4,
  join_reply = 5,
  forward_join = 6,
  neighbor = 7,
  neighbor_reply = 8,
  disconnect = 9,
  shuffle = 10,
  shuffle_reply = 11,
  // Membership.
  member_records = 12,
  member_digest = 13,
  // Failure detector.
  probe_request = 14,
  probe_ack = 15,
  member_pull = 16,
  member_summary = 17,
  // Multicast.
  mc_data = 18,
  mc_announce = 19,
  mc_pull = 20,
  // KV anti-entropy (core/kv/kv_sync.h).
  kv_summary = 21,
  kv_groups = 22,
  kv_buckets = 23,
  kv_keys = 24,
  kv_states = 25,
  // Failure detector, version 2.
  heartbeat = 26,
};

inline constexpr uint32_t kMessageTypeMax = 26;

// Starts a message of the given type.
inline Writer begin_message(MessageType type) {
  Writer w;
  w.varint(static_cast<uint32_t>(type));
  return w;
}

// Reads the type of a message, leaving `reader` at its body.
inline Result<MessageType> read_message_type(Reader& reader) {
  uint64_t raw = 0;
  if (!reader.varint(raw)) return reader.status();
  if (raw == 0 || raw > kMessageTypeMax) return Status::unsupported("unknown message type " + std::to_string(raw));
  return static_cast<MessageType>(raw);
}

}  // namespace lashup::wire
