// One lashup node on real sockets: a loop thread running libevent that feeds
// the NodeCore its inputs (peer messages and connection changes from the
// transport, ticks from a timer, commands from API threads) and executes the
// Actions it returns (sends and connects on the transport, writes to the
// store, events to the event queue).
//
// Threading: create, start, stop and the destructor from one thread; post,
// poll, event_fd and stats from any thread. No callback into the caller:
// events are pulled with poll (the fd is readable while any is queued).
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <thread>

#include "core/common/event.h"
#include "core/common/status.h"
#include "core/config/config.h"
#include "core/node/node_core.h"
#include "runtime/notifying_queue.h"
#include "runtime/transport/transport.h"
#include "storage/store.h"

struct event_base;
struct event;

namespace lashup::runtime {

class NodeRuntime final : TransportListener {
 public:
  // Validates what a running node needs beyond single keys (a node name, a
  // data dir, TLS files when tls is on, named contact nodes).
  static Result<std::unique_ptr<NodeRuntime>> create(const config::Config& config);
  ~NodeRuntime() override;

  // Opens the store (recovering it), raises and persists the incarnation,
  // binds the listen address and starts the loop thread.
  Status start();
  // Stops the loop thread and closes everything; idempotent.
  void stop();

  // The address peers reach this node at (after binding port 0).
  const std::string& advertised_address() const { return advertised_; }
  Incarnation incarnation() const { return incarnation_; }

  // Runs `command` on the loop thread with the current time and the core,
  // and executes the Actions it returns. Fails when the command queue is
  // full (AGAIN in the C API) or the node is stopped.
  Status post(std::function<Actions(Time, NodeCore&)> command);
  // Runs `query` on the loop thread and waits for its answer.
  template <typename T>
  Result<T> ask(std::function<T(Time, NodeCore&)> query) {
    auto promise = std::make_shared<std::promise<T>>();
    auto future = promise->get_future();
    Status posted = post([query = std::move(query), promise](Time now, NodeCore& core) {
      promise->set_value(query(now, core));
      return Actions{};
    });
    if (!posted) return posted;
    if (future.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
      return Status::internal("the loop thread did not answer within 10 s");
    }
    return future.get();
  }

  int event_fd() const { return events_.fd(); }
  std::optional<Event> poll(std::chrono::milliseconds timeout) { return events_.pop(timeout); }
  uint64_t events_dropped() const { return events_.dropped(); }

 private:
  using Command = std::function<Actions(Time, NodeCore&)>;
  explicit NodeRuntime(const config::Config& config);

  // TransportListener (loop thread).
  void on_peer_up(const std::string& peer, uint64_t incarnation, const std::string& address) override;
  void on_peer_down(const std::string& peer) override;
  void on_message(const std::string& peer, std::span<const uint8_t> message) override;

  Time now() const;
  void execute(Actions actions);
  void arm_timer(Time wake_at);
  void run_loop();
  static void on_timer(int, short, void* self);
  static void on_commands(int, short, void* self);

  config::Config config_;
  NodeConfig node_config_;
  std::string advertised_;
  Incarnation incarnation_ = 0;
  std::chrono::steady_clock::time_point epoch_ = std::chrono::steady_clock::now();

  std::unique_ptr<storage::Store> store_;
  event_base* base_ = nullptr;
  event* timer_ = nullptr;
  event* command_event_ = nullptr;
  std::unique_ptr<Transport> transport_;
  std::unique_ptr<NodeCore> core_;
  std::optional<Time> timer_at_;

  NotifyingQueue<Command> commands_;
  NotifyingQueue<Event> events_;
  std::thread loop_;
  std::atomic<bool> running_{false};
  Status storage_error_;
};

}  // namespace lashup::runtime
