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
inline constexpr std::string_view kNodesPrefix = "nodes/";

struct KvConfig {
  size_t value_bytes_max = 16u << 20;
  crdt::Limits limits;
};

struct KvStats {
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

  // Restores a key from its persisted state (encode_state) at start;
  // invalid if the bytes do not decode (the data dir is damaged).
  Status load(std::string_view key, wire::ByteView state);
  // The whole state of `key` (live or deleted) as persisted; empty if unknown.
  wire::Bytes encode_state(std::string_view key) const;

  // The value of `key`, or nullptr if absent (never written, or deleted).
  const crdt::Map* get(std::string_view key) const;
  // Live keys with `prefix`, sorted.
  std::vector<std::string> keys_with_prefix(std::string_view prefix) const;
  std::vector<std::string> keys_matching(std::string_view glob) const;
  size_t size() const { return live_keys_; }
  // Every key ever written, live or deleted (a deleted key keeps its context).
  size_t entries() const { return entries_.size(); }
  // A digest of the whole store: equal stores give equal digests.
  uint64_t digest() const;

  const ReplicaId& self() const { return self_; }
  const KvStats& stats() const { return stats_; }

 private:
  struct Entry {
    crdt::Map map;
    size_t encoded_bytes = 0;
  };
  Result<Written> finish_write(std::string_view key, Entry& entry, bool existed, Result<crdt::Map> delta);
  static size_t ops_bytes(std::span<const crdt::FieldOp> ops);

  KvConfig config_;
  ReplicaId self_;
  std::map<std::string, Entry, std::less<>> entries_;
  size_t live_keys_ = 0;
  KvStats stats_;
};

}  // namespace lashup::kv
