// One lashup node on real sockets: a loop thread running libevent that feeds
// the NodeCore its inputs (peer messages and connection changes from the
// transport, ticks from a timer, commands from API threads) and executes the
// Actions it returns (sends and connects on the transport, writes to the
// store, events to the event queue).
//
// Threading: create, start, stop and the destructor from one thread; post,
// run, ask, the multicast and KV calls, poll, event_fd and snapshot from any
// thread. Events are pulled with poll (the fd is readable while any is
// queued); an optional callback, set before start, tells the loop thread's
// caller that events were queued.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <shared_mutex>
#include <thread>
#include <unordered_map>

#include "core/common/event.h"
#include "core/common/status.h"
#include "core/config/config.h"
#include "core/node/node_core.h"
#include "runtime/http/histogram.h"
#include "runtime/notifying_queue.h"
#include "runtime/snapshot.h"
#include "runtime/transport/transport.h"
#include "storage/store.h"

struct event_base;
struct event;

namespace lashup::runtime {

namespace http {
class OpsServer;
}

// An event with the CLOCK_MONOTONIC time (µs) at which the loop queued it.
struct TimedEvent {
  Event event;
  uint64_t monotonic_us = 0;
};

class NodeRuntime final : TransportListener {
 public:
  // Validates what a running node needs beyond single keys (a node name, a
  // data dir, TLS files when tls is on, an advertise address for a wildcard
  // listen address). Contacts may be name@host:port or host:port.
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
  // and executes the Actions it returns. Fails with `closed` when the node
  // does not run and `again` when the command queue is full.
  Status post(std::function<Actions(Time, NodeCore&)> command);
  // Like post, but waits until the Actions are executed and a snapshot with
  // their effect is published, and returns the status the command set.
  Status run(std::function<Actions(Time, NodeCore&, Status&)> command);
  // Runs `query` on the loop thread and waits for its answer.
  template <typename T>
  Result<T> ask(std::function<T(Time, NodeCore&)> query) {
    // The command owns the only reference to the promise: a command that is
    // dropped without running (the node stopped) breaks it, and the wait
    // below ends at once with "closed".
    auto promise = std::make_shared<std::promise<T>>();
    auto future = promise->get_future();
    Status posted = post([query = std::move(query), promise = std::move(promise)](Time now, NodeCore& core) {
      promise->set_value(query(now, core));
      return Actions{};
    });
    if (!posted) return posted;
    if (future.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
      return Status::internal("the loop thread did not answer within 10 s");
    }
    try {
      return future.get();
    } catch (const std::future_error&) {
      return Status::closed("the node stopped before the query ran");
    }
  }

  // The replicated KV store (core/kv/kv_store.h). Writes run on the loop
  // thread and return once their Actions are executed: the key's new state
  // is persisted (per the durability mode; a failed write to the store is
  // the `storage` error) before the call returns. Reads do not go through
  // the command queue: they read the store under the core lock (shared),
  // from any thread, also the loop thread (the event callback).
  struct KvRead {
    crdt::MapValue value;
    Bytes context;  // crdt::encode_context of the key's map: the compare-and-set token
  };
  // Applies `ops` to `key` (with `expected`: only if the key's context still
  // equals it). Returns the key's value and context after the write.
  //
  // The writes of the commands the loop finds queued together (up to
  // kBatchCommands) are committed as one store transaction, and each waiting
  // caller is answered after that commit: concurrent writers share
  // transactions (and, in `sync` mode, fsyncs).
  Result<KvRead> kv_update(std::string key, std::vector<crdt::FieldOp> ops,
                           std::optional<crdt::CausalContext> expected);
  // Queues the same write and returns at once (`again` when the command
  // queue is full). Once the write is applied and persisted, or has failed,
  // a KvUpdateDone event with `request_id` and the outcome is queued.
  Status kv_update_async(std::string key, std::vector<crdt::FieldOp> ops,
                         std::optional<crdt::CausalContext> expected, uint64_t request_id);
  // Removes every field of `key`; not_found when it holds none.
  Status kv_remove(std::string key);
  // not_found when the key is absent (never written, or deleted); `closed`
  // before start and after stop.
  Result<KvRead> kv_get(std::string_view key) const;
  // Live keys starting with `pattern`, or matching it as a glob, sorted.
  Result<std::vector<std::string>> kv_keys(std::string_view pattern, bool glob) const;
  // Subscriptions (NodeCore::kv_subscribe): `id` is chosen by the caller.
  // The dump and later changes arrive as KvChanged / KvDumpDone events.
  Status kv_subscribe(uint64_t id, std::string pattern, bool glob);
  // not_found for an unknown id.
  Status kv_unsubscribe(uint64_t id);

