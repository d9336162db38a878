#include "core/multicast/multicast.h"

#include <algorithm>

#include "core/common/event.h"

namespace lashup {

namespace {

constexpr size_t kHoldersMax = 4;
// Holes inferred from a gap in an origin's sequence, at most this many per
// message received (older ones are left to announcements).
constexpr uint64_t kGapInferredMax = 1024;
// A joining node takes the first summary it receives as the horizon of
// what was sent before it came; if none arrives this long after its first
// neighbour came up, it has no past to skip.
constexpr Duration kJoinWindow = 1s;
// Repaired messages whose tree copy may still come, per origin (to measure
// how late tree copies are).
constexpr size_t kRepairedTrackedMax = 1024;
// The adaptive repair delay never exceeds this.
constexpr Duration kRepairDelayMax = 1s;
// Received intervals kept above an origin's floor; beyond, the lowest holes
// are given up.
constexpr size_t kIntervalsMax = 4096;
constexpr Duration kExpireInterval = 1s;
// Bytes a history entry costs beyond its payload, topic and origin name.
constexpr size_t kHistoryEntryOverhead = 96;

void add_to_ranges(std::vector<wire::McRange>& ranges, const NodeName& origin, Incarnation incarnation,
                   uint64_t sequence) {
  // Recent ranges first: a stream from one origin extends the same range.
  const size_t scan = std::min<size_t>(ranges.size(), 16);
  for (size_t i = 0; i < scan; ++i) {
    auto& r = ranges[ranges.size() - 1 - i];
    if (r.origin == origin && r.incarnation == incarnation && r.last + 1 == sequence &&
        r.last - r.first + 1 < wire::kMcRangeSpanMax) {
      r.last = sequence;
      return;
    }
  }
  ranges.push_back(wire::McRange{origin, incarnation, sequence, sequence});
}

}  // namespace

bool SeqSet::contains(uint64_t s) const {
  auto it = intervals_.upper_bound(s);
  if (it == intervals_.begin()) return false;
  --it;
  return s <= it->second;
}

void SeqSet::insert(uint64_t s) {
  auto next = intervals_.upper_bound(s);
  if (next != intervals_.begin()) {
    auto prev = std::prev(next);
    if (s <= prev->second) return;
    if (prev->second + 1 == s) {
      prev->second = s;
      if (next != intervals_.end() && next->first == s + 1) {
        prev->second = next->second;
        intervals_.erase(next);
      }
      return;
    }
  }
  if (next != intervals_.end() && next->first == s + 1) {
    const uint64_t last = next->second;
    intervals_.erase(next);
    intervals_.emplace(s, last);
    return;
  }
  intervals_.emplace(s, s);
}

uint64_t SeqSet::run_end(uint64_t s) const {
  auto it = intervals_.upper_bound(s);
  return it == intervals_.begin() ? s : std::prev(it)->second;
}

Multicast::Multicast(MulticastConfig config, NodeName self, Incarnation incarnation, Random& random,
                     MulticastTopology& topology)
    : config_(std::move(config)),
      self_(std::move(self)),
      incarnation_(incarnation),
      random_(random),
      topology_(topology) {}

void Multicast::start(Time now) {
  (void)now;
  next_summary_at_ = config_.grid.at_or_after(now + config_.summary_interval);
  next_expire_at_ = config_.grid.at_or_after(now + kExpireInterval);
}

Result<uint64_t> Multicast::publish(Time now, std::string_view topic, wire::ByteView payload, Actions& out) {
  if (Status s = wire::validate_topic(topic); !s) return s;
  if (payload.size() > config_.max_payload_bytes) {
    return Status::too_large("payload of " + std::to_string(payload.size()) +
                           " bytes exceeds multicast.payload_bytes_max (" +
                           std::to_string(config_.max_payload_bytes) + ")");
  }
  wire::McData m;
  m.origin = self_;
  m.incarnation = incarnation_;
  m.sequence = next_sequence_++;
  m.topic.assign(topic);
  m.hops_left = config_.hops;
  m.payload.assign(payload.begin(), payload.end());
  ++stats_.published;
  Origin& own = origins_[self_];
  own.incarnation = incarnation_;
  own.last_active = now;
  own.next = m.sequence + 1;
  own.highest = m.sequence;
  keep(now, own, m);
  deliver(now, m, out);
  send_down_tree(now, m, NodeName(), out);
  return m.sequence;
}

Status Multicast::subscribe(std::string_view topic) {
  if (Status s = wire::validate_topic(topic); !s) return s;
  if (topic.starts_with(kReservedTopicPrefix)) {
    return Status::invalid("multicast topics starting with \"lashup/\" are reserved");
  }
  topics_.emplace(topic);
  return Status::ok();
}

bool Multicast::unsubscribe(std::string_view topic) { return topics_.erase(std::string(topic)) > 0; }

bool Multicast::handle(Time now, const NodeName& from, wire::MessageType type, wire::Reader& body, Actions& out) {
  switch (type) {
    case wire::MessageType::mc_data: {
      auto m = wire::decode_mc_data(body);
      if (!m) return false;
      accept(now, from, std::move(*m), out);
      return true;
    }
    case wire::MessageType::mc_announce: {
      auto m = wire::decode_mc_announce(body);
      if (!m) return false;
      on_announce(now, from, *m);
      return true;
    }
    case wire::MessageType::mc_pull: {
      auto m = wire::decode_mc_pull(body);
      if (!m) return false;
      on_pull(now, from, *m, out);
      return true;
    }
    default:
      return false;
  }
}

void Multicast::on_neighbor_up(Time now, const NodeName& peer, Actions& out) {
  if (!joined_at_) joined_at_ = now;
  send_summary(now, peer, out);
}

Duration Multicast::repair_delay() const {
  return std::clamp(2 * tree_lateness_, config_.repair_delay, std::max(config_.repair_delay, kRepairDelayMax));
}

void Multicast::sample_lateness(Duration late) {
  // EWMA with weight 1/8, as TCP's SRTT.
  tree_lateness_ += (late - tree_lateness_) / 8;
}

Multicast::Origin* Multicast::origin_for(Time now, const NodeName& name, Incarnation incarnation, uint64_t first,
                                         bool is_data) {
  if (name == self_) return nullptr;
  auto it = origins_.find(name);
  if (it != origins_.end()) {
    Origin& o = it->second;
    if (incarnation < o.incarnation) return nullptr;
    if (incarnation == o.incarnation) return &o;
    // The origin restarted: it numbers from 1 again, and we were here.
    missing_count_ -= o.missing.size();
    o = Origin{};
    o.incarnation = incarnation;
    o.last_active = now;
    return &o;
  }
  if (origins_.size() >= config_.origins_max) return nullptr;
  // First contact. What the origin sent before we joined is below the
  // horizon the join summaries set (see on_announce); anything else that
  // neighbours still hold was sent since, and is ours to receive.
  Origin& o = origins_[name];
  o.incarnation = incarnation;
  o.next = 1;
  o.highest = is_data ? first - 1 : 0;
  o.last_active = now;
  return &o;
}

void Multicast::mark_received(Origin& o, uint64_t sequence) {
  if (sequence < o.next) return;
  if (auto it = o.missing.find(sequence); it != o.missing.end()) erase_missing(o, it);
  o.above.insert(sequence);
  while (!o.above.empty() && o.above.front().first <= o.next) {
    o.next = std::max(o.next, o.above.front().second + 1);
    o.above.pop_front();
  }
  if (o.above.empty()) o.hole_since.reset();
  if (o.above.intervals() > kIntervalsMax) advance_floor(o, o.above.front().first, true);
}

void Multicast::advance_floor(Origin& o, uint64_t to, bool count_lost) {
  if (to <= o.next) return;
  for (auto it = o.missing.begin(); it != o.missing.end() && it->first < to;) {
    if (count_lost) ++stats_.lost;
    auto victim = it++;
    erase_missing(o, victim);
  }
  o.next = to;
  while (!o.above.empty() && o.above.front().first <= o.next) {
    o.next = std::max(o.next, o.above.front().second + 1);
    o.above.pop_front();
  }
  o.hole_since.reset();
}

void Multicast::erase_missing(Origin& o, std::map<uint64_t, Missing>::iterator it) {
  o.missing.erase(it);
  --missing_count_;
}

void Multicast::note_missing(Time now, Origin& o, uint64_t sequence, const NodeName& holder, Time due) {
  auto it = o.missing.find(sequence);
  if (it == o.missing.end()) {
    if (missing_count_ >= config_.missing_max) {
      ++stats_.missing_overflow;
      return;
    }
    it = o.missing.emplace(sequence, Missing{due, now, 0, {}}).first;
    ++missing_count_;
  } else if (due < it->second.due && it->second.attempts == 0) {
    it->second.due = due;
  }
  auto& holders = it->second.holders;
  if (!holder.empty() && holders.size() < kHoldersMax && std::find(holders.begin(), holders.end(), holder) == holders.end()) {
    holders.push_back(holder);
  }
  if (!next_pull_at_ || it->second.due < *next_pull_at_) next_pull_at_ = it->second.due;
}

void Multicast::accept(Time now, const NodeName& from, wire::McData m, Actions& out) {
  Origin* o = origin_for(now, m.origin, m.incarnation, m.sequence, true);
  if (o == nullptr) {
    if (m.origin == self_) {
      ++stats_.duplicates_received;  // our own message, back along a stale tree
    } else {
      ++stats_.stale_received;
    }
    return;
  }
  o->last_active = now;
  if (received(*o, m.sequence)) {
    ++stats_.duplicates_received;
    // The tree copy of a message we pulled: how late the tree was.
    if (auto r = o->repaired_noticed.find(m.sequence); !m.repair && r != o->repaired_noticed.end()) {
      ++stats_.late_tree_copies;
      sample_lateness(now - r->second);
      o->repaired_noticed.erase(r);
    }
    return;
  }
  ++stats_.received;
  if (m.repair) ++stats_.repaired;
  if (auto miss = o->missing.find(m.sequence); miss != o->missing.end()) {
    if (m.repair) {
      if (o->repaired_noticed.size() >= kRepairedTrackedMax) o->repaired_noticed.erase(o->repaired_noticed.begin());
      o->repaired_noticed.emplace(m.sequence, miss->second.first_noticed);
    } else {
      sample_lateness(now - miss->second.first_noticed);
    }
  }
  // A gap after the highest sequence seen: those messages were sent after
  // the ones we have and are probably on their way; if not, pull them.
  if (o->highest != 0 && m.sequence > o->highest + 1) {
    const uint64_t low = std::max({o->highest + 1, o->next, m.sequence - std::min(m.sequence - 1, kGapInferredMax)});
    for (uint64_t s = low; s < m.sequence; ++s) {
      if (!received(*o, s)) note_missing(now, *o, s, from, now + repair_delay());
    }
  }
  o->highest = std::max(o->highest, m.sequence);
  mark_received(*o, m.sequence);
  if (!o->above.empty() && !o->hole_since) o->hole_since = now;
  keep(now, *o, m);
  deliver(now, m, out);
  send_down_tree(now, m, from, out);
}

void Multicast::deliver(Time now, const wire::McData& m, Actions& out) {
  if (m.topic.starts_with(kReservedTopicPrefix)) {
    topology_.deliver_internal(now, m, out);
    return;
  }
  if (topics_.count(m.topic) == 0) {
    ++stats_.no_subscriber;
    return;
  }
  ++stats_.delivered;
  out.emit(McDelivered{m.origin, m.incarnation, m.sequence, m.topic, m.payload});
}

void Multicast::send_down_tree(Time now, const wire::McData& m, const NodeName& from, Actions& out) {
  const std::vector<NodeName>& children = topology_.tree_children(m.origin);
  if (m.hops_left == 0) {
    ++stats_.hops_exhausted;
  } else {
    wire::McData copy = m;
    copy.hops_left = m.hops_left - 1;
    copy.repair = false;
    Bytes encoded;
    for (const NodeName& child : children) {
      if (child == from || child == m.origin || !topology_.connected(child)) continue;
      if (encoded.empty()) encoded = wire::encode(copy);
      out.send(child, encoded);
      ++stats_.forwarded;
    }
  }
  // Lazy push to every other neighbour: they pull it if the tree missed them.
  for (const NodeName& peer : topology_.neighbors()) {
    if (peer == from || peer == m.origin) continue;
    if (m.hops_left != 0 && std::find(children.begin(), children.end(), peer) != children.end() &&
        topology_.connected(peer)) {
      continue;
    }
    queue_announcement(now, peer, m);
  }
}

void Multicast::keep(Time now, Origin& o, const wire::McData& m) {
  const size_t bytes = m.payload.size() + m.topic.size() + m.origin.size() + kHistoryEntryOverhead;
  o.kept.emplace(m.sequence, m);
  next_expire_at_ = std::min(next_expire_at_, config_.grid.at_or_after(now + kExpireInterval));
  history_.push_back(HistoryEntry{now, m.origin, m.incarnation, m.sequence, bytes});
  history_bytes_ += bytes;
  while (history_bytes_ > config_.history_bytes_max && history_.size() > 1) {
    ++stats_.history_evicted_early;
    const HistoryEntry& e = history_.front();
    if (auto it = origins_.find(e.origin); it != origins_.end() && it->second.incarnation == e.incarnation) {
      it->second.kept.erase(e.sequence);
    }
    history_bytes_ -= e.bytes;
    history_.pop_front();
  }
}

void Multicast::queue_announcement(Time now, const NodeName& to, const wire::McData& m) {
  auto& ranges = announce_[to];
  if (ranges.size() >= wire::kMcRangesMax) return;  // the next summary covers it
  add_to_ranges(ranges, m.origin, m.incarnation, m.sequence);
  if (!announce_at_) announce_at_ = now + config_.announce_interval;
}

void Multicast::on_announce(Time now, const NodeName& from, const wire::McAnnounce& m) {
  // Joining: the first summary lists what was sent before we came. Later
  // ones (other neighbours come up within the same second) may list what
  // was sent since, which is ours.
  if (horizon_open_ && joined_at_ && now - *joined_at_ >= kJoinWindow) horizon_open_ = false;
  const bool horizon = m.summary && horizon_open_;
  if (m.summary) horizon_open_ = false;
  for (const auto& range : m.ranges) {
    Origin* o = origin_for(now, range.origin, range.incarnation, range.first, false);
    if (o == nullptr) continue;
    if (horizon) {
      advance_floor(*o, range.last == UINT64_MAX ? range.last : range.last + 1, false);
      o->highest = std::max(o->highest, range.last);
      continue;
    }
    o->last_active = now;
    const Time due = m.summary ? now : now + repair_delay();
    if (range.last < o->next) continue;
    uint64_t s = std::max(range.first, o->next);
    while (true) {
      if (o->above.contains(s)) {
        s = o->above.run_end(s);  // skip what we have
      } else if (missing_count_ >= config_.missing_max && o->missing.count(s) == 0) {
        ++stats_.missing_overflow;
        break;
      } else {
        note_missing(now, *o, s, from, due);
      }
      if (s >= range.last) break;
      ++s;
    }
  }
}

void Multicast::on_pull(Time now, const NodeName& from, const wire::McPull& m, Actions& out) {
  (void)now;
  for (const auto& range : m.ranges) {
    auto it = origins_.find(range.origin);
    if (it == origins_.end() || it->second.incarnation != range.incarnation) {
      stats_.pull_misses += range.last - range.first + 1;
      continue;
    }
    const auto& kept = it->second.kept;
    uint64_t found = 0;
    for (auto k = kept.lower_bound(range.first); k != kept.end() && k->first <= range.last; ++k) {
      wire::McData copy = k->second;
      copy.repair = true;
      out.send(from, wire::encode(copy));
      ++stats_.repairs_sent;
      ++found;
    }
    stats_.pull_misses += range.last - range.first + 1 - found;
  }
}

void Multicast::flush_announcements(Time now, Actions& out) {
  (void)now;
  for (auto& [peer, ranges] : announce_) {
    if (ranges.empty() || !topology_.connected(peer)) continue;
    wire::McAnnounce m;
    m.ranges = std::move(ranges);
    out.send(peer, wire::encode(m));
    ++stats_.announcements_sent;
  }
  announce_.clear();
  announce_at_.reset();
}

void Multicast::send_pulls(Time now, Actions& out) {
  next_pull_at_.reset();
  std::unordered_map<NodeName, std::vector<wire::McRange>> pulls;
  const auto& neighbors = topology_.neighbors();
  std::vector<uint64_t> given_up;
  for (auto& [name, o] : origins_) {
    given_up.clear();
    for (auto it = o.missing.begin(); it != o.missing.end();) {
      Missing& miss = it->second;
      if (miss.due > now) {
        if (!next_pull_at_ || miss.due < *next_pull_at_) next_pull_at_ = miss.due;
        ++it;
        continue;
      }
      if (now - miss.first_noticed >= config_.history) {
        given_up.push_back(it->first);  // nobody we asked still had it: it is gone
        ++it;
        continue;
      }
      // Holders that announced it first, then any neighbour.
      NodeName target;
      for (size_t i = 0; i < miss.holders.size() && target.empty(); ++i) {
        const NodeName& h = miss.holders[(miss.attempts + i) % miss.holders.size()];
        if (topology_.connected(h)) target = h;
      }
      if ((target.empty() || miss.attempts >= miss.holders.size()) && !neighbors.empty()) {
        const NodeName& n = neighbors[random_.uniform(neighbors.size())];
        if (topology_.connected(n) && (target.empty() || random_.chance(0.5))) target = n;
      }
      const Duration backoff = config_.pull_timeout * (int64_t{1} << std::min<uint32_t>(miss.attempts, 4));
      miss.due = now + backoff;
      if (!next_pull_at_ || miss.due < *next_pull_at_) next_pull_at_ = miss.due;
      if (target.empty()) {
        ++it;
        continue;
      }
      ++miss.attempts;
      auto& ranges = pulls[target];
      if (ranges.size() < wire::kMcRangesMax) add_to_ranges(ranges, name, o.incarnation, it->first);
      ++it;
    }
    for (uint64_t sequence : given_up) {
      if (o.missing.count(sequence) == 0) continue;
      ++stats_.lost;
      mark_received(o, sequence);  // erases the entry
    }
  }
  for (auto& [peer, ranges] : pulls) {
    wire::McPull m;
    m.ranges = std::move(ranges);
    out.send(peer, wire::encode(m));
    ++stats_.pulls_sent;
  }
}

void Multicast::send_summary(Time now, const NodeName& to, Actions& out) {
  (void)now;
  if (!topology_.connected(to)) return;
  wire::McAnnounce m;
  m.summary = true;
  for (const auto& entry : origins_) {
    const NodeName& name = entry.first;
    const Origin& o = entry.second;
    uint64_t run_first = 0;
    uint64_t run_last = 0;
    auto flush_run = [&] {
      if (run_first == 0) return;
      m.ranges.push_back(wire::McRange{name, o.incarnation, run_first, run_last});
      if (m.ranges.size() == wire::kMcRangesMax) {
        out.send(to, wire::encode(m));
        ++stats_.announcements_sent;
        m.ranges.clear();
      }
    };
    for (const auto& [seq, data] : o.kept) {
      if (run_first != 0 && seq == run_last + 1 && seq - run_first < wire::kMcRangeSpanMax) {
        run_last = seq;
        continue;
      }
      flush_run();
      run_first = run_last = seq;
    }
    flush_run();
  }
  // Sent even when empty: it closes a joining neighbour's horizon.
  out.send(to, wire::encode(m));
  ++stats_.announcements_sent;
}

void Multicast::expire(Time now) {
  while (!history_.empty() && history_.front().at + config_.history <= now) {
    const HistoryEntry& e = history_.front();
    if (auto it = origins_.find(e.origin); it != origins_.end() && it->second.incarnation == e.incarnation) {
      it->second.kept.erase(e.sequence);
    }
    history_bytes_ -= e.bytes;
    history_.pop_front();
  }
  for (auto it = origins_.begin(); it != origins_.end();) {
    Origin& o = it->second;
    // A hole nobody announced for `history` will not be filled.
    if (!o.above.empty()) {
      if (!o.hole_since) {
        o.hole_since = now;
      } else if (now - *o.hole_since >= config_.history &&
                 (o.missing.empty() || o.missing.begin()->first > o.above.front().first)) {
        stats_.skipped_unannounced += o.above.front().first - o.next - o.missing.size();
        advance_floor(o, o.above.front().first, true);
        if (!o.above.empty()) o.hole_since = now;
      }
    }
    const bool idle = now - o.last_active >= 2 * config_.history && o.kept.empty() && o.missing.empty();
    if (idle && it->first != self_) {
      it = origins_.erase(it);
    } else {
      ++it;
    }
  }
  // Idle: only origins' states wait to expire.
  next_expire_at_ =
      config_.grid.at_or_after(now + (history_.empty() && missing_count_ == 0 ? config_.history / 2 : kExpireInterval));
}

void Multicast::tick(Time now, Actions& out) {
  if (announce_at_ && now >= *announce_at_) flush_announcements(now, out);
  if (next_pull_at_ && now >= *next_pull_at_) send_pulls(now, out);
  if (now >= next_summary_at_) {
    next_summary_at_ = config_.grid.at_or_after(now + random_.jittered(config_.summary_interval, 0.5));
    const auto& neighbors = topology_.neighbors();
    if (!history_.empty() && !neighbors.empty()) send_summary(now, neighbors[random_.uniform(neighbors.size())], out);
  }
  if (now >= next_expire_at_) expire(now);
}

std::optional<Time> Multicast::next_deadline() const {
  std::optional<Time> at;
  auto consider = [&](Time t) {
    if (!at || t < *at) at = t;
  };
  if (announce_at_) consider(*announce_at_);
  if (next_pull_at_) consider(*next_pull_at_);
  if (!history_.empty()) consider(next_summary_at_);
  if (!history_.empty() || missing_count_ > 0 || origins_.size() > (origins_.count(self_) ? 1u : 0u)) {
    consider(next_expire_at_);
  }
  return at;
}

}  // namespace lashup
