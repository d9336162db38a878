#include "core/crdt/store_join.h"

#include <algorithm>
#include <cassert>
#include <type_traits>

namespace lashup::crdt::detail {
namespace {

template <typename V>
bool holds(const std::vector<DotEntry<V>>& entries, Dot dot) {
  auto it = std::lower_bound(entries.begin(), entries.end(), dot,
                             [](const DotEntry<V>& entry, Dot d) { return entry.dot < d; });
  return it != entries.end() && it->dot == dot;
}

template <typename V>
void insert_entry(std::vector<DotEntry<V>>& entries, DotEntry<V> entry) {
  auto it = std::lower_bound(entries.begin(), entries.end(), entry.dot,
                             [](const DotEntry<V>& e, Dot d) { return e.dot < d; });
  entries.insert(it, std::move(entry));
}

// The join of two DotFuns: keep a's dots unless b saw them and dropped them;
// add b's dots a never saw. A dot names one update, so a dot held on both
// sides carries the same value and needs no value join.
template <typename V>
bool join_entries(std::vector<DotEntry<V>>& a, const std::vector<DotEntry<V>>& b, const Bridge& bridge) {
  const size_t before = a.size();
  std::erase_if(a, [&](const DotEntry<V>& e) { return bridge.b_saw(e.dot) && !holds(b, bridge.to_b(e.dot)); });
  bool changed = a.size() != before;
  for (const auto& entry : b) {
    const Dot dot = bridge.to_a(entry.dot);
    if (bridge.a().contains(dot)) continue;
    insert_entry(a, DotEntry<V>{dot, entry.value});
    changed = true;
  }
  return changed;
}

bool join_dots(DotSet& a, const DotSet& b, const Bridge& bridge) {
  bool changed = a.erase_if([&](Dot d) { return bridge.b_saw(d) && !b.contains(bridge.to_b(d)); }) > 0;
  for (Dot d : b) {
    const Dot dot = bridge.to_a(d);
    if (!bridge.a().contains(dot)) changed |= a.insert(dot);
  }
  return changed;
}

const FieldStore& complete_bottom(FieldType type) {
  static const FieldStore bottoms[] = {
      make_field_store(FieldType::counter, true), make_field_store(FieldType::lww_register, true),
      make_field_store(FieldType::flag, true),    make_field_store(FieldType::set, true),
      make_field_store(FieldType::map, true),
  };
  return bottoms[static_cast<size_t>(type) - 1];
}

void join_field(FieldStore& a, const FieldStore& b, const Bridge& bridge, Changes& changes) {
  assert(a.index() == b.index());
  std::visit(
      [&](auto& mine) {
        using S = std::decay_t<decltype(mine)>;
        const S& theirs = std::get<S>(b);
        if constexpr (std::is_same_v<S, MapBox>) {
          join_store(*mine, *theirs, bridge, changes);
        } else {
          join_store(mine, theirs, bridge, changes);
        }
      },
      a);
}

template <typename V>
bool diff_entries(const std::vector<DotEntry<V>>& d, const std::vector<DotEntry<V>>* x, const Bridge& bridge,
                  std::vector<DotEntry<V>>& r, DiffSink& sink) {
  bool touched = false;
  for (const auto& entry : d) {
    if (bridge.b_saw(entry.dot)) continue;
    r.push_back(entry);
    sink.novel(entry.dot);
    touched = true;
  }
  if (x != nullptr) {
    for (const auto& entry : *x) {
      const Dot dot = bridge.to_a(entry.dot);
      if (dot.replica == kNoReplica || !bridge.a().contains(dot) || holds(d, dot)) continue;
      sink.removed(dot);
      touched = true;
    }
  }
  return touched;
}

bool diff_dots(const DotSet& d, const DotSet* x, const Bridge& bridge, DotSet& r, DiffSink& sink) {
  bool touched = false;
  for (Dot dot : d) {
    if (bridge.b_saw(dot)) continue;
    r.insert(dot);
    sink.novel(dot);
    touched = true;
  }
  if (x != nullptr) {
    for (Dot theirs : *x) {
      const Dot dot = bridge.to_a(theirs);
      if (dot.replica == kNoReplica || !bridge.a().contains(dot) || d.contains(dot)) continue;
      sink.removed(dot);
      touched = true;
    }
  }
  return touched;
}

bool diff_field(const FieldStore& d, const FieldStore* x, const Bridge& bridge, FieldStore& r, DiffSink& sink) {
  assert(x == nullptr || x->index() == d.index());
  return std::visit(
      [&](const auto& ds) {
        using S = std::decay_t<decltype(ds)>;
        const S* xs = x == nullptr ? nullptr : &std::get<S>(*x);
        S& rs = std::get<S>(r);
        if constexpr (std::is_same_v<S, MapBox>) {
          return diff_store(*ds, xs == nullptr ? nullptr : &**xs, bridge, *rs, sink);
        } else {
          return diff_store(ds, xs, bridge, rs, sink);
        }
      },
      d);
}

}  // namespace

Bridge::Bridge(const CausalContext& a, const CausalContext& b) : a_(&a), b_(&b) {
  b_to_a_.resize(b.replica_count());
  a_to_b_.assign(a.replica_count(), kNoReplica);
  for (size_t i = 0; i < b.replica_count(); ++i) {
    const ReplicaIndex mine = a.find(b.replica(static_cast<ReplicaIndex>(i)));
    b_to_a_[i] = mine;
    if (mine != kNoReplica) a_to_b_[mine] = static_cast<ReplicaIndex>(i);
  }
}

Bridge Bridge::for_join(CausalContext& a, const CausalContext& b) {
  // Replicas without dots in b are not interned: no dot of b refers to them,
  // and the table of a should not grow with names it will never need.
  for (ReplicaIndex i = 0; i < b.replica_count(); ++i) {
    if (!b.ranges(i).empty()) a.intern(b.replica(i));
  }
  return Bridge(a, b);
}

Bridge Bridge::for_compare(const CausalContext& a, const CausalContext& b) { return Bridge(a, b); }

int64_t counter_value(const CounterStore& store) {
  // Wrapping arithmetic: sums of totals from peers may overflow, and signed
  // overflow is undefined; modular addition is also order-independent.
  uint64_t sum = 0;
  for (const auto& entry : store.entries) sum += static_cast<uint64_t>(entry.value);
  return static_cast<int64_t>(sum);
}

const DotEntry<Timestamped>* register_winner(const RegisterStore& store) {
  if (store.entries.empty()) return nullptr;
  return &*std::max_element(store.entries.begin(), store.entries.end(),
                            [](const auto& x, const auto& y) { return x.value < y.value; });
}

// --- join ---

void join_store(CounterStore& a, const CounterStore& b, const Bridge& bridge, Changes& changes) {
  const int64_t before = counter_value(a);
  if (!join_entries(a.entries, b.entries, bridge)) return;
  changes.store = true;
  if (counter_value(a) != before) changes.value = true;
}

void join_store(RegisterStore& a, const RegisterStore& b, const Bridge& bridge, Changes& changes) {
  const auto* winner = register_winner(a);
  const Dot before = winner ? winner->dot : Dot{kNoReplica, 0};
  if (!join_entries(a.entries, b.entries, bridge)) return;
  changes.store = true;
  winner = register_winner(a);
  if ((winner ? winner->dot : Dot{kNoReplica, 0}) != before) changes.value = true;
}

void join_store(FlagStore& a, const FlagStore& b, const Bridge& bridge, Changes& changes) {
  const bool before = !a.dots.empty();
  if (!join_dots(a.dots, b.dots, bridge)) return;
  changes.store = true;
  if (!a.dots.empty() != before) changes.value = true;
}

void join_store(ORSetStore& a, const ORSetStore& b, const Bridge& bridge, Changes& changes) {
  // A partial b lists every key its context has dots of, so only those keys
  // need a visit: O(|b| log |a|) for a delta instead of O(|a| + |b|).
  const bool walk_all = b.complete;
  a.complete = a.complete || b.complete;
  auto join_element = [&](DotSet& mine, const DotSet& theirs) {
    const bool before = !mine.empty();
    if (join_dots(mine, theirs, bridge)) changes.store = true;
    if (!mine.empty() != before) changes.value = true;
  };
  if (!walk_all) {
    for (const auto& [element, theirs] : b.elements) {
      // A new element starts empty; in a partial `a` it stays as a marker.
      auto it = a.elements.try_emplace(element).first;
      join_element(it->second, theirs);
      if (a.complete && it->second.empty()) a.elements.erase(it);
    }
    return;
  }
  // Joining a state: one merge of the two sorted sequences into a new map.
  static const DotSet kNoDots;
  ChunkedMap<DotSet> merged;
  auto keep = [&](std::string element, DotSet dots) {
    if (!dots.empty()) merged.append(std::move(element), std::move(dots));
  };
  auto ia = a.elements.begin();
  auto ib = b.elements.begin();
  while (ia != a.elements.end() || ib != b.elements.end()) {
    if (ib == b.elements.end() || (ia != a.elements.end() && ia->first < ib->first)) {
      join_element(ia->second, kNoDots);
      keep(std::move(ia->first), std::move(ia->second));
      ++ia;
    } else if (ia == a.elements.end() || ib->first < ia->first) {
      DotSet fresh;
      join_element(fresh, ib->second);
      keep(ib->first, std::move(fresh));
      ++ib;
    } else {
      join_element(ia->second, ib->second);
      keep(std::move(ia->first), std::move(ia->second));
      ++ia;
      ++ib;
    }
  }
  a.elements = std::move(merged);
}

void join_store(MapStore& a, const MapStore& b, const Bridge& bridge, Changes& changes) {
  const bool walk_all = b.complete;
  a.complete = a.complete || b.complete;
  if (!walk_all) {
    for (const auto& [key, theirs] : b.fields) {
      auto it = a.fields.find(key);
      if (it == a.fields.end()) {
        FieldStore fresh = make_field_store(key.type, a.complete);
        join_field(fresh, theirs, bridge, changes);
        if (!a.complete || !is_bottom(fresh)) a.fields.emplace(key, std::move(fresh));
        continue;
      }
      join_field(it->second, theirs, bridge, changes);
      if (a.complete && is_bottom(it->second)) a.fields.erase(it);
    }
    return;
  }
  auto ia = a.fields.begin();
  auto ib = b.fields.begin();
  while (ia != a.fields.end() || ib != b.fields.end()) {
    if (ib == b.fields.end() || (ia != a.fields.end() && ia->first < ib->first)) {
      join_field(ia->second, complete_bottom(ia->first.type), bridge, changes);
      ia = is_bottom(ia->second) ? a.fields.erase(ia) : std::next(ia);
    } else if (ia == a.fields.end() || ib->first < ia->first) {
      FieldStore fresh = make_field_store(ib->first.type, true);
      join_field(fresh, ib->second, bridge, changes);
      if (!is_bottom(fresh)) a.fields.emplace_hint(ia, ib->first, std::move(fresh));
      ++ib;
    } else {
      join_field(ia->second, ib->second, bridge, changes);
      ia = is_bottom(ia->second) ? a.fields.erase(ia) : std::next(ia);
      ++ib;
    }
  }
}

// --- difference ---

bool diff_store(const CounterStore& d, const CounterStore* x, const Bridge& bridge, CounterStore& r, DiffSink& sink) {
  return diff_entries(d.entries, x ? &x->entries : nullptr, bridge, r.entries, sink);
}

bool diff_store(const RegisterStore& d, const RegisterStore* x, const Bridge& bridge, RegisterStore& r,
                DiffSink& sink) {
  return diff_entries(d.entries, x ? &x->entries : nullptr, bridge, r.entries, sink);
}

bool diff_store(const FlagStore& d, const FlagStore* x, const Bridge& bridge, FlagStore& r, DiffSink& sink) {
  return diff_dots(d.dots, x ? &x->dots : nullptr, bridge, r.dots, sink);
}

bool diff_store(const ORSetStore& d, const ORSetStore* x, const Bridge& bridge, ORSetStore& r, DiffSink& sink) {
  r.complete = false;
  bool touched = false;
  auto visit = [&](const std::string& element, const DotSet& dd, const DotSet* xd) {
    DotSet out;
    if (!diff_dots(dd, xd, bridge, out, sink)) return;
    r.elements.append(element, std::move(out));
    touched = true;
  };
  if (!d.complete || x == nullptr) {
    for (const auto& [element, dots] : d.elements) {
      const DotSet* xd = nullptr;
      if (x != nullptr) {
        auto it = x->elements.find(element);
        if (it != x->elements.end()) xd = &it->second;
      }
      visit(element, dots, xd);
    }
    return touched;
  }
  // d complete: its context may remove any element of x, listed or not.
  static const DotSet kNoDots;
  auto id = d.elements.begin();
  auto ix = x->elements.begin();
  while (id != d.elements.end() || ix != x->elements.end()) {
    if (ix == x->elements.end() || (id != d.elements.end() && id->first < ix->first)) {
      visit(id->first, id->second, nullptr);
      ++id;
    } else if (id == d.elements.end() || ix->first < id->first) {
      visit(ix->first, kNoDots, &ix->second);
      ++ix;
    } else {
      visit(id->first, id->second, &ix->second);
      ++id;
      ++ix;
    }
  }
  return touched;
}

bool diff_store(const MapStore& d, const MapStore* x, const Bridge& bridge, MapStore& r, DiffSink& sink) {
  r.complete = false;
  bool touched = false;
  auto visit = [&](const FieldKey& key, const FieldStore& df, const FieldStore* xf) {
    FieldStore out = make_field_store(key.type, false);
    if (!diff_field(df, xf, bridge, out, sink)) return;
    r.fields.emplace_hint(r.fields.end(), key, std::move(out));
    touched = true;
  };
  if (!d.complete || x == nullptr) {
    for (const auto& [key, field] : d.fields) {
      const FieldStore* xf = nullptr;
      if (x != nullptr) {
        auto it = x->fields.find(key);
        if (it != x->fields.end()) xf = &it->second;
      }
      visit(key, field, xf);
    }
    return touched;
  }
  auto id = d.fields.begin();
  auto ix = x->fields.begin();
  while (id != d.fields.end() || ix != x->fields.end()) {
    if (ix == x->fields.end() || (id != d.fields.end() && id->first < ix->first)) {
      visit(id->first, id->second, nullptr);
      ++id;
    } else if (id == d.fields.end() || ix->first < id->first) {
      visit(ix->first, complete_bottom(ix->first.type), &ix->second);
      ++ix;
    } else {
      visit(id->first, id->second, &ix->second);
      ++id;
      ++ix;
    }
  }
  return touched;
}

// --- skeleton ---

void add_skeleton(const CounterStore&, CounterStore&) {}
void add_skeleton(const RegisterStore&, RegisterStore&) {}
void add_skeleton(const FlagStore&, FlagStore&) {}

void add_skeleton(const ORSetStore& d, ORSetStore& r) {
  if (d.complete) {
    mark_complete(r);
    return;
  }
  for (const auto& [element, dots] : d.elements) r.elements.try_emplace(element);
}

void add_skeleton(const MapStore& d, MapStore& r) {
  if (d.complete) {
    mark_complete(r);
    return;
  }
  for (const auto& [key, field] : d.fields) {
    FieldStore& target = r.fields.try_emplace(key, make_field_store(key.type, false)).first->second;
    std::visit(
        [&](const auto& ds) {
          using S = std::decay_t<decltype(ds)>;
          if constexpr (std::is_same_v<S, MapBox>) {
            add_skeleton(*ds, *std::get<MapBox>(target));
          } else if constexpr (std::is_same_v<S, ORSetStore>) {
            add_skeleton(ds, std::get<ORSetStore>(target));
          }
        },
        field);
  }
}

void mark_complete(ORSetStore& store) {
  store.complete = true;
  store.elements.erase_if([](const auto& element) { return element.second.empty(); });
}

void mark_complete(MapStore& store) {
  store.complete = true;
  for (auto& [key, field] : store.fields) {
    if (auto* set = std::get_if<ORSetStore>(&field)) mark_complete(*set);
    if (auto* map = std::get_if<MapBox>(&field)) mark_complete(**map);
  }
  std::erase_if(store.fields, [](const auto& field) { return is_bottom(field.second); });
}

}  // namespace lashup::crdt::detail
