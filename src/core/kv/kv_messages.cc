#include "core/kv/kv_messages.h"

#include "core/kv/kv_store.h"

namespace lashup::kv {

wire::Bytes encode(const KeyDelta& d) {
  wire::Writer w;
  w.u8(kDeltaVersion);
  w.string(d.key);
  d.delta.encode_to(w);
  return w.take();
}

Result<KeyDelta> decode_key_delta(wire::ByteView bytes, const crdt::Limits& limits) {
  wire::Reader r(bytes);
  uint8_t version = 0;
  KeyDelta d;
  if (!r.u8(version)) return r.status();
  if (version != kDeltaVersion) return Status::unsupported("unknown KV delta version " + std::to_string(version));
  if (!r.string(d.key, kKeyBytesMax)) return r.status();
  if (Status s = validate_key(d.key); !s) return s;
  auto map = crdt::Map::decode_from(r, limits);
  if (!map) return map.status();
  if (Status s = r.finish(); !s) return s;
  d.delta = std::move(*map);
  return d;
}

wire::Bytes encode(const TombstoneReport& r) {
  wire::Writer w;
  w.u8(kTombstoneReportVersion);
  w.varint(r.tombstones.size());
  for (const auto& [hash, digest] : r.tombstones) {
    w.fixed64(hash);
    w.fixed64(digest);
  }
  return w.take();
}

Result<TombstoneReport> decode_tombstone_report(wire::ByteView bytes) {
  wire::Reader r(bytes);
  uint8_t version = 0;
  if (!r.u8(version)) return r.status();
  if (version != kTombstoneReportVersion) {
    return Status::unsupported("unknown tombstone report version " + std::to_string(version));
  }
  TombstoneReport report;
  uint64_t n = 0;
  if (r.count(n, kTombstoneReportMax, 16, "tombstones")) {
    report.tombstones.resize(static_cast<size_t>(n));
    for (auto& [hash, digest] : report.tombstones) {
      if (!r.fixed64(hash) || !r.fixed64(digest)) break;
    }
  }
  if (Status s = r.finish(); !s) return s;
  return report;
}

uint64_t key_hash(std::string_view key) {
  return crdt::fnv1a64(wire::ByteView(reinterpret_cast<const uint8_t*>(key.data()), key.size()));
}

wire::Bytes encode_batch_entry(std::string_view key, const crdt::Map& delta) {
  wire::Writer w;
  w.string(key);
  delta.encode_to(w);
  return w.take();
}

wire::Bytes encode_batch_entries(size_t count, wire::ByteView entries) {
  wire::Writer w;
  w.u8(kDeltaBatchVersion);
  w.varint(count);
  w.raw(entries);
  return w.take();
}

wire::Bytes encode_batch(std::span<const KeyDelta> deltas) {
  wire::Writer entries;
  for (const auto& d : deltas) {
    entries.string(d.key);
    d.delta.encode_to(entries);
  }
  return encode_batch_entries(deltas.size(), entries.view());
}

Result<std::vector<KeyDelta>> decode_key_deltas(wire::ByteView bytes, const crdt::Limits& limits) {
  if (!bytes.empty() && bytes[0] == kDeltaVersion) {
    auto one = decode_key_delta(bytes, limits);
    if (!one) return one.status();
    std::vector<KeyDelta> out;
    out.push_back(std::move(*one));
    return out;
  }
  wire::Reader r(bytes);
  uint8_t version = 0;
  if (!r.u8(version)) return r.status();
  if (version != kDeltaBatchVersion) return Status::unsupported("unknown KV delta version " + std::to_string(version));
  uint64_t n = 0;
  std::vector<KeyDelta> out;
  // Each entry takes at least a key length and a map's bytes.
  if (r.count(n, kDeltaBatchKeysMax, 3, "deltas")) {
    out.reserve(static_cast<size_t>(n));
    for (uint64_t i = 0; i < n && r.ok(); ++i) {
      KeyDelta d;
      if (!r.string(d.key, kKeyBytesMax)) break;
      if (Status s = validate_key(d.key); !s) return s;
      auto map = crdt::Map::decode_from(r, limits);
      if (!map) return map.status();
      d.delta = std::move(*map);
      out.push_back(std::move(d));
    }
  }
  if (Status s = r.finish(); !s) return s;
  if (n == 0) return Status::invalid("an empty KV delta batch");
  return out;
}

namespace {

bool read_key(wire::Reader& r, std::string& key) {
  if (!r.string(key, kKeyBytesMax)) return false;
  if (Status s = validate_key(key); !s) return r.fail(s.message());
  return true;
}

template <typename T>
Result<T> done(wire::Reader& r, T value) {
  if (Status s = r.finish(); !s) return s;
  return value;
}

}  // namespace

bool KvStates::operator==(const KvStates& o) const {
  if (wanted != o.wanted || states.size() != o.states.size()) return false;
  for (size_t i = 0; i < states.size(); ++i) {
    if (states[i].key != o.states[i].key || !(states[i].delta == o.states[i].delta)) return false;
  }
  return true;
}

wire::Bytes encode(const KvSummary& m) {
  wire::Writer w = wire::begin_message(wire::MessageType::kv_summary);
  w.fixed64(m.digest);
  w.varint(m.keys);
  return w.take();
}

wire::Bytes encode(const KvGroups& m) {
  wire::Writer w = wire::begin_message(wire::MessageType::kv_groups);
  for (uint64_t g : m.groups) w.fixed64(g);
  return w.take();
}

wire::Bytes encode(const KvBuckets& m) {
  wire::Writer w = wire::begin_message(wire::MessageType::kv_buckets);
  w.varint(m.buckets.size());
  for (const auto& [bucket, digest] : m.buckets) {
    w.varint(bucket);
    w.fixed64(digest);
  }
  return w.take();
}

wire::Bytes encode(const KvKeys& m) {
  wire::Writer w = wire::begin_message(wire::MessageType::kv_keys);
  w.varint(m.buckets.size());
  for (uint16_t b : m.buckets) w.varint(b);
  w.varint(m.keys.size());
  for (const auto& [key, digest] : m.keys) {
    w.string(key);
    w.fixed64(digest);
  }
  return w.take();
}

wire::Bytes encode(const KvStates& m) {
  wire::Writer w = wire::begin_message(wire::MessageType::kv_states);
  w.varint(m.wanted.size());
  for (const auto& key : m.wanted) w.string(key);
  w.varint(m.states.size());
  for (const auto& s : m.states) {
    w.string(s.key);
    s.delta.encode_to(w);
  }
  return w.take();
}

Result<KvSummary> decode_kv_summary(wire::Reader& body) {
  KvSummary m;
  body.fixed64(m.digest);
  body.varint(m.keys);
  return done(body, m);
}

Result<KvGroups> decode_kv_groups(wire::Reader& body) {
  KvGroups m;
  m.groups.resize(kGroups);
  for (auto& g : m.groups) {
    if (!body.fixed64(g)) break;
  }
  return done(body, std::move(m));
}

Result<KvBuckets> decode_kv_buckets(wire::Reader& body) {
  KvBuckets m;
  uint64_t n = 0;
  if (body.count(n, kBuckets, 9, "buckets")) {
    m.buckets.resize(static_cast<size_t>(n));
    for (auto& [bucket, digest] : m.buckets) {
      uint64_t b = 0;
      if (!body.varint_at_most(b, kBuckets - 1, "bucket") || !body.fixed64(digest)) break;
      bucket = static_cast<uint16_t>(b);
    }
  }
  return done(body, std::move(m));
}

Result<KvKeys> decode_kv_keys(wire::Reader& body) {
  KvKeys m;
  uint64_t n = 0;
  if (body.count(n, kBuckets, 1, "buckets")) {
    m.buckets.resize(static_cast<size_t>(n));
    for (auto& bucket : m.buckets) {
      uint64_t b = 0;
      if (!body.varint_at_most(b, kBuckets - 1, "bucket")) break;
      bucket = static_cast<uint16_t>(b);
    }
  }
  if (body.ok() && body.count(n, kSyncKeysMax, 10, "keys")) {
    m.keys.resize(static_cast<size_t>(n));
    for (auto& [key, digest] : m.keys) {
      if (!read_key(body, key) || !body.fixed64(digest)) break;
    }
  }
  return done(body, std::move(m));
}

Result<KvStates> decode_kv_states(wire::Reader& body, const crdt::Limits& limits) {
  KvStates m;
  uint64_t n = 0;
  if (body.count(n, kSyncWantedMax, 2, "wanted keys")) {
    m.wanted.resize(static_cast<size_t>(n));
    for (auto& key : m.wanted) {
      if (!read_key(body, key)) break;
    }
  }
  if (body.ok() && body.count(n, kSyncStatesMax, 4, "states")) {
    m.states.reserve(static_cast<size_t>(n));
    for (uint64_t i = 0; i < n && body.ok(); ++i) {
      KeyDelta d;
      if (!read_key(body, d.key)) break;
      auto map = crdt::Map::decode_from(body, limits);
      if (!map) {
        body.fail(map.status().message());
        break;
      }
      d.delta = std::move(*map);
      m.states.push_back(std::move(d));
    }
  }
  return done(body, std::move(m));
}

}  // namespace lashup::kv
