#include "runtime/transport/handshake.h"

#include "core/wire/message.h"

namespace lashup::runtime {

wire::Bytes encode(const Handshake& handshake) {
  wire::Writer w = wire::begin_message(wire::MessageType::handshake);
  w.varint(handshake.protocol_version);
  w.string(handshake.cluster_id);
  w.string(handshake.node_name);
  w.varint(handshake.incarnation);
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
  if (Status s = r.finish(); !s) return Status::invalid("malformed handshake: " + s.message());
  return h;
}

Status check_handshake(const Handshake& theirs, std::string_view our_cluster_id) {
  if (theirs.protocol_version < wire::kProtocolVersionMin || theirs.protocol_version > wire::kProtocolVersion) {
    return Status::unsupported("peer speaks protocol version " + std::to_string(theirs.protocol_version) +
                               ", we accept " + std::to_string(wire::kProtocolVersionMin) + ".." +
                               std::to_string(wire::kProtocolVersion));
  }
  if (theirs.cluster_id != our_cluster_id) {
    return Status::invalid("peer is in cluster '" + theirs.cluster_id + "', we are in '" + std::string(our_cluster_id) +
                           "'");
  }
  if (Status s = validate_node_name(theirs.node_name); !s) return Status::invalid("peer's " + s.message());
  return Status::ok();
}

}  // namespace lashup::runtime
