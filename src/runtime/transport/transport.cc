#include "runtime/transport/transport.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <unordered_map>
#include <vector>

#include "core/wire/frame.h"
#include "core/wire/message.h"
#include "runtime/transport/address.h"
#include "runtime/transport/handshake.h"
#include "runtime/transport/tls.h"

namespace lashup::runtime {
namespace {

enum class Phase {
  opening,      // TCP connect and TLS handshake (ours or theirs) in progress
  handshaking,  // waiting for the peer's handshake frame
  established,  // the current connection of its peer
  superseded,   // a duplicate of an established connection; its peer closes it
  closing,      // flushing our output, then waiting for the peer's EOF
};

timeval to_timeval(std::chrono::milliseconds duration) {
  const auto ms = duration.count() < 1 ? 1 : duration.count();
  return timeval{static_cast<time_t>(ms / 1000), static_cast<suseconds_t>((ms % 1000) * 1000)};
}

void set_no_delay(evutil_socket_t fd) {
  if (fd < 0) return;
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

}  // namespace

struct Connection {
  Transport::Impl* owner = nullptr;
  bufferevent* bev = nullptr;
  event* deadline = nullptr;  // handshake deadline, then lingering-close deadline
  bool outbound = false;
  bool transport_connected = false;  // TCP connected and, with TLS, the TLS handshake done
  Phase phase = Phase::opening;
  std::string expected_name;  // outbound: the name we dialled for ("" = contact node)
  std::string address;        // outbound: the address dialled; inbound: the remote socket address
  std::string peer_name;      // from the verified handshake
  uint64_t peer_incarnation = 0;
  uint32_t protocol_version = 0;  // negotiated in the handshake
  uint64_t serial = 0;  // creation order: among duplicates from one initiator the newer wins
  wire::FrameAssembler frames;
  // Frames sent during the current loop turn, written together at its end
  // (Impl::flush_unsent) straight to the socket when nothing is queued.
  wire::Bytes unsent;

  explicit Connection(uint32_t frame_bytes_max) : frames(frame_bytes_max) {}
  bool dead() const { return bev == nullptr; }
};

class Transport::Impl {
 public:
  Impl(event_base* base, TransportOptions options, TransportListener& listener)
      : base_(base), options_(std::move(options)), listener_(listener) {}
  ~Impl();

  Status start();
  void connect(const std::string& name, const std::string& address);
  bool send(const std::string& peer, std::span<const uint8_t> message);
  void disconnect(const std::string& peer);
  void shut_down();
  bool is_connected(const std::string& peer) const { return current_.count(peer) != 0; }
  size_t connection_count() const { return connections_.size(); }
  const std::string& bound_address() const { return bound_address_; }
  const TransportStats& stats() const { return stats_; }

 private:
  static void on_accept(evconnlistener*, evutil_socket_t fd, sockaddr* address, int length, void* self);
  static void on_read(bufferevent*, void* connection);
  static void on_write(bufferevent*, void* connection);
  static void on_event(bufferevent*, short what, void* connection);
  static void on_deadline(evutil_socket_t, short, void* connection);
  static void on_reap(evutil_socket_t, short, void* self);
  static void on_flush(evutil_socket_t, short, void* self);

  // A bufferevent for `fd` (-1: connect later), with TLS unless it is off;
  // nullptr if one cannot be made.
  bufferevent* new_bufferevent(evutil_socket_t fd, bool outbound);
  Connection* add_connection(bufferevent* bev, bool outbound, std::string address);
  void handle_read(Connection* c);
  void handle_event(Connection* c, short what);
  void handle_deadline(Connection* c);
  void handle_handshake(Connection* c, wire::ByteView frame);
  VersionRange our_versions() const { return VersionRange{wire::kProtocolVersionMin, options_.protocol_version_max}; }
  // Our handshake, announcing `highest` as our highest version.
  Handshake our_handshake(uint32_t highest) const {
    return Handshake{highest, options_.cluster_id, options_.node_name, options_.incarnation,
                     highest >= 2 ? wire::kProtocolVersionMin : 0};
  }
  Status verify_peer_certificate(Connection* c, const std::string& name) const;
  bool wins_over(const Connection* candidate, const Connection* existing) const;
  void establish(Connection* c);
  void write_frame(Connection* c, wire::ByteView message);
  void flush_unsent();
  void flush_unsent(Connection* c);
  size_t write_now(Connection* c, wire::ByteView bytes);
  // Connected (with TLS: handshake done) and nothing in the bufferevent's queue.
  static bool writable_now(Connection* c) {
    return c->transport_connected && evbuffer_get_length(bufferevent_get_output(c->bev)) == 0;
  }
  size_t queued_bytes(Connection* c) const {
    return evbuffer_get_length(bufferevent_get_output(c->bev)) + c->unsent.size();
  }
  // A connection that is no longer the current one of a peer ends in one of
  // these. fail() counts nothing; the callers count.
  void fail(Connection* c, bool report_down);
  void begin_graceful_close(Connection* c);
  void destroy(Connection* c);  // frees the sockets now, the object on the next loop iteration
  void report_down_later(const std::string& name);
  void schedule_reap();

