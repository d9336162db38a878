// Atomic batches on a map. Each operation is applied in place — so later
// operations of the batch see earlier ones, and each costs O(log n) — while
// its delta is written into the batch's delta. Every change to the live
// state is first recorded in an undo log; the first invalid operation rolls
// the log back, so a failed batch leaves the map exactly as it was.
#include <optional>
#include <string>

#include "core/crdt/map.h"
#include "core/crdt/mutators.h"

namespace lashup::crdt {
namespace {

using FieldNode = std::map<FieldKey, FieldStore>::node_type;

// Inverse steps, undone newest first. Pointers stay valid until rollback:
// nested maps live behind MapBox pointers, fields in map nodes, and a field
// taken out of its map is kept alive here as a node handle (extract keeps
// the node's address), never destroyed during the batch.
class UndoLog {
 public:
  void created_field(MapStore* map, const FieldKey& key) {
    Step step;
    step.kind = Kind::erase_field;
    step.map = map;
    step.key = key;
    steps_.push_back(std::move(step));
  }
  void extracted_field(MapStore* map, FieldNode node) {
    Step step;
    step.kind = Kind::reinsert_field;
    step.map = map;
    step.node = std::move(node);
    steps_.push_back(std::move(step));
  }
  // Leaf fields (counter, register, flag) are small: saved whole.
  void changing_leaf(FieldStore* field) {
    Step step;
    step.kind = Kind::restore_leaf;
    step.field = field;
    step.saved = *field;
    steps_.push_back(std::move(step));
  }
  // A set is saved one element at a time, so a batch on a large set costs
  // O(elements touched).
  void changing_element(ORSetStore* set, std::string_view element) {
    Step step;
    step.kind = Kind::restore_element;
    step.set = set;
    step.element = std::string(element);
    if (auto it = set->elements.find(element); it != set->elements.end()) step.dots = it->second;
    steps_.push_back(std::move(step));
  }

  void rollback() {
    for (auto it = steps_.rbegin(); it != steps_.rend(); ++it) {
      Step& step = *it;
      switch (step.kind) {
        case Kind::erase_field: step.map->fields.erase(step.key); break;
        case Kind::reinsert_field: step.map->fields.insert(std::move(step.node)); break;
        case Kind::restore_leaf: *step.field = std::move(*step.saved); break;
        case Kind::restore_element:
          if (step.dots) {
            step.set->elements.insert_or_assign(step.element, std::move(*step.dots));
          } else {
            step.set->elements.erase(step.element);
          }
          break;
      }
    }
    steps_.clear();
  }

 private:
  enum class Kind { erase_field, reinsert_field, restore_leaf, restore_element };
  struct Step {
    Kind kind = Kind::erase_field;
    MapStore* map = nullptr;
    FieldKey key;
    FieldNode node;
    FieldStore* field = nullptr;
    std::optional<FieldStore> saved;
    ORSetStore* set = nullptr;
    std::string element;
    std::optional<DotSet> dots;
  };
  std::vector<Step> steps_;
};

FieldType type_of_kind(FieldOp::Kind kind) {
  switch (kind) {
    case FieldOp::Kind::increment: return FieldType::counter;
    case FieldOp::Kind::assign: return FieldType::lww_register;
    case FieldOp::Kind::enable:
    case FieldOp::Kind::disable: return FieldType::flag;
    case FieldOp::Kind::add:
    case FieldOp::Kind::remove: return FieldType::set;
    case FieldOp::Kind::update: return FieldType::map;
    case FieldOp::Kind::remove_field: break;
  }
  return FieldType::counter;
}

// At most 64 bytes of a name or element, non-printable bytes as '?'.
std::string printable(std::string_view bytes) {
  constexpr size_t kShown = 64;
  std::string out = "\"";
  for (size_t i = 0; i < bytes.size() && i < kShown; ++i) {
    const char c = bytes[i];
    out.push_back(c >= 0x20 && c < 0x7f && c != '"' ? c : '?');
  }
  if (bytes.size() > kShown) out += "...";
  out += "\"";
  return out;
}

Status with_message(const Status& status, std::string message) {
  switch (status.code()) {
    case StatusCode::not_found: return Status::not_found(std::move(message));
    case StatusCode::too_large: return Status::too_large(std::move(message));
    case StatusCode::conflict: return Status::conflict(std::move(message));
    case StatusCode::internal: return Status::internal(std::move(message));
    case StatusCode::type_mismatch: return Status::type_mismatch(std::move(message));
    default: return Status::invalid(std::move(message));
  }
}

class BatchExecutor {
 public:
  BatchExecutor(CausalContext& context, ReplicaIndex self, CausalContext& delta_context, const Limits& limits)
      : context_(context), self_(self), sink_(context, delta_context), limits_(limits) {}