  // Multicast (core/multicast/multicast.h). The topic and the payload size
  // are checked here, on the caller's thread, with the rules the core
  // applies, so a publish that is queued is one the core accepts. Topics
  // starting with "lashup/" are reserved (neither published nor subscribed).
  //
  // Queues the publish to the loop thread and returns (`again` when the
  // command queue is full); the loop numbers the messages it publishes 1, 2,
  // ... in the order they were queued.
  Status publish(std::string_view topic, wire::ByteView payload);
  // Publishes and waits for the loop thread; returns the message's sequence.
  Result<uint64_t> publish_and_wait(std::string_view topic, wire::ByteView payload);
  // Idempotent. Before start the topic is kept and subscribed when the core
  // starts; after, the call waits for the loop thread.
  Status subscribe(std::string_view topic);
  // `not_found` for a topic that is not subscribed.
  Status unsubscribe(std::string_view topic);

  // Called on the loop thread after events were queued. Set before start.
  void set_event_callback(std::function<void()> callback) { event_callback_ = std::move(callback); }
  // The latest published snapshot (null before start).
  std::shared_ptr<const Snapshot> snapshot() const {
    std::lock_guard lock(snapshot_mutex_);
    return snapshot_;
  }
  bool running() const { return running_.load(); }

  // ---- Logs and the operations endpoints (runtime/http, docs/ADMIN.md) ----
  // Log levels, most severe first (log.level keeps those up to it).
  enum class LogLevel : int { error = 0, warn = 1, info = 2, debug = 3 };
  using LogCallback = std::function<void(LogLevel, const char* component, const std::string& message)>;
  // Called on the loop thread only (start and stop are logged from there).
  // Without a callback, errors and warnings go to stderr. Set before start.
  void set_log_callback(LogCallback callback) { log_callback_ = std::move(callback); }
  // Loop thread: keeps `topic` subscribed in the core for the admin
  // server's streams (counted), whatever the application does with it;
  // messages on a topic only the server holds are not queued as events.
  Status hold_topic(const std::string& topic);
  void release_topic(const std::string& topic);
  Status check_topic_for_ops(std::string_view topic) const { return check_topic(topic); }

  int event_fd() const { return events_.fd(); }
  // The oldest event, waiting up to `timeout` (negative: until one arrives
  // or the node stops).
  std::optional<TimedEvent> poll(std::chrono::milliseconds timeout) { return events_.pop(timeout); }
  // True once stop() ran and every queued event was taken.
  bool drained() const { return events_.closed() && events_.size() == 0; }
  uint64_t events_dropped() const { return events_.dropped(); }

 private:
  using Command = std::function<Actions(Time, NodeCore&)>;
  explicit NodeRuntime(const config::Config& config);

  // Runs `work` on the loop thread and waits for its answer; at once when
  // called on the loop thread (from the event callback), where waiting for
  // the loop would wait for ourselves.
  template <typename T>
  Result<T> call(std::function<T(Time, NodeCore&)> work) {
    if (on_loop_thread()) {
      if (!running_) return Status::closed("the node is not running");
      CoreLock lock(*this);
      return work(now(), *core_);
    }
    return ask<T>(std::move(work));
  }
  bool on_loop_thread() const { return std::this_thread::get_id() == loop_id_.load(); }

