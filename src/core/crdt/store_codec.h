// Internal: the binary encoding of contexts and dot stores (format in
// docs/CRDT.md, "Encoding"). Encoding is canonical — replicas sorted by id,
// keys and dots sorted — so equal objects encode to equal bytes, which is
// what equality and the digest rely on. Decoding accepts only canonical
// input and checks every invariant a peer could break: bounded counts and
// sizes, sorted unique keys and dots, every stored dot inside the context, a
// bounded nesting depth, no empty entry in a complete node.
#pragma once

#include <vector>

#include "core/common/status.h"
#include "core/crdt/causal_context.h"
#include "core/crdt/limits.h"
#include "core/crdt/stores.h"
#include "core/wire/codec.h"

namespace lashup::crdt::detail {

// The canonical numbering of replicas: those with at least one dot in the
// context, sorted by (name, incarnation).
class WireTable {
 public:
  explicit WireTable(const CausalContext& context);
  ReplicaIndex to_wire(ReplicaIndex local) const { return to_wire_[local]; }
  const std::vector<ReplicaIndex>& order() const { return order_; }  // wire index -> local index
  // True when wire and local numbering agree (no re-sorting of dots needed).
  bool identity() const { return identity_; }

 private:
  std::vector<ReplicaIndex> to_wire_;
  std::vector<ReplicaIndex> order_;
  bool identity_ = true;
};

void encode_context(wire::Writer& out, const CausalContext& context, const WireTable& table);
void encode_store(wire::Writer& out, const CounterStore& store, const WireTable& table);
void encode_store(wire::Writer& out, const RegisterStore& store, const WireTable& table);
void encode_store(wire::Writer& out, const FlagStore& store, const WireTable& table);
void encode_store(wire::Writer& out, const ORSetStore& store, const WireTable& table);
void encode_store(wire::Writer& out, const MapStore& store, const WireTable& table);

struct DecodeScope {
  const CausalContext* context = nullptr;  // decoded first; dots must be inside it
  const Limits* limits = nullptr;
  size_t map_depth = 1;          // depth of the map being decoded
  bool parent_complete = false;  // a complete node's children must be complete
};

// Each returns false after recording the error in the reader.
bool decode_context(wire::Reader& in, CausalContext& out, const Limits& limits);
bool decode_store(wire::Reader& in, CounterStore& out, const DecodeScope& scope);
bool decode_store(wire::Reader& in, RegisterStore& out, const DecodeScope& scope);
bool decode_store(wire::Reader& in, FlagStore& out, const DecodeScope& scope);
bool decode_store(wire::Reader& in, ORSetStore& out, const DecodeScope& scope);
bool decode_store(wire::Reader& in, MapStore& out, const DecodeScope& scope);

}  // namespace lashup::crdt::detail
