// Peer transport of the runtime: one TCP connection per peer, mutual TLS 1.3
// (plaintext only when the configuration says tls = off), length-prefixed
// frames, and a handshake that tells each side who the other is. See
// docs/TRANSPORT.md for the connection lifecycle and the certificate rule.
//
// Threading: a Transport and its listener live on the thread that runs the
// caller's event_base (the loop thread). No function may be called from
// another thread, and the listener must not destroy the Transport from
// inside one of its callbacks.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "core/common/status.h"

struct event_base;

namespace lashup::runtime {

struct TlsMaterial {
  std::string cert_file;  // PEM certificate (and chain) naming node_name
  std::string key_file;   // PEM private key of cert_file
  std::string ca_file;    // PEM certificate(s) of the cluster CA
};

struct TransportOptions {
  std::string node_name;  // ours; sent in the handshake, must match our certificate
  uint64_t incarnation = 0;
  // The highest peer protocol version we speak (wire::kProtocolVersionMin to
  // wire::kProtocolVersion; lower only while upgrading from a build that
  // speaks no higher, see docs/OPERATIONS.md).
  uint32_t protocol_version_max = 0;  // 0: wire::kProtocolVersion
  std::string cluster_id;      // a peer with another cluster id is refused
  std::string listen_address;  // host:port, port 0 = ephemeral
  bool tls = true;             // false only when config says tls = off (plaintext, warn)
  TlsMaterial tls_material;
  uint32_t frame_bytes_max = 4u << 20;     // larger frames close the connection
  size_t send_queue_bytes_max = 8u << 20;  // per peer; beyond it send() drops and returns false
  // From the start of a connection (TCP connect or accept) to a verified
  // handshake; also bounds the lingering close of a disconnected peer.
  std::chrono::milliseconds handshake_timeout{5000};
  // An established connection on which nothing arrives for this long is closed.
  std::chrono::milliseconds idle_timeout{30000};
  // Open sockets of all kinds (handshaking, established, closing); an accept
  // or connect beyond it is refused.
  size_t connections_max = 4096;
};

// Callbacks of the transport; called on the loop thread only, never from
// inside a call into the Transport, never after ~Transport returns.
class TransportListener {
 public:
  virtual ~TransportListener() = default;
  // The handshake with `peer` is verified. `address` is the address we dialled
  // for a connection we opened, and the remote socket address (not the peer's
  // listen address) for one it opened. `protocol_version` is the version the
  // connection speaks (the highest both ends do).
  virtual void on_peer_up(const std::string& peer, uint64_t incarnation, const std::string& address,
                          uint32_t protocol_version) = 0;
  // The connection to `peer` is gone, or an attempt we made to open one for
  // that name failed. Not called for disconnect(), nor for a duplicate
  // connection closed while another one to the same peer stays up.
  virtual void on_peer_down(const std::string& peer) = 0;
  // One frame's body, in the order the peer sent them.
  virtual void on_message(const std::string& peer, std::span<const uint8_t> message) = 0;
};

// Counters since create(). See docs/TRANSPORT.md for what each one counts.
struct TransportStats {
  uint64_t connections_accepted = 0;
  uint64_t connections_opened = 0;
  uint64_t handshake_failures = 0;
  uint64_t version_mismatches = 0;  // handshake failures because no protocol version is common
  uint64_t tls_failures = 0;
  uint64_t malformed_frames = 0;
  uint64_t messages_sent = 0;
  uint64_t messages_received = 0;
  uint64_t bytes_sent = 0;
  uint64_t bytes_received = 0;
  uint64_t send_queue_drops = 0;
};

class Transport {
 public:
  // Listens on options.listen_address using `base` (the caller's event_base;
  // the caller runs the loop). Fails with a clear Status on a bad address, a
  // port in use, or bad TLS material: unreadable file, key not matching the
  // certificate, certificate not signed by the CA, certificate not naming
  // node_name. `listener` must outlive the Transport.
  static Result<std::unique_ptr<Transport>> create(event_base* base, TransportOptions options,
                                                   TransportListener& listener);
  // Closes every connection at once; no callback after it returns.
  ~Transport();
  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;

  // The actual host:port we listen on (after port 0).
  std::string bound_address() const;

  // Opens (if not open or opening) a connection to `address` for peer `name`;
  // when it is established and the handshake verified, on_peer_up(name).
  // Failure: on_peer_down(name), always from a later loop iteration. `name`
  // may be empty for a contact node known only by address: the handshake
  // tells the name and on_peer_up reports it; a failed contact attempt reports
  // nothing. Host names are resolved with a blocking getaddrinfo (use IP
  // literals on the loop thread).
  void connect(const std::string& name, const std::string& address);

  // Queues one message (a frame body) to a connected peer; false if not
  // connected, if the message exceeds frame_bytes_max, or if the peer's queue
  // is over send_queue_bytes_max (the message is dropped and counted).
  bool send(const std::string& peer, std::span<const uint8_t> message);

  // Closes the connection(s) to `peer` after flushing what is queued (bounded
  // by handshake_timeout). No on_peer_down for a disconnect we asked for; the
  // peer sees the connection close.
  void disconnect(const std::string& peer);

  // Stops accepting, closes every established connection gracefully (what is
  // queued is flushed first; the peers see the connections close) and drops
  // attempts still opening. No callback for any of these. connection_count()
  // reaches 0 once the peers have acknowledged the closes.
  void shut_down();

  bool is_connected(const std::string& peer) const;
  // Open sockets of every kind (diagnostics and tests).
  size_t connection_count() const;
  const TransportStats& stats() const;

  class Impl;

 private:
  explicit Transport(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace lashup::runtime
