// Causal<...>: what every CRDT type of this library shares — a dot store and
// the causal context that judges its dots — and the lattice operations on it.
// A delta is an object of the same type (delta-state CRDTs: deltas are
// states), so one join serves states, deltas and delta groups.
#pragma once

#include <algorithm>
#include <cstdint>

#include "core/common/status.h"
#include "core/crdt/causal_context.h"
#include "core/crdt/limits.h"
#include "core/crdt/store_codec.h"
#include "core/crdt/store_join.h"
#include "core/crdt/stores.h"
#include "core/wire/codec.h"

namespace lashup::crdt {

// Version of the binary encoding of CRDT objects (docs/CRDT.md). A decoder
// rejects other versions as unsupported.
inline constexpr uint8_t kEncodingVersion = 1;
// Type tag of an encoded causal context alone (the object tags are the
// FieldType values 1..5).
inline constexpr uint8_t kContextTypeTag = 16;

struct JoinOutcome {
  bool state_changed = false;  // the object is a strict inflation of what it was
  bool value_changed = false;  // a reader would see a different value
};

// FNV-1a, 64 bits, over a byte string: the digest function of CRDT states.
// Stable across versions of this library for encoding version 1.
uint64_t fnv1a64(wire::ByteView bytes);

template <typename Derived, typename Store, FieldType kType>
class Causal {
 public:
  const CausalContext& context() const { return context_; }
  const Store& store() const { return store_; }
  // Records dots 1..through of `replica` as seen, in the context alone (no
  // store entry): the replica's next dot is above them. Used for a key
  // re-created after its tombstone was collected, so that its new dots
  // never reuse the old ones.
  void cover(const ReplicaId& replica, uint64_t through) {
    if (through == 0) return;
    const ReplicaIndex index = context_.intern(replica);
    // The runs are sorted and disjoint: those touching [1, through] are a
    // prefix, merged into one run.
    DotRanges merged{{1, through}};
    for (const auto& run : context_.ranges(index)) {
      if (run.first <= merged.front().last + 1) {
        merged.front().last = std::max(merged.front().last, run.last);
      } else {
        merged.push_back(run);
      }
    }
    context_.set_ranges(index, std::move(merged));
  }
  // The least element: nothing seen. Deltas of no-op mutations are bottom.
  bool is_bottom() const { return context_.empty(); }

  // this ⊔= other. Commutative, associative, idempotent. Joining a delta
  // visits only the keys it lists; joining a state visits every key.
  JoinOutcome join(const Derived& other) {
    if (static_cast<const void*>(&other) == static_cast<const void*>(this)) return {};
    auto bridge = detail::Bridge::for_join(context_, other.context_);
    detail::Changes changes;
    detail::join_store(store_, other.store_, bridge, changes);
    const bool grew = context_.merge(other.context_, bridge.b_to_a());
    return {changes.store || grew, changes.value};
  }

  // Whether other ⊑ this, i.e. joining `other` would change nothing. The
  // anti-entropy filter "d ⋢ X" of Almeida et al. is !x.includes(d).
  bool includes(const Derived& other) const {
    if (!context_.includes(other.context_)) return false;
    return other.difference(derived()).is_bottom();
  }

  // Δ(this, x): the part of this object not already in x — the join of the
  // irreducible parts of this object that x lacks (Enes et al., arXiv
  // 1803.02750, "RR"). Properties: x ⊔ Δ(d, x) == x ⊔ d, and Δ(d, x) is
  // bottom iff x.includes(d). Relaying Δ instead of d removes the redundant
  // re-propagation that makes classic delta sync no better than state sync
  // on a mesh (crdt-notes §2.4).
  Derived difference(const Derived& x) const {
    Derived r;
    r.context_ = context_.table_only();
    detail::DiffSink sink;
    sink.out = &r.context_;
    sink.novel_store = context_.table_only();
    auto bridge = detail::Bridge::for_compare(context_, x.context_);
    detail::diff_store(store_, &x.store_, bridge, r.store_, sink);
    // Dots this object saw that x did not, and that are in no store here:
    // removes whose key the result cannot name. They travel in the context,
    // with markers for every key this object lists, so the result keeps the
    // rule that a partial node's context covers only keys it lists.
    const CausalContext unseen = context_.minus(x.context_);
    if (unseen.dot_count() > sink.novel_store.dot_count()) {
      r.context_.merge(unseen);
      detail::add_skeleton(store_, r.store_);
    }
    return r;
  }

  // A digest of the state: equal states have equal digests on every replica.
  // For Merkle leaves and quick compares; 64 bits, not collision-proof
  // against an adversary.
  uint64_t digest() const { return fnv1a64(encode()); }

  // Canonical, versioned encoding (docs/CRDT.md).
  void encode_to(wire::Writer& out) const {
    const detail::WireTable table(context_);
    out.u8(kEncodingVersion);
    out.u8(static_cast<uint8_t>(kType));
    detail::encode_context(out, context_, table);
    detail::encode_store(out, store_, table);
  }
  wire::Bytes encode() const {
    wire::Writer out;
    encode_to(out);
    return out.take();
  }
  // Reads one object and leaves the reader after it.
  static Result<Derived> decode_from(wire::Reader& in, const Limits& limits = {}) {
    uint8_t version = 0, type = 0;
    if (!in.u8(version) || !in.u8(type)) return in.status();
    if (version != kEncodingVersion) return Status::unsupported("unknown CRDT encoding version");
    if (type != static_cast<uint8_t>(kType)) return Status::invalid("encoded CRDT has another type");
    Derived out;
    if (!detail::decode_context(in, out.context_, limits)) return in.status();
    detail::DecodeScope scope;
    scope.context = &out.context_;
    scope.limits = &limits;
    if (!detail::decode_store(in, out.store_, scope)) return in.status();
    return out;
  }
  // Reads exactly one object: trailing bytes are an error.
  static Result<Derived> decode(wire::ByteView bytes, const Limits& limits = {}) {
    wire::Reader in(bytes);
    auto out = decode_from(in, limits);
    if (!out) return out.status();
    if (Status done = in.finish(); !done) return done;
    return out;
  }

  // Equal iff the canonical encodings are equal: same dots, same payloads,
  // whatever the order of the replica tables. For deltas the markers count.
  friend bool operator==(const Derived& a, const Derived& b) { return a.encode() == b.encode(); }

 protected:
  const Derived& derived() const { return static_cast<const Derived&>(*this); }

  Store store_;
  CausalContext context_;
};

// The names of Enes et al. and Lasp's state_type: `to` is an inflation of
// `from` when from ⊑ to.
template <typename T>
bool is_inflation(const T& from, const T& to) {
  return to.includes(from);
}
template <typename T>
bool is_strict_inflation(const T& from, const T& to) {
  return to.includes(from) && !from.includes(to);
}

// The causal context alone, e.g. the compare-and-set token of a key.
wire::Bytes encode_context(const CausalContext& context);
Result<CausalContext> decode_context(wire::ByteView bytes, const Limits& limits = {});

}  // namespace lashup::crdt