  event_base* base_;
  TransportOptions options_;
  TransportListener& listener_;
  SslCtxPtr tls_;
  evconnlistener* acceptor_ = nullptr;
  event* reaper_ = nullptr;
  event* flusher_ = nullptr;
  std::vector<Connection*> to_flush_;  // connections with unsent frames
  std::string bound_address_;
  TransportStats stats_;
  uint64_t next_serial_ = 0;
  std::unordered_map<Connection*, std::unique_ptr<Connection>> connections_;
  std::unordered_map<std::string, Connection*> current_;  // established connection by peer name
  // Objects of destroyed connections: a callback up the stack may still hold
  // a pointer, so they are freed by the reaper on a later loop iteration.
  std::vector<std::unique_ptr<Connection>> graveyard_;
  std::vector<std::string> downs_to_report_;  // failures found inside a call (connect)
};

Transport::Impl::~Impl() {
  for (auto& [raw, connection] : connections_) {
    if (connection->deadline != nullptr) event_free(connection->deadline);
    if (connection->bev != nullptr) {
      bufferevent_setcb(connection->bev, nullptr, nullptr, nullptr, nullptr);
      bufferevent_free(connection->bev);
    }
  }
  if (acceptor_ != nullptr) evconnlistener_free(acceptor_);
  if (reaper_ != nullptr) event_free(reaper_);
  if (flusher_ != nullptr) event_free(flusher_);
}

Status Transport::Impl::start() {
  if (Status s = validate_node_name(options_.node_name); !s)
    return Status::invalid("transport node_name: " + s.message());
  if (options_.cluster_id.empty() || options_.cluster_id.size() > kClusterIdMaxBytes) {
    return Status::invalid("transport cluster_id must be 1.." + std::to_string(kClusterIdMaxBytes) + " bytes");
  }
  if (options_.frame_bytes_max < 64) return Status::invalid("transport frame_bytes_max below 64 bytes");
  if (options_.tls) {
    Result<SslCtxPtr> ctx = make_tls_context(options_.tls_material, options_.node_name);
    if (!ctx) return ctx.status();
    tls_ = std::move(ctx).value();
  }
  Result<SocketAddress> address = resolve_address(options_.listen_address, /*for_listening=*/true);
  if (!address) return Status::invalid("listen address: " + address.status().message());
  reaper_ = event_new(base_, -1, 0, &Impl::on_reap, this);
  flusher_ = event_new(base_, -1, 0, &Impl::on_flush, this);
  if (reaper_ == nullptr || flusher_ == nullptr) return Status::internal("event_new failed");
  acceptor_ = evconnlistener_new_bind(base_, &Impl::on_accept, this,
                                      LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC, 128,
                                      address->get(), static_cast<int>(address->length));
  if (acceptor_ == nullptr) {
    return Status::io("cannot listen on '" + options_.listen_address + "': " + std::strerror(errno));
  }
  sockaddr_storage bound{};
  socklen_t bound_length = sizeof bound;
  if (getsockname(evconnlistener_get_fd(acceptor_), reinterpret_cast<sockaddr*>(&bound), &bound_length) != 0) {
    return Status::io(std::string("getsockname failed: ") + std::strerror(errno));
  }
  bound_address_ = format_address(reinterpret_cast<sockaddr*>(&bound), bound_length);
  return Status::ok();
}

bufferevent* Transport::Impl::new_bufferevent(evutil_socket_t fd, bool outbound) {
  if (!tls_) return bufferevent_socket_new(base_, fd, BEV_OPT_CLOSE_ON_FREE);
  SSL* ssl = SSL_new(tls_.get());
  if (ssl == nullptr) return nullptr;
  SSL_set_mode(ssl, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);  // write_now
  bufferevent* bev = bufferevent_openssl_socket_new(
      base_, fd, ssl, outbound ? BUFFEREVENT_SSL_CONNECTING : BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
  if (bev == nullptr) SSL_free(ssl);
  return bev;
}

Connection* Transport::Impl::add_connection(bufferevent* bev, bool outbound, std::string address) {
  auto owned = std::make_unique<Connection>(options_.frame_bytes_max);
  Connection* c = owned.get();
  c->owner = this;
  c->bev = bev;
  c->outbound = outbound;
  c->address = std::move(address);
  c->serial = next_serial_++;
  c->deadline = evtimer_new(base_, &Impl::on_deadline, c);
  const timeval handshake = to_timeval(options_.handshake_timeout);
  evtimer_add(c->deadline, &handshake);
  if (tls_) bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
  bufferevent_setcb(bev, &Impl::on_read, nullptr, &Impl::on_event, c);
  bufferevent_enable(bev, EV_READ | EV_WRITE);
  connections_.emplace(c, std::move(owned));
  return c;
}

// --- accepting and connecting ------------------------------------------------

void Transport::Impl::on_accept(evconnlistener*, evutil_socket_t fd, sockaddr* address, int length, void* self) {
  auto* impl = static_cast<Impl*>(self);
  if (impl->connections_.size() >= impl->options_.connections_max) {
    evutil_closesocket(fd);
    return;
  }
  ++impl->stats_.connections_accepted;
  set_no_delay(fd);
  bufferevent* bev = impl->new_bufferevent(fd, /*outbound=*/false);
  if (bev == nullptr) {
    evutil_closesocket(fd);
    return;
  }
  Connection* c =
      impl->add_connection(bev, /*outbound=*/false, format_address(address, static_cast<socklen_t>(length)));
  // A plaintext socket is connected already; with TLS, BEV_EVENT_CONNECTED follows the TLS handshake.
  if (!impl->tls_) c->transport_connected = true;
  c->phase = impl->tls_ ? Phase::opening : Phase::handshaking;
}

void Transport::Impl::connect(const std::string& name, const std::string& address) {
  if (!name.empty()) {
    if (current_.count(name) != 0) return;
    if (!validate_node_name(name) || name == options_.node_name) return report_down_later(name);
  }
  for (const auto& [raw, c] : connections_) {
    const bool opening = c->phase == Phase::opening || c->phase == Phase::handshaking;
    if (opening && c->outbound && c->expected_name == name && (!name.empty() || c->address == address)) return;
  }
  if (connections_.size() >= options_.connections_max) return report_down_later(name);
  Result<SocketAddress> resolved = resolve_address(address, /*for_listening=*/false);
  if (!resolved) return report_down_later(name);
  ++stats_.connections_opened;
  bufferevent* bev = new_bufferevent(-1, /*outbound=*/true);
  if (bev == nullptr) return report_down_later(name);
  Connection* c = add_connection(bev, /*outbound=*/true, address);
  c->expected_name = name;
  if (bufferevent_socket_connect(bev, resolved->get(), static_cast<int>(resolved->length)) != 0) {
    destroy(c);
    return report_down_later(name);
  }
  set_no_delay(bufferevent_getfd(bev));
}

// --- reading ------------------------------------------------------------------

void Transport::Impl::on_read(bufferevent*, void* connection) {
  auto* c = static_cast<Connection*>(connection);
  c->owner->handle_read(c);
}

void Transport::Impl::handle_read(Connection* c) {
  evbuffer* input = bufferevent_get_input(c->bev);
  const size_t length = evbuffer_get_length(input);
  if (c->phase == Phase::closing) {
    evbuffer_drain(input, length);
    return;
  }
  stats_.bytes_received += length;
  const int chunks = evbuffer_peek(input, -1, nullptr, nullptr, 0);
  std::vector<evbuffer_iovec> vectors(static_cast<size_t>(chunks > 0 ? chunks : 0));
  evbuffer_peek(input, -1, nullptr, vectors.data(), chunks);
  Status fed;
  for (const evbuffer_iovec& v : vectors) {
    fed = c->frames.feed(wire::ByteView(static_cast<const uint8_t*>(v.iov_base), v.iov_len));
    if (!fed) break;
  }
  evbuffer_drain(input, length);
  while (std::optional<wire::Bytes> frame = c->frames.next()) {
    if (c->phase == Phase::opening || c->phase == Phase::handshaking) {
      handle_handshake(c, *frame);
    } else if (c->phase == Phase::established || c->phase == Phase::superseded) {
      // A superseded connection still delivers what the peer sent on it
      // before it switched to the surviving one.
      ++stats_.messages_received;
      const std::string peer = c->peer_name;  // the listener may close c
      listener_.on_message(peer, *frame);
    }
    if (c->dead() || c->phase == Phase::closing) return;
  }
  if (!fed) {
    ++stats_.malformed_frames;
    const bool before_handshake = c->phase == Phase::opening || c->phase == Phase::handshaking;
    if (before_handshake) ++stats_.handshake_failures;
    fail(c, /*report_down=*/true);
  }
}

void Transport::Impl::handle_handshake(Connection* c, wire::ByteView frame) {
  Result<Handshake> theirs = decode_handshake(frame);
  Result<uint32_t> agreed = theirs ? check_handshake(*theirs, options_.cluster_id, our_versions())
                                   : Result<uint32_t>(theirs.status());
  Status verdict = agreed ? Status::ok() : agreed.status();
  if (!theirs) ++stats_.malformed_frames;
  if (verdict && theirs->node_name == options_.node_name) verdict = Status::invalid("peer claims our own name");
  if (verdict && c->outbound && !c->expected_name.empty() && theirs->node_name != c->expected_name) {
    verdict = Status::invalid("dialled '" + c->expected_name + "', peer is '" + theirs->node_name + "'");
  }
  if (verdict && tls_) verdict = verify_peer_certificate(c, theirs->node_name);
  if (!verdict) {
    ++stats_.handshake_failures;
    if (verdict.code() == StatusCode::unsupported) ++stats_.version_mismatches;
    return fail(c, /*report_down=*/true);
  }
  c->peer_name = theirs->node_name;
  c->peer_incarnation = theirs->incarnation;
  c->protocol_version = *agreed;
  if (!c->outbound) {
    // The acceptor answers only a connection it keeps: a duplicate that
    // loses to the established one is closed unanswered, and its initiator,
    // which already has the winner up, reports nothing.
    auto existing = current_.find(c->peer_name);
    if (existing != current_.end() && !wins_over(c, existing->second)) return destroy(c);
    // Our highest version is the agreed one: a version-1 initiator gets
    // the version-1 form it expects.
    write_frame(c, encode(our_handshake(*agreed)));
  }
  establish(c);
}

Status Transport::Impl::verify_peer_certificate(Connection* c, const std::string& name) const {
  SSL* ssl = bufferevent_openssl_get_ssl(c->bev);
  if (ssl == nullptr) return Status::internal("no TLS session");
  X509* certificate = SSL_get0_peer_certificate(ssl);
  if (certificate == nullptr || SSL_get_verify_result(ssl) != X509_V_OK) {
    return Status::invalid("peer has no verified certificate");
  }
  return certificate_names_node(certificate, name);
}

// Which of two connections to one peer survives; both ends must pick the
// same one without talking. A newer incarnation of the peer wins (the old
// connection is likely half-open). Between connections opened by different
// ends, the one opened by the node with the smaller name wins. Between two
// opened by the same end, the newer wins: its initiator gave up the older.
bool Transport::Impl::wins_over(const Connection* candidate, const Connection* existing) const {
  if (candidate->peer_incarnation != existing->peer_incarnation) {
    return candidate->peer_incarnation > existing->peer_incarnation;
  }
  if (candidate->outbound != existing->outbound) {
    const bool we_are_smaller = options_.node_name < candidate->peer_name;
    return candidate->outbound ? we_are_smaller : !we_are_smaller;
  }
  return candidate->serial > existing->serial;
}

void Transport::Impl::establish(Connection* c) {
  if (c->deadline != nullptr) evtimer_del(c->deadline);
  const timeval idle = to_timeval(options_.idle_timeout);
  bufferevent_set_timeouts(c->bev, &idle, nullptr);
  const std::string peer = c->peer_name;
  auto existing = current_.find(peer);
  if (existing == current_.end()) {
    c->phase = Phase::established;
    current_[peer] = c;
    listener_.on_peer_up(peer, c->peer_incarnation, c->address, c->protocol_version);
    return;
  }
  Connection* old = existing->second;
  Connection* winner = wins_over(c, old) ? c : old;
  Connection* loser = winner == c ? old : c;
  // The peer restarted: its new incarnation replaces the old connection,
  // and the listener hears the old incarnation go down and the new come up.
  const bool restarted = winner == c && c->peer_incarnation != old->peer_incarnation;
  winner->phase = Phase::established;
  current_[peer] = winner;
  loser->phase = Phase::superseded;
  // Of two connections opened by different ends, the node with the smaller
  // name closes the loser, and only once it has the winner established,
  // which the other end then has too: the larger node never sees its only
  // connection close. Duplicates from one end are closed by either end.
  const bool we_close = loser->outbound == winner->outbound || options_.node_name < peer ||
                        loser->peer_incarnation != winner->peer_incarnation;
  if (we_close) begin_graceful_close(loser);
  if (restarted) {
    listener_.on_peer_down(peer);
    if (!c->dead() && current_.count(peer) != 0 && current_[peer] == winner) {
      listener_.on_peer_up(peer, winner->peer_incarnation, winner->address, winner->protocol_version);
    }
  }
}

// --- writing ------------------------------------------------------------------

// A bufferevent writes only once the socket reports writable: a message to
// an idle connection cost the loop a second turn and two epoll_ctl calls.
// So the frames of one loop turn are gathered per connection and written at
// its end straight to the socket when nothing is queued there (one TLS
// record per 16 KiB, as the bufferevent would); only what the socket does not
// take is queued in the bufferevent. A frame for a connection whose
// bufferevent still holds data is queued behind it at once.
void Transport::Impl::write_frame(Connection* c, wire::ByteView message) {
  stats_.bytes_sent += wire::kFrameHeaderBytes + message.size();
  if (!writable_now(c)) {
    const wire::Bytes frame = wire::encode_frame(message);
    bufferevent_write(c->bev, frame.data(), frame.size());
    return;
  }
  if (c->unsent.empty()) {
    to_flush_.push_back(c);
    event_active(flusher_, EV_TIMEOUT, 0);
  }
  wire::append_frame(c->unsent, message);
}

void Transport::Impl::on_flush(evutil_socket_t, short, void* self) { static_cast<Impl*>(self)->flush_unsent(); }

void Transport::Impl::flush_unsent() {
  std::vector<Connection*> connections;
  connections.swap(to_flush_);
  for (Connection* c : connections) {
    if (!c->dead()) flush_unsent(c);
  }
}

void Transport::Impl::flush_unsent(Connection* c) {
  if (c->unsent.empty()) return;
  constexpr size_t kTlsRecordBytesMax = 16384;
  const wire::ByteView unsent(c->unsent);
  size_t written = 0;
  while (written < unsent.size()) {
    const size_t chunk = tls_ ? std::min(kTlsRecordBytesMax, unsent.size() - written) : unsent.size() - written;
    const size_t n = write_now(c, unsent.subspan(written, chunk));
    written += n;
    if (n < chunk) break;
  }
  if (written < unsent.size()) bufferevent_write(c->bev, unsent.data() + written, unsent.size() - written);
  c->unsent.clear();
}

// Writes `bytes` (with TLS, at most one record) to the socket if nothing is
// queued in the bufferevent; returns how many were written. If SSL_write
// cannot finish the record, OpenSSL keeps it and must be called again with
// the same bytes: the caller queues them first, and the bufferevent's next
// write (up to 16 KiB of its queue, so at least these) completes it; the
// buffer may move (SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER). A write error
// shows on the bufferevent's own write.
size_t Transport::Impl::write_now(Connection* c, wire::ByteView bytes) {
  if (!writable_now(c)) return 0;
  if (!tls_) {
    const ssize_t n = ::send(bufferevent_getfd(c->bev), bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    return n > 0 ? static_cast<size_t>(n) : 0;
  }
  SSL* ssl = bufferevent_openssl_get_ssl(c->bev);
  // SSL_want_write: a record of OpenSSL's own (a key update) waits for the socket.
  if (ssl == nullptr || SSL_want_write(ssl)) return 0;
  ERR_clear_error();
  const int n = SSL_write(ssl, bytes.data(), static_cast<int>(bytes.size()));
  if (n <= 0) ERR_clear_error();
  return n > 0 ? static_cast<size_t>(n) : 0;
}

bool Transport::Impl::send(const std::string& peer, std::span<const uint8_t> message) {
  auto found = current_.find(peer);
  if (found == current_.end()) return false;
  Connection* c = found->second;
  const size_t queued = queued_bytes(c);
  if (message.empty() || message.size() > options_.frame_bytes_max) return false;
  if (queued + wire::kFrameHeaderBytes + message.size() > options_.send_queue_bytes_max) {
    ++stats_.send_queue_drops;
    return false;
  }
  write_frame(c, message);
  ++stats_.messages_sent;
  return true;
}

void Transport::Impl::on_write(bufferevent*, void* connection) {
  auto* c = static_cast<Connection*>(connection);
  // Only a closing connection listens for "output drained": half-close, then
  // wait (bounded by its deadline) for the peer's EOF so that closing does
  // not reset the connection under data the peer has not read yet.
  if (c->phase == Phase::closing) {
    bufferevent_setcb(c->bev, &Impl::on_read, nullptr, &Impl::on_event, c);
    shutdown(bufferevent_getfd(c->bev), SHUT_WR);
  }
}

// --- events, deadlines and closing ----------------------------------------------

void Transport::Impl::on_event(bufferevent*, short what, void* connection) {
  auto* c = static_cast<Connection*>(connection);
  c->owner->handle_event(c, what);
}

void Transport::Impl::handle_event(Connection* c, short what) {
  if (what & BEV_EVENT_CONNECTED) {
    c->transport_connected = true;
    if (c->phase != Phase::opening) return;
    c->phase = Phase::handshaking;
    if (!c->outbound) return;  // the acceptor waits for the initiator's handshake
    // Check the certificate before telling an impostor who we are.
    if (tls_ && !c->expected_name.empty() && !verify_peer_certificate(c, c->expected_name)) {
      ++stats_.handshake_failures;
      return fail(c, /*report_down=*/true);
    }
    write_frame(c, encode(our_handshake(our_versions().max)));
    return;
  }
  // EOF, error or idle timeout: the connection is over.
  if (c->phase == Phase::closing) return destroy(c);
  // libevent queues the SSL_get_error() code, then OpenSSL's own errors; a
  // bare SSL_ERROR_SYSCALL is a socket error (refused, reset), not TLS.
  bool tls_error = false;
  while (unsigned long code = tls_ ? bufferevent_get_openssl_error(c->bev) : 0) {
    if (code != SSL_ERROR_SYSCALL && code != SSL_ERROR_ZERO_RETURN) tls_error = true;
  }
  ERR_clear_error();
  const bool before_handshake = c->phase == Phase::opening || c->phase == Phase::handshaking;
  if (before_handshake) {
    // A refused TCP connect is no handshake failure; anything after it is,
    // unless a connection to that peer came up meanwhile (the peer closed
    // this duplicate unanswered).
    const bool connect_failed = c->outbound && !c->transport_connected && !tls_error;
    const bool duplicate = !c->expected_name.empty() && current_.count(c->expected_name) != 0;
    if (tls_error || (tls_ && !c->transport_connected && !connect_failed)) ++stats_.tls_failures;
    if (!connect_failed && !duplicate) ++stats_.handshake_failures;
  }
  fail(c, /*report_down=*/true);
}

void Transport::Impl::on_deadline(evutil_socket_t, short, void* connection) {
  auto* c = static_cast<Connection*>(connection);
  c->owner->handle_deadline(c);
}

void Transport::Impl::handle_deadline(Connection* c) {
  if (c->phase == Phase::closing) return destroy(c);
  if (c->phase == Phase::opening || c->phase == Phase::handshaking) {
    ++stats_.handshake_failures;
    fail(c, /*report_down=*/true);
  }
}

void Transport::Impl::fail(Connection* c, bool report_down) {
  // Who to tell: the peer of an established connection, or the name we
  // dialled for; never for a superseded duplicate, never twice.
  std::string down;
  if (c->phase == Phase::established) {
    current_.erase(c->peer_name);
    down = c->peer_name;
  } else if ((c->phase == Phase::opening || c->phase == Phase::handshaking) && c->outbound &&
             current_.count(c->expected_name) == 0) {
    down = c->expected_name;
  }
  destroy(c);
  if (report_down && !down.empty()) listener_.on_peer_down(down);
}

void Transport::Impl::begin_graceful_close(Connection* c) {
  flush_unsent(c);  // what was sent before the close leaves first
  if (c->phase == Phase::established) current_.erase(c->peer_name);
  c->phase = Phase::closing;
  bufferevent_set_timeouts(c->bev, nullptr, nullptr);
  const timeval linger = to_timeval(options_.handshake_timeout);
  evtimer_add(c->deadline, &linger);
  bufferevent_setcb(c->bev, &Impl::on_read, &Impl::on_write, &Impl::on_event, c);
  bufferevent_enable(c->bev, EV_READ | EV_WRITE);
  if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0) on_write(c->bev, c);
}

void Transport::Impl::disconnect(const std::string& peer) {
  // Also an attempt still opening for that name: it would report the peer
  // up after we asked to be rid of it.
  std::vector<Connection*> open, opening;
  for (const auto& [raw, c] : connections_) {
    if (c->peer_name == peer && (c->phase == Phase::established || c->phase == Phase::superseded)) {
      open.push_back(raw);
    } else if (c->outbound && !peer.empty() && c->expected_name == peer &&
               (c->phase == Phase::opening || c->phase == Phase::handshaking)) {
      opening.push_back(raw);
    }
  }
  for (Connection* c : open) begin_graceful_close(c);
  for (Connection* c : opening) destroy(c);
}

void Transport::Impl::shut_down() {
  if (acceptor_ != nullptr) evconnlistener_disable(acceptor_);
  std::vector<Connection*> open, others;
  for (const auto& [raw, c] : connections_) {
    if (c->dead() || c->phase == Phase::closing) continue;
    (c->phase == Phase::established || c->phase == Phase::superseded ? open : others).push_back(raw);
  }
  for (Connection* c : open) begin_graceful_close(c);
  for (Connection* c : others) destroy(c);
}

void Transport::Impl::destroy(Connection* c) {
  if (c->dead()) return;
  std::erase(to_flush_, c);  // the reaper may run before the flush
  if (c->phase == Phase::established) current_.erase(c->peer_name);
  bufferevent_setcb(c->bev, nullptr, nullptr, nullptr, nullptr);
  bufferevent_free(c->bev);
  c->bev = nullptr;
  event_free(c->deadline);
  c->deadline = nullptr;
  auto owned = connections_.find(c);
  graveyard_.push_back(std::move(owned->second));
  connections_.erase(owned);
  schedule_reap();
}

void Transport::Impl::report_down_later(const std::string& name) {
  if (name.empty()) return;
  downs_to_report_.push_back(name);
  schedule_reap();
}

void Transport::Impl::schedule_reap() { event_active(reaper_, EV_TIMEOUT, 0); }

void Transport::Impl::on_reap(evutil_socket_t, short, void* self) {
  auto* impl = static_cast<Impl*>(self);
  impl->graveyard_.clear();
  std::vector<std::string> downs;
  downs.swap(impl->downs_to_report_);
  for (const std::string& name : downs) {
    if (impl->current_.count(name) == 0) impl->listener_.on_peer_down(name);
  }
}

// --- the facade ---------------------------------------------------------------

Transport::Transport(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Transport::~Transport() = default;

Result<std::unique_ptr<Transport>> Transport::create(event_base* base, TransportOptions options,
                                                     TransportListener& listener) {
  if (base == nullptr) return Status::invalid("transport needs an event_base");
  if (options.protocol_version_max == 0) options.protocol_version_max = wire::kProtocolVersion;
  if (options.protocol_version_max < wire::kProtocolVersionMin || options.protocol_version_max > wire::kProtocolVersion) {
    return Status::invalid("protocol version " + std::to_string(options.protocol_version_max) + " is outside " +
                           std::to_string(wire::kProtocolVersionMin) + ".." + std::to_string(wire::kProtocolVersion));
  }
  auto impl = std::make_unique<Impl>(base, std::move(options), listener);
  if (Status s = impl->start(); !s) return s;
  return std::unique_ptr<Transport>(new Transport(std::move(impl)));
}

std::string Transport::bound_address() const { return impl_->bound_address(); }
void Transport::connect(const std::string& name, const std::string& address) { impl_->connect(name, address); }
bool Transport::send(const std::string& peer, std::span<const uint8_t> message) { return impl_->send(peer, message); }
void Transport::disconnect(const std::string& peer) { impl_->disconnect(peer); }
void Transport::shut_down() { impl_->shut_down(); }
bool Transport::is_connected(const std::string& peer) const { return impl_->is_connected(peer); }
size_t Transport::connection_count() const { return impl_->connection_count(); }
const TransportStats& Transport::stats() const { return impl_->stats(); }

}  // namespace lashup::runtime
