#include "core/crdt/causal_context.h"

#include <algorithm>

namespace lashup::crdt {
namespace {

const DotRanges kNoRanges;

// The run that holds `counter`, or end().
DotRanges::const_iterator find_run(const DotRanges& runs, uint64_t counter) {
  auto it = std::upper_bound(runs.begin(), runs.end(), counter,
                             [](uint64_t c, const DotRange& run) { return c < run.first; });
  if (it == runs.begin()) return runs.end();
  --it;
  return counter <= it->last ? it : runs.end();
}

// Appends `run` to a sorted run list, merging it with the last run if they
// overlap or touch.
void append_run(DotRanges& out, DotRange run) {
  if (!out.empty() && run.first <= out.back().last + 1) {
    out.back().last = std::max(out.back().last, run.last);
  } else {
    out.push_back(run);
  }
}

}  // namespace

DotRanges union_ranges(const DotRanges& a, const DotRanges& b) {
  DotRanges out;
  out.reserve(a.size() + b.size());
  size_t i = 0, j = 0;
  while (i < a.size() || j < b.size()) {
    if (j == b.size() || (i < a.size() && a[i].first <= b[j].first)) {
      append_run(out, a[i++]);
    } else {
      append_run(out, b[j++]);
    }
  }
  return out;
}

DotRanges subtract_ranges(const DotRanges& a, const DotRanges& b) {
  DotRanges out;
  size_t j = 0;
  for (DotRange run : a) {
    uint64_t from = run.first;
    while (j < b.size() && b[j].last < from) ++j;
    size_t k = j;
    while (from <= run.last) {
      if (k == b.size() || b[k].first > run.last) {
        out.push_back({from, run.last});
        break;
      }
      if (b[k].first > from) out.push_back({from, b[k].first - 1});
      if (b[k].last >= run.last) break;
      from = b[k].last + 1;
      ++k;
    }
  }
  return out;
}

bool ranges_include(const DotRanges& outer, const DotRanges& inner) {
  // Runs are maximal, so a run of `inner` is covered only by a single run of `outer`.
  for (DotRange run : inner) {
    auto it = find_run(outer, run.first);
    if (it == outer.end() || it->last < run.last) return false;
  }
  return true;
}

ReplicaIndex CausalContext::intern(const ReplicaId& id) {
  auto it = std::lower_bound(order_.begin(), order_.end(), id,
                             [this](ReplicaIndex index, const ReplicaId& key) { return replicas_[index] < key; });
  if (it != order_.end() && replicas_[*it] == id) return *it;
  const auto index = static_cast<ReplicaIndex>(replicas_.size());
  assert(index != kNoReplica);
  replicas_.push_back(id);
  clocks_.emplace_back();
  order_.insert(it, index);
  return index;
}

ReplicaIndex CausalContext::find(const ReplicaId& id) const {
  auto it = std::lower_bound(order_.begin(), order_.end(), id,
                             [this](ReplicaIndex index, const ReplicaId& key) { return replicas_[index] < key; });
  if (it != order_.end() && replicas_[*it] == id) return *it;
  return kNoReplica;
}

std::vector<ReplicaIndex> CausalContext::intern_all(const CausalContext& other) {
  std::vector<ReplicaIndex> to_mine(other.replicas_.size());
  for (size_t i = 0; i < other.replicas_.size(); ++i) to_mine[i] = intern(other.replicas_[i]);
  return to_mine;
}

CausalContext CausalContext::table_only() const {
  CausalContext copy;
  copy.replicas_ = replicas_;
  copy.order_ = order_;
  copy.clocks_.resize(clocks_.size());
  return copy;
}

bool CausalContext::contains(Dot dot) const {
  if (dot.replica >= clocks_.size()) return false;
  const DotRanges& runs = clocks_[dot.replica];
  return find_run(runs, dot.counter) != runs.end();
}

bool CausalContext::insert(Dot dot) {
  assert(dot.replica < clocks_.size() && dot.counter > 0);
  DotRanges& runs = clocks_[dot.replica];
  const uint64_t c = dot.counter;
  // First run that ends at or after c - 1: the only one c can touch.
  auto it = std::lower_bound(runs.begin(), runs.end(), c,
                             [](const DotRange& run, uint64_t counter) { return run.last + 1 < counter; });
  if (it == runs.end()) {
    runs.push_back({c, c});
    return true;
  }
  if (it->first <= c && c <= it->last) return false;
  if (it->last + 1 == c) {
    it->last = c;
    auto next = it + 1;
    if (next != runs.end() && next->first == c + 1) {
      it->last = next->last;
      runs.erase(next);
    }
    return true;
  }
  if (c + 1 == it->first) {
    it->first = c;
    return true;
  }
  runs.insert(it, DotRange{c, c});
  return true;
}

uint64_t CausalContext::max_counter(ReplicaIndex replica) const {
  if (replica >= clocks_.size() || clocks_[replica].empty()) return 0;
  return clocks_[replica].back().last;
}

const DotRanges& CausalContext::ranges(ReplicaIndex replica) const {
  return replica < clocks_.size() ? clocks_[replica] : kNoRanges;
}

void CausalContext::set_ranges(ReplicaIndex replica, DotRanges ranges) {
  assert(replica < clocks_.size());
  clocks_[replica] = std::move(ranges);
}

bool CausalContext::empty() const {
  return std::all_of(clocks_.begin(), clocks_.end(), [](const DotRanges& runs) { return runs.empty(); });
}

uint64_t CausalContext::dot_count() const {
  uint64_t total = 0;
  for (const DotRanges& runs : clocks_) {
    for (DotRange run : runs) {
      const uint64_t n = run.last - run.first + 1;
      if (n == 0 || total > UINT64_MAX - n) return UINT64_MAX;
      total += n;
    }
  }
  return total;
}

bool CausalContext::merge(const CausalContext& other, std::span<const ReplicaIndex> to_mine) {
  bool changed = false;
  for (size_t i = 0; i < other.clocks_.size(); ++i) {
    const DotRanges& theirs = other.clocks_[i];
    if (theirs.empty()) continue;
    DotRanges& mine = clocks_[to_mine[i]];
    if (ranges_include(mine, theirs)) continue;
    mine = union_ranges(mine, theirs);
    changed = true;
  }
  return changed;
}

bool CausalContext::merge(const CausalContext& other) {
  const std::vector<ReplicaIndex> to_mine = intern_all(other);
  return merge(other, to_mine);
}

CausalContext CausalContext::minus(const CausalContext& other) const {
  CausalContext out = table_only();
  for (size_t i = 0; i < clocks_.size(); ++i) {
    if (clocks_[i].empty()) continue;
    const ReplicaIndex theirs = other.find(replicas_[i]);
    out.clocks_[i] = theirs == kNoReplica ? clocks_[i] : subtract_ranges(clocks_[i], other.clocks_[theirs]);
  }
  return out;
}

bool CausalContext::includes(const CausalContext& other) const {
  for (size_t i = 0; i < other.clocks_.size(); ++i) {
    if (other.clocks_[i].empty()) continue;
    const ReplicaIndex mine = find(other.replicas_[i]);
    if (mine == kNoReplica || !ranges_include(clocks_[mine], other.clocks_[i])) return false;
  }
  return true;
}

}  // namespace lashup::crdt
