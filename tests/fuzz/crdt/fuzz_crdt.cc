// Fuzzes the decoders of CRDT states, deltas and causal contexts (peer
// input): whatever the bytes, decoding returns an object or a Status, never
// crashes; what decodes re-encodes canonically, and joining, differencing,
// reading and mutating a decoded object keep the invariants the decoder
// checks (the result of a join decodes again).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "core/crdt/counter.h"
#include "core/crdt/flag.h"
#include "core/crdt/lww_register.h"
#include "core/crdt/map.h"
#include "core/crdt/or_set.h"
#include "core/kv/kv_messages.h"

using namespace lashup;
using namespace lashup::crdt;

namespace {

void check(bool condition) {
  if (!condition) std::abort();
}

Limits fuzz_limits() {
  Limits limits;
  limits.map_depth_max = 8;
  limits.element_bytes_max = 1024;
  limits.register_bytes_max = 4096;
  return limits;
}

const ReplicaId kLocal{"local", 3};

// A small local state of each type to join the decoded objects into.
Counter local(Counter*) {
  Counter c;
  c.increment(kLocal, 2);
  return c;
}
LwwRegister local(LwwRegister*) {
  LwwRegister r;
  r.assign(kLocal, "v", 5);
  return r;
}
Flag local(Flag*) {
  Flag f;
  f.enable(kLocal);
  return f;
}
ORSet local(ORSet*) {
  ORSet s;
  s.add(kLocal, "a");
  s.add(kLocal, "m");
  return s;
}
Map local(Map*) {
  Map m;
  (void)m.apply(kLocal, std::vector<FieldOp>{FieldOp::add("s", {"a"}), FieldOp::increment("c", 1),
                                             FieldOp::update("m", {FieldOp::enable("f")})});
  return m;
}

void mutate(Counter& x) { x.increment(kLocal, 1); }
void mutate(LwwRegister& x) { x.assign(kLocal, "w", 7); }
void mutate(Flag& x) { x.disable(kLocal); }
void mutate(ORSet& x) {
  x.add(kLocal, "z");
  (void)x.remove(kLocal, "a");
}
void mutate(Map& x) {
  (void)x.apply(kLocal, std::vector<FieldOp>{FieldOp::add("s", {"b"}), FieldOp::increment("c", -1),
                                             FieldOp::update("m", {FieldOp::disable("f")})});
  (void)x.value();
}

template <typename T>
void fuzz(lashup::wire::ByteView input) {
  const Limits limits = fuzz_limits();
  auto decoded = T::decode(input, limits);
  if (!decoded) return;
  const T& x = *decoded;
  const lashup::wire::Bytes canonical = x.encode();
  auto again = T::decode(canonical, limits);
  check(again.is_ok() && again->encode() == canonical);

  T state = local(static_cast<T*>(nullptr));
  T joined = state;
  joined.join(x);
  check(!joined.join(x).state_changed);  // idempotent
  check(T::decode(joined.encode(), limits).is_ok());
  const T novel = x.difference(state);
  T via_novel = state;
  via_novel.join(novel);
  check(T::decode(via_novel.encode(), limits).is_ok());
  (void)state.includes(x);
  (void)x.includes(state);
  (void)x.digest();
  T copy = x;
  mutate(copy);
  check(T::decode(copy.encode(), limits).is_ok());
}

}  // namespace

// A KV delta (the payload of a "lashup/kv" multicast message): decodes or
// fails, and what decodes re-encodes canonically.
void fuzz_key_delta(lashup::wire::ByteView input) {
  auto d = lashup::kv::decode_key_delta(input, fuzz_limits());
  if (!d) return;
  const lashup::wire::Bytes canonical = lashup::kv::encode(*d);
  auto again = lashup::kv::decode_key_delta(canonical);
  check(again.is_ok() && again->key == d->key && again->delta == d->delta);
}

// The same payload read as either form (a single delta or a batch of
// joined deltas, which is what the receiver does).
void fuzz_key_deltas(lashup::wire::ByteView input) {
  auto deltas = lashup::kv::decode_key_deltas(input, fuzz_limits());
  if (!deltas) return;
  check(!deltas->empty());
  const lashup::wire::Bytes canonical = lashup::kv::encode_batch(*deltas);
  auto again = lashup::kv::decode_key_deltas(canonical);
  check(again.is_ok() && again->size() == deltas->size());
  for (size_t i = 0; i < deltas->size(); ++i) {
    check((*again)[i].key == (*deltas)[i].key && (*again)[i].delta == (*deltas)[i].delta);
  }
}

// A tombstone report (the payload of a "lashup/kv-tombstones" message).
void fuzz_tombstone_report(lashup::wire::ByteView input) {
  auto report = lashup::kv::decode_tombstone_report(input);
  if (!report) return;
  auto again = lashup::kv::decode_tombstone_report(lashup::kv::encode(*report));
  check(again.is_ok() && again->tombstones == report->tombstones);
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const lashup::wire::ByteView input(data, size);
  fuzz_key_delta(input);
  fuzz_key_deltas(input);
  fuzz_tombstone_report(input);
  // The second byte of every encoding is its type tag.
  const uint8_t tag = size >= 2 ? data[1] : 0;
  switch (tag) {
    case static_cast<uint8_t>(FieldType::counter): fuzz<Counter>(input); break;
    case static_cast<uint8_t>(FieldType::lww_register): fuzz<LwwRegister>(input); break;
    case static_cast<uint8_t>(FieldType::flag): fuzz<Flag>(input); break;
    case static_cast<uint8_t>(FieldType::set): fuzz<ORSet>(input); break;
    case static_cast<uint8_t>(FieldType::map): fuzz<Map>(input); break;
    default: {
      auto context = decode_context(input, fuzz_limits());
      if (context) {
        const lashup::wire::Bytes canonical = encode_context(*context);
        auto again = decode_context(canonical);
        check(again.is_ok() && *again == *context);
      }
      break;
    }
  }
  return 0;
}
