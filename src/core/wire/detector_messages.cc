#include "core/wire/detector_messages.h"

namespace lashup::wire {

Bytes encode(const ProbeRequest& m) {
  Writer w = begin_message(MessageType::probe_request);
  write_peer(w, m.target);
  w.varint(m.sequence);
  return w.take();
}

Bytes encode(const ProbeAck& m) {
  Writer w = begin_message(MessageType::probe_ack);
  w.string(m.target);
  w.varint(m.sequence);
  return w.take();
}

Bytes encode(const Heartbeat& m) {
  Writer w = begin_message(MessageType::heartbeat);
  w.svarint(m.sent_at_us);
  w.boolean(m.reply);
  w.boolean(m.has_echo);
  if (m.has_echo) {
    w.svarint(m.echo_sent_at_us);
    w.varint(m.echo_held_us);
  }
  return w.take();
}

Result<ProbeRequest> decode_probe_request(Reader& body) {
  ProbeRequest m;
  read_peer(body, m.target);
  body.varint(m.sequence);
  if (Status s = body.finish(); !s) return s;
  return m;
}

Result<ProbeAck> decode_probe_ack(Reader& body) {
  ProbeAck m;
  if (body.string(m.target, kNodeNameMaxBytes)) {
    if (Status s = validate_node_name(m.target); !s) body.fail(s.message());
  }
  body.varint(m.sequence);
  if (Status s = body.finish(); !s) return s;
  return m;
}

Result<Heartbeat> decode_heartbeat(Reader& body) {
  Heartbeat m;
  body.svarint(m.sent_at_us);
  body.boolean(m.reply);
  body.boolean(m.has_echo);
  if (m.has_echo) {
    body.svarint(m.echo_sent_at_us);
    body.varint(m.echo_held_us);
  }
  if (Status s = body.finish(); !s) return s;
  return m;
}

}  // namespace lashup::wire
