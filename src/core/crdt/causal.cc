#include "core/crdt/causal.h"

namespace lashup::crdt {

uint64_t fnv1a64(wire::ByteView bytes) {
  uint64_t hash = 0xcbf29ce484222325ull;
  for (uint8_t byte : bytes) {
    hash ^= byte;
    hash *= 0x100000001b3ull;
  }
  return hash;
}

wire::Bytes encode_context(const CausalContext& context) {
  wire::Writer out;
  out.u8(kEncodingVersion);
  out.u8(kContextTypeTag);
  detail::encode_context(out, context, detail::WireTable(context));
  return out.take();
}

Result<CausalContext> decode_context(wire::ByteView bytes, const Limits& limits) {
  wire::Reader in(bytes);
  uint8_t version = 0, type = 0;
  if (!in.u8(version) || !in.u8(type)) return in.status();
  if (version != kEncodingVersion) return Status::unsupported("unknown CRDT encoding version");
  if (type != kContextTypeTag) return Status::invalid("encoded object is not a causal context");
  CausalContext out;
  if (!detail::decode_context(in, out, limits)) return in.status();
  if (Status done = in.finish(); !done) return done;
  return out;
}

}  // namespace lashup::crdt
