#include "core/wire/ping_messages.h"

namespace lashup::wire {
namespace {

template <typename Probe>
Bytes encode_probe(MessageType type, const Probe& probe) {
  Writer w = begin_message(type);
  w.varint(probe.sequence);
  w.svarint(probe.sent_at_us);
  return w.take();
}

template <typename Probe>
Result<Probe> decode_probe(Reader& body) {
  Probe probe;
  body.varint(probe.sequence);
  body.svarint(probe.sent_at_us);
  if (Status s = body.finish(); !s) return s;
  return probe;
}

}  // namespace

Bytes encode(const Ping& ping) { return encode_probe(MessageType::ping, ping); }
Bytes encode(const Pong& pong) { return encode_probe(MessageType::pong, pong); }
Result<Ping> decode_ping(Reader& body) { return decode_probe<Ping>(body); }
Result<Pong> decode_pong(Reader& body) { return decode_probe<Pong>(body); }

}  // namespace lashup::wire
