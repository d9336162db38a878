// Dots: the unique event identifiers of the causal CRDTs (Almeida, Shoker,
// Baquero, "Delta State Replicated Data Types", arXiv 1603.01529, causal
// delta-CRDTs). A dot names one update made by one replica; a dot is never
// reused, so two replicas holding the same dot hold the same payload.
#pragma once

#include <algorithm>
#include <cassert>
#include <compare>
#include <cstdint>
#include <cstring>
#include <limits>

namespace lashup::crdt {

// Index of a replica in the replica table of the CausalContext that owns the
// dot. Dots hold an index rather than the replica's (name, incarnation) so a
// set element costs 16 bytes of dot, not a string (DESIGN G9: ≤ 128 B per
// element of overhead).
using ReplicaIndex = uint32_t;
inline constexpr ReplicaIndex kNoReplica = std::numeric_limits<ReplicaIndex>::max();

struct Dot {
  ReplicaIndex replica = 0;
  uint64_t counter = 0;  // 1, 2, 3, ... per replica; 0 is never a dot
  auto operator<=>(const Dot&) const = default;
};

// A sorted set of dots with room for one inline: almost every set element
// and flag holds exactly one dot, and a heap allocation per element would
// double the memory of a large set.
class DotSet {
 public:
  DotSet() {}
  explicit DotSet(Dot dot) : size_(1) { inline_ = dot; }
  DotSet(const DotSet& other) { copy_from(other); }
  DotSet(DotSet&& other) noexcept { steal(other); }
  DotSet& operator=(const DotSet& other) {
    if (this != &other) {
      release();
      copy_from(other);
    }
    return *this;
  }
  DotSet& operator=(DotSet&& other) noexcept {
    if (this != &other) {
      release();
      steal(other);
    }
    return *this;
  }
  ~DotSet() { release(); }

  bool empty() const { return size_ == 0; }
  size_t size() const { return size_; }
  const Dot* begin() const { return data(); }
  const Dot* end() const { return data() + size_; }
  bool contains(Dot dot) const { return std::binary_search(begin(), end(), dot); }

  // Returns true if the dot was not there before.
  bool insert(Dot dot) {
    Dot* first = data();
    Dot* pos = std::lower_bound(first, first + size_, dot);
    if (pos != first + size_ && *pos == dot) return false;
    const size_t at = static_cast<size_t>(pos - first);
    if (size_ == capacity_) grow();
    first = data();
    std::memmove(first + at + 1, first + at, (size_ - at) * sizeof(Dot));
    first[at] = dot;
    ++size_;
    return true;
  }

  // Removes every dot for which `drop` is true; returns how many.
  template <typename Predicate>
  size_t erase_if(Predicate drop) {
    Dot* first = data();
    size_t kept = 0;
    for (size_t i = 0; i < size_; ++i) {
      if (!drop(first[i])) first[kept++] = first[i];
    }
    const size_t removed = size_ - kept;
    size_ = static_cast<uint32_t>(kept);
    return removed;
  }

  void clear() {
    release();
    size_ = 0;
    capacity_ = 1;
  }

  bool operator==(const DotSet& other) const { return std::equal(begin(), end(), other.begin(), other.end()); }

 private:
  Dot* data() { return capacity_ > 1 ? heap_ : &inline_; }
  const Dot* data() const { return capacity_ > 1 ? heap_ : &inline_; }

  void grow() {
    assert(capacity_ < (1u << 31));
    const uint32_t capacity = capacity_ * 2;
    Dot* heap = new Dot[capacity];
    std::memcpy(heap, data(), size_ * sizeof(Dot));
    release();
    heap_ = heap;
    capacity_ = capacity;
  }
  void release() {
    if (capacity_ > 1) delete[] heap_;
    capacity_ = 1;
  }
  void copy_from(const DotSet& other) {
    size_ = other.size_;
    if (other.size_ <= 1) {
      capacity_ = 1;
      if (other.size_ == 1) inline_ = *other.begin();
    } else {
      capacity_ = other.size_;
      heap_ = new Dot[capacity_];
      std::memcpy(heap_, other.heap_, size_ * sizeof(Dot));
    }
  }
  void steal(DotSet& other) {
    size_ = other.size_;
    capacity_ = other.capacity_;
    if (capacity_ > 1) {
      heap_ = other.heap_;
    } else {
      inline_ = other.inline_;
    }
    other.size_ = 0;
    other.capacity_ = 1;
  }

  union {
    Dot inline_{};
    Dot* heap_;
  };
  uint32_t size_ = 0;
  uint32_t capacity_ = 1;  // 1: the dot is inline_; more: heap_ holds capacity_ dots
};

}  // namespace lashup::crdt
