// HyParView messages (Leitão, Pereira, Rodrigues, DSN 2007), with the
// original's deviations fixed: a random walk ends in a NEIGHBOR handshake so
// active views are symmetric, and SHUFFLE carries samples, not whole views.
#pragma once

#include <cstdint>
#include <variant>
#include <vector>

#include "core/common/status.h"
#include "core/wire/codec.h"
#include "core/wire/message.h"
#include "core/wire/peer.h"

namespace lashup::wire {

// A new node asks a contact node to join the overlay.
struct Join {
  PeerRef joiner;
  bool operator==(const Join&) const = default;
};

// accepted: the contact added the joiner to its active view and started
// random walks. Otherwise `hints` names other nodes to try (throttled).
struct JoinReply {
  bool accepted = false;
  std::vector<PeerRef> hints;
  bool operator==(const JoinReply&) const = default;
};

struct ForwardJoin {
  PeerRef joiner;
  uint32_t ttl = 0;
  bool operator==(const ForwardJoin&) const = default;
};

// A request to become active neighbours. High priority must be accepted (the
// requester has no neighbour at all, or is healing a partition).
struct Neighbor {
  PeerRef requester;
  bool high_priority = false;
  bool operator==(const Neighbor&) const = default;
};

struct NeighborReply {
  bool accepted = false;
  std::vector<PeerRef> passive_sample;  // offered on refusal
  bool operator==(const NeighborReply&) const = default;
};

// The sender removed the receiver from its active view.
struct Disconnect {
  bool operator==(const Disconnect&) const = default;
};

struct Shuffle {
  PeerRef origin;
  uint32_t ttl = 0;
  std::vector<PeerRef> sample;
  bool operator==(const Shuffle&) const = default;
};

struct ShuffleReply {
  std::vector<PeerRef> sample;
  bool operator==(const ShuffleReply&) const = default;
};

Bytes encode(const Join& m);
Bytes encode(const JoinReply& m);
Bytes encode(const ForwardJoin& m);
Bytes encode(const Neighbor& m);
Bytes encode(const NeighborReply& m);
Bytes encode(const Disconnect& m);
Bytes encode(const Shuffle& m);
Bytes encode(const ShuffleReply& m);

Result<Join> decode_join(Reader& body);
Result<JoinReply> decode_join_reply(Reader& body);
Result<ForwardJoin> decode_forward_join(Reader& body);
Result<Neighbor> decode_neighbor(Reader& body);
Result<NeighborReply> decode_neighbor_reply(Reader& body);
Result<Disconnect> decode_disconnect(Reader& body);
Result<Shuffle> decode_shuffle(Reader& body);
Result<ShuffleReply> decode_shuffle_reply(Reader& body);

}  // namespace lashup::wire