  // Held (exclusively) by the loop thread around every call into the core,
  // so that readers on API threads can read the core (the KV store) under a
  // shared lock without waiting for the command queue. Reentrant on the
  // thread that holds it: a command may run inside an input's handling (the
  // event callback calling set_metadata), and start/stop take it on the
  // API thread that owns the core then.
  class CoreLock {
   public:
    explicit CoreLock(NodeRuntime& runtime)
        : runtime_(runtime), outermost_(runtime.core_owner_.load() != std::this_thread::get_id()) {
      if (!outermost_) return;
      runtime_.core_mutex_.lock();
      runtime_.core_owner_ = std::this_thread::get_id();
    }
    ~CoreLock() {
      if (!outermost_) return;
      runtime_.core_owner_ = std::thread::id();
      runtime_.core_mutex_.unlock();
    }
    CoreLock(const CoreLock&) = delete;
    CoreLock& operator=(const CoreLock&) = delete;

   private:
    NodeRuntime& runtime_;
    bool outermost_;
  };
  // Runs `read` on the core under the shared lock (no lock on the loop
  // thread, the core's only writer); `closed` when the node does not run.
  template <typename T>
  Result<T> read_core(const std::function<T(const NodeCore&)>& read) const {
    if (on_loop_thread() || core_owner_.load() == std::this_thread::get_id()) {
      if (!core_) return Status::closed("the node is not running");
      return read(*core_);
    }
    std::shared_lock lock(core_mutex_);
    if (!core_ || !running_) return Status::closed("the node is not running");
    return read(*core_);
  }
  Status check_topic(std::string_view topic) const;
  void log(LogLevel level, const char* component, const std::string& message);
  // Logs a warning when a write took a key's value above kv.value_bytes_warn.
  void warn_if_large(const NodeCore& core, const std::string& key, size_t before);
  // Loop thread: logs and counts what the transport's counters say happened
  // since the last call (TLS and handshake failures, malformed frames).
  void log_transport_failures();
  Status check_publish(std::string_view topic, size_t payload_bytes) const;

  // TransportListener (loop thread).
  void on_peer_up(const std::string& peer, uint64_t incarnation, const std::string& address,
                  uint32_t protocol_version) override;
  void on_peer_down(const std::string& peer) override;
  void on_message(const std::string& peer, std::span<const uint8_t> message) override;

  Time now() const;
  // Executes the core's Actions (writes first); returns the status of the
  // writes to the store. What is batched runs first, so that Actions are
  // executed in the order the core returned them.
  Status execute(Actions actions);
  // Batching. Commands and peer messages handled in one loop iteration
  // append their Actions to batch_ instead of executing them; flush_batch
  // executes them together (one store transaction) and then runs the
  // after_commit continuations with the store's status. Called without
  // the core lock: readers do not wait for a commit.
  void add_to_batch(Actions actions);
  void after_commit(std::function<void(const Status&)> continuation);
  void flush_batch();
  Status execute_now(Actions actions);
  void arm_timer(Time wake_at);
  void run_loop();
  void connect(const NodeName& peer, const std::string& address);
  void dial_unnamed_contacts();
  struct Backoff;
  // Counts a failed attempt and sets when the next one may start.
  void back_off(Backoff& backoff, Time now);
  void publish();
  void request_publish();
  void housekeeping();
  void quiesce();
  static void on_quiesce_check(int, short, void* self);
  static void on_timer(int, short, void* self);
  static void on_commands(int, short, void* self);
  static void on_publish(int, short, void* self);
  static void on_housekeeping(int, short, void* self);
  static void on_deferred_downs(int, short, void* self);
  static void on_flush(int, short, void* self);

  config::Config config_;
  NodeConfig node_config_;
  std::string advertised_;
  Incarnation incarnation_ = 0;
  std::chrono::steady_clock::time_point epoch_ = std::chrono::steady_clock::now();
  mutable Time last_now_{0};  // loop thread (and start) only

