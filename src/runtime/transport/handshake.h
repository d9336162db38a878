// The connection handshake: the first frame each way on a new connection
// (after TLS). Message type 1 (wire::MessageType::handshake), body:
//   protocol_version: varint, cluster_id: string (<= 64), node_name: string
//   (<= 255), incarnation: varint.
// Decoding checks syntax and limits only; check_handshake() judges whether we
// accept the peer it describes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/common/ids.h"
#include "core/common/status.h"
#include "core/wire/codec.h"

namespace lashup::runtime {

inline constexpr size_t kClusterIdMaxBytes = 64;

struct Handshake {
  uint64_t protocol_version = 0;
  std::string cluster_id;
  NodeName node_name;
  Incarnation incarnation = 0;
  bool operator==(const Handshake&) const = default;
};

// The whole message: type then body.
wire::Bytes encode(const Handshake& handshake);

// Decodes a whole message, which must be of type handshake with nothing after
// its body.
Result<Handshake> decode_handshake(wire::ByteView message);

// Accepts a peer whose version is in [kProtocolVersionMin, kProtocolVersion],
// whose cluster id is ours and whose node name is valid.
Status check_handshake(const Handshake& theirs, std::string_view our_cluster_id);

}  // namespace lashup::runtime
