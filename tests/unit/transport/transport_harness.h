// Test harness for the transport: a listener that records what it is told,
// an event loop driven until a condition holds (or a generous limit fails the
// test instead of hanging it), and a raw peer that writes chosen bytes.
#pragma once

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <openssl/ssl.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "core/wire/codec.h"
#include "runtime/transport/transport.h"

namespace lashup::runtime::testing {

struct Recorder : TransportListener {
  struct Up {
    std::string peer;
    uint64_t incarnation = 0;
    std::string address;
    uint32_t protocol_version = 0;
  };
  std::vector<Up> ups;
  std::vector<std::string> downs;
  std::vector<std::pair<std::string, wire::Bytes>> messages;
  std::function<void(const std::string&)> after_up;  // optional reaction inside on_peer_up

  void on_peer_up(const std::string& peer, uint64_t incarnation, const std::string& address,
                  uint32_t protocol_version) override {
    ups.push_back({peer, incarnation, address, protocol_version});
    if (after_up) after_up(peer);
  }
  void on_peer_down(const std::string& peer) override { downs.push_back(peer); }
  void on_message(const std::string& peer, std::span<const uint8_t> message) override {
    messages.emplace_back(peer, wire::Bytes(message.begin(), message.end()));
  }
};

// Runs the loop until `condition` holds, at most `limit`; returns the condition.
bool run_until(event_base* base, const std::function<bool()>& condition,
               std::chrono::milliseconds limit = std::chrono::seconds(10));
// Runs the loop for `duration` (event_base_loopexit).
void run_for(event_base* base, std::chrono::milliseconds duration);

// A peer that is not a Transport: connects (plaintext when ctx is null),
// writes `bytes` once connected, and records what comes back and the close.
class RawPeer {
 public:
  RawPeer(event_base* base, SSL_CTX* ctx, const std::string& address, wire::Bytes bytes);
  ~RawPeer();
  bool closed() const { return closed_; }
  bool connected() const { return connected_; }
  const wire::Bytes& received() const { return received_; }

 private:
  static void on_read(bufferevent* bev, void* self);
  static void on_event(bufferevent* bev, short what, void* self);
  bufferevent* bev_ = nullptr;
  wire::Bytes bytes_;
  wire::Bytes received_;
  bool connected_ = false;
  bool closed_ = false;
};

}  // namespace lashup::runtime::testing
