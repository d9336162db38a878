// The replicated key-value store of one node (DESIGN §2 Replicated KV;
// docs/KV.md): keys are byte strings, each value a CRDT map
// (core/crdt/map.h). Local writes produce deltas that the node replicates;
// deltas from peers are joined in any order, any number of times.
//
// Namespaces: a key under `nodes/<name>/` belongs to node <name>. Only that
// node writes it (checked here at the write), and a delta for it is applied
// only if every dot it carries was made by that node (checked at the join),
// so a peer cannot forge another node's records either way.
//
// Deletion: a delete removes every field the writer saw (the map keeps its
// causal context, so the key's dots are never reused and a concurrent
// update survives: update-wins). A key whose map is empty reads as absent.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/common/ids.h"
#include "core/common/status.h"
#include "core/crdt/map.h"

namespace lashup::kv {

inline constexpr size_t kKeyBytesMax = 4096;
// Anti-entropy compares stores by digests over 1,024 buckets of keys, in 64
// groups of 16 (core/kv/kv_sync.h).
inline constexpr size_t kBuckets = 1024;
inline constexpr size_t kGroups = 64;
inline constexpr size_t kBucketsPerGroup = kBuckets / kGroups;
size_t bucket_of(std::string_view key);
inline constexpr std::string_view kNodesPrefix = "nodes/";

struct KvConfig {
  size_t value_bytes_max = 16u << 20;
  crdt::Limits limits;
};

struct KvStats {
  uint64_t tombstones_collected = 0;
  uint64_t local_updates = 0;
  uint64_t deltas_applied = 0;      // joined and changed the state
  uint64_t deltas_redundant = 0;    // joined, changed nothing
  uint64_t deltas_rejected = 0;     // namespace violations, bad keys
};

// The owner of `key` if it is in a node's namespace (`nodes/<name>/...`).
std::optional<std::string_view> namespace_owner(std::string_view key);
Status validate_key(std::string_view key);
// Whether `key` matches `pattern`: `*` matches any run of bytes within one
// `/`-separated segment, `**` any run including `/`, `?` one byte other
// than `/`; everything else matches itself.
bool glob_match(std::string_view pattern, std::string_view key);

class KvStore {
 public:
  KvStore(KvConfig config, ReplicaId self);

  struct Written {
    crdt::Map delta;  // bottom when nothing changed
    crdt::MapValue value;
  };

  // Applies `ops` to `key` atomically. With `expected` (the context read
  // with the value), only if the key's context still equals it: conflict
  // otherwise. Errors change nothing: invalid (bad key, an operation of
  // another type than its field), permission (another node's namespace),
  // not_found (removing something absent), too_large (value over the limit).
  Result<Written> update(std::string_view key, std::span<const crdt::FieldOp> ops,
                         const crdt::CausalContext* expected = nullptr);
  // Removes every field of `key`; not_found if it holds none.
  Result<Written> remove(std::string_view key);
  // Joins a delta made by `origin` (the node that wrote it). Returns whether
  // a reader would see a different value; invalid / permission for a delta
  // this node must not apply (counted, nothing changed).
  Result<crdt::JoinOutcome> apply(std::string_view key, const crdt::Map& delta);

  // Restores a key from its persisted state (take_state) at start;
  // invalid if the bytes do not decode (the data dir is damaged).
  Status load(std::string_view key, wire::ByteView state);
  // The whole state of `key` (live or deleted) as persisted; empty if
  // unknown. Right after a change of `key` it hands over the encoding the
  // change's digest was computed from instead of encoding again.
  wire::Bytes take_state(std::string_view key);

  // The value of `key`, or nullptr if absent (never written, or deleted).
  const crdt::Map* get(std::string_view key) const;
  // Live keys with `prefix`, sorted.
  std::vector<std::string> keys_with_prefix(std::string_view prefix) const;
  std::vector<std::string> keys_matching(std::string_view glob) const;
  size_t size() const { return live_keys_; }
  // Every key ever written, live or deleted (a deleted key keeps its context).
  size_t entries() const { return entries_.size(); }
  // A digest of the whole store: equal stores give equal digests. It and the
  // group and bucket digests are kept up to date at every change (the XOR of
  // the digests of (key, state) of the keys they cover).
  uint64_t digest() const { return digest_; }
  uint64_t group_digest(size_t group) const;
  uint64_t bucket_digest(size_t bucket) const { return buckets_[bucket]; }
  // (key, digest of its state) for every key (live or deleted) in `bucket`.
  std::vector<std::pair<std::string, uint64_t>> bucket_keys(size_t bucket) const;
  // The size of one key's encoded state; 0 if unknown.
  size_t encoded_bytes(std::string_view key) const {
    auto it = entries_.find(key);
    return it == entries_.end() ? 0 : it->second.encoded_bytes;
  }
  // The digest of one key's state; 0 if unknown.
  uint64_t key_digest(std::string_view key) const;
  // Joins a whole state of `key` (anti-entropy); as apply.
  Result<crdt::JoinOutcome> apply_state(std::string_view key, const crdt::Map& state) { return apply(key, state); }
  const crdt::Map* get_state(std::string_view key) const;

  // Tombstones: keys whose map is empty (deleted) but whose context is kept.
  // NodeCore decides when every member holds the same tombstone
  // (docs/KV.md, Tombstones); collect then forgets the key entirely. An
  // identical tombstone arriving later (anti-entropy with a node that has
  // not collected yet) is dropped again until forget_collected. A key
  // written here after its collection covers this node's old dots of it in
  // its context, so no dot is reused.
  std::vector<std::string> tombstones() const;
  size_t tombstone_count() const { return entries_.size() - live_keys_; }
  // False (nothing done) unless `key` is a tombstone.
  bool collect(std::string_view key);
  void forget_collected(std::string_view key) { collected_.erase(std::string(key)); }

  const ReplicaId& self() const { return self_; }
  const crdt::Limits& limits() const { return config_.limits; }
  const KvStats& stats() const { return stats_; }

 private:
  struct Entry {
    crdt::Map map;
    size_t encoded_bytes = 0;
    uint64_t digest = 0;  // of (key, encoded state)
  };
  // Recomputes the entry's digest and folds the change into the bucket and
  // store digests; also refreshes encoded_bytes and keeps the encoding for
  // take_state.
  void rehash(const std::string& key, Entry& entry);
  // `key`: the entry's own key (its address is kept in bucket_members_).
  Result<Written> finish_write(const std::string& key, Entry& entry, bool was_live, Result<crdt::Map> delta);
  static size_t ops_bytes(std::span<const crdt::FieldOp> ops);
  // Forgets an entry: its digest leaves its bucket and the store digest.
  void erase(std::map<std::string, Entry, std::less<>>::iterator it);

  KvConfig config_;
  ReplicaId self_;
  std::map<std::string, Entry, std::less<>> entries_;
  size_t live_keys_ = 0;
  std::vector<uint64_t> buckets_ = std::vector<uint64_t>(kBuckets, 0);
  // The keys of each bucket (map nodes never move; erase removes them).
  std::vector<std::vector<const std::string*>> bucket_members_ = std::vector<std::vector<const std::string*>>(kBuckets);
  uint64_t digest_ = 0;
  // Collected tombstones: key -> digest of the state collected.
  std::map<std::string, uint64_t, std::less<>> collected_;
  // The highest counter of this replica in any collected key's context.
  uint64_t own_floor_ = 0;
  wire::Bytes last_state_;                   // the encoding of the last change...
  const std::string* last_state_key_ = nullptr;  // ...of this key (entries never move)
  KvStats stats_;
};

}  // namespace lashup::kv
