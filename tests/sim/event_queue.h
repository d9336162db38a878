// The simulator's agenda: entries ordered by (time, sequence number). The
// sequence number is assigned at push, so two entries due at the same
// instant run in the order they were scheduled: ties never depend on the
// data structure, which is what makes a seed replay exactly.
//
// A two-level timing wheel rather than one big heap (which spent a fifth of
// a 10,000-node run in pop()). Level 0 has a bucket per microsecond of the
// current 4.096 ms block, level 1 a bucket per 4.096 ms of the current
// 16.8 s block; later entries wait in an overflow heap. Level-0 buckets are
// linked lists threaded through one pool of entries, so a push is a link and
// a pop unlinks the head of the current microsecond. Level-1 buckets are
// lists of chunks of entries: moving one down when the wheel reaches it reads
// its entries in sequence, where walking a list through the pool was one
// cache miss per entry (a bucket holds about a thousand entries pushed up to
// 100 ms earlier, long evicted). Bitmaps find the next non-empty bucket.
//
// No sorting is ever needed: a level-0 bucket is one exact microsecond, and
// its entries are in sequence order, because it receives first the entries
// moved down from level 1 (in their order) and then only direct pushes,
// which carry larger sequence numbers than anything pushed before them.
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
  direction_head,  // a = pair, b = direction, c = receiver: deliver the first item queued in that direction
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
  void push(Time time, EntryKind kind, uint32_t a, uint32_t b = 0, uint32_t c = 0, uint16_t tag = 0) {
    place(Entry{time, next_sequence_++, a, b, c, kind, tag});
    ++size_;
  }

  bool empty() const { return size_ == 0; }
  size_t size() const { return size_; }

  // The next entry; the queue must not be empty. Not const: it may turn the wheel.
  const Entry& top() {
    assert(size_ > 0);
    if (!early_.empty()) return early_.front();
    settle();
    return pool_[level0_[position_ & kMask0].head].entry;
  }

  // Pops the next entry into `out` if it is due at or before `end`; one
  // look at the wheel instead of top() then pop().
  bool pop_due(Time end, Entry& out) {
    if (size_ == 0) return false;
    if (early_.empty()) {
      settle();
      if (pool_[level0_[static_cast<size_t>(position_ & kMask0)].head].entry.time > end) return false;
    } else if (early_.front().time > end) {
      return false;
    }
    out = pop();
    return true;
  }

  // The entries that will most likely be popped next (hints[0]), after it
  // (hints[1]) and so on (nullptr when unknown): hints for prefetching what
  // they will touch while the current one runs. They may be wrong (a push
  // can still come before them) and never change the order. The entry after
  // the last hint is prefetched itself, so that its line is there when it
  // becomes a hint.
  template <size_t N>
  void peek_hints(std::array<const Entry*, N>& hints) const {
    hints.fill(nullptr);
    if (!early_.empty()) return;
    // Only within the wheel's current block, where the order is the buckets'.
    int64_t slot = position_ & kMask0;
    uint32_t node = level0_[static_cast<size_t>(slot)].head;
    for (size_t i = 0; i <= N; ++i) {
      if (node == kNil) {
        if ((slot = next_bucket(slot)) < 0) return;
        node = level0_[static_cast<size_t>(slot)].head;
      }
      if (i == N) {
        __builtin_prefetch(&pool_[node]);
        return;
      }
      hints[i] = &pool_[node].entry;
      node = next_[node];
    }
  }

  Entry pop() {
    assert(size_ > 0);
    --size_;
    if (!early_.empty()) {
      std::pop_heap(early_.begin(), early_.end(), after);
      const Entry first = early_.back();
      early_.pop_back();
      return first;
    }
    settle();
    const int64_t slot = position_ & kMask0;
    List& list = level0_[static_cast<size_t>(slot)];
    const uint32_t node = list.head;
    list.head = next_[node];
    if (list.head == kNil) {
      list.tail = kNil;
      occupied0_.clear(slot);
    }
    const Entry first = pool_[node].entry;
    next_[node] = free_;
    free_ = node;
    return first;
  }

 private:
  static constexpr int kBits0 = 12;  // level 0: 4096 buckets of 1 us
  static constexpr int kBits1 = 12;  // level 1: 4096 buckets of 4.096 ms
  static constexpr int64_t kSlots = int64_t{1} << 12;
  static constexpr int64_t kMask0 = kSlots - 1;
  static constexpr int64_t kMask1 = kSlots - 1;
  static constexpr int64_t kBlock0 = int64_t{1} << kBits0;             // span of level 0
  static constexpr int64_t kBlock1 = int64_t{1} << (kBits0 + kBits1);  // span of level 1
  static constexpr uint32_t kNil = ~uint32_t{0};

  // An entry on level 0, aligned so that it never straddles two cache
  // lines; its link lives in next_, a small array that stays in cache.
  struct alignas(32) Node {
    Entry entry;
  };
  static_assert(sizeof(Node) == 32);
  struct List {
    uint32_t head = kNil;
    uint32_t tail = kNil;
  };
  // Entries of a level-1 bucket, in push order; chunks are reused through a
  // free list, so the steady state allocates nothing.
  static constexpr uint32_t kChunkEntries = 15;
  struct alignas(64) Chunk {
    uint32_t next = kNil;  // the bucket's next chunk, or the next free chunk
    uint32_t count = 0;
    std::array<Entry, kChunkEntries> entries;
  };
  static_assert(sizeof(Chunk) == 512);
  // Which of 4096 buckets are non-empty, with a summary word for a fast "next".
  struct Bitmap {
    std::array<uint64_t, kSlots / 64> words{};
    uint64_t summary = 0;

    void set(int64_t i) {
      words[static_cast<size_t>(i >> 6)] |= uint64_t{1} << (i & 63);
      summary |= uint64_t{1} << (i >> 6);
    }
    void clear(int64_t i) {
      uint64_t& word = words[static_cast<size_t>(i >> 6)];
      word &= ~(uint64_t{1} << (i & 63));
      if (word == 0) summary &= ~(uint64_t{1} << (i >> 6));
    }
    // The first set bit at or after `from` (< kSlots), or -1.
    int64_t next(int64_t from) const {
      const int64_t w = from >> 6;
      const uint64_t here = words[static_cast<size_t>(w)] & (~uint64_t{0} << (from & 63));
      if (here != 0) return (w << 6) + __builtin_ctzll(here);
      const uint64_t later = w + 1 < 64 ? summary & (~uint64_t{0} << (w + 1)) : 0;
      if (later == 0) return -1;
      const int64_t w2 = __builtin_ctzll(later);
      return (w2 << 6) + __builtin_ctzll(words[static_cast<size_t>(w2)]);
    }
  };

  // The first non-empty level-0 bucket after `slot` in the current block, or -1.
  int64_t next_bucket(int64_t slot) const { return slot + 1 < kSlots ? occupied0_.next(slot + 1) : -1; }

  static bool after(const Entry& x, const Entry& y) {
    return x.time > y.time || (x.time == y.time && x.sequence > y.sequence);
  }

  uint32_t allocate(const Entry& entry) {
    uint32_t node = free_;
    if (node != kNil) {
      free_ = next_[node];
    } else {
      node = static_cast<uint32_t>(pool_.size());
      pool_.emplace_back();
      next_.push_back(kNil);
    }
    pool_[node].entry = entry;
    return node;
  }

  void link(List& list, uint32_t node) {
    next_[node] = kNil;
    if (list.tail == kNil) {
      list.head = node;
    } else {
      next_[list.tail] = node;
    }
    list.tail = node;
  }

  void append(List& bucket, const Entry& entry) {
    if (bucket.tail == kNil || chunks_[bucket.tail].count == kChunkEntries) {
      uint32_t chunk = free_chunk_;
      if (chunk != kNil) {
        free_chunk_ = chunks_[chunk].next;
      } else {
        chunk = static_cast<uint32_t>(chunks_.size());
        chunks_.emplace_back();
      }
      chunks_[chunk].next = kNil;
      chunks_[chunk].count = 0;
      if (bucket.tail == kNil) {
        bucket.head = chunk;
      } else {
        chunks_[bucket.tail].next = chunk;
      }
      bucket.tail = chunk;
    }
    Chunk& tail = chunks_[bucket.tail];
    tail.entries[tail.count++] = entry;
  }

  void place(const Entry& entry) {
    const int64_t t = entry.time.count();
    if (t < position_) {
      // Before the wheel: only after run_until peeked past `end` and stopped
      // there. Everything here precedes everything on the wheel.
      early_.push_back(entry);
      std::push_heap(early_.begin(), early_.end(), after);
    } else if ((t ^ position_) < kBlock0) {
      link(level0_[static_cast<size_t>(t & kMask0)], allocate(entry));
      occupied0_.set(t & kMask0);
    } else if ((t ^ position_) < kBlock1) {
      const int64_t slot = (t >> kBits0) & kMask1;
      append(level1_[static_cast<size_t>(slot)], entry);
      occupied1_.set(slot);
    } else {
      overflow_.push_back(entry);
      std::push_heap(overflow_.begin(), overflow_.end(), after);
    }
  }

  // Makes position_ the microsecond of the next entry on the wheel; the
  // wheel (levels and overflow) must hold one.
  void settle() {
    if (level0_[static_cast<size_t>(position_ & kMask0)].head != kNil) return;
    for (;;) {
      if (const int64_t slot = occupied0_.next(position_ & kMask0); slot >= 0) {
        position_ = (position_ & ~kMask0) | slot;
        return;
      }
      const int64_t here = (position_ >> kBits0) & kMask1;
      const int64_t slot = here + 1 < kSlots ? occupied1_.next(here + 1) : -1;
      if (slot >= 0) {
        // The next 4.096 ms block with entries: move its bucket down, in order.
        position_ = (position_ & ~(kBlock1 - 1)) | (slot << kBits0);
        List& moving = level1_[static_cast<size_t>(slot)];
        for (uint32_t chunk = moving.head; chunk != kNil;) {
          const Chunk& from = chunks_[chunk];
          for (uint32_t i = 0; i < from.count; ++i) {
            const int64_t t = from.entries[i].time.count();
            link(level0_[static_cast<size_t>(t & kMask0)], allocate(from.entries[i]));
            occupied0_.set(t & kMask0);
          }
          const uint32_t next = from.next;
          chunks_[chunk].next = free_chunk_;
          free_chunk_ = chunk;
          chunk = next;
        }
        moving = List{};
        occupied1_.clear(slot);
        continue;
      }
      // The wheel's 16.8 s block is done: jump to the overflow's first block.
      assert(!overflow_.empty());
      position_ = overflow_.front().time.count() & ~(kBlock1 - 1);
      while (!overflow_.empty() && (overflow_.front().time.count() & ~(kBlock1 - 1)) == position_) {
        std::pop_heap(overflow_.begin(), overflow_.end(), after);
        const Entry entry = overflow_.back();
        overflow_.pop_back();
        place(entry);
      }
    }
  }

  std::vector<Node> pool_;
  std::vector<uint32_t> next_;  // by pool node: the next in its bucket, or in the free list
  uint32_t free_ = kNil;
  std::array<List, kSlots> level0_;  // current 4.096 ms block, by microsecond
  std::array<List, kSlots> level1_;  // current 16.8 s block, by 4.096 ms: lists of chunks
  std::vector<Chunk> chunks_;
  uint32_t free_chunk_ = kNil;
  Bitmap occupied0_;
  Bitmap occupied1_;
  int64_t position_ = 0;         // the microsecond being consumed; nothing on the wheel is earlier
  std::vector<Entry> overflow_;  // heap: beyond the wheel's 16.8 s block
  std::vector<Entry> early_;     // heap: before position_
  size_t size_ = 0;
  uint64_t next_sequence_ = 0;
};

}  // namespace lashup::sim
