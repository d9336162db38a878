// The simulator's agenda: entries ordered by (time, sequence number). The
// sequence number is assigned at push, so two entries due at the same
// instant run in the order they were scheduled: ties never depend on the
// data structure, which is what makes a seed replay exactly.
//
// A calendar queue rather than one big heap: entries fall into buckets of
// kBucketWidth of simulated time on a wheel covering kHorizon; only the
// bucket being executed is a (small, cache-resident) heap, and pushing into
// a later bucket is an append. Entries beyond the horizon wait in an
// overflow heap until the wheel reaches them. With 10,000 nodes a plain
// binary heap spent a fifth of the run in pop(); this spends a few percent.
#pragma once

#include <algorithm>
#include <array>
#include <cassert>
#include <cstdint>
#include <vector>

#include "core/common/time.h"

namespace lashup::sim {

// What an entry asks the simulation to do; the meaning of a, b, c and tag
// belongs to the kind (see Simulation::dispatch).
enum class EntryKind : uint16_t {
  direction_head,  // a = pair, b = direction: deliver the first item queued in that direction
  tick,            // a = node, tag = life: the node's pending on_tick
  notice,          // a = notice slot: a connection change reported by the host itself
  boot,            // a = node, tag = life: start a node's core
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
  // 1.024 ms buckets, 256 of them: a LAN round trip lands a bucket or two
  // ahead, a 100 ms protocol timer well inside the horizon.
  static constexpr int kBucketShift = 10;
  static constexpr int64_t kBuckets = 256;

  void push(Time time, EntryKind kind, uint32_t a, uint32_t b = 0, uint32_t c = 0, uint16_t tag = 0) {
    place(Entry{time, next_sequence_++, a, b, c, kind, tag});
    ++size_;
  }

  bool empty() const { return size_ == 0; }
  size_t size() const { return size_; }

  // The next entry; the queue must not be empty. Not const: it may advance the wheel.
  const Entry& top() {
    assert(size_ > 0);
    if (current_.empty()) advance();
    return current_.front();
  }

  Entry pop() {
    assert(size_ > 0);
    if (current_.empty()) advance();
    std::pop_heap(current_.begin(), current_.end(), after);
    Entry first = current_.back();
    current_.pop_back();
    --size_;
    return first;
  }

 private:
  static int64_t bucket_of(Time t) { return t.count() >> kBucketShift; }
  // Heap order for std::*_heap (a max-heap of `after` is a min-heap of time, sequence).
  static bool after(const Entry& x, const Entry& y) {
    return x.time > y.time || (x.time == y.time && x.sequence > y.sequence);
  }

  void place(const Entry& entry) {
    const int64_t bucket = bucket_of(entry.time);
    if (bucket <= current_bucket_) {
      // Due in the bucket being executed (or, after run_until stopped short
      // of a later bucket, before it): joins the current heap.
      current_.push_back(entry);
      std::push_heap(current_.begin(), current_.end(), after);
    } else if (bucket < current_bucket_ + kBuckets) {
      wheel_[static_cast<size_t>(bucket & (kBuckets - 1))].push_back(entry);
      ++on_wheel_;
    } else {
      overflow_.push_back(entry);
      std::push_heap(overflow_.begin(), overflow_.end(), after);
    }
  }

  // Moves to the next non-empty bucket and makes it the current heap.
  void advance() {
    while (current_.empty()) {
      if (on_wheel_ == 0) {
        // Nothing on the wheel: jump straight to the first overflow entry
        // instead of turning through empty buckets.
        assert(!overflow_.empty());
        current_bucket_ = std::max(current_bucket_, bucket_of(overflow_.front().time) - 1);
      }
      ++current_bucket_;
      // The window moved one bucket: overflow entries that now fit enter it.
      while (!overflow_.empty() && bucket_of(overflow_.front().time) < current_bucket_ + kBuckets) {
        std::pop_heap(overflow_.begin(), overflow_.end(), after);
        const Entry entry = overflow_.back();
        overflow_.pop_back();
        if (bucket_of(entry.time) <= current_bucket_) {
          current_.push_back(entry);
        } else {
          wheel_[static_cast<size_t>(bucket_of(entry.time) & (kBuckets - 1))].push_back(entry);
          ++on_wheel_;
        }
      }
      auto& slot = wheel_[static_cast<size_t>(current_bucket_ & (kBuckets - 1))];
      on_wheel_ -= slot.size();
      // Swap rather than copy: the emptied vector keeps its capacity for a later bucket.
      if (current_.empty()) {
        current_.swap(slot);
      } else {
        current_.insert(current_.end(), slot.begin(), slot.end());
        slot.clear();
      }
      std::make_heap(current_.begin(), current_.end(), after);
    }
  }

  std::vector<Entry> current_;  // heap of the entries of buckets <= current_bucket_
  int64_t current_bucket_ = -1;
  std::array<std::vector<Entry>, kBuckets> wheel_;  // bucket b (current < b < current + kBuckets) at b % kBuckets
  size_t on_wheel_ = 0;
  std::vector<Entry> overflow_;  // heap of the entries at or beyond the horizon
  size_t size_ = 0;
  uint64_t next_sequence_ = 0;
};

}  // namespace lashup::sim
