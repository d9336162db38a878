#include "core/kv/kv_store.h"

#include <numeric>

namespace lashup::kv {

namespace {

// The SplitMix64 finalizer: a bijection whose output bits each depend on
// every input bit.
uint64_t mix64(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

}  // namespace

namespace {

// Encoded bytes an operation may add beyond its payload (dots, tags).
constexpr size_t kOpOverheadBytes = 64;

}  // namespace

std::optional<std::string_view> namespace_owner(std::string_view key) {
  if (!key.starts_with(kNodesPrefix)) return std::nullopt;
  std::string_view rest = key.substr(kNodesPrefix.size());
  const size_t slash = rest.find('/');
  return slash == std::string_view::npos ? rest : rest.substr(0, slash);
}

Status validate_key(std::string_view key) {
  if (key.empty()) return Status::invalid("empty key");
  if (key.size() > kKeyBytesMax) return Status::too_large("key longer than 4096 bytes");
  if (auto owner = namespace_owner(key); owner && owner->empty()) {
    return Status::invalid("key \"" + std::string(key) + "\" names no node after \"nodes/\"");
  }
  return Status::ok();
}

bool glob_match(std::string_view pattern, std::string_view key) {
  // Iterative matcher with one backtrack point per star kind.
  size_t p = 0, k = 0;
  size_t star_p = std::string_view::npos, star_k = 0;
  bool star_crosses = false;
  while (k < key.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star_crosses = p + 1 < pattern.size() && pattern[p + 1] == '*';
      p += star_crosses ? 2 : 1;
      star_p = p;
      star_k = k;
      continue;
    }
    if (p < pattern.size() && (pattern[p] == key[k] || (pattern[p] == '?' && key[k] != '/'))) {
      ++p;
      ++k;
      continue;
    }
    // Backtrack: let the last star swallow one more byte.
    if (star_p != std::string_view::npos && (star_crosses || key[star_k] != '/')) {
      p = star_p;
      k = ++star_k;
      continue;
    }
    return false;
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

size_t bucket_of(std::string_view key) {
  return crdt::fnv1a64(wire::ByteView(reinterpret_cast<const uint8_t*>(key.data()), key.size())) % kBuckets;
}

void KvStore::rehash(const std::string& key, Entry& entry) {
  last_state_ = entry.map.encode();
  last_state_key_ = &key;
  entry.encoded_bytes = last_state_.size();
  // Of (key, state); never 0, which means "no such key". The two hashes are
  // mixed through a non-linear finalizer: with a plain XOR of a key part and
  // a state part, two keys whose states differ the same way on two nodes
  // (counters at 19 and 20 on both) cancel out in the bucket and store
  // digests, and anti-entropy takes different stores for equal ones.
  const auto key_bytes = wire::ByteView(reinterpret_cast<const uint8_t*>(key.data()), key.size());
  const uint64_t digest = mix64(crdt::fnv1a64(key_bytes) ^ mix64(crdt::fnv1a64(last_state_))) | 1;
  const size_t bucket = bucket_of(key);
  if (entry.digest == 0) bucket_members_[bucket].push_back(&key);
  buckets_[bucket] ^= entry.digest ^ digest;
  digest_ ^= entry.digest ^ digest;
  entry.digest = digest;
}

uint64_t KvStore::group_digest(size_t group) const {
  uint64_t d = 0;
  for (size_t b = group * kBucketsPerGroup; b < (group + 1) * kBucketsPerGroup; ++b) d ^= buckets_[b];
  return d;
}

std::vector<std::pair<std::string, uint64_t>> KvStore::bucket_keys(size_t bucket) const {
  std::vector<std::pair<std::string, uint64_t>> out;
  for (const std::string* key : bucket_members_[bucket]) out.emplace_back(*key, entries_.find(*key)->second.digest);
  return out;
}

uint64_t KvStore::key_digest(std::string_view key) const {
  auto it = entries_.find(key);
  return it == entries_.end() ? 0 : it->second.digest;
}

const crdt::Map* KvStore::get_state(std::string_view key) const {
  auto it = entries_.find(key);
  return it == entries_.end() ? nullptr : &it->second.map;
}

KvStore::KvStore(KvConfig config, ReplicaId self) : config_(std::move(config)), self_(std::move(self)) {}

size_t KvStore::ops_bytes(std::span<const crdt::FieldOp> ops) {
  size_t bytes = 0;
  for (const auto& op : ops) {
    bytes += kOpOverheadBytes + op.field.name.size() + op.assignment.value.size();
    for (const auto& e : op.elements) bytes += e.size() + 8;
    bytes += ops_bytes(op.ops);
  }
  return bytes;
}

Result<KvStore::Written> KvStore::update(std::string_view key, std::span<const crdt::FieldOp> ops,
                                         const crdt::CausalContext* expected) {
  if (Status s = validate_key(key); !s) return s;
  if (auto owner = namespace_owner(key); owner && *owner != self_.name) {
    return Status::permission("key \"" + std::string(key) + "\" is in the namespace of node \"" + std::string(*owner) +
                              "\"; only that node writes it");
  }
  if (ops.empty()) return Status::invalid("an update needs at least one operation");
  auto it = entries_.find(key);
  const bool existed = it != entries_.end();
  const size_t before = existed ? it->second.encoded_bytes : 0;
  if (before + ops_bytes(ops) > config_.value_bytes_max) {
    return Status::too_large("the value of \"" + std::string(key) + "\" would exceed kv.value_bytes_max (" +
                             std::to_string(config_.value_bytes_max) + " bytes)");
  }
  if (!existed) {
    it = entries_.emplace(std::string(key), Entry{}).first;
    // A key (maybe) collected before: its new dots start above every dot
    // this replica ever made for a collected key.
    it->second.map.cover(self_, own_floor_);
  }
  Entry& entry = it->second;
  const bool was_live = !entry.map.empty();
  Result<crdt::Map> delta = expected == nullptr ? entry.map.apply(self_, ops, config_.limits)
                                                : entry.map.apply_if(self_, ops, *expected, config_.limits);
  if (!delta) {
    if (!existed) entries_.erase(it);
    return delta.status();
  }
  // The covered dots travel with the first delta, so every replica's state
  // of the key holds them (equal states, equal digests).
  if (!existed) delta->cover(self_, own_floor_);
  return finish_write(it->first, entry, was_live, std::move(delta));
}

Result<KvStore::Written> KvStore::remove(std::string_view key) {
  if (Status s = validate_key(key); !s) return s;
  if (auto owner = namespace_owner(key); owner && *owner != self_.name) {
    return Status::permission("key \"" + std::string(key) + "\" is in the namespace of node \"" + std::string(*owner) +
                              "\"; only that node deletes it");
  }
  auto it = entries_.find(key);
  if (it == entries_.end() || it->second.map.empty()) {
    return Status::not_found("no key \"" + std::string(key) + "\" to delete");
  }
  return finish_write(it->first, it->second, true, it->second.map.clear(self_));
}

Result<KvStore::Written> KvStore::finish_write(const std::string& key, Entry& entry, bool was_live,
                                               Result<crdt::Map> delta) {
  ++stats_.local_updates;
  rehash(key, entry);
  const bool live = !entry.map.empty();
  if (live != was_live) live ? ++live_keys_ : --live_keys_;
  return Written{std::move(*delta), entry.map.value()};
}

Result<crdt::JoinOutcome> KvStore::apply(std::string_view key, const crdt::Map& delta) {
  if (Status s = validate_key(key); !s) {
    ++stats_.deltas_rejected;
    return s;
  }
  if (auto owner = namespace_owner(key)) {
    const auto& context = delta.context();
    for (size_t r = 0; r < context.replica_count(); ++r) {
      if (context.replica(static_cast<crdt::ReplicaIndex>(r)).name != *owner) {
        ++stats_.deltas_rejected;
        return Status::permission("a delta for \"" + std::string(key) + "\" carries writes of node \"" +
                                  context.replica(static_cast<crdt::ReplicaIndex>(r)).name + "\"");
      }
    }
  }
  auto it = entries_.find(key);
  const bool existed = it != entries_.end();
  if (!existed) it = entries_.emplace(std::string(key), Entry{}).first;
  Entry& entry = it->second;
  const bool was_live = !entry.map.empty();
  const crdt::JoinOutcome outcome = entry.map.join(delta);
  if (outcome.state_changed) {
    rehash(it->first, entry);
    // The tombstone collected here, coming back from a node that has not
    // collected it yet: nothing new, dropped again.
    if (auto collected = collected_.find(key);
        !existed && collected != collected_.end() && collected->second == entry.digest) {
      ++stats_.deltas_redundant;
      erase(it);
      return crdt::JoinOutcome{};
    }
    ++stats_.deltas_applied;
  } else {
    ++stats_.deltas_redundant;
    if (!existed && entry.digest == 0) {
      entries_.erase(it);  // nothing to keep
      return outcome;
    }
  }
  const bool live = !entry.map.empty();
  if (live != was_live) live ? ++live_keys_ : --live_keys_;
  return outcome;
}

Status KvStore::load(std::string_view key, wire::ByteView state) {
  if (Status s = validate_key(key); !s) return s;
  auto map = crdt::Map::decode(state, config_.limits);
  if (!map) return Status::invalid("stored value of \"" + std::string(key) + "\" does not decode: " + map.status().message());
  auto it = entries_.try_emplace(std::string(key)).first;
  Entry& entry = it->second;
  const bool was_live = !entry.map.empty();
  entry.map = std::move(*map);
  rehash(it->first, entry);
  const bool live = !entry.map.empty();
  if (live != was_live) live ? ++live_keys_ : --live_keys_;
  return Status::ok();
}

std::vector<std::string> KvStore::tombstones() const {
  std::vector<std::string> out;
  for (const auto& [key, entry] : entries_) {
    if (entry.map.empty()) out.push_back(key);
  }
  return out;
}

bool KvStore::collect(std::string_view key) {
  auto it = entries_.find(key);
  if (it == entries_.end() || !it->second.map.empty()) return false;
  const crdt::CausalContext& context = it->second.map.context();
  if (const crdt::ReplicaIndex own = context.find(self_); own != crdt::kNoReplica) {
    own_floor_ = std::max(own_floor_, context.max_counter(own));
  }
  collected_[it->first] = it->second.digest;
  ++stats_.tombstones_collected;
  erase(it);
  return true;
}

void KvStore::erase(std::map<std::string, Entry, std::less<>>::iterator it) {
  Entry& entry = it->second;
  if (entry.digest != 0) {
    const size_t bucket = bucket_of(it->first);
    buckets_[bucket] ^= entry.digest;
    digest_ ^= entry.digest;
    auto& members = bucket_members_[bucket];
    for (auto& member : members) {
      if (member == &it->first) {
        member = members.back();
        members.pop_back();
        break;
      }
    }
  }
  if (last_state_key_ == &it->first) last_state_key_ = nullptr;
  if (!entry.map.empty()) --live_keys_;
  entries_.erase(it);
}

wire::Bytes KvStore::take_state(std::string_view key) {
  if (last_state_key_ != nullptr && *last_state_key_ == key) {
    last_state_key_ = nullptr;
    return std::move(last_state_);
  }
  auto it = entries_.find(key);
  return it == entries_.end() ? wire::Bytes{} : it->second.map.encode();
}

const crdt::Map* KvStore::get(std::string_view key) const {
  auto it = entries_.find(key);
  if (it == entries_.end() || it->second.map.empty()) return nullptr;
  return &it->second.map;
}

std::vector<std::string> KvStore::keys_with_prefix(std::string_view prefix) const {
  std::vector<std::string> out;
  for (auto it = entries_.lower_bound(prefix); it != entries_.end() && it->first.starts_with(prefix); ++it) {
    if (!it->second.map.empty()) out.push_back(it->first);
  }
  return out;
}

std::vector<std::string> KvStore::keys_matching(std::string_view glob) const {
  // Scan from the literal prefix of the pattern only.
  const size_t literal = glob.find_first_of("*?");
  const std::string_view prefix = glob.substr(0, literal);
  std::vector<std::string> out;
  for (auto it = entries_.lower_bound(prefix); it != entries_.end() && it->first.starts_with(prefix); ++it) {
    if (!it->second.map.empty() && glob_match(glob, it->first)) out.push_back(it->first);
  }
  return out;
}

}  // namespace lashup::kv
