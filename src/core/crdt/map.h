// The map: the value of every key of the replicated store. Fields are named
// (name, type), hold a counter, LWW register, flag, set or map, and nest to
// any depth (bounded by Limits::map_depth_max). Observed-remove, update-wins:
// removing a field drops the dots it saw in the field's whole subtree, and an
// update concurrent with the remove survives — alone (reset-remove: a set
// field {a,b,c} removed while d is added reads {d}, as in riak_dt).
//
// All nested stores share the map's one causal context (crdt-notes §1.2), so
// a remove that arrives before the add it removes, or inside a field removed
// meanwhile, is never lost (no deferred operations to drop).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/common/ids.h"
#include "core/common/status.h"
#include "core/crdt/causal.h"

namespace lashup::crdt {

// --- operations ---

// One operation of a batch on a map. Build them with the factories.
struct FieldOp {
  enum class Kind : uint8_t {
    increment,     // counter: add `amount` (negative subtracts)
    assign,        // register: write `assignment`
    enable,        // flag
    disable,       // flag; a no-op on a disabled or absent flag
    add,           // set: add `elements`
    remove,        // set: remove `elements`; each must be present
    update,        // map: apply `ops` to the nested map
    remove_field,  // any type: the field must be present
  };

  Kind kind = Kind::increment;
  FieldKey field;
  int64_t amount = 0;
  Timestamped assignment;
  std::vector<std::string> elements;
  std::vector<FieldOp> ops;

  static FieldOp increment(std::string name, int64_t amount = 1);
  static FieldOp decrement(std::string name, int64_t amount = 1);
  static FieldOp assign(std::string name, std::string value, uint64_t timestamp);
  static FieldOp enable(std::string name);
  static FieldOp disable(std::string name);
  static FieldOp add(std::string name, std::vector<std::string> elements);
  static FieldOp remove(std::string name, std::vector<std::string> elements);
  static FieldOp update(std::string name, std::vector<FieldOp> ops);
  static FieldOp remove_field(std::string name, FieldType type);
};

const char* op_kind_name(FieldOp::Kind kind);

// --- values ---

struct FieldValue;

// A map's value: fields sorted ascending by (name, type) — the original
// returned them in descending order (reference §3).
struct MapValue {
  std::vector<FieldValue> fields;
  const FieldValue* find(std::string_view name, FieldType type) const;
  bool operator==(const MapValue& other) const;
};

// Alternative index = FieldType - 1: counter total, register value (absent
// registers are not listed), flag, sorted set elements, nested map.
using Value = std::variant<int64_t, Timestamped, bool, std::vector<std::string>, MapValue>;

struct FieldValue {
  FieldKey key;
  Value value;
  bool operator==(const FieldValue&) const = default;
};

// --- the map ---

class Map : public Causal<Map, MapStore, FieldType::map> {
 public:
  // Applies a batch of field operations atomically and returns its delta
  // (bottom when nothing changed, e.g. only stale LWW writes). On the first
  // invalid operation nothing is applied, and the Status names the operation
  // and the reason: invalid (operation of another type than its field, nested
  // too deep), not_found (removing an absent element or field), too_large
  // (a name, element or value over its limit). The original dropped such
  // batches silently and reported success (reference §7 item 10).
  Result<Map> apply(const ReplicaId& self, std::span<const FieldOp> ops, const Limits& limits = {});
  // Compare-and-set at the key level (the original's request_op(Key,
  // VClock, Op)): applies only if this map's context equals `expected`, the
  // context read with the value; conflict otherwise.
  Result<Map> apply_if(const ReplicaId& self, std::span<const FieldOp> ops, const CausalContext& expected,
                       const Limits& limits = {});
  // Removes every field seen (the map's context is kept, so a deleted key
  // re-created later never reuses a dot); returns the delta (bottom if the
  // map was empty).
  Map clear(const ReplicaId& self);

  MapValue value() const;
  bool empty() const { return store_.fields.empty(); }
  // Direct read of one field's store, or nullptr.
  const FieldStore* field(std::string_view name, FieldType type) const;
};

}  // namespace lashup::crdt
