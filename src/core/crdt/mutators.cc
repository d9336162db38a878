#include "core/crdt/mutators.h"

#include <cassert>

namespace lashup::crdt::detail {
namespace {

Dot fresh_dot(CausalContext& context, ReplicaIndex self) {
  const Dot dot = context.next_dot(self);
  context.insert(dot);
  return dot;
}

}  // namespace

void record_event(CausalContext& context, ReplicaIndex self, DeltaSink& sink) { sink.saw(fresh_dot(context, self)); }

Dot DeltaSink::translate(Dot live_dot) {
  if (live_dot.replica != last_live_) {
    last_live_ = live_dot.replica;
    last_delta_ = delta_->intern(live_->replica(live_dot.replica));
  }
  return {last_delta_, live_dot.counter};
}

void counter_add(CounterStore& live, CausalContext& context, ReplicaIndex self, int64_t amount, CounterStore& delta,
                 DeltaSink& sink) {
  // One dot per replica carrying its running total (Baquero's causal counter,
  // delta-enabled-crdts `ccounter`): a field remove drops the dots it saw, so
  // the count restarts from zero, unlike the original's pncounter which
  // resurrected old counts after remove + re-add (reference §3).
  uint64_t total = static_cast<uint64_t>(amount);
  std::erase_if(live.entries, [&](const DotEntry<int64_t>& entry) {
    if (entry.dot.replica != self) return false;
    total += static_cast<uint64_t>(entry.value);
    sink.saw(entry.dot);
    return true;
  });
  const Dot dot = fresh_dot(context, self);
  const auto value = static_cast<int64_t>(total);
  auto it = std::lower_bound(live.entries.begin(), live.entries.end(), dot,
                             [](const auto& entry, Dot d) { return entry.dot < d; });
  live.entries.insert(it, DotEntry<int64_t>{dot, value});
  const Dot delta_dot = sink.translate(dot);
  sink.saw(dot);
  // The delta's entries at this counter are this batch's earlier dots of
  // `self`, all replaced now.
  delta.entries.assign(1, DotEntry<int64_t>{delta_dot, value});
}

bool register_assign(RegisterStore& live, CausalContext& context, ReplicaIndex self, Timestamped value,
                     RegisterStore& delta, DeltaSink& sink) {
  if (const auto* winner = register_winner(live); winner != nullptr && !(winner->value < value)) return false;
  for (const auto& entry : live.entries) sink.saw(entry.dot);
  const Dot dot = fresh_dot(context, self);
  sink.saw(dot);
  delta.entries.assign(1, DotEntry<Timestamped>{sink.translate(dot), value});
  live.entries.assign(1, DotEntry<Timestamped>{dot, std::move(value)});
  return true;
}

void flag_enable(FlagStore& live, CausalContext& context, ReplicaIndex self, FlagStore& delta, DeltaSink& sink) {
  sink.saw_all(live);
  const Dot dot = fresh_dot(context, self);
  sink.saw(dot);
  live.dots = DotSet(dot);
  delta.dots = DotSet(sink.translate(dot));
}

bool flag_disable(FlagStore& live, FlagStore& delta, DeltaSink& sink) {
  if (live.dots.empty()) return false;
  sink.saw_all(live);
  live.dots.clear();
  delta.dots.clear();
  return true;
}

void set_add(ORSetStore& live, CausalContext& context, ReplicaIndex self, std::string_view element, ORSetStore& delta,
             DeltaSink& sink) {
  auto it = live.elements.try_emplace(element).first;
  // The add replaces the dots it observed: one dot per element in the
  // common case, whatever the number of re-adds.
  for (Dot dot : it->second) sink.saw(dot);
  const Dot dot = fresh_dot(context, self);
  sink.saw(dot);
  it->second = DotSet(dot);
  delta.elements.insert_or_assign(element, DotSet(sink.translate(dot)));
}

bool set_remove(ORSetStore& live, std::string_view element, ORSetStore& delta, DeltaSink& sink) {
  auto it = live.elements.find(element);
  if (it == live.elements.end()) return false;
  for (Dot dot : it->second) sink.saw(dot);
  live.elements.erase(it);
  if (delta.complete) {
    // A complete delta node lists no empty element: its context alone says
    // the removed dots are gone.
    delta.elements.erase(element);
    return true;
  }
  // A marker: the delta's context holds the removed dots of this element.
  delta.elements.try_emplace(element).first->second.clear();
  return true;
}

}  // namespace lashup::crdt::detail
