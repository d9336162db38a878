// Dot stores: the payload half of every causal CRDT (the other half is the
// CausalContext). Almeida et al. (arXiv 1603.01529) build every causal type
// from three shapes, and so do we:
//   DotFun  dot -> value      counter (value: running total of the replica),
//                             LWW register (value: timestamp and bytes)
//   DotSet  set of dots       enable-wins flag, one element of a set
//   DotMap  key -> dot store  add-wins set (element -> DotSet), map
//                             (field -> any store, nested to any depth)
// A store never owns a context: a map's nested stores all use the map's one
// context, as riak_dt's parent_clock and Baquero's shared dotcontext do
// (crdt-notes §1.2), so a remove inside a removed field is never lost.
//
// Containers (sets and maps) carry a `complete` bit. In a state it is always
// true. In a delta it may be false: the delta then describes only the keys it
// lists (its context holds dots of those keys only), so joining it visits
// O(keys listed) instead of every key of the state. A listed key with an
// empty store is a marker: "this key was touched", e.g. an element removed.
// A complete node has complete descendants only.
#pragma once

#include <compare>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/crdt/chunked_map.h"
#include "core/crdt/dot.h"

namespace lashup::crdt {

// One entry of a DotFun: a dot and the value it carries.
template <typename Value>
struct DotEntry {
  Dot dot;
  Value value{};
  bool operator==(const DotEntry&) const = default;
};

// Counter: at most one entry per replica, carrying that replica's running
// total (increments minus decrements) since it last saw the counter reset.
struct CounterStore {
  std::vector<DotEntry<int64_t>> entries;  // sorted by dot
  bool operator==(const CounterStore&) const = default;
};

struct Timestamped {
  uint64_t timestamp = 0;
  std::string value;
  bool operator==(const Timestamped&) const = default;
  // The LWW order: higher timestamp wins; on equal timestamps the
  // lexicographically greater bytes win (riak_dt compared {V, TS} terms;
  // comparing bytes is deterministic on every replica and every platform).
  auto operator<=>(const Timestamped& other) const {
    if (auto c = timestamp <=> other.timestamp; c != 0) return c;
    return value.compare(other.value) <=> 0;
  }
};

// LWW register: one entry per concurrent assignment not yet overwritten; the
// value read is the greatest entry in the LWW order.
struct RegisterStore {
  std::vector<DotEntry<Timestamped>> entries;  // sorted by dot
  bool operator==(const RegisterStore&) const = default;
};

// Enable-wins flag: enabled while it holds a dot.
struct FlagStore {
  DotSet dots;
  bool operator==(const FlagStore&) const = default;
};

// Add-wins set without tombstones: each element holds the dots of the adds
// that created it; a remove drops the dots it observed.
struct ORSetStore {
  ChunkedMap<DotSet> elements;  // sorted: values read sorted
  bool complete = true;
  bool operator==(const ORSetStore&) const = default;
};

enum class FieldType : uint8_t {
  counter = 1,
  lww_register = 2,
  flag = 3,
  set = 4,
  map = 5,
};
inline constexpr uint8_t kFieldTypeMax = 5;
const char* field_type_name(FieldType type);

// A map field is named by (name, type), as in riak_dt: "x" the counter and
// "x" the set are two fields.
struct FieldKey {
  std::string name;
  FieldType type = FieldType::counter;
  auto operator<=>(const FieldKey&) const = default;
};

struct MapStore;

// A MapStore held by value through a pointer, so a map can nest maps.
class MapBox {
 public:
  MapBox();
  explicit MapBox(bool complete);
  MapBox(const MapBox& other);
  MapBox(MapBox&&) noexcept = default;
  MapBox& operator=(const MapBox& other);
  MapBox& operator=(MapBox&&) noexcept = default;
  ~MapBox();
  MapStore& operator*() const { return *map_; }
  MapStore* operator->() const { return map_.get(); }
  bool operator==(const MapBox& other) const;

 private:
  std::unique_ptr<MapStore> map_;
};

// The alternative index is the FieldType minus one.
using FieldStore = std::variant<CounterStore, RegisterStore, FlagStore, ORSetStore, MapBox>;

struct MapStore {
  std::map<FieldKey, FieldStore> fields;
  bool complete = true;
  bool operator==(const MapStore&) const = default;
};

inline FieldType type_of(const FieldStore& store) { return static_cast<FieldType>(store.index() + 1); }
// An empty store of `type`; containers get the given `complete` bit.
FieldStore make_field_store(FieldType type, bool complete);

// Whether a store holds no dot (a marker or nothing at all).
bool is_bottom(const CounterStore& store);
bool is_bottom(const RegisterStore& store);
bool is_bottom(const FlagStore& store);
bool is_bottom(const ORSetStore& store);
bool is_bottom(const MapStore& store);
bool is_bottom(const FieldStore& store);

}  // namespace lashup::crdt
