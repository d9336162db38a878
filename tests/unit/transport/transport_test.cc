// The transport over real sockets on 127.0.0.1, every node in one event loop.
// Each test runs the loop until the expected outcome, with a generous limit
// that fails the test rather than hanging it.
#include "runtime/transport/transport.h"

#include <event2/event.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <map>
#include <memory>

#include "core/wire/frame.h"
#include "core/wire/message.h"
#include "runtime/transport/handshake.h"
#include "runtime/transport/tls.h"
#include "tests/unit/transport/test_pki.h"
#include "tests/unit/transport/transport_harness.h"

namespace lashup::runtime {
namespace {

using namespace std::chrono_literals;
using testing::RawPeer;
using testing::Recorder;
using testing::run_for;
using testing::run_until;

wire::Bytes bytes_of(const std::string& text) { return wire::Bytes(text.begin(), text.end()); }

struct Node {
  Recorder recorder;
  std::unique_ptr<Transport> transport;
  Transport* operator->() { return transport.get(); }
  std::string address() const { return transport->bound_address(); }
};

class TransportTest : public ::testing::Test {
 protected:
  TransportTest() : base_(event_base_new()) {}
  ~TransportTest() override {
    nodes_.clear();
    event_base_free(base_);
  }

  TransportOptions options_for(const std::string& name) {
    TransportOptions options;
    options.node_name = name;
    options.incarnation = 100 + nodes_.size();
    options.cluster_id = "test-cluster";
    options.listen_address = "127.0.0.1:0";
    options.tls_material = pki_.issue(name, name);
    return options;
  }

  Node& start(TransportOptions options) {
    auto node = std::make_unique<Node>();
    Result<std::unique_ptr<Transport>> created = Transport::create(base_, std::move(options), node->recorder);
    if (!created) ADD_FAILURE() << created.status().message();
    node->transport = std::move(created).value();
    nodes_.push_back(std::move(node));
    return *nodes_.back();
  }
  Node& start(const std::string& name) { return start(options_for(name)); }

  bool run_until(const std::function<bool()>& condition) { return testing::run_until(base_, condition); }
  void run_for(std::chrono::milliseconds duration) { testing::run_for(base_, duration); }

  // Connects a to b and waits until both are up.
  void connect_pair(Node& a, const std::string& b_name, Node& b) {
    a->connect(b_name, b.address());
    ASSERT_TRUE(run_until([&] { return a.recorder.ups.size() == 1 && b.recorder.ups.size() == 1; }));
  }