  Status run(std::span<const FieldOp> ops, MapStore& live, MapStore& delta, size_t depth) {
    for (size_t i = 0; i < ops.size(); ++i) {
      const FieldOp& op = ops[i];
      Status status = apply(op, live, delta, depth);
      if (!status) {
        std::string where = "ops[" + std::to_string(i) + "] " + op_kind_name(op.kind) + " " + printable(op.field.name) +
                            " (" + field_type_name(op.field.type) + "): ";
        return with_message(status, where + status.message());
      }
    }
    return Status::ok();
  }

  void rollback() { undo_.rollback(); }

 private:
  Status check(const FieldOp& op, size_t depth) const {
    const auto type = static_cast<uint8_t>(op.field.type);
    if (type == 0 || type > kFieldTypeMax) return Status::invalid("unknown field type");
    if (op.kind != FieldOp::Kind::remove_field && op.field.type != type_of_kind(op.kind)) {
      return Status::type_mismatch(std::string("operation ") + op_kind_name(op.kind) + " does not apply to a " +
                             field_type_name(op.field.type) + " field");
    }
    if (op.field.name.size() > limits_.field_name_bytes_max) return Status::too_large("field name over its limit");
    if (op.kind == FieldOp::Kind::assign && op.assignment.value.size() > limits_.register_bytes_max) {
      return Status::too_large("register value over its limit");
    }
    for (const std::string& element : op.elements) {
      if (element.size() > limits_.element_bytes_max) return Status::too_large("set element over its limit");
    }
    if (op.kind == FieldOp::Kind::update && depth >= limits_.map_depth_max) {
      return Status::invalid("maps nested deeper than " + std::to_string(limits_.map_depth_max));
    }
    return Status::ok();
  }

  Status apply(const FieldOp& op, MapStore& live, MapStore& delta, size_t depth) {
    if (Status valid = check(op, depth); !valid) return valid;
    const FieldKey& key = op.field;
    switch (op.kind) {
      case FieldOp::Kind::increment: {
        FieldStore& field = live_field(live, key);
        undo_.changing_leaf(&field);
        detail::counter_add(std::get<CounterStore>(field), context_, self_, op.amount,
                            std::get<CounterStore>(delta_field(delta, key)), sink_);
        return Status::ok();
      }
      case FieldOp::Kind::assign: {
        FieldStore& field = live_field(live, key);
        undo_.changing_leaf(&field);
        RegisterStore scratch;
        auto& store = std::get<RegisterStore>(field);
        // A stale write changes nothing; only a winning one touches the delta.
        if (detail::register_assign(store, context_, self_, op.assignment, scratch, sink_)) {
          std::get<RegisterStore>(delta_field(delta, key)) = std::move(scratch);
        }
        return Status::ok();
      }
      case FieldOp::Kind::enable: {
        FieldStore& field = live_field(live, key);
        undo_.changing_leaf(&field);
        detail::flag_enable(std::get<FlagStore>(field), context_, self_, std::get<FlagStore>(delta_field(delta, key)),
                            sink_);
        return Status::ok();
      }
      case FieldOp::Kind::disable: {
        auto it = live.fields.find(key);
        if (it == live.fields.end()) return Status::ok();  // disabled already
        undo_.changing_leaf(&it->second);
        detail::flag_disable(std::get<FlagStore>(it->second), std::get<FlagStore>(delta_field(delta, key)), sink_);
        settle(live, delta, key);
        return Status::ok();
      }
      case FieldOp::Kind::add: {
        if (op.elements.empty()) return Status::ok();
        auto& set = std::get<ORSetStore>(live_field(live, key));
        auto& delta_set = std::get<ORSetStore>(delta_field(delta, key));
        for (const std::string& element : op.elements) {
          undo_.changing_element(&set, element);
          detail::set_add(set, context_, self_, element, delta_set, sink_);
        }
        return Status::ok();
      }
      case FieldOp::Kind::remove: {
        auto it = live.fields.find(key);
        for (const std::string& element : op.elements) {
          auto* set = it == live.fields.end() ? nullptr : &std::get<ORSetStore>(it->second);
          if (set == nullptr || !set->elements.contains(element)) {
            return Status::not_found("element " + printable(element) + " is not in the set");
          }
          undo_.changing_element(set, element);
          detail::set_remove(*set, element, std::get<ORSetStore>(delta_field(delta, key)), sink_);
        }
        settle(live, delta, key);
        return Status::ok();
      }
      case FieldOp::Kind::update: {
        MapStore& nested = *std::get<MapBox>(live_field(live, key));
        const bool delta_had = delta.fields.contains(key);
        MapStore& nested_delta = *std::get<MapBox>(delta_field(delta, key));
        if (Status status = run(op.ops, nested, nested_delta, depth + 1); !status) return status;
        if (!delta_had && !nested_delta.complete && nested_delta.fields.empty()) delta.fields.erase(key);
        settle(live, delta, key);
        return Status::ok();
      }
      case FieldOp::Kind::remove_field: {
        auto it = live.fields.find(key);
        if (it == live.fields.end()) return Status::not_found("field is absent");
        // The delta: a complete, empty store of the field's type and the
        // context of every dot in the field's subtree — whoever joins it
        // drops those dots wherever they are nested.
        sink_.saw_all(it->second);
        delta_field(delta, key) = make_field_store(key.type, true);
        undo_.extracted_field(&live, live.fields.extract(it));
        settle(live, delta, key);
        return Status::ok();
      }
    }
    return Status::internal("unknown operation kind");
  }

