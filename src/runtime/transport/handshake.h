// The connection handshake: the first frame each way on a new connection
// (after TLS). Message type 1 (wire::MessageType::handshake), body:
//   protocol_version: varint  the highest protocol version the sender speaks
//   cluster_id: string (<= 64), node_name: string (<= 255), incarnation: varint
//   then, from version 2 on:
//   protocol_version_min: varint  the lowest version the sender speaks
//   any further fields a later version adds (ignored here).
// A version-1 handshake ends after the incarnation and means "exactly
// version 1": builds that speak only version 1 refuse any byte after it,
// so a node whose highest version is 1 sends exactly that form.
//
// The initiator sends first; the acceptor answers with the version both
// speak as its highest (so its answer to a version-1 node is in the
// version-1 form). Both ends then speak the highest version in both ranges.
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

// The protocol versions a node speaks, both ends included.
struct VersionRange {
  uint32_t min = 0;
  uint32_t max = 0;
};

struct Handshake {
  uint64_t protocol_version = 0;  // the highest version the sender speaks
  std::string cluster_id;
  NodeName node_name;
  Incarnation incarnation = 0;
  // The lowest version the sender speaks; 0 in a version-1 handshake (which
  // means exactly protocol_version).
  uint64_t protocol_version_min = 0;
  bool operator==(const Handshake&) const = default;

  VersionRange versions() const;
};

// The whole message: type then body; the version-1 form when
// protocol_version is 1.
wire::Bytes encode(const Handshake& handshake);

// Decodes a whole message, which must be of type handshake. A version-1
// handshake must end after its incarnation; a later one may carry fields
// after protocol_version_min, which are skipped.
Result<Handshake> decode_handshake(wire::ByteView message);

// Accepts a peer whose cluster id is ours, whose node name is valid and
// whose versions overlap ours; the result is the version the connection
// speaks (the highest in both ranges).
Result<uint32_t> check_handshake(const Handshake& theirs, std::string_view our_cluster_id, VersionRange ours);

}  // namespace lashup::runtime
