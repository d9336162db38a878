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
  const ReplicaIndex found = find(id);
  if (found != kNoReplica) return found;
  const auto index = static_cast<ReplicaIndex>(slots_.size());
  assert(index != kNoReplica);
  slots_.push_back(Slot{id, {}});
  if (!order_.empty()) {
    auto it = std::lower_bound(order_.begin(), order_.end(), id,
                               [this](ReplicaIndex i, const ReplicaId& key) { return slots_[i].id < key; });
    order_.insert(it, index);
  } else if (slots_.size() > kLinearSearchMax) {
    order_.resize(slots_.size());
    for (ReplicaIndex i = 0; i < slots_.size(); ++i) order_[i] = i;
    std::sort(order_.begin(), order_.end(),
              [this](ReplicaIndex x, ReplicaIndex y) { return slots_[x].id < slots_[y].id; });
  }
  return index;
}

ReplicaIndex CausalContext::find(const ReplicaId& id) const {
  if (order_.empty()) {
    for (size_t i = 0; i < slots_.size(); ++i) {
      if (slots_[i].id == id) return static_cast<ReplicaIndex>(i);
    }
    return kNoReplica;
  }
  auto it = std::lower_bound(order_.begin(), order_.end(), id,
                             [this](ReplicaIndex index, const ReplicaId& key) { return slots_[index].id < key; });
  if (it != order_.end() && slots_[*it].id == id) return *it;
  return kNoReplica;
}

std::vector<ReplicaIndex> CausalContext::intern_all(const CausalContext& other) {
  std::vector<ReplicaIndex> to_mine(other.slots_.size());
  for (size_t i = 0; i < other.slots_.size(); ++i) to_mine[i] = intern(other.slots_[i].id);
  return to_mine;
}

CausalContext CausalContext::table_only() const {
  CausalContext copy;
  copy.slots_.reserve(slots_.size());
  for (const Slot& slot : slots_) copy.slots_.push_back(Slot{slot.id, {}});
  copy.order_ = order_;
  return copy;
}

bool CausalContext::contains(Dot dot) const {
  if (dot.replica >= slots_.size()) return false;
  const DotRanges& runs = slots_[dot.replica].runs;
  return find_run(runs, dot.counter) != runs.end();
}

bool CausalContext::insert(Dot dot) {
  assert(dot.replica < slots_.size() && dot.counter > 0);
  DotRanges& runs = slots_[dot.replica].runs;
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
  if (replica >= slots_.size() || slots_[replica].runs.empty()) return 0;
  return slots_[replica].runs.back().last;
}

const DotRanges& CausalContext::ranges(ReplicaIndex replica) const {
  return replica < slots_.size() ? slots_[replica].runs : kNoRanges;
}

void CausalContext::set_ranges(ReplicaIndex replica, DotRanges ranges) {
  assert(replica < slots_.size());
  slots_[replica].runs = std::move(ranges);
}

bool CausalContext::empty() const {
  return std::all_of(slots_.begin(), slots_.end(), [](const Slot& slot) { return slot.runs.empty(); });
}

uint64_t CausalContext::dot_count() const {
  uint64_t total = 0;
  for (const Slot& slot : slots_) {
    for (DotRange run : slot.runs) {
      const uint64_t n = run.last - run.first + 1;
      if (n == 0 || total > UINT64_MAX - n) return UINT64_MAX;
      total += n;
    }
  }
  return total;
}

bool CausalContext::merge(const CausalContext& other, std::span<const ReplicaIndex> to_mine) {
  bool changed = false;
  for (size_t i = 0; i < other.slots_.size(); ++i) {
    const DotRanges& theirs = other.slots_[i].runs;
    if (theirs.empty()) continue;
    DotRanges& mine = slots_[to_mine[i]].runs;
    if (ranges_include(mine, theirs)) continue;
    changed = true;
    if (theirs.size() == 1 && theirs[0].first == theirs[0].last) {
      // The common delta: one new dot, added in place.
      insert(Dot{to_mine[i], theirs[0].first});
      continue;
    }
    mine = union_ranges(mine, theirs);
  }
  return changed;
}

bool CausalContext::merge(const CausalContext& other) {
  const std::vector<ReplicaIndex> to_mine = intern_all(other);
  return merge(other, to_mine);
}

CausalContext CausalContext::minus(const CausalContext& other) const {
  CausalContext out = table_only();
  for (size_t i = 0; i < slots_.size(); ++i) {
    const DotRanges& mine = slots_[i].runs;
    if (mine.empty()) continue;
    const ReplicaIndex theirs = other.find(slots_[i].id);
    out.slots_[i].runs = theirs == kNoReplica ? mine : subtract_ranges(mine, other.slots_[theirs].runs);
  }
  return out;
}

bool CausalContext::includes(const CausalContext& other) const {
  for (const Slot& slot : other.slots_) {
    if (slot.runs.empty()) continue;
    const ReplicaIndex mine = find(slot.id);
    if (mine == kNoReplica || !ranges_include(slots_[mine].runs, slot.runs)) return false;
  }
  return true;
}

}  // namespace lashup::crdt
