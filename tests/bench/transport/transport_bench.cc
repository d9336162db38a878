// Throughput of the peer transport through one connection on 127.0.0.1:
// the TLS 1.3 handshake (connect to verified handshake, both certificates
// checked), small frames per second, and bytes per second with large
// frames, with TLS and in plaintext. Both ends run in this one thread and
// one event loop, so the figures are what one core does for both sides.
// Prints JSON lines.
#include <event2/event.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "runtime/transport/transport.h"
#include "tests/unit/transport/test_pki.h"
#include "tests/unit/transport/transport_harness.h"

namespace lashup::runtime {
namespace {

using Clock = std::chrono::steady_clock;

struct Counter : TransportListener {
  uint64_t ups = 0;
  uint64_t downs = 0;
  uint64_t messages = 0;
  uint64_t bytes = 0;
  void on_peer_up(const std::string&, uint64_t, const std::string&, uint32_t) override { ++ups; }
  void on_peer_down(const std::string&) override { ++downs; }
  void on_message(const std::string&, std::span<const uint8_t> message) override {
    ++messages;
    bytes += message.size();
  }
};

struct Pair {
  event_base* base = event_base_new();
  Counter a_events, b_events;
  std::unique_ptr<Transport> a, b;
  ~Pair() {
    a.reset();
    b.reset();
    event_base_free(base);
  }
};

TransportOptions options(testing::TestPki& pki, const std::string& name, bool tls) {
  TransportOptions o;
  o.node_name = name;
  o.incarnation = 1;
  o.cluster_id = "bench";
  o.listen_address = "127.0.0.1:0";
  o.tls = tls;
  o.tls_material = pki.issue(name, name);
  o.frame_bytes_max = 1u << 20;
  o.send_queue_bytes_max = 64u << 20;
  return o;
}

bool make_pair(testing::TestPki& pki, bool tls, Pair& pair) {
  auto a = Transport::create(pair.base, options(pki, "a", tls), pair.a_events);
  auto b = Transport::create(pair.base, options(pki, "b", tls), pair.b_events);
  if (!a || !b) {
    std::fprintf(stderr, "transport: %s\n", (!a ? a.status() : b.status()).message().c_str());
    return false;
  }
  pair.a = std::move(*a);
  pair.b = std::move(*b);
  return true;
}

double percentile(std::vector<double> values, double p) {
  std::sort(values.begin(), values.end());
  return values[static_cast<size_t>(p * static_cast<double>(values.size() - 1))];
}

void handshakes(testing::TestPki& pki, bool tls, int rounds) {
  Pair pair;
  if (!make_pair(pki, tls, pair)) return;
  std::vector<double> us;
  for (int i = 0; i < rounds; ++i) {
    const uint64_t ups = pair.a_events.ups;
    const uint64_t downs = pair.b_events.downs;
    const auto start = Clock::now();
    pair.a->connect("b", pair.b->bound_address());
    while (pair.a_events.ups == ups) {
      event_base_loop(pair.base, EVLOOP_ONCE);
      if (Clock::now() - start > std::chrono::seconds(10)) return;
    }
    us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count());
    pair.a->disconnect("b");
    if (!testing::run_until(pair.base, [&] { return pair.b_events.downs > downs && pair.a->connection_count() == 0; })) {
      return;
    }
  }
  std::printf("{\"bench\":\"transport_handshake\",\"tls\":%s,\"rounds\":%d,\"p50_us\":%.0f,\"p90_us\":%.0f}\n",
              tls ? "true" : "false", rounds, percentile(us, 0.5), percentile(us, 0.9));
}

// Sends `count` messages of `size` bytes from a to b, keeping at most
// `window` in flight, and reports the rate at which b received them.
void stream(testing::TestPki& pki, bool tls, size_t size, uint64_t count, uint64_t window) {
  Pair pair;
  if (!make_pair(pki, tls, pair)) return;
  pair.a->connect("b", pair.b->bound_address());
  if (!testing::run_until(pair.base, [&] { return pair.a_events.ups == 1 && pair.b_events.ups == 1; })) return;
  const std::vector<uint8_t> message(size, 0x42);
  uint64_t sent = 0;
  const auto start = Clock::now();
  while (pair.b_events.messages < count) {
    while (sent < count && sent - pair.b_events.messages < window) {
      if (!pair.a->send("b", message)) {
        std::fprintf(stderr, "send refused after %llu messages\n", static_cast<unsigned long long>(sent));
        return;
      }
      ++sent;
    }
    event_base_loop(pair.base, EVLOOP_ONCE);
    if (Clock::now() - start > std::chrono::seconds(60)) return;
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf(
      "{\"bench\":\"transport_stream\",\"tls\":%s,\"message_bytes\":%zu,\"messages\":%llu,\"frames_per_s\":%.0f,"
      "\"mib_per_s\":%.1f}\n",
      tls ? "true" : "false", size, static_cast<unsigned long long>(count), static_cast<double>(count) / seconds,
      static_cast<double>(pair.b_events.bytes) / seconds / (1024.0 * 1024.0));
}

}  // namespace
}  // namespace lashup::runtime

int main() {
  lashup::runtime::testing::TestPki pki;
  for (bool tls : {true, false}) {
    lashup::runtime::handshakes(pki, tls, 200);
    lashup::runtime::stream(pki, tls, 100, 500'000, 20'000);
    lashup::runtime::stream(pki, tls, 64 * 1024, 8'192, 256);
  }
  return 0;
}
