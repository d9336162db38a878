// The record of a run, for determinism checks: every input handed to a core
// (start, message, tick, connection change) and every fault, as
// (time, node, kind, peer, detail). Two runs with the same seed must produce
// the same record; comparing hashes is enough, the list is there to find the
// first divergence when they do not. Off by default: it costs a few
// nanoseconds per event for the hash, and memory for the list.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/common/time.h"

namespace lashup::sim {

enum class TraceKind : uint8_t {
  start,
  message,
  tick,
  connection_up,
  connection_down,
  crash,
  hang,
  restart,
  pause,
  partition,
  heal,
  clog,
};

const char* to_string(TraceKind kind);

struct TraceEntry {
  Time time{0};
  uint32_t node = 0;
  TraceKind kind = TraceKind::start;
  uint32_t peer = 0;    // the other node, when there is one
  uint64_t detail = 0;  // for a message, a hash of its bytes
  bool operator==(const TraceEntry&) const = default;
};

std::string to_string(const TraceEntry& entry);

class Trace {
 public:
  void enable(bool hash, bool list) {
    hash_enabled_ = hash || list;
    list_enabled_ = list;
  }
  bool enabled() const { return hash_enabled_; }

  void record(const TraceEntry& entry) {
    if (!hash_enabled_) return;
    mix(static_cast<uint64_t>(entry.time.count()));
    mix((static_cast<uint64_t>(entry.node) << 8) | static_cast<uint64_t>(entry.kind));
    mix(entry.peer);
    mix(entry.detail);
    if (list_enabled_) entries_.push_back(entry);
  }

  uint64_t hash() const { return hash_; }
  const std::vector<TraceEntry>& entries() const { return entries_; }

  // FNV-1a over a message: only computed when tracing is on.
  static uint64_t hash_bytes(const uint8_t* data, size_t size) {
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < size; ++i) h = (h ^ data[i]) * 0x100000001b3ULL;
    return h;
  }

 private:
  // Order-sensitive: a permutation of the same entries yields another hash.
  void mix(uint64_t value) {
    uint64_t z = (hash_ ^ value) + 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    hash_ = z ^ (z >> 31);
  }

  bool hash_enabled_ = false;
  bool list_enabled_ = false;
  uint64_t hash_ = 0;
  std::vector<TraceEntry> entries_;
};

}  // namespace lashup::sim
