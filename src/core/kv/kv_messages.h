// What the KV store sends: a delta of one key, as the payload of a
// multicast message on the reserved topic "lashup/kv" (it travels down the
// writer's tree and is repaired like any multicast message).
#pragma once

#include <string>

#include "core/common/status.h"
#include "core/crdt/map.h"
#include "core/wire/codec.h"
#include "core/wire/message.h"

#include <utility>
#include <vector>

namespace lashup::kv {

inline constexpr const char* kDeltaTopic = "lashup/kv";
// Tombstone reports (NodeCore, docs/KV.md Tombstones): which tombstones a node
// holds, as (key hash, key digest) pairs, on this multicast topic.
inline constexpr const char* kTombstoneTopic = "lashup/kv-tombstones";
inline constexpr uint8_t kTombstoneReportVersion = 1;
inline constexpr size_t kTombstoneReportMax = 1024;
struct TombstoneReport {
  std::vector<std::pair<uint64_t, uint64_t>> tombstones;  // (key_hash, key digest)
};
wire::Bytes encode(const TombstoneReport& r);
Result<TombstoneReport> decode_tombstone_report(wire::ByteView bytes);
// The hash that names a key in a report.
uint64_t key_hash(std::string_view key);
inline constexpr uint8_t kDeltaVersion = 1;
// A batch of deltas (KeyDeltas): the deltas of several keys, each the join of
// the writes made to its key within one batching window (a delta group).
inline constexpr uint8_t kDeltaBatchVersion = 2;
inline constexpr size_t kDeltaBatchKeysMax = 65536;

struct KeyDelta {
  std::string key;
  crdt::Map delta;
};

// Anti-entropy between two neighbours (core/kv/kv_sync.h): the initiator A
// sends its store digest; B answers with its group digests if they differ;
// A sends its bucket digests of the differing groups; B answers with its
// (key, digest) lists of the differing buckets; A sends its states of the
// keys that differ and names those it lacks; B answers with those.
inline constexpr size_t kSyncKeysMax = 65536;
inline constexpr size_t kSyncWantedMax = 4096;
inline constexpr size_t kSyncStatesMax = 4096;

struct KvSummary {
  uint64_t digest = 0;
  uint64_t keys = 0;
  bool operator==(const KvSummary&) const = default;
};
struct KvGroups {
  std::vector<uint64_t> groups;  // kGroups digests
  bool operator==(const KvGroups&) const = default;
};
struct KvBuckets {
  std::vector<std::pair<uint16_t, uint64_t>> buckets;  // (bucket, digest)
  bool operator==(const KvBuckets&) const = default;
};
struct KvKeys {
  std::vector<uint16_t> buckets;                       // the buckets listed in full
  std::vector<std::pair<std::string, uint64_t>> keys;  // (key, digest of its state)
  bool operator==(const KvKeys&) const = default;
};
struct KvStates {
  std::vector<std::string> wanted;  // send me your states of these
  std::vector<KeyDelta> states;
  bool operator==(const KvStates& o) const;
};

wire::Bytes encode(const KeyDelta& d);
// version 2, count, then (key, map) pairs.
wire::Bytes encode_batch(std::span<const KeyDelta> deltas);
// One (key, map) entry of a batch, encoded on its own: its size decides the
// batch it goes into, and encode_batch_entries joins entries without
// encoding them again.
wire::Bytes encode_batch_entry(std::string_view key, const crdt::Map& delta);
wire::Bytes encode_batch_entries(size_t count, wire::ByteView entries);
wire::Bytes encode(const KvSummary& m);
wire::Bytes encode(const KvGroups& m);
wire::Bytes encode(const KvBuckets& m);
wire::Bytes encode(const KvKeys& m);
wire::Bytes encode(const KvStates& m);
Result<KvSummary> decode_kv_summary(wire::Reader& body);
Result<KvGroups> decode_kv_groups(wire::Reader& body);
Result<KvBuckets> decode_kv_buckets(wire::Reader& body);
Result<KvKeys> decode_kv_keys(wire::Reader& body);
Result<KvStates> decode_kv_states(wire::Reader& body, const crdt::Limits& limits = {});
// Rejects another version, a key over kKeyBytesMax, a malformed map, and
// trailing bytes.
Result<KeyDelta> decode_key_delta(wire::ByteView bytes, const crdt::Limits& limits = {});
// Either form: a single delta (version 1) or a batch (version 2), with the
// same checks for each key.
Result<std::vector<KeyDelta>> decode_key_deltas(wire::ByteView bytes, const crdt::Limits& limits = {});

}  // namespace lashup::kv
