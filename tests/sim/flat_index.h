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
#include <string>
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
    for (size_t i = Hash{}(key)&mask_;; i = (i + 1) & mask_) {
      const Slot& slot = slots_[i];
      if (slot.value == kAbsent) return kAbsent;
      if (slot.key == key) return slot.value;
    }
  }

  // Inserts (key, value) unless `key` is present; returns the stored value
  // and whether it was inserted. `value` must not be kAbsent.
  std::pair<uint32_t, bool> try_emplace(Key key, uint32_t value) {
    if ((count_ + 1) * 2 > slots_.size()) grow();
    for (size_t i = Hash{}(key)&mask_;; i = (i + 1) & mask_) {
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

// Node name -> node index. Slots are 16 bytes (a 10,000-node index is
// 256 KiB, which stays in cache) and keep the length and first 8 bytes of
// the name, so a short name is confirmed without touching the name itself;
// the owner's array of names (`names`, indexed by value) confirms longer ones.
class NameIndex {
 public:
  static constexpr uint32_t kAbsent = std::numeric_limits<uint32_t>::max();

  uint32_t find(std::string_view name, const std::vector<std::string>& names) const {
    if (slots_.empty()) return kAbsent;
    const uint64_t hash = NameHash{}(name);
    const uint32_t tag = tag_of(hash, name);
    const uint64_t prefix = prefix_of(name);
    for (size_t i = hash & mask_;; i = (i + 1) & mask_) {
      const Slot& slot = slots_[i];
      if (slot.value == kAbsent) return kAbsent;
      // Same length and same first 8 bytes: a name of at most 8 bytes is
      // found; a longer one is confirmed against its owner.
      if (slot.tag == tag && slot.prefix == prefix && (name.size() <= 8 || names[slot.value] == name)) {
        return slot.value;
      }
    }
  }

  // `names[value]` must hold `name`, and keep holding it.
  std::pair<uint32_t, bool> try_emplace(std::string_view name, uint32_t value, const std::vector<std::string>& names) {
    if (const uint32_t found = find(name, names); found != kAbsent) return {found, false};
    if ((count_ + 1) * 2 > slots_.size()) grow(names);
    const uint64_t hash = NameHash{}(name);
    insert(Slot{tag_of(hash, name), value, prefix_of(name)}, hash);
    ++count_;
    return {value, true};
  }

  void reserve(size_t count, const std::vector<std::string>& names) {
    while (count * 2 > slots_.size()) grow(names);
  }

 private:
  struct alignas(16) Slot {
    uint32_t tag = 0;  // high bits of the hash, and the name's length (capped at 255) in the low byte
    uint32_t value = kAbsent;
    uint64_t prefix = 0;  // first 8 bytes of the name, zero-padded
  };
  static_assert(sizeof(Slot) == 16);

  static uint32_t tag_of(uint64_t hash, std::string_view name) {
    return static_cast<uint32_t>((hash >> 40) << 8) | static_cast<uint32_t>(std::min<size_t>(name.size(), 255));
  }
  static uint64_t prefix_of(std::string_view name) {
    uint64_t prefix = 0;
    std::memcpy(&prefix, name.data(), std::min<size_t>(name.size(), 8));
    return prefix;
  }

  void insert(const Slot& slot, uint64_t hash) {
    size_t i = hash & mask_;
    while (slots_[i].value != kAbsent) i = (i + 1) & mask_;
    slots_[i] = slot;
  }

  // Rehashes from the names: slots keep only half of each hash.
  void grow(const std::vector<std::string>& names) {
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(old.empty() ? 16 : old.size() * 2, Slot{});
    mask_ = slots_.size() - 1;
    for (const Slot& slot : old) {
      if (slot.value != kAbsent) insert(slot, NameHash{}(names[slot.value]));
    }
  }

  std::vector<Slot> slots_;
  size_t mask_ = 0;
  size_t count_ = 0;
};

}  // namespace lashup::sim
