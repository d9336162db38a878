#include "tests/unit/transport/transport_harness.h"

#include <event2/buffer.h>
#include <event2/bufferevent_ssl.h>

#include <stdexcept>

#include "runtime/transport/address.h"

namespace lashup::runtime::testing {
namespace {

timeval to_timeval(std::chrono::milliseconds d) {
  return timeval{static_cast<time_t>(d.count() / 1000), static_cast<suseconds_t>((d.count() % 1000) * 1000)};
}

struct Poll {
  event_base* base;
  const std::function<bool()>* condition;
  std::chrono::steady_clock::time_point deadline;
};

void check_condition(evutil_socket_t, short, void* arg) {
  auto* poll = static_cast<Poll*>(arg);
  if ((*poll->condition)() || std::chrono::steady_clock::now() >= poll->deadline) event_base_loopbreak(poll->base);
}

}  // namespace

bool run_until(event_base* base, const std::function<bool()>& condition, std::chrono::milliseconds limit) {
  if (condition()) return true;
  // The limit is checked by the ticker, not by event_base_loopexit: a
  // loopexit left pending after an early break would end the next run.
  Poll poll{base, &condition, std::chrono::steady_clock::now() + limit};
  event* ticker = event_new(base, -1, EV_PERSIST, &check_condition, &poll);
  const timeval every = to_timeval(std::chrono::milliseconds(1));
  event_add(ticker, &every);
  event_base_dispatch(base);
  event_free(ticker);
  return condition();
}

void run_for(event_base* base, std::chrono::milliseconds duration) {
  const timeval until = to_timeval(duration);
  event_base_loopexit(base, &until);
  event_base_dispatch(base);
}

RawPeer::RawPeer(event_base* base, SSL_CTX* ctx, const std::string& address, wire::Bytes bytes)
    : bytes_(std::move(bytes)) {
  Result<SocketAddress> resolved = resolve_address(address, false);
  if (!resolved) throw std::runtime_error(resolved.status().message());
  if (ctx != nullptr) {
    bev_ = bufferevent_openssl_socket_new(base, -1, SSL_new(ctx), BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE);
    bufferevent_openssl_set_allow_dirty_shutdown(bev_, 1);
  } else {
    bev_ = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
  }
  bufferevent_setcb(bev_, &RawPeer::on_read, nullptr, &RawPeer::on_event, this);
  bufferevent_enable(bev_, EV_READ | EV_WRITE);
  if (bufferevent_socket_connect(bev_, resolved->get(), static_cast<int>(resolved->length)) != 0) closed_ = true;
}

RawPeer::~RawPeer() { bufferevent_free(bev_); }

void RawPeer::on_read(bufferevent* bev, void* self) {
  auto* peer = static_cast<RawPeer*>(self);
  evbuffer* input = bufferevent_get_input(bev);
  const size_t length = evbuffer_get_length(input);
  const size_t old = peer->received_.size();
  peer->received_.resize(old + length);
  evbuffer_remove(input, peer->received_.data() + old, length);
}

void RawPeer::on_event(bufferevent* bev, short what, void* self) {
  auto* peer = static_cast<RawPeer*>(self);
  if (what & BEV_EVENT_CONNECTED) {
    peer->connected_ = true;
    if (!peer->bytes_.empty()) bufferevent_write(bev, peer->bytes_.data(), peer->bytes_.size());
    return;
  }
  peer->closed_ = true;
  bufferevent_disable(bev, EV_READ | EV_WRITE);
}

}  // namespace lashup::runtime::testing
