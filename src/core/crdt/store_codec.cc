#include "core/crdt/store_codec.h"

#include <algorithm>
#include <cassert>
#include <type_traits>

namespace lashup::crdt::detail {
namespace {

// Smallest encodings, used to bound hostile counts by the remaining input.
constexpr size_t kMinReplicaBytes = 4;  // name length, 1-byte name, incarnation, run count
constexpr size_t kMinRunBytes = 2;
constexpr size_t kMinDotBytes = 2;
constexpr size_t kMinCounterEntryBytes = kMinDotBytes + 1;
constexpr size_t kMinRegisterEntryBytes = kMinDotBytes + 2;
constexpr size_t kMinElementBytes = 2;  // element length, dot count
constexpr size_t kMinFieldBytes = 3;    // name length, type, smallest store

void write_dot(wire::Writer& out, const WireTable& table, Dot dot) {
  const ReplicaIndex wire_replica = table.to_wire(dot.replica);
  assert(wire_replica != kNoReplica && "a stored dot is outside the context");
  out.varint(wire_replica);
  out.varint(dot.counter);
}

Dot to_wire(const WireTable& table, Dot dot) { return {table.to_wire(dot.replica), dot.counter}; }

void write_dots(wire::Writer& out, const WireTable& table, const DotSet& dots) {
  out.varint(dots.size());
  if (table.identity() || dots.size() == 1) {
    for (Dot dot : dots) write_dot(out, table, dot);
    return;
  }
  std::vector<Dot> sorted;
  sorted.reserve(dots.size());
  for (Dot dot : dots) sorted.push_back(to_wire(table, dot));
  std::sort(sorted.begin(), sorted.end());
  for (Dot dot : sorted) {
    out.varint(dot.replica);
    out.varint(dot.counter);
  }
}

// Entries of a DotFun in wire order.
template <typename V>
std::vector<const DotEntry<V>*> wire_order(const std::vector<DotEntry<V>>& entries, const WireTable& table) {
  std::vector<const DotEntry<V>*> sorted;
  sorted.reserve(entries.size());
  for (const auto& entry : entries) sorted.push_back(&entry);
  if (!table.identity()) {
    std::sort(sorted.begin(), sorted.end(),
              [&](const auto* x, const auto* y) { return to_wire(table, x->dot) < to_wire(table, y->dot); });
  }
  return sorted;
}

bool read_dot(wire::Reader& in, const DecodeScope& scope, Dot& out) {
  const size_t replicas = scope.context->replica_count();
  if (replicas == 0) return in.fail("dot with an empty replica table");
  uint64_t replica = 0;
  if (!in.varint_at_most(replica, replicas - 1, "dot replica")) return false;
  uint64_t counter = 0;
  if (!in.varint_at_most(counter, kDotCounterMax, "dot counter")) return false;
  if (counter == 0) return in.fail("dot counter is zero");
  out = {static_cast<ReplicaIndex>(replica), counter};
  // Every stored dot is in the context: the join relies on it to tell a
  // removed dot from an unseen one.
  if (!scope.context->contains(out)) return in.fail("stored dot outside the causal context");
  return true;
}

bool read_dots(wire::Reader& in, const DecodeScope& scope, DotSet& out) {
  uint64_t count = 0;
  if (!in.count(count, UINT32_MAX, kMinDotBytes, "dot count")) return false;
  Dot previous{};
  for (uint64_t i = 0; i < count; ++i) {
    Dot dot;
    if (!read_dot(in, scope, dot)) return false;
    if (i > 0 && !(previous < dot)) return in.fail("dots not strictly ascending");
    out.insert(dot);
    previous = dot;
  }
  return true;
}

template <typename V, typename ReadValue>
bool read_entries(wire::Reader& in, const DecodeScope& scope, size_t min_entry_bytes, std::vector<DotEntry<V>>& out,
                  ReadValue read_value) {
  uint64_t count = 0;
  if (!in.count(count, UINT32_MAX, min_entry_bytes, "entry count")) return false;
  out.reserve(static_cast<size_t>(count));
  for (uint64_t i = 0; i < count; ++i) {
    DotEntry<V> entry;
    if (!read_dot(in, scope, entry.dot)) return false;
    if (i > 0 && !(out.back().dot < entry.dot)) return in.fail("entries not strictly ascending");
    if (!read_value(entry.value)) return false;
    out.push_back(std::move(entry));
  }
  return true;
}

bool read_complete(wire::Reader& in, const DecodeScope& scope, bool& complete) {
  if (!in.boolean(complete)) return false;
  if (scope.parent_complete && !complete) return in.fail("partial node inside a complete node");
  return true;
}

}  // namespace

WireTable::WireTable(const CausalContext& context) : to_wire_(context.replica_count(), kNoReplica) {
  for (ReplicaIndex i = 0; i < context.replica_count(); ++i) {
    if (!context.ranges(i).empty()) order_.push_back(i);
  }
  std::sort(order_.begin(), order_.end(),
            [&](ReplicaIndex x, ReplicaIndex y) { return context.replica(x) < context.replica(y); });
  identity_ = order_.size() == context.replica_count();
  for (size_t w = 0; w < order_.size(); ++w) {
    to_wire_[order_[w]] = static_cast<ReplicaIndex>(w);
    if (order_[w] != w) identity_ = false;
  }
}

void encode_context(wire::Writer& out, const CausalContext& context, const WireTable& table) {
  out.varint(table.order().size());
  for (ReplicaIndex local : table.order()) {
    const ReplicaId& id = context.replica(local);
    out.string(id.name);
    out.varint(id.incarnation);
    const DotRanges& runs = context.ranges(local);
    out.varint(runs.size());
    uint64_t previous_last = 0;
    for (size_t i = 0; i < runs.size(); ++i) {
      // Gaps and lengths, not absolute counters: a version vector entry is
      // two small varints. Runs never touch, so gaps after the first are ≥ 1.
      const uint64_t gap = runs[i].first - previous_last - 1;
      out.varint(i == 0 ? gap : gap - 1);
      out.varint(runs[i].last - runs[i].first);
      previous_last = runs[i].last;
    }
  }
}

void encode_store(wire::Writer& out, const CounterStore& store, const WireTable& table) {
  const auto sorted = wire_order(store.entries, table);
  out.varint(sorted.size());
  for (const auto* entry : sorted) {
    write_dot(out, table, entry->dot);
    out.svarint(entry->value);
  }
}

void encode_store(wire::Writer& out, const RegisterStore& store, const WireTable& table) {
  const auto sorted = wire_order(store.entries, table);
  out.varint(sorted.size());
  for (const auto* entry : sorted) {
    write_dot(out, table, entry->dot);
    out.varint(entry->value.timestamp);
    out.string(entry->value.value);
  }
}

void encode_store(wire::Writer& out, const FlagStore& store, const WireTable& table) {
  write_dots(out, table, store.dots);
}

void encode_store(wire::Writer& out, const ORSetStore& store, const WireTable& table) {
  out.boolean(store.complete);
  out.varint(store.elements.size());
  for (const auto& [element, dots] : store.elements) {
    out.string(element);
    write_dots(out, table, dots);
  }
}

void encode_store(wire::Writer& out, const MapStore& store, const WireTable& table) {
  out.boolean(store.complete);
  out.varint(store.fields.size());
  for (const auto& [key, field] : store.fields) {
    out.string(key.name);
    out.u8(static_cast<uint8_t>(key.type));
    std::visit(
        [&](const auto& s) {
          if constexpr (std::is_same_v<std::decay_t<decltype(s)>, MapBox>) {
            encode_store(out, *s, table);
          } else {
            encode_store(out, s, table);
          }
        },
        field);
  }
}

bool decode_context(wire::Reader& in, CausalContext& out, const Limits& limits) {
  uint64_t count = 0;
  if (!in.count(count, limits.replicas_max, kMinReplicaBytes, "replica count")) return false;
  ReplicaId previous;
  for (uint64_t i = 0; i < count; ++i) {
    ReplicaId id;
    if (!in.string(id.name, kNodeNameMaxBytes) || !in.varint(id.incarnation)) return false;
    if (Status valid = validate_node_name(id.name); !valid) return in.fail("replica " + valid.message());
    if (i > 0 && !(previous < id)) return in.fail("replicas not strictly ascending");
    uint64_t run_count = 0;
    if (!in.count(run_count, UINT32_MAX, kMinRunBytes, "run count")) return false;
    if (run_count == 0) return in.fail("replica without dots");
    DotRanges runs;
    runs.reserve(static_cast<size_t>(run_count));
    uint64_t previous_last = 0;
    for (uint64_t r = 0; r < run_count; ++r) {
      uint64_t gap = 0, length = 0;
      if (!in.varint_at_most(gap, kDotCounterMax, "run gap") ||
          !in.varint_at_most(length, kDotCounterMax, "run length")) {
        return false;
      }
      const uint64_t first = previous_last + 1 + gap + (r == 0 ? 0 : 1);
      const uint64_t last = first + length;
      // Each term is ≤ 2^62, so these sums cannot wrap before the check.
      if (last > kDotCounterMax) return in.fail("dot counter out of range");
      runs.push_back({first, last});
      previous_last = last;
    }
    const ReplicaIndex index = out.intern(id);
    out.set_ranges(index, std::move(runs));
    previous = std::move(id);
  }
  return in.ok();
}

bool decode_store(wire::Reader& in, CounterStore& out, const DecodeScope& scope) {
  return read_entries(in, scope, kMinCounterEntryBytes, out.entries, [&](int64_t& value) { return in.svarint(value); });
}

bool decode_store(wire::Reader& in, RegisterStore& out, const DecodeScope& scope) {
  return read_entries(in, scope, kMinRegisterEntryBytes, out.entries, [&](Timestamped& value) {
    return in.varint(value.timestamp) && in.string(value.value, scope.limits->register_bytes_max);
  });
}

bool decode_store(wire::Reader& in, FlagStore& out, const DecodeScope& scope) { return read_dots(in, scope, out.dots); }

bool decode_store(wire::Reader& in, ORSetStore& out, const DecodeScope& scope) {
  if (!read_complete(in, scope, out.complete)) return false;
  uint64_t count = 0;
  if (!in.count(count, UINT64_MAX, kMinElementBytes, "element count")) return false;
  for (uint64_t i = 0; i < count; ++i) {
    std::string element;
    if (!in.string(element, scope.limits->element_bytes_max)) return false;
    if (i > 0 && !(out.elements.last()->first < element)) return in.fail("elements not strictly ascending");
    DotSet dots;
    if (!read_dots(in, scope, dots)) return false;
    if (out.complete && dots.empty()) return in.fail("empty element in a complete set");
    out.elements.append(std::move(element), std::move(dots));
  }
  return true;
}

bool decode_store(wire::Reader& in, MapStore& out, const DecodeScope& scope) {
  if (!read_complete(in, scope, out.complete)) return false;
  uint64_t count = 0;
  if (!in.count(count, UINT64_MAX, kMinFieldBytes, "field count")) return false;
  DecodeScope child_scope = scope;
  child_scope.parent_complete = out.complete;
  for (uint64_t i = 0; i < count; ++i) {
    FieldKey key;
    uint8_t type = 0;
    if (!in.string(key.name, scope.limits->field_name_bytes_max) || !in.u8(type)) return false;
    if (type == 0 || type > kFieldTypeMax) return in.fail("unknown field type");
    key.type = static_cast<FieldType>(type);
    if (i > 0 && !(out.fields.rbegin()->first < key)) return in.fail("fields not strictly ascending");
    FieldStore field = make_field_store(key.type, false);
    bool ok = false;
    if (key.type == FieldType::map) {
      if (scope.map_depth >= scope.limits->map_depth_max) return in.fail("maps nested deeper than the limit");
      DecodeScope nested = child_scope;
      nested.map_depth = scope.map_depth + 1;
      ok = decode_store(in, *std::get<MapBox>(field), nested);
    } else {
      ok = std::visit(
          [&](auto& s) {
            if constexpr (std::is_same_v<std::decay_t<decltype(s)>, MapBox>) {
              return false;
            } else {
              return decode_store(in, s, child_scope);
            }
          },
          field);
    }
    if (!ok) return false;
    if (out.complete && is_bottom(field)) return in.fail("empty field in a complete map");
    out.fields.emplace_hint(out.fields.end(), std::move(key), std::move(field));
  }
  return true;
}

}  // namespace lashup::crdt::detail
