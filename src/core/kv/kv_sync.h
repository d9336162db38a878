// Anti-entropy of the KV store with one neighbour at a time (DESIGN §2
// Replicated KV; docs/KV.md). Deltas normally reach every node over
// multicast, which repairs what a tree missed for as long as its history
// lasts. This path repairs the rest: a node that was down, a partition
// longer than the history, a delta too large for multicast.
//
// Every `interval` (jittered) a node sends a random neighbour the digest of
// its whole store. Equal stores cost that one message. Otherwise the
// digests narrow the difference down, group (64) -> bucket (1,024) -> key,
// in a fixed number of round trips; then only the keys whose states differ
// move, each side sending its state of them. For 10^5 keys with one
// differing, the repair takes six messages.
//
// Bounds: a states message carries at most kSyncStatesMax keys and about
// states_bytes_max bytes; what does not fit is found again by the next
// round. A node that receives a states message of at least half that many
// keys, some of them news, starts the next round with that neighbour at
// once instead of waiting for the interval: a node that lacks many keys (a
// new one) takes them in back-to-back rounds. Nothing is kept between
// messages but the round's counters.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/common/actions.h"
#include "core/common/random.h"
#include "core/kv/kv_messages.h"
#include "core/kv/kv_store.h"

namespace lashup::kv {

struct KvSyncConfig {
  Duration interval = 2s;
  RoundGrid grid;  // rounds start on it
  size_t states_bytes_max = 1u << 20;  // per states message, roughly
};

struct KvSyncStats {
  uint64_t rounds_started = 0;
  uint64_t rounds_followed_up = 0;  // started at once after a large states message
  uint64_t rounds_equal = 0;      // summaries answered by nothing: the stores were equal
  uint64_t messages_sent = 0;
  uint64_t bytes_sent = 0;
  uint64_t states_sent = 0;
  uint64_t states_applied = 0;    // changed the local state
  uint64_t states_refused = 0;    // namespace violations
};

class KvSync {
 public:
  // `changed(now, key, outcome, out)`: a state received changed `key` here
  // (the node persists it and tells subscribers).
  using Changed = std::function<void(Time, const std::string&, const crdt::JoinOutcome&, Actions&)>;
  KvSync(KvSyncConfig config, KvStore& store, Random& random, Changed changed);

  void start(Time now);
  // Starts a round with a random one of `neighbors` when one is due.
  void tick(Time now, const std::vector<NodeName>& neighbors, Actions& out);
  std::optional<Time> next_deadline() const { return next_round_at_; }
  // A sync message from `from`; false if malformed.
  bool handle(Time now, const NodeName& from, wire::MessageType type, wire::Reader& body, Actions& out);

  const KvSyncStats& stats() const { return stats_; }

 private:
  void send(const NodeName& to, wire::Bytes bytes, Actions& out);
  // Our states of `keys` (bounded), and the keys we want back.
  KvStates states_for(const std::vector<std::string>& keys, std::vector<std::string> wanted) const;
  // Returns how many states changed the store.
  size_t apply_states(Time now, const NodeName& from, const KvStates& m, Actions& out);
  void start_round(const NodeName& to, Actions& out);

  KvSyncConfig config_;
  KvStore& store_;
  Random& random_;
  Changed changed_;
  KvSyncStats stats_;
  std::optional<Time> next_round_at_;
};

}  // namespace lashup::kv
