#include "core/wire/overlay_messages.h"

namespace lashup::wire {
namespace {

// Walk lengths and TTLs above this are malformed (config allows up to 32).
constexpr uint64_t kTtlMax = 64;

template <typename M>
Result<M> finish(Reader& body, M message) {
  if (Status s = body.finish(); !s) return s;
  return message;
}

}  // namespace

Bytes encode(const Join& m) {
  Writer w = begin_message(MessageType::join);
  write_peer(w, m.joiner);
  return w.take();
}

Bytes encode(const JoinReply& m) {
  Writer w = begin_message(MessageType::join_reply);
  w.boolean(m.accepted);
  write_peers(w, m.hints);
  return w.take();
}

Bytes encode(const ForwardJoin& m) {
  Writer w = begin_message(MessageType::forward_join);
  write_peer(w, m.joiner);
  w.varint(m.ttl);
  return w.take();
}

Bytes encode(const Neighbor& m) {
  Writer w = begin_message(MessageType::neighbor);
  write_peer(w, m.requester);
  w.boolean(m.high_priority);
  return w.take();
}

Bytes encode(const NeighborReply& m) {
  Writer w = begin_message(MessageType::neighbor_reply);
  w.boolean(m.accepted);
  write_peers(w, m.passive_sample);
  return w.take();
}

Bytes encode(const Disconnect&) { return begin_message(MessageType::disconnect).take(); }

Bytes encode(const Shuffle& m) {
  Writer w = begin_message(MessageType::shuffle);
  write_peer(w, m.origin);
  w.varint(m.ttl);
  write_peers(w, m.sample);
  return w.take();
}

Bytes encode(const ShuffleReply& m) {
  Writer w = begin_message(MessageType::shuffle_reply);
  write_peers(w, m.sample);
  return w.take();
}

Result<Join> decode_join(Reader& body) {
  Join m;
  read_peer(body, m.joiner);
  return finish(body, std::move(m));
}

Result<JoinReply> decode_join_reply(Reader& body) {
  JoinReply m;
  body.boolean(m.accepted);
  read_peers(body, m.hints);
  return finish(body, std::move(m));
}

Result<ForwardJoin> decode_forward_join(Reader& body) {
  ForwardJoin m;
  uint64_t ttl = 0;
  read_peer(body, m.joiner);
  body.varint_at_most(ttl, kTtlMax, "ttl");
  m.ttl = static_cast<uint32_t>(ttl);
  return finish(body, std::move(m));
}

Result<Neighbor> decode_neighbor(Reader& body) {
  Neighbor m;
  read_peer(body, m.requester);
  body.boolean(m.high_priority);
  return finish(body, std::move(m));
}

Result<NeighborReply> decode_neighbor_reply(Reader& body) {
  NeighborReply m;
  body.boolean(m.accepted);
  read_peers(body, m.passive_sample);
  return finish(body, std::move(m));
}

Result<Disconnect> decode_disconnect(Reader& body) { return finish(body, Disconnect{}); }

Result<Shuffle> decode_shuffle(Reader& body) {
  Shuffle m;
  uint64_t ttl = 0;
  read_peer(body, m.origin);
  body.varint_at_most(ttl, kTtlMax, "ttl");
  m.ttl = static_cast<uint32_t>(ttl);
  read_peers(body, m.sample);
  return finish(body, std::move(m));
}

Result<ShuffleReply> decode_shuffle_reply(Reader& body) {
  ShuffleReply m;
  read_peers(body, m.sample);
  return finish(body, std::move(m));
}

}  // namespace lashup::wire
