// A node as named in messages: its name and the address to reach it. Every
// message that makes a receiver connect to a third node carries both, since
// the receiver may not know that node yet.
#pragma once

#include <string>
#include <vector>

#include "core/common/ids.h"
#include "core/wire/codec.h"

namespace lashup::wire {

inline constexpr size_t kAddressMaxBytes = 300;
// Bound on any list of nodes in one message (views, samples, hints).
inline constexpr size_t kPeerListMax = 4096;

struct PeerRef {
  NodeName name;
  std::string address;
  bool operator==(const PeerRef&) const = default;
};

inline void write_peer(Writer& w, const PeerRef& peer) {
  w.string(peer.name);
  w.string(peer.address);
}

inline bool read_peer(Reader& r, PeerRef& peer) {
  if (!r.string(peer.name, kNodeNameMaxBytes) || !r.string(peer.address, kAddressMaxBytes)) return false;
  if (Status s = validate_node_name(peer.name); !s) return r.fail(s.message());
  return true;
}

inline void write_peers(Writer& w, const std::vector<PeerRef>& peers) {
  w.varint(peers.size());
  for (const auto& peer : peers) write_peer(w, peer);
}

inline bool read_peers(Reader& r, std::vector<PeerRef>& peers, size_t max = kPeerListMax) {
  uint64_t n = 0;
  // A peer is at least 3 bytes: two lengths and one name byte.
  if (!r.count(n, max, 3, "peer list")) return false;
  peers.resize(static_cast<size_t>(n));
  for (auto& peer : peers) {
    if (!read_peer(r, peer)) return false;
  }
  return true;
}

inline void write_names(Writer& w, const std::vector<NodeName>& names) {
  w.varint(names.size());
  for (const auto& name : names) w.string(name);
}

inline bool read_names(Reader& r, std::vector<NodeName>& names, size_t max = kPeerListMax) {
  uint64_t n = 0;
  if (!r.count(n, max, 2, "name list")) return false;
  names.resize(static_cast<size_t>(n));
  for (auto& name : names) {
    if (!r.string(name, kNodeNameMaxBytes)) return false;
    if (Status s = validate_node_name(name); !s) return r.fail(s.message());
  }
  return true;
}

}  // namespace lashup::wire