  FieldStore& live_field(MapStore& live, const FieldKey& key) {
    auto it = live.fields.find(key);
    if (it != live.fields.end()) return it->second;
    it = live.fields.emplace(key, make_field_store(key.type, true)).first;
    undo_.created_field(&live, key);
    return it->second;
  }

  // A new delta field inherits its node's completeness: complete nodes have
  // complete descendants only.
  static FieldStore& delta_field(MapStore& delta, const FieldKey& key) {
    auto it = delta.fields.find(key);
    if (it == delta.fields.end()) it = delta.fields.emplace(key, make_field_store(key.type, delta.complete)).first;
    return it->second;
  }

  // Restores the normal form after an operation: the live state holds no
  // empty field, nor does a complete delta node.
  void settle(MapStore& live, MapStore& delta, const FieldKey& key) {
    if (auto it = live.fields.find(key); it != live.fields.end() && is_bottom(it->second)) {
      undo_.extracted_field(&live, live.fields.extract(it));
    }
    if (delta.complete) {
      if (auto it = delta.fields.find(key); it != delta.fields.end() && is_bottom(it->second)) delta.fields.erase(it);
    }
  }

  CausalContext& context_;
  ReplicaIndex self_;
  detail::DeltaSink sink_;
  const Limits& limits_;
  UndoLog undo_;
};

}  // namespace

Result<Map> Map::apply(const ReplicaId& self, std::span<const FieldOp> ops, const Limits& limits) {
  const ReplicaIndex me = context_.intern(self);
  const DotRanges saved = context_.ranges(me);
  Map delta;
  delta.store_.complete = false;
  BatchExecutor executor(context_, me, delta.context_, limits);
  if (Status status = executor.run(ops, store_, delta.store_, 1); !status) {
    executor.rollback();
    context_.set_ranges(me, saved);
    return status;
  }
  // A batch that changed the state without drawing a dot (only removes and
  // disables) still gets one: see detail::record_event.
  if (!delta.context_.empty() && context_.ranges(me) == saved) {
    detail::DeltaSink sink(context_, delta.context_);
    detail::record_event(context_, me, sink);
  }
  return delta;
}

Result<Map> Map::apply_if(const ReplicaId& self, std::span<const FieldOp> ops, const CausalContext& expected,
                          const Limits& limits) {
  if (!(context_ == expected)) return Status::conflict("the key changed since its context was read");
  return apply(self, ops, limits);
}

}  // namespace lashup::crdt
