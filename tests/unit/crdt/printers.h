// gtest printers for CRDT objects: the replica table with its runs, then the
// store as nested keys and dots, so a failed comparison shows the difference.
#pragma once

#include <ostream>
#include <string>

#include "core/crdt/counter.h"
#include "core/crdt/flag.h"
#include "core/crdt/lww_register.h"
#include "core/crdt/map.h"
#include "core/crdt/or_set.h"

namespace lashup::crdt {

inline std::string describe(const CausalContext& context) {
  std::string out = "ctx{";
  for (ReplicaIndex i = 0; i < context.replica_count(); ++i) {
    if (context.ranges(i).empty()) continue;
    out += context.replica(i).name + "#" + std::to_string(i) + ":";
    for (DotRange run : context.ranges(i))
      out += "[" + std::to_string(run.first) + "," + std::to_string(run.last) + "]";
    out += " ";
  }
  return out + "}";
}

inline std::string describe(Dot dot) { return std::to_string(dot.replica) + "." + std::to_string(dot.counter); }

inline std::string describe(const DotSet& dots) {
  std::string out = "{";
  for (Dot dot : dots) out += describe(dot) + " ";
  return out + "}";
}

inline std::string describe(const CounterStore& s) {
  std::string out = "counter{";
  for (const auto& e : s.entries) out += describe(e.dot) + "=" + std::to_string(e.value) + " ";
  return out + "}";
}
inline std::string describe(const RegisterStore& s) {
  std::string out = "register{";
  for (const auto& e : s.entries)
    out += describe(e.dot) + "=" + e.value.value + "@" + std::to_string(e.value.timestamp) + " ";
  return out + "}";
}
inline std::string describe(const FlagStore& s) { return "flag" + describe(s.dots); }
inline std::string describe(const ORSetStore& s) {
  std::string out = s.complete ? "set{" : "set~{";
  for (const auto& [element, dots] : s.elements) out += element + describe(dots) + " ";
  return out + "}";
}
inline std::string describe(const MapStore& s);
inline std::string describe(const FieldStore& s) {
  return std::visit(
      [](const auto& store) {
        if constexpr (std::is_same_v<std::decay_t<decltype(store)>, MapBox>) {
          return describe(*store);
        } else {
          return describe(store);
        }
      },
      s);
}
inline std::string describe(const MapStore& s) {
  std::string out = s.complete ? "map{" : "map~{";
  for (const auto& [key, field] : s.fields) out += key.name + ":" + describe(field) + " ";
  return out + "}";
}

inline void PrintTo(const Counter& x, std::ostream* os) { *os << describe(x.context()) << describe(x.store()); }
inline void PrintTo(const LwwRegister& x, std::ostream* os) { *os << describe(x.context()) << describe(x.store()); }
inline void PrintTo(const Flag& x, std::ostream* os) { *os << describe(x.context()) << describe(x.store()); }
inline void PrintTo(const ORSet& x, std::ostream* os) { *os << describe(x.context()) << describe(x.store()); }
inline void PrintTo(const Map& x, std::ostream* os) { *os << describe(x.context()) << describe(x.store()); }

}  // namespace lashup::crdt