  std::unique_ptr<storage::Store> store_;
  event_base* base_ = nullptr;
  event* timer_ = nullptr;
  event* command_event_ = nullptr;
  event* publish_event_ = nullptr;
  event* housekeeping_event_ = nullptr;
  event* deferred_event_ = nullptr;
  event* quiesce_event_ = nullptr;
  event* flush_event_ = nullptr;
  Actions batch_;
  std::vector<std::function<void(const Status&)>> batch_continuations_;
  size_t batch_inputs_ = 0;  // commands and messages in batch_
  bool batch_has_messages_ = false;  // peer messages among them: rearm_timer() after the flush
  std::vector<Event> batch_events_;  // queued by continuations, emitted after them
  bool quiescing_ = false;
  bool in_callback_ = false;  // stopping: connections closing, no more input to the core
  Time quiesce_deadline_{0};
  std::atomic<std::thread::id> loop_id_{};
  std::unique_ptr<Transport> transport_;
  std::unique_ptr<NodeCore> core_;
  // See CoreLock. The owner is the thread holding core_mutex_ exclusively.
  mutable std::shared_mutex core_mutex_;
  std::atomic<std::thread::id> core_owner_{};
  std::optional<Time> timer_at_;
  // Arms the timer at the core's next deadline, computed afresh (on_tick),
  // also when that is later than the timer: see node_runtime.cc.
  void rearm_timer();
  void arm_housekeeping();
  void note_convergence();
  // Members the latest events reported unreachable; the start of the current
  // partial view (set at start until the node first reaches a member).
  std::set<NodeName> reported_unreachable_;
  bool ever_joined_ = false;
  std::optional<Time> partial_since_;

  NotifyingQueue<Command> commands_;
  NotifyingQueue<TimedEvent> events_;
  std::function<void()> event_callback_;
  // Guards only the pointer swap and copy (a reference count increment):
  // readers never wait for the loop's work. (libstdc++'s
  // atomic<shared_ptr> locks with a bit ThreadSanitizer cannot see.)
  mutable std::mutex snapshot_mutex_;
  std::shared_ptr<const Snapshot> snapshot_;
  bool publish_pending_ = false;
  uint64_t snapshots_published_ = 0;
  uint64_t storage_errors_ = 0;
  uint64_t checkpoints_ = 0;
  Time next_checkpoint_at_{0};

  // Reconnect backoff: a peer whose connection attempt failed is not dialled
  // again before not_before; the core is told "down" instead, on the next
  // loop iteration, and retries on its own timers.
  struct Backoff {
    uint32_t failures = 0;
    Time not_before{0};
  };
  std::map<NodeName, Backoff> backoff_;
  std::set<NodeName> dialling_;  // connect() issued, no peer up or down yet
  std::vector<NodeName> deferred_downs_;
  struct UnnamedContact {
    std::string address;
    NodeName name;  // empty until a handshake told it
    Backoff backoff;
  };
  std::vector<UnnamedContact> unnamed_contacts_;
  uint64_t connects_deferred_ = 0;
  uint64_t publishes_failed_ = 0;  // queued publishes the core refused (none expected)
  // Topics subscribed before start, handed to the core by start(); after
  // that, subscriptions go to the loop thread.
  std::mutex topics_mutex_;
  std::set<std::string> initial_topics_;
  bool topics_handed_over_ = false;
  Duration reconnect_min_{0};
  Duration reconnect_max_{0};
  std::mt19937_64 jitter_{std::random_device{}()};
  std::thread loop_;
  std::atomic<bool> running_{false};
  Status storage_error_;

  // Operations (runtime/http): loop thread after start.
  std::unique_ptr<http::OpsServer> ops_;
  LogCallback log_callback_;
  struct EarlyLog {
    LogLevel level;
    const char* component;  // static strings
    std::string message;
  };
  std::vector<EarlyLog> early_logs_;  // made by start(), before the loop thread runs
  LogLevel log_level_ = LogLevel::info;
  size_t value_bytes_warn_ = 1u << 20;  // kv.value_bytes_warn
  RuntimeHistograms histograms_;
  std::set<std::string> app_topics_;              // topics the application subscribes to
  std::map<std::string, uint32_t> held_topics_;   // topics the admin server's streams hold
  std::unordered_map<std::string, Time> last_message_at_;  // by peer: detection histogram
  uint64_t unreachable_marks_ = 0;
  uint64_t reachable_marks_ = 0;
  uint64_t logged_tls_failures_ = 0;
  uint64_t logged_handshake_failures_ = 0;
  uint64_t logged_malformed_frames_ = 0;
  uint64_t logged_version_mismatches_ = 0;
};

}  // namespace lashup::runtime
