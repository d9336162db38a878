// An insert-only hash index from a key to a uint32_t, with open addressing
// and linear probing in one flat array: a lookup is one hash and, almost
// always, one cache line. The simulator looks up the destination's node and
// the pair's connection record on every send; std::unordered_map's chained
// nodes cost several cache misses each time at 10,000 nodes.
//
// Nothing is ever erased (nodes and pairs live as long as the simulation),
// which keeps probing trivially correct.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string_view>
#include <utility>
#include <vector>

namespace lashup::sim {

struct MixHash {
  uint64_t operator()(uint64_t key) const {
    key ^= key >> 33;
    key *= 0xff51afd7ed558ccdULL;
    key ^= key >> 33;
    key *= 0xc4ceb9fe1a85ec53ULL;
    return key ^ (key >> 33);
  }
};

// Word loads, then a final mix: node names are short, and a byte-serial
// hash (FNV) was a visible share of every send.
struct NameHash {
  uint64_t operator()(std::string_view name) const {
    const char* p = name.data();
    size_t n = name.size();
    uint64_t h = static_cast<uint64_t>(n) * 0x9e3779b97f4a7c15ULL;
    while (n > 8) {
      h = (h ^ load(p, 8)) * 0xff51afd7ed558ccdULL;
      h ^= h >> 32;
      p += 8;
      n -= 8;
    }
    return MixHash{}(h ^ load(p, n));
  }

 private:
  // Up to 8 bytes as one word, with two possibly overlapping loads (as wyhash).
  static uint64_t load(const char* p, size_t n) {
    if (n >= 4) {
      uint32_t first, last;
      std::memcpy(&first, p, 4);
      std::memcpy(&last, p + n - 4, 4);
      return (static_cast<uint64_t>(first) << 32) | last;
    }
    if (n == 0) return 0;
    const auto byte = [p](size_t i) { return static_cast<uint64_t>(static_cast<uint8_t>(p[i])); };
    return (byte(0) << 16) | (byte(n >> 1) << 8) | byte(n - 1);
  }
};

// Integer key -> uint32_t. Slots are 16 bytes and aligned, so a probe
// never straddles two cache lines.
template <typename Key, typename Hash>
class FlatIndex {
 public:
  static constexpr uint32_t kAbsent = std::numeric_limits<uint32_t>::max();

  // The value stored for `key`, or kAbsent.
  uint32_t find(Key key) const {
    if (slots_.empty()) return kAbsent;
    for (size_t i = Hash{}(key) & mask_;; i = (i + 1) & mask_) {
      const Slot& slot = slots_[i];
      if (slot.value == kAbsent) return kAbsent;
      if (slot.key == key) return slot.value;
    }
  }

  // Inserts (key, value) unless `key` is present; returns the stored value
  // and whether it was inserted. `value` must not be kAbsent.
  std::pair<uint32_t, bool> try_emplace(Key key, uint32_t value) {
    if ((count_ + 1) * 2 > slots_.size()) grow();
    for (size_t i = Hash{}(key) & mask_;; i = (i + 1) & mask_) {
      Slot& slot = slots_[i];
      if (slot.value == kAbsent) {
        slot = Slot{key, value};
        ++count_;
        return {value, true};
      }
      if (slot.key == key) return {slot.value, false};
    }
  }

  size_t size() const { return count_; }

 private:
  struct alignas(16) Slot {
    Key key{};
    uint32_t value = kAbsent;
  };
  static_assert(sizeof(Slot) == 16);

  void grow() {
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(old.empty() ? 16 : old.size() * 2, Slot{});
    mask_ = slots_.size() - 1;
    for (const Slot& slot : old) {
      if (slot.value == kAbsent) continue;
      size_t i = Hash{}(slot.key) & mask_;
      while (slots_[i].value != kAbsent) i = (i + 1) & mask_;
      slots_[i] = slot;
    }
  }

  std::vector<Slot> slots_;
  size_t mask_ = 0;
  size_t count_ = 0;
};

// Node name -> node index. The first bytes of each name are kept in its
// slot, so confirming a hash match does not touch the node (another cache
// miss per send); longer names are confirmed against their owner's string.
class NameIndex {
 public:
  static constexpr uint32_t kAbsent = std::numeric_limits<uint32_t>::max();

  uint32_t find(std::string_view name) const {
    if (slots_.empty()) return kAbsent;
    const uint64_t hash = NameHash{}(name);
    for (size_t i = hash & mask_;; i = (i + 1) & mask_) {
      const Slot& slot = slots_[i];
      if (slot.value == kAbsent) return kAbsent;
      if (slot.hash == hash && matches(slot, name)) return slot.value;
    }
  }

  // `name` must outlive the index (the simulator's node names do).
  std::pair<uint32_t, bool> try_emplace(std::string_view name, uint32_t value) {
    if (const uint32_t found = find(name); found != kAbsent) return {found, false};
    if ((count_ + 1) * 2 > slots_.size()) grow();
    if (names_.size() <= value) names_.resize(value + 1);
    names_[value] = name;
    Slot slot;
    slot.hash = NameHash{}(name);
    slot.value = value;
    slot.length = static_cast<uint32_t>(name.size());
    std::memcpy(slot.prefix, name.data(), std::min(name.size(), sizeof slot.prefix));
    insert(slot);
    ++count_;
    return {value, true};
  }

  void reserve(size_t count) {
    while (count * 2 > slots_.size()) grow();
  }

 private:
  // 32 bytes, aligned: one probe, one cache line.
  struct alignas(32) Slot {
    uint64_t hash = 0;
    uint32_t value = kAbsent;
    uint32_t length = 0;
    char prefix[16] = {};
  };
  static_assert(sizeof(Slot) == 32);

  bool matches(const Slot& slot, std::string_view name) const {
    if (slot.length != name.size()) return false;
    if (std::memcmp(slot.prefix, name.data(), std::min(name.size(), sizeof slot.prefix)) != 0) return false;
    return name.size() <= sizeof slot.prefix || names_[slot.value] == name;
  }

  void insert(const Slot& slot) {
    size_t i = slot.hash & mask_;
    while (slots_[i].value != kAbsent) i = (i + 1) & mask_;
    slots_[i] = slot;
  }

  void grow() {
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(old.empty() ? 16 : old.size() * 2, Slot{});
    mask_ = slots_.size() - 1;
    for (const Slot& slot : old) {
      if (slot.value != kAbsent) insert(slot);
    }
  }

  std::vector<Slot> slots_;
  std::vector<std::string_view> names_;  // by value, for names longer than a prefix
  size_t mask_ = 0;
  size_t count_ = 0;
};

}  // namespace lashup::sim