  testing::TestPki pki_;
  event_base* base_;
  std::vector<std::unique_ptr<Node>> nodes_;
};

TEST_F(TransportTest, exchanges_messages_both_ways_over_tls) {
  Node& a = start("a");
  Node& b = start("b");
  connect_pair(a, "b", b);
  EXPECT_EQ(a.recorder.ups[0].peer, "b");
  EXPECT_EQ(a.recorder.ups[0].incarnation, 101u);
  EXPECT_EQ(a.recorder.ups[0].address, b.address());
  EXPECT_EQ(b.recorder.ups[0].peer, "a");
  EXPECT_EQ(b.recorder.ups[0].incarnation, 100u);

  const wire::Bytes large(1u << 20, 0x5a);  // arrives in many reads
  EXPECT_TRUE(a->send("b", bytes_of("hello b")));
  EXPECT_TRUE(a->send("b", large));
  EXPECT_TRUE(b->send("a", bytes_of("hello a")));
  ASSERT_TRUE(run_until([&] { return b.recorder.messages.size() == 2 && a.recorder.messages.size() == 1; }));
  EXPECT_EQ(b.recorder.messages[0], std::make_pair(std::string("a"), bytes_of("hello b")));
  EXPECT_EQ(b.recorder.messages[1], std::make_pair(std::string("a"), large));
  EXPECT_EQ(a.recorder.messages[0], std::make_pair(std::string("b"), bytes_of("hello a")));
  EXPECT_EQ(a->stats().messages_sent, 2u);
  EXPECT_EQ(b->stats().messages_received, 2u);
  EXPECT_EQ(a->stats().connections_opened, 1u);
  EXPECT_EQ(b->stats().connections_accepted, 1u);
  EXPECT_GT(b->stats().bytes_received, large.size());
  EXPECT_TRUE(a.recorder.downs.empty());
  EXPECT_TRUE(b.recorder.downs.empty());
}

TEST_F(TransportTest, exchanges_messages_in_plaintext_when_tls_is_off) {
  TransportOptions a_options = options_for("a");
  TransportOptions b_options = options_for("b");
  a_options.tls = b_options.tls = false;
  Node& a = start(a_options);
  Node& b = start(b_options);
  connect_pair(a, "b", b);
  EXPECT_TRUE(b->send("a", bytes_of("plain")));
  ASSERT_TRUE(run_until([&] { return a.recorder.messages.size() == 1; }));
  EXPECT_EQ(a.recorder.messages[0].second, bytes_of("plain"));
}

// The frames of a loop turn are written together at its end while nothing
// is queued; once the socket takes no more, the rest queues behind the
// record OpenSSL could not finish. Every message must arrive whole and in
// order, with TLS and without.
class TransportBurstTest : public TransportTest, public ::testing::WithParamInterface<bool> {};

TEST_P(TransportBurstTest, a_burst_that_fills_the_socket_arrives_whole_and_in_order) {
  TransportOptions a_options = options_for("a");
  TransportOptions b_options = options_for("b");
  a_options.tls = b_options.tls = GetParam();
  a_options.send_queue_bytes_max = 16u << 20;  // more than the kernel takes at once
  Node& a = start(a_options);
  Node& b = start(b_options);
  connect_pair(a, "b", b);
  // The loop does not run while we send, so the frames gather up to the
  // queue's bound; written at the end of the loop turn, they are more than
  // the kernel's socket buffers take, and SSL_write stops inside a record.
  std::vector<wire::Bytes> sent;
  for (uint32_t i = 0; i < 100000; ++i) {
    wire::Bytes message(1000 + i % 3000, static_cast<uint8_t>(i));
    for (size_t k = 0; k < 4; ++k) message[k] = static_cast<uint8_t>(i >> (8 * k));
    if (!a->send("b", message)) break;
    sent.push_back(std::move(message));
  }
  ASSERT_LT(sent.size(), 100000u);  // the bound was reached
  EXPECT_EQ(a->stats().send_queue_drops, 1u);
  ASSERT_TRUE(run_until([&] { return b.recorder.messages.size() >= sent.size(); }));
  ASSERT_EQ(b.recorder.messages.size(), sent.size());
  for (size_t i = 0; i < sent.size(); ++i) {
    ASSERT_EQ(b.recorder.messages[i].second, sent[i]) << "message " << i;
  }
  EXPECT_TRUE(a.recorder.downs.empty());
  EXPECT_TRUE(b.recorder.downs.empty());
}

INSTANTIATE_TEST_SUITE_P(TlsAndPlaintext, TransportBurstTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) { return info.param ? "tls" : "plaintext"; });

TEST_F(TransportTest, contact_connect_with_empty_name_learns_the_name) {
  Node& a = start("a");
  Node& b = start("b");
  connect_pair(a, "", b);
  EXPECT_EQ(a.recorder.ups[0].peer, "b");
  EXPECT_TRUE(a->send("b", bytes_of("found you")));
  ASSERT_TRUE(run_until([&] { return b.recorder.messages.size() == 1; }));
}

TEST_F(TransportTest, refuses_a_peer_of_another_cluster) {
  Node& a = start("a");
  TransportOptions b_options = options_for("b");
  b_options.cluster_id = "other-cluster";
  Node& b = start(b_options);
  a->connect("b", b.address());
  ASSERT_TRUE(run_until([&] { return a.recorder.downs.size() == 1 && b->stats().handshake_failures == 1; }));
  EXPECT_EQ(a.recorder.downs[0], "b");
  EXPECT_TRUE(a.recorder.ups.empty());
  EXPECT_TRUE(b.recorder.ups.empty());
  EXPECT_TRUE(b.recorder.downs.empty());  // b did not open the connection
  EXPECT_EQ(b->connection_count(), 0u);
}

TEST_F(TransportTest, both_ends_speak_the_highest_version_both_speak) {
  Node& a = start("a");
  Node& b = start("b");
  connect_pair(a, "b", b);
  EXPECT_EQ(a.recorder.ups[0].protocol_version, wire::kProtocolVersion);
  EXPECT_EQ(b.recorder.ups[0].protocol_version, wire::kProtocolVersion);
  // A node pinned to version 1 (protocol.version = 1), as either end.
  TransportOptions c_options = options_for("c");
  c_options.protocol_version_max = 1;
  Node& c = start(c_options);
  c->connect("a", a.address());
  ASSERT_TRUE(run_until([&] { return c.recorder.ups.size() == 1 && a.recorder.ups.size() == 2; }));
  EXPECT_EQ(c.recorder.ups[0].protocol_version, 1u);
  EXPECT_EQ(a.recorder.ups[1].protocol_version, 1u);
  b->connect("c", c.address());
  ASSERT_TRUE(run_until([&] { return b.recorder.ups.size() == 2 && c.recorder.ups.size() == 2; }));
  EXPECT_EQ(b.recorder.ups[1].protocol_version, 1u);
  EXPECT_EQ(c.recorder.ups[1].protocol_version, 1u);
  EXPECT_EQ(b->stats().version_mismatches, 0u);
}

// A build that speaks only version 1 sends the version-1 handshake and
// refuses any other form: the answer must be exactly that form.
TEST_F(TransportTest, answers_a_version_1_initiator_with_a_version_1_handshake) {
  Node& b = start("b");
  Result<SslCtxPtr> a_tls = make_tls_context(pki_.issue("a", "a"), "a");
  ASSERT_TRUE(a_tls.is_ok()) << a_tls.status().message();
  const Handshake old{1, "test-cluster", "a", 7};
  RawPeer old_build(base_, a_tls->get(), b.address(), wire::encode_frame(encode(old)));
  ASSERT_TRUE(run_until([&] { return b.recorder.ups.size() == 1; }));
  EXPECT_EQ(b.recorder.ups[0].protocol_version, 1u);
  ASSERT_TRUE(run_until([&] { return old_build.received().size() >= wire::kFrameHeaderBytes; }));
  wire::FrameAssembler frames;
  ASSERT_TRUE(frames.feed(old_build.received()).is_ok());
  std::optional<wire::Bytes> answer = frames.next();
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(*answer, encode(Handshake{1, "test-cluster", "b", 100}));
}

TEST_F(TransportTest, refuses_a_peer_without_a_version_in_common_and_counts_it) {
  Node& b = start("b");
  Result<SslCtxPtr> a_tls = make_tls_context(pki_.issue("a", "a"), "a");
  ASSERT_TRUE(a_tls.is_ok()) << a_tls.status().message();
  const Handshake future{wire::kProtocolVersion + 2, "test-cluster", "a", 7, wire::kProtocolVersion + 1};
  RawPeer newer(base_, a_tls->get(), b.address(), wire::encode_frame(encode(future)));
  ASSERT_TRUE(run_until([&] { return newer.closed() && b->stats().version_mismatches == 1; }));
  EXPECT_TRUE(newer.received().empty());
  EXPECT_TRUE(b.recorder.ups.empty());
  EXPECT_EQ(b->stats().handshake_failures, 1u);
  EXPECT_EQ(b->stats().malformed_frames, 0u);
}

TEST_F(TransportTest, refuses_a_peer_whose_certificate_names_another_node) {
  Node& b = start("b");
  // A peer claiming to be "a" with a valid certificate of the cluster CA for "x".
  const TlsMaterial x_material = pki_.issue("x", "x");
  Result<SslCtxPtr> x_tls = make_tls_context(x_material, "x");
  ASSERT_TRUE(x_tls.is_ok()) << x_tls.status().message();
  const Handshake claim{wire::kProtocolVersion, "test-cluster", "a", 1};
  RawPeer impostor(base_, x_tls->get(), b.address(), wire::encode_frame(encode(claim)));
  ASSERT_TRUE(run_until([&] { return impostor.closed() && b->stats().handshake_failures == 1; }));
  EXPECT_TRUE(impostor.connected());
  EXPECT_TRUE(impostor.received().empty());  // b never answered the handshake
  EXPECT_TRUE(b.recorder.ups.empty());
  EXPECT_EQ(b->stats().tls_failures, 0u);  // TLS was fine; the name was not
}

TEST_F(TransportTest, does_not_talk_to_a_listener_whose_certificate_names_another_node) {
  Node& a = start("a");
  Node& x = start("x");
  a->connect("b", x.address());  // a believes "b" listens there
  ASSERT_TRUE(run_until([&] { return a.recorder.downs.size() == 1; }));
  EXPECT_EQ(a.recorder.downs[0], "b");
  EXPECT_EQ(a->stats().handshake_failures, 1u);
  EXPECT_TRUE(x.recorder.ups.empty());
}

TEST_F(TransportTest, refuses_a_certificate_from_another_ca) {
  Node& a = start("a");
  TransportOptions b_options = options_for("b");
  b_options.tls_material = pki_.issue_by_other_ca("b-other", "b");
  Node& b = start(b_options);
  a->connect("b", b.address());
  ASSERT_TRUE(run_until(
      [&] { return a.recorder.downs.size() == 1 && a->stats().tls_failures == 1 && b->stats().tls_failures == 1; }));
  EXPECT_TRUE(a.recorder.ups.empty());
  EXPECT_TRUE(b.recorder.ups.empty());
}

TEST_F(TransportTest, refuses_a_plaintext_peer_on_a_tls_listener) {
  TransportOptions a_options = options_for("a");
  a_options.tls = false;
  Node& a = start(a_options);
  Node& b = start("b");
  a->connect("b", b.address());
  ASSERT_TRUE(run_until([&] { return a.recorder.downs.size() == 1 && b->stats().tls_failures == 1; }));
  EXPECT_TRUE(a.recorder.ups.empty());
  EXPECT_TRUE(b.recorder.ups.empty());
  EXPECT_EQ(b->stats().handshake_failures, 1u);
}

TEST_F(TransportTest, closes_a_connection_on_an_oversized_frame_and_counts_it) {
  Node& a = start("a");
  TransportOptions b_options = options_for("b");
  b_options.frame_bytes_max = 1024;
  Node& b = start(b_options);
  connect_pair(a, "b", b);
  EXPECT_TRUE(a->send("b", wire::Bytes(2000, 1)));
  ASSERT_TRUE(run_until([&] { return a.recorder.downs.size() == 1 && b.recorder.downs.size() == 1; }));
  EXPECT_EQ(b->stats().malformed_frames, 1u);
  EXPECT_TRUE(b.recorder.messages.empty());
  EXPECT_EQ(b->connection_count(), 0u);
}

TEST_F(TransportTest, closes_a_connection_whose_first_frame_is_not_a_handshake) {
  TransportOptions b_options = options_for("b");
  b_options.tls = false;
  Node& b = start(b_options);
  const wire::Bytes garbage = {0x02, 0x01, 0x00};  // a ping where the handshake belongs
  RawPeer peer(base_, nullptr, b.address(), wire::encode_frame(garbage));
  ASSERT_TRUE(run_until([&] { return peer.closed(); }));
  EXPECT_EQ(b->stats().malformed_frames, 1u);
  EXPECT_EQ(b->stats().handshake_failures, 1u);
  EXPECT_TRUE(b.recorder.ups.empty());
}

TEST_F(TransportTest, closes_a_connection_that_does_not_finish_its_handshake_in_time) {
  TransportOptions b_options = options_for("b");
  b_options.handshake_timeout = 100ms;
  Node& b = start(b_options);
  RawPeer silent(base_, nullptr, b.address(), {});
  ASSERT_TRUE(run_until([&] { return silent.closed(); }));
  EXPECT_EQ(b->stats().handshake_failures, 1u);
  EXPECT_EQ(b->connection_count(), 0u);
}

TEST_F(TransportTest, simultaneous_connect_keeps_one_connection_and_reports_each_peer_up_once) {
  Node& a = start("a");
  Node& b = start("b");
  a->connect("b", b.address());
  b->connect("a", a.address());
  ASSERT_TRUE(run_until([&] {
    return a.recorder.ups.size() == 1 && b.recorder.ups.size() == 1 && a->connection_count() == 1 &&
           b->connection_count() == 1;
  }));
  run_for(100ms);  // nothing else happens
  EXPECT_EQ(a.recorder.ups.size(), 1u);
  EXPECT_EQ(b.recorder.ups.size(), 1u);
  EXPECT_TRUE(a.recorder.downs.empty());
  EXPECT_TRUE(b.recorder.downs.empty());
  EXPECT_EQ(a->connection_count(), 1u);
  EXPECT_EQ(b->connection_count(), 1u);
  EXPECT_TRUE(a->send("b", bytes_of("to b")));
  EXPECT_TRUE(b->send("a", bytes_of("to a")));
  ASSERT_TRUE(run_until([&] { return a.recorder.messages.size() == 1 && b.recorder.messages.size() == 1; }));
}

TEST_F(TransportTest, disconnect_reports_nothing_locally_and_down_on_the_other_side) {
  Node& a = start("a");
  Node& b = start("b");
  connect_pair(a, "b", b);
  // What was queued before the disconnect is still delivered.
  EXPECT_TRUE(a->send("b", bytes_of("goodbye")));
  a->disconnect("b");
  EXPECT_FALSE(a->is_connected("b"));
  EXPECT_FALSE(a->send("b", bytes_of("too late")));
  ASSERT_TRUE(run_until([&] { return b.recorder.downs.size() == 1 && a->connection_count() == 0; }));
  ASSERT_EQ(b.recorder.messages.size(), 1u);
  EXPECT_EQ(b.recorder.messages[0].second, bytes_of("goodbye"));
  run_for(50ms);
  EXPECT_TRUE(a.recorder.downs.empty());
}

TEST_F(TransportTest, disconnect_cancels_an_attempt_still_opening) {
  Node& a = start("a");
  Node& b = start("b");
  a->connect("b", b.address());
  a->disconnect("b");
  ASSERT_TRUE(run_until([&] { return a->connection_count() == 0 && b->connection_count() == 0; }));
  run_for(50ms);
  EXPECT_TRUE(a.recorder.ups.empty());
  EXPECT_TRUE(a.recorder.downs.empty());
}

TEST_F(TransportTest, a_restarted_peer_replaces_its_old_connection) {
  Node& a = start("a");
  TransportOptions b_options = options_for("b");
  Node& b_old = start(b_options);
  connect_pair(a, "b", b_old);
  // b comes back with a higher incarnation on another port while a still
  // holds the old connection (b_old has not closed it).
  b_options.incarnation += 1;
  Node& b_new = start(b_options);
  b_new->connect("a", a.address());
  ASSERT_TRUE(run_until([&] { return a.recorder.ups.size() == 2 && b_new.recorder.ups.size() == 1; }));
  EXPECT_EQ(a.recorder.downs, std::vector<std::string>{"b"});
  EXPECT_EQ(a.recorder.ups[1].incarnation, b_options.incarnation);
  EXPECT_TRUE(a->send("b", bytes_of("new")));
  ASSERT_TRUE(run_until([&] { return b_new.recorder.messages.size() == 1; }));
  EXPECT_TRUE(b_old.recorder.messages.empty());
}

TEST_F(TransportTest, a_destroyed_transport_is_reported_down_by_the_survivor) {
  Node& a = start("a");
  Node& b = start("b");
  connect_pair(a, "b", b);
  b.transport.reset();
  ASSERT_TRUE(run_until([&] { return a.recorder.downs.size() == 1; }));
  EXPECT_EQ(a.recorder.downs[0], "b");
  EXPECT_TRUE(b.recorder.downs.empty());  // no callback after destruction
}

TEST_F(TransportTest, connecting_to_a_closed_port_reports_the_peer_down) {
  Node& a = start("a");
  // A port that was free a moment ago.
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  socklen_t length = sizeof address;
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  close(fd);
  a->connect("b", "127.0.0.1:" + std::to_string(ntohs(address.sin_port)));
  ASSERT_TRUE(run_until([&] { return a.recorder.downs.size() == 1; }));
  EXPECT_EQ(a.recorder.downs[0], "b");
  EXPECT_EQ(a->stats().handshake_failures, 0u);
  EXPECT_EQ(a->connection_count(), 0u);
}

TEST_F(TransportTest, an_unresolvable_address_reports_the_peer_down_from_the_loop) {
  Node& a = start("a");
  a->connect("b", "no port");
  EXPECT_TRUE(a.recorder.downs.empty());  // never from inside the call
  ASSERT_TRUE(run_until([&] { return a.recorder.downs.size() == 1; }));
}

TEST_F(TransportTest, send_returns_false_and_counts_when_the_peer_queue_is_over_its_bound) {
  TransportOptions a_options = options_for("a");
  a_options.send_queue_bytes_max = 64u << 10;
  Node& a = start(a_options);
  Node& b = start("b");
  connect_pair(a, "b", b);
  // The loop does not run while we send, so nothing drains beyond what the
  // kernel socket buffers take; the bound is met long before 256 MiB.
  const wire::Bytes chunk(16u << 10, 7);
  size_t accepted = 0;
  while (accepted < 16384 && a->send("b", chunk)) ++accepted;
  EXPECT_GT(accepted, 0u);
  EXPECT_LT(accepted, 16384u);
  EXPECT_EQ(a->stats().send_queue_drops, 1u);
  EXPECT_EQ(a->stats().messages_sent, accepted);
  // Once the loop drains the queue, sending works again.
  ASSERT_TRUE(run_until([&] { return b.recorder.messages.size() == accepted; }));
  EXPECT_TRUE(a->send("b", chunk));
}

TEST_F(TransportTest, an_idle_connection_is_closed_and_reported_down) {
  TransportOptions a_options = options_for("a");
  a_options.idle_timeout = 150ms;
  Node& a = start(a_options);
  Node& b = start("b");
  connect_pair(a, "b", b);
  ASSERT_TRUE(run_until([&] { return a.recorder.downs.size() == 1 && b.recorder.downs.size() == 1; }));
}

TEST_F(TransportTest, a_second_connect_while_opening_or_open_is_a_no_op) {
  Node& a = start("a");
  Node& b = start("b");
  a->connect("b", b.address());
  a->connect("b", b.address());
  ASSERT_TRUE(run_until([&] { return a.recorder.ups.size() == 1 && b.recorder.ups.size() == 1; }));
  a->connect("b", b.address());
  run_for(50ms);
  EXPECT_EQ(a->stats().connections_opened, 1u);
  EXPECT_EQ(a->connection_count(), 1u);
}

// --- create() --------------------------------------------------------------------

class TransportCreateTest : public TransportTest {
 protected:
  Status create(TransportOptions options) {
    Recorder recorder;
    Result<std::unique_ptr<Transport>> created = Transport::create(base_, std::move(options), recorder);
    return created ? Status::ok() : created.status();
  }
};

TEST_F(TransportCreateTest, fails_on_a_port_in_use) {
  Node& a = start("a");
  TransportOptions options = options_for("b");
  options.listen_address = a.address();
  const Status s = create(options);
  EXPECT_EQ(s.code(), StatusCode::io);
  EXPECT_NE(s.message().find("cannot listen"), std::string::npos) << s.message();
}

TEST_F(TransportCreateTest, fails_on_a_bad_address) {
  TransportOptions options = options_for("a");
  options.listen_address = "127.0.0.1:99999";
  EXPECT_EQ(create(options).code(), StatusCode::invalid);
  options.listen_address = "127.0.0.1";
  EXPECT_EQ(create(options).code(), StatusCode::invalid);
}

TEST_F(TransportCreateTest, fails_on_an_unreadable_certificate) {
  TransportOptions options = options_for("a");
  options.tls_material.cert_file = (pki_.directory() / "missing.pem").string();
  const Status s = create(options);
  EXPECT_EQ(s.code(), StatusCode::io);
  EXPECT_NE(s.message().find("missing.pem"), std::string::npos) << s.message();
}

TEST_F(TransportCreateTest, fails_on_a_key_that_does_not_match_the_certificate) {
  TransportOptions options = options_for("a");
  options.tls_material.key_file = pki_.issue("other", "a").key_file;
  const Status s = create(options);
  EXPECT_NE(s.message().find("does not match"), std::string::npos) << s.message();
}

TEST_F(TransportCreateTest, fails_on_a_certificate_not_signed_by_the_ca) {
  TransportOptions options = options_for("a");
  const TlsMaterial foreign = pki_.issue_by_other_ca("a-foreign", "a");
  options.tls_material.cert_file = foreign.cert_file;
  options.tls_material.key_file = foreign.key_file;
  const Status s = create(options);
  EXPECT_NE(s.message().find("not signed by the CA"), std::string::npos) << s.message();
}

TEST_F(TransportCreateTest, fails_on_a_certificate_not_naming_the_node) {
  TransportOptions options = options_for("a");
  options.tls_material = pki_.issue("a-as-x", "x", "a");  // SAN x; the CN a does not count
  const Status s = create(options);
  EXPECT_NE(s.message().find("does not name node 'a'"), std::string::npos) << s.message();
}

TEST_F(TransportCreateTest, accepts_the_common_name_of_a_certificate_without_subject_alt_names) {
  TransportOptions options = options_for("a");
  options.tls_material = pki_.issue("a-cn", "", "a");
  EXPECT_TRUE(create(options).is_ok());
}

}  // namespace
}  // namespace lashup::runtime
