#include "core/kv/kv_sync.h"

#include <algorithm>
#include <set>

namespace lashup::kv {

KvSync::KvSync(KvSyncConfig config, KvStore& store, Random& random, Changed changed)
    : config_(config), store_(store), random_(random), changed_(std::move(changed)) {}

void KvSync::start(Time now) { next_round_at_ = config_.grid.at_or_after(now + random_.jittered(config_.interval, 0.5)); }

void KvSync::send(const NodeName& to, wire::Bytes bytes, Actions& out) {
  ++stats_.messages_sent;
  stats_.bytes_sent += bytes.size();
  out.send(to, std::move(bytes));
}

void KvSync::tick(Time now, const std::vector<NodeName>& neighbors, Actions& out) {
  if (!next_round_at_ || now < *next_round_at_) return;
  next_round_at_ = config_.grid.at_or_after(now + random_.jittered(config_.interval, 0.5));
  if (neighbors.empty()) return;
  start_round(neighbors[random_.uniform(neighbors.size())], out);
}

void KvSync::start_round(const NodeName& to, Actions& out) {
  ++stats_.rounds_started;
  send(to, encode(KvSummary{store_.digest(), store_.entries()}), out);
}

KvStates KvSync::states_for(const std::vector<std::string>& keys, std::vector<std::string> wanted) const {
  KvStates m;
  m.wanted = std::move(wanted);
  if (m.wanted.size() > kSyncWantedMax) m.wanted.resize(kSyncWantedMax);
  size_t bytes = 0;
  for (const auto& key : keys) {
    if (m.states.size() >= kSyncStatesMax || bytes >= config_.states_bytes_max) break;
    const crdt::Map* state = store_.get_state(key);
    if (state == nullptr) continue;
    m.states.push_back(KeyDelta{key, *state});
    bytes += key.size() + 64;  // the encoding is measured when sent; this bounds the count of large ones
  }
  return m;
}

size_t KvSync::apply_states(Time now, const NodeName&, const KvStates& m, Actions& out) {
  size_t changed = 0;
  for (const auto& s : m.states) {
    auto outcome = store_.apply_state(s.key, s.delta);
    if (!outcome) {
      ++stats_.states_refused;
      continue;
    }
    if (outcome->state_changed) {
      ++stats_.states_applied;
      ++changed;
      changed_(now, s.key, *outcome, out);
    }
  }
  return changed;
}

bool KvSync::handle(Time now, const NodeName& from, wire::MessageType type, wire::Reader& body, Actions& out) {
  switch (type) {
    case wire::MessageType::kv_summary: {
      auto m = decode_kv_summary(body);
      if (!m) return false;
      if (m->digest == store_.digest()) {
        ++stats_.rounds_equal;
        return true;
      }
      KvGroups groups;
      for (size_t g = 0; g < kGroups; ++g) groups.groups.push_back(store_.group_digest(g));
      send(from, encode(groups), out);
      return true;
    }
    case wire::MessageType::kv_groups: {
      auto m = decode_kv_groups(body);
      if (!m) return false;
      KvBuckets buckets;
      for (size_t g = 0; g < kGroups; ++g) {
        if (m->groups[g] == store_.group_digest(g)) continue;
        for (size_t b = g * kBucketsPerGroup; b < (g + 1) * kBucketsPerGroup; ++b) {
          buckets.buckets.emplace_back(static_cast<uint16_t>(b), store_.bucket_digest(b));
        }
      }
      if (!buckets.buckets.empty()) send(from, encode(buckets), out);
      return true;
    }
    case wire::MessageType::kv_buckets: {
      auto m = decode_kv_buckets(body);
      if (!m) return false;
      KvKeys keys;
      for (const auto& [bucket, digest] : m->buckets) {
        if (digest == store_.bucket_digest(bucket)) continue;
        auto listed = store_.bucket_keys(bucket);
        if (keys.keys.size() + listed.size() > kSyncKeysMax) break;  // the rest next round
        keys.buckets.push_back(bucket);
        for (auto& entry : listed) keys.keys.push_back(std::move(entry));
      }
      if (!keys.buckets.empty()) send(from, encode(keys), out);
      return true;
    }
    case wire::MessageType::kv_keys: {
      auto m = decode_kv_keys(body);
      if (!m) return false;
      // Keys of the listed buckets that differ: ours to send where we have
      // a state, theirs to send where they have one.
      std::vector<std::string> ours;
      std::vector<std::string> wanted;
      std::set<std::string> listed;
      for (const auto& [key, digest] : m->keys) {
        if (bucket_of(key) >= kBuckets ||
            std::find(m->buckets.begin(), m->buckets.end(), bucket_of(key)) == m->buckets.end()) {
          return false;  // a key outside the buckets it lists
        }
        listed.insert(key);
        const uint64_t mine = store_.key_digest(key);
        if (mine == digest) continue;
        if (mine != 0) ours.push_back(key);
        wanted.push_back(key);
      }
      for (uint16_t bucket : m->buckets) {
        for (const auto& [key, digest] : store_.bucket_keys(bucket)) {
          if (listed.count(key) == 0) ours.push_back(key);  // they lack it
        }
      }
      if (ours.empty() && wanted.empty()) return true;
      KvStates states = states_for(ours, std::move(wanted));
      stats_.states_sent += states.states.size();
      send(from, encode(states), out);
      return true;
    }
    case wire::MessageType::kv_states: {
      auto m = decode_kv_states(body, store_.limits());
      if (!m) return false;
      const size_t changed = apply_states(now, from, *m, out);
      if (changed > 0 && m->states.size() >= kSyncStatesMax / 2) {
        // Likely more where these came from: the next round now.
        ++stats_.rounds_followed_up;
        start_round(from, out);
      }
      if (!m->wanted.empty()) {
        KvStates reply = states_for(m->wanted, {});
        if (!reply.states.empty()) {
          stats_.states_sent += reply.states.size();
          send(from, encode(reply), out);
        }
      }
      return true;
    }
    default:
      return false;
  }
}

}  // namespace lashup::kv
