#include "core/kv/kv_messages.h"

#include "core/kv/kv_store.h"

namespace lashup::kv {

wire::Bytes encode(const KeyDelta& d) {
  wire::Writer w;
  w.u8(kDeltaVersion);
  w.string(d.key);
  d.delta.encode_to(w);
  return w.take();
}

Result<KeyDelta> decode_key_delta(wire::ByteView bytes, const crdt::Limits& limits) {
  wire::Reader r(bytes);
  uint8_t version = 0;
  KeyDelta d;
  if (!r.u8(version)) return r.status();
  if (version != kDeltaVersion) return Status::unsupported("unknown KV delta version " + std::to_string(version));
  if (!r.string(d.key, kKeyBytesMax)) return r.status();
  if (Status s = validate_key(d.key); !s) return s;
  auto map = crdt::Map::decode_from(r, limits);
  if (!map) return map.status();
  if (Status s = r.finish(); !s) return s;
  d.delta = std::move(*map);
  return d;
}

}  // namespace lashup::kv
