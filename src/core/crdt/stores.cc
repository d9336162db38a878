#include "core/crdt/stores.h"

#include <algorithm>
#include <cassert>

namespace lashup::crdt {

const char* field_type_name(FieldType type) {
  switch (type) {
    case FieldType::counter: return "counter";
    case FieldType::lww_register: return "register";
    case FieldType::flag: return "flag";
    case FieldType::set: return "set";
    case FieldType::map: return "map";
  }
  return "unknown";
}

MapBox::MapBox() : map_(std::make_unique<MapStore>()) {}
MapBox::MapBox(bool complete) : map_(std::make_unique<MapStore>()) { map_->complete = complete; }
MapBox::MapBox(const MapBox& other) : map_(std::make_unique<MapStore>(*other.map_)) {}
MapBox& MapBox::operator=(const MapBox& other) {
  if (this != &other) map_ = std::make_unique<MapStore>(*other.map_);
  return *this;
}
MapBox::~MapBox() = default;
bool MapBox::operator==(const MapBox& other) const { return *map_ == *other.map_; }

FieldStore make_field_store(FieldType type, bool complete) {
  switch (type) {
    case FieldType::counter: return CounterStore{};
    case FieldType::lww_register: return RegisterStore{};
    case FieldType::flag: return FlagStore{};
    case FieldType::set: {
      ORSetStore set;
      set.complete = complete;
      return set;
    }
    case FieldType::map: return MapBox(complete);
  }
  assert(false && "field type out of range");
  return CounterStore{};
}

bool is_bottom(const CounterStore& store) { return store.entries.empty(); }
bool is_bottom(const RegisterStore& store) { return store.entries.empty(); }
bool is_bottom(const FlagStore& store) { return store.dots.empty(); }

bool is_bottom(const ORSetStore& store) {
  // A complete set holds no empty element; a delta may hold markers.
  if (store.complete) return store.elements.empty();
  return std::all_of(store.elements.begin(), store.elements.end(),
                     [](const auto& element) { return element.second.empty(); });
}

bool is_bottom(const MapStore& store) {
  if (store.complete) return store.fields.empty();
  return std::all_of(store.fields.begin(), store.fields.end(),
                     [](const auto& field) { return is_bottom(field.second); });
}

bool is_bottom(const FieldStore& store) {
  return std::visit(
      [](const auto& s) {
        if constexpr (std::is_same_v<std::decay_t<decltype(s)>, MapBox>) {
          return is_bottom(*s);
        } else {
          return is_bottom(s);
        }
      },
      store);
}

}  // namespace lashup::crdt
