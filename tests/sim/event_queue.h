// The simulator's agenda: a min-heap of small, trivially copyable entries
// keyed by (time, sequence number). The sequence number is assigned at push,
// so two entries due at the same instant run in the order they were
// scheduled: ties never depend on heap layout, which is what makes a seed
// replay exactly.
//
// The heap is 4-ary: with tens of thousands of pending entries it does about
// half the levels of a binary heap and its children share a cache line, which
// matters because every simulated event is one push and one pop.
#pragma once

#include <cassert>
#include <cstdint>
#include <utility>
#include <vector>

#include "core/common/time.h"

namespace lashup::sim {

// What an entry asks the simulation to do; the meaning of a, b, c and tag
// belongs to the kind (see Simulation::dispatch).
enum class EntryKind : uint16_t {
  direction_head,  // a = pair, b = direction: deliver the first item queued in that direction
  tick,            // a = node, tag = boot: the node's pending on_tick
  notice,          // a = notice slot: a connection change reported by the host itself
  boot,            // a = node, tag = boot: start a node's core
  control,         // a = control slot: a scheduled callback (fault script, periodic check)
};

struct Entry {
  Time time{0};
  uint64_t sequence = 0;
  uint32_t a = 0;
  uint32_t b = 0;
  uint32_t c = 0;
  EntryKind kind = EntryKind::control;
  uint16_t tag = 0;
};

class EventQueue {
 public:
  void push(Time time, EntryKind kind, uint32_t a, uint32_t b = 0, uint32_t c = 0, uint16_t tag = 0) {
    heap_.push_back(Entry{time, next_sequence_++, a, b, c, kind, tag});
    sift_up(heap_.size() - 1);
  }

  bool empty() const { return heap_.empty(); }
  size_t size() const { return heap_.size(); }
  const Entry& top() const {
    assert(!heap_.empty());
    return heap_.front();
  }

  Entry pop() {
    assert(!heap_.empty());
    Entry first = heap_.front();
    Entry last = heap_.back();
    heap_.pop_back();
    if (!heap_.empty()) sift_down(std::move(last));
    return first;
  }

 private:
  static constexpr size_t kArity = 4;

  static bool before(const Entry& x, const Entry& y) {
    return x.time < y.time || (x.time == y.time && x.sequence < y.sequence);
  }

  void sift_up(size_t i) {
    Entry moving = heap_[i];
    while (i > 0) {
      const size_t parent = (i - 1) / kArity;
      if (!before(moving, heap_[parent])) break;
      heap_[i] = heap_[parent];
      i = parent;
    }
    heap_[i] = moving;
  }

  // Places `moving` (the former last entry) starting from the root.
  void sift_down(Entry moving) {
    const size_t n = heap_.size();
    size_t i = 0;
    for (;;) {
      const size_t first_child = i * kArity + 1;
      if (first_child >= n) break;
      const size_t end = first_child + kArity < n ? first_child + kArity : n;
      size_t best = first_child;
      for (size_t child = first_child + 1; child < end; ++child) {
        if (before(heap_[child], heap_[best])) best = child;
      }
      if (!before(heap_[best], moving)) break;
      heap_[i] = heap_[best];
      i = best;
    }
    heap_[i] = moving;
  }

  std::vector<Entry> heap_;
  uint64_t next_sequence_ = 0;
};

}  // namespace lashup::sim
