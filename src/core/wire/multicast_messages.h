// Multicast messages (DESIGN §2 Multicast). A message travels down the
// origin's BFS tree, which every node computes from its own adjacency DB, so
// the packet carries only a small header: origin, incarnation, sequence,
// topic and hops left. Nodes announce what they received to their other
// neighbours (McAnnounce, Plumtree's lazy push) and pull what they missed
// (McPull); the answer to a pull is an McData with `repair` set.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/common/ids.h"
#include "core/common/status.h"
#include "core/wire/codec.h"
#include "core/wire/message.h"

namespace lashup::wire {

inline constexpr size_t kTopicMaxBytes = 255;
// The largest payload the wire accepts; a node's configured limit
// (multicast.max_payload_bytes) is at most this.
inline constexpr size_t kMcPayloadMaxBytes = 1u << 20;
inline constexpr size_t kMcRangesMax = 4096;
// A range names at most this many messages (a pull or an announcement of a
// longer run is split into several ranges).
inline constexpr uint64_t kMcRangeSpanMax = 65536;

struct McData {
  NodeName origin;
  Incarnation incarnation = 0;
  uint64_t sequence = 0;  // 1, 2, ... per origin incarnation
  std::string topic;
  uint32_t hops_left = 0;
  bool repair = false;  // sent in answer to a pull, not down the tree
  Bytes payload;
  bool operator==(const McData&) const = default;
};

// Sequences [first, last] of one origin incarnation.
struct McRange {
  NodeName origin;
  Incarnation incarnation = 0;
  uint64_t first = 0;
  uint64_t last = 0;
  bool operator==(const McRange&) const = default;
};

// The sender holds these messages. summary: everything it holds (sent to a
// new neighbour and periodically); otherwise messages it received since
// its last announcement to this neighbour.
struct McAnnounce {
  bool summary = false;
  std::vector<McRange> ranges;
  bool operator==(const McAnnounce&) const = default;
};

// Send me these messages (each as an McData with repair set).
struct McPull {
  std::vector<McRange> ranges;
  bool operator==(const McPull&) const = default;
};

Status validate_topic(std::string_view topic);

Bytes encode(const McData& m);
Bytes encode(const McAnnounce& m);
Bytes encode(const McPull& m);
Result<McData> decode_mc_data(Reader& body);
Result<McAnnounce> decode_mc_announce(Reader& body);
Result<McPull> decode_mc_pull(Reader& body);

}  // namespace lashup::wire
