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

// FNV-1a then a final mix: node names are short, so this beats a block hash.
struct NameHash {
  uint64_t operator()(std::string_view name) const {
    uint64_t h = 0xcbf29ce484222325ULL;
    for (const char c : name) h = (h ^ static_cast<uint8_t>(c)) * 0x100000001b3ULL;
    return MixHash{}(h);
  }
};

template <typename Key, typename Hash>
class FlatIndex {
 public:
  static constexpr uint32_t kAbsent = std::numeric_limits<uint32_t>::max();

  // The value stored for `key`, or kAbsent.
  uint32_t find(const Key& key) const {
    if (slots_.empty()) return kAbsent;
    const uint64_t hash = Hash{}(key);
    for (size_t i = hash & mask_;; i = (i + 1) & mask_) {
      const Slot& slot = slots_[i];
      if (slot.value == kAbsent) return kAbsent;
      if (slot.hash == hash && slot.key == key) return slot.value;
    }
  }

  // Inserts (key, value) unless `key` is present; returns the stored value
  // and whether it was inserted. `value` must not be kAbsent.
  std::pair<uint32_t, bool> try_emplace(const Key& key, uint32_t value) {
    if ((count_ + 1) * 2 > slots_.size()) grow();
    const uint64_t hash = Hash{}(key);
    for (size_t i = hash & mask_;; i = (i + 1) & mask_) {
      Slot& slot = slots_[i];
      if (slot.value == kAbsent) {
        slot = Slot{hash, key, value};
        ++count_;
        return {value, true};
      }
      if (slot.hash == hash && slot.key == key) return {slot.value, false};
    }
  }

  void reserve(size_t count) {
    while (count * 2 > slots_.size()) grow();
  }
  size_t size() const { return count_; }

 private:
  struct Slot {
    uint64_t hash = 0;
    Key key{};
    uint32_t value = kAbsent;
  };

  void grow() {
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(old.empty() ? 16 : old.size() * 2, Slot{});
    mask_ = slots_.size() - 1;
    for (const Slot& slot : old) {
      if (slot.value == kAbsent) continue;
      size_t i = slot.hash & mask_;
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
  struct Slot {
    uint64_t hash = 0;
    uint32_t value = kAbsent;
    uint32_t length = 0;
    char prefix[16] = {};
  };

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
