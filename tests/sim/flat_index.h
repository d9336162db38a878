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

// What a name is compared by without touching it: its hash, and a 12-byte
// summary (`tag`: high bits of the hash and the length; `prefix`: the first
// 8 bytes) that identifies a name of at most 8 bytes outright. Equal names
// have equal keys; equal keys of longer names must be confirmed.
struct NameKey {
  explicit NameKey(std::string_view name)
      : hash(NameHash{}(name)),
        tag(static_cast<uint32_t>((hash >> 40) << 8) | static_cast<uint32_t>(std::min<size_t>(name.size(), 255))) {
    std::memcpy(&prefix, name.data(), std::min<size_t>(name.size(), 8));
  }
  // Whether equal keys mean equal names.
  bool exact() const { return (tag & 0xff) <= 8; }

  uint64_t hash;
  uint32_t tag;         // high bits of the hash, and the name's length (capped at 255) in the low byte
  uint64_t prefix = 0;  // first 8 bytes of the name, zero-padded
};

// Node name -> node index. Slots are 16 bytes (a 10,000-node index is
// 256 KiB, which stays in cache) and keep the NameKey summary, so a short
// name is confirmed without touching the name itself; the owner's array of
// names (`names`, indexed by value) confirms longer ones.
class NameIndex {
 public:
  static constexpr uint32_t kAbsent = std::numeric_limits<uint32_t>::max();

  uint32_t find(std::string_view name, const std::vector<std::string>& names) const {
    return find(name, NameKey(name), names);
  }
  // `key` must be NameKey(name).
  uint32_t find(std::string_view name, const NameKey& key, const std::vector<std::string>& names) const {
    if (slots_.empty()) return kAbsent;
    for (size_t i = key.hash & mask_;; i = (i + 1) & mask_) {
      const Slot& slot = slots_[i];
      if (slot.value == kAbsent) return kAbsent;
      if (slot.tag == key.tag && slot.prefix == key.prefix && (key.exact() || names[slot.value] == name)) {
        return slot.value;
      }
    }
  }

  // `names[value]` must hold `name`, and keep holding it.
  std::pair<uint32_t, bool> try_emplace(std::string_view name, uint32_t value, const std::vector<std::string>& names) {
    const NameKey key(name);
    if (const uint32_t found = find(name, key, names); found != kAbsent) return {found, false};
    if ((count_ + 1) * 2 > slots_.size()) grow(names);
    insert(Slot{key.tag, value, key.prefix}, key.hash);
    ++count_;
    return {value, true};
  }

  void reserve(size_t count, const std::vector<std::string>& names) {
    while (count * 2 > slots_.size()) grow(names);
  }

 private:
  struct alignas(16) Slot {
    uint32_t tag = 0;
    uint32_t value = kAbsent;
    uint64_t prefix = 0;
  };
  static_assert(sizeof(Slot) == 16);

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
      if (slot.value != kAbsent) insert(slot, NameKey(names[slot.value]).hash);
    }
  }

  std::vector<Slot> slots_;
  size_t mask_ = 0;
  size_t count_ = 0;
};

}  // namespace lashup::sim
