#include "runtime/transport/handshake.h"

#include <algorithm>

#include "core/wire/message.h"

namespace lashup::runtime {

VersionRange Handshake::versions() const {
  const uint64_t low = protocol_version_min == 0 ? protocol_version : protocol_version_min;
  return VersionRange{static_cast<uint32_t>(std::min<uint64_t>(low, UINT32_MAX)),
                      static_cast<uint32_t>(std::min<uint64_t>(protocol_version, UINT32_MAX))};
}

wire::Bytes encode(const Handshake& handshake) {
  wire::Writer w = wire::begin_message(wire::MessageType::handshake);
  w.varint(handshake.protocol_version);
  w.string(handshake.cluster_id);
  w.string(handshake.node_name);
  w.varint(handshake.incarnation);
  if (handshake.protocol_version >= 2) {
    w.varint(handshake.protocol_version_min == 0 ? handshake.protocol_version : handshake.protocol_version_min);
  }
  return w.take();
}

Result<Handshake> decode_handshake(wire::ByteView message) {
  wire::Reader r(message);
  Result<wire::MessageType> type = wire::read_message_type(r);
  if (!type) return type.status();
  if (*type != wire::MessageType::handshake) {
    return Status::invalid("first message is of type " + std::to_string(static_cast<uint32_t>(*type)) +
                           ", not a handshake");
  }
  Handshake h;
  r.varint(h.protocol_version);
  r.string(h.cluster_id, kClusterIdMaxBytes);
  r.string(h.node_name, kNodeNameMaxBytes);
  r.varint(h.incarnation);
  if (r.ok() && h.protocol_version >= 2) {
    r.varint(h.protocol_version_min);
    if (r.ok() && (h.protocol_version_min == 0 || h.protocol_version_min > h.protocol_version)) {
      r.fail("protocol_version_min " + std::to_string(h.protocol_version_min) + " outside 1.." +
             std::to_string(h.protocol_version));
    }
    r.skip_rest();  // fields of later versions
  }
  if (Status s = r.finish(); !s) return Status::invalid("malformed handshake: " + s.message());
  return h;
}

Result<uint32_t> check_handshake(const Handshake& theirs, std::string_view our_cluster_id, VersionRange ours) {
  const VersionRange their = theirs.versions();
  const uint32_t agreed = std::min(ours.max, their.max);
  if (agreed < std::max(ours.min, their.min)) {
    return Status::unsupported("peer speaks protocol versions " + std::to_string(their.min) + ".." +
                               std::to_string(their.max) + ", we speak " + std::to_string(ours.min) + ".." +
                               std::to_string(ours.max));
  }
  if (theirs.cluster_id != our_cluster_id) {
    return Status::invalid("peer is in cluster '" + theirs.cluster_id + "', we are in '" + std::string(our_cluster_id) +
                           "'");
  }
  if (Status s = validate_node_name(theirs.node_name); !s) return Status::invalid("peer's " + s.message());
  return agreed;
}

}  // namespace lashup::runtime
