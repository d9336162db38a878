#include "core/crdt/map.h"

#include <algorithm>

#include "core/crdt/mutators.h"

namespace lashup::crdt {
namespace {

FieldOp make_op(FieldOp::Kind kind, std::string name, FieldType type) {
  FieldOp op;
  op.kind = kind;
  op.field = FieldKey{std::move(name), type};
  return op;
}

Value read_field(const FieldStore& store);

MapValue read_map(const MapStore& store) {
  MapValue out;
  out.fields.reserve(store.fields.size());
  for (const auto& [key, field] : store.fields) {
    if (is_bottom(field)) continue;  // markers of a delta
    out.fields.push_back(FieldValue{key, read_field(field)});
  }
  return out;
}

Value read_field(const FieldStore& store) {
  return std::visit(
      [](const auto& s) -> Value {
        using S = std::decay_t<decltype(s)>;
        if constexpr (std::is_same_v<S, CounterStore>) {
          return detail::counter_value(s);
        } else if constexpr (std::is_same_v<S, RegisterStore>) {
          return detail::register_winner(s)->value;
        } else if constexpr (std::is_same_v<S, FlagStore>) {
          return !s.dots.empty();
        } else if constexpr (std::is_same_v<S, ORSetStore>) {
          std::vector<std::string> elements;
          elements.reserve(s.elements.size());
          for (const auto& [element, dots] : s.elements) {
            if (!dots.empty()) elements.push_back(element);
          }
          return elements;
        } else {
          return read_map(*s);
        }
      },
      store);
}

}  // namespace

FieldOp FieldOp::increment(std::string name, int64_t amount) {
  FieldOp op = make_op(Kind::increment, std::move(name), FieldType::counter);
  op.amount = amount;
  return op;
}

FieldOp FieldOp::decrement(std::string name, int64_t amount) {
  // Negation through unsigned arithmetic: decrement(INT64_MIN) wraps, as
  // every counter sum does, instead of overflowing.
  return increment(std::move(name), static_cast<int64_t>(0 - static_cast<uint64_t>(amount)));
}

FieldOp FieldOp::assign(std::string name, std::string value, uint64_t timestamp) {
  FieldOp op = make_op(Kind::assign, std::move(name), FieldType::lww_register);
  op.assignment = Timestamped{timestamp, std::move(value)};
  return op;
}

FieldOp FieldOp::enable(std::string name) { return make_op(Kind::enable, std::move(name), FieldType::flag); }
FieldOp FieldOp::disable(std::string name) { return make_op(Kind::disable, std::move(name), FieldType::flag); }

FieldOp FieldOp::add(std::string name, std::vector<std::string> elements) {
  FieldOp op = make_op(Kind::add, std::move(name), FieldType::set);
  op.elements = std::move(elements);
  return op;
}

FieldOp FieldOp::remove(std::string name, std::vector<std::string> elements) {
  FieldOp op = make_op(Kind::remove, std::move(name), FieldType::set);
  op.elements = std::move(elements);
  return op;
}

FieldOp FieldOp::update(std::string name, std::vector<FieldOp> ops) {
  FieldOp op = make_op(Kind::update, std::move(name), FieldType::map);
  op.ops = std::move(ops);
  return op;
}

FieldOp FieldOp::remove_field(std::string name, FieldType type) {
  return make_op(Kind::remove_field, std::move(name), type);
}

const char* op_kind_name(FieldOp::Kind kind) {
  switch (kind) {
    case FieldOp::Kind::increment: return "increment";
    case FieldOp::Kind::assign: return "assign";
    case FieldOp::Kind::enable: return "enable";
    case FieldOp::Kind::disable: return "disable";
    case FieldOp::Kind::add: return "add";
    case FieldOp::Kind::remove: return "remove";
    case FieldOp::Kind::update: return "update";
    case FieldOp::Kind::remove_field: return "remove_field";
  }
  return "unknown";
}

const FieldValue* MapValue::find(std::string_view name, FieldType type) const {
  auto it = std::lower_bound(fields.begin(), fields.end(), name, [&](const FieldValue& f, std::string_view n) {
    const int c = std::string_view(f.key.name).compare(n);
    return c != 0 ? c < 0 : f.key.type < type;
  });
  if (it == fields.end() || it->key.name != name || it->key.type != type) return nullptr;
  return &*it;
}

bool MapValue::operator==(const MapValue& other) const { return fields == other.fields; }

Map Map::clear(const ReplicaId& self) {
  // Complete and empty, with the context of every dot held: a joiner drops
  // each of them it holds.
  Map delta;
  if (store_.fields.empty()) return delta;
  detail::reset_store(store_, [](auto& store) { store.fields.clear(); }, context_, delta.context_, self);
  return delta;
}

MapValue Map::value() const { return read_map(store_); }

const FieldStore* Map::field(std::string_view name, FieldType type) const {
  auto it = store_.fields.find(FieldKey{std::string(name), type});
  return it == store_.fields.end() ? nullptr : &it->second;
}

}  // namespace lashup::crdt
