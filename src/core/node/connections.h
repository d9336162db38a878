// The connections of one node, as its protocol cores see them. Several
// protocols share one connection per peer: the overlay pins the connections
// of its active view; the detector, shuffle replies and partition probes use
// transient ones, closed after they have been idle for a while (the
// original left transient Erlang connections open for 25-100 s).
//
// Messages sent while a connection is being opened are buffered here
// (bounded) and flushed when it comes up, so hosts only ever send on open
// connections; they are dropped if it fails.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/common/actions.h"
#include "core/common/time.h"
#include "core/wire/peer.h"

namespace lashup {

struct ConnectionStats {
  uint64_t connects_requested = 0;
  uint64_t messages_dropped = 0;  // buffered for a connection that failed, or over the buffer limit
  uint64_t idle_closed = 0;
};

class Connections {
 public:
  // Messages buffered per peer while its connection opens.
  static constexpr size_t kPendingMessagesMax = 256;

  explicit Connections(Duration idle_timeout) : idle_timeout_(idle_timeout) {}

  // Sends `message` to `peer`, opening a connection to `address` first if
  // there is none. `address` may be empty when the peer is connected.
  void send(Time now, const NodeName& peer, const std::string& address, Bytes message, Actions& out);
  void send(Time now, const wire::PeerRef& peer, Bytes message, Actions& out) {
    send(now, peer.name, peer.address, std::move(message), out);
  }

  // Opens a connection (if needed) and keeps it at least until now + keep.
  void open(Time now, const NodeName& peer, const std::string& address, Actions& out);

  // A pinned connection is never closed for idleness (active view).
  void pin(const NodeName& peer, bool pinned);

  void close(const NodeName& peer, Actions& out);

  // Host reports. `version` is the protocol version the connection speaks.
  void on_up(Time now, const NodeName& peer, uint32_t version, Actions& out);
  void on_down(const NodeName& peer);

  // Closes idle, unpinned connections.
  void tick(Time now, Actions& out);
  std::optional<Time> next_deadline() const;

  bool is_up(const NodeName& peer) const;
  // The protocol version of the connection to `peer`; 0 if it is not up.
  uint32_t version(const NodeName& peer) const;
  bool is_open_or_opening(const NodeName& peer) const { return peers_.count(peer) > 0; }
  size_t size() const { return peers_.size(); }
  const ConnectionStats& stats() const { return stats_; }

 private:
  struct Peer {
    std::string address;
    bool up = false;
    bool pinned = false;
    uint32_t version = 0;
    Time last_used{0};
    std::vector<Bytes> pending;
  };

  Duration idle_timeout_;
  std::unordered_map<NodeName, Peer> peers_;
  ConnectionStats stats_;
};

}  // namespace lashup
