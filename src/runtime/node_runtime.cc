#include "runtime/node_runtime.h"

#include "core/wire/multicast_messages.h"
#include "runtime/http/ops_server.h"
#include "runtime/transport/tls.h"

#include <event2/event.h>
#include <event2/thread.h>

#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <numeric>
#include <cstdio>

#include <mutex>
#include <random>

namespace lashup::runtime {

namespace {

std::once_flag evthread_once;

bool is_wildcard(const std::string& host) { return host == "0.0.0.0" || host == "::" || host.empty(); }

// How often the loop checkpoints the Berkeley DB environment (which also
// removes log files no longer needed).
constexpr Duration kCheckpointInterval = std::chrono::seconds(30);
// How long a snapshot may go unrefreshed (last-heard ages, counters).
constexpr Duration kHousekeepingPeriod = 1s;
constexpr timeval kFirstHousekeeping{1, 0};
// How long stop() lets queued messages drain while connections close.
constexpr Duration kShutdownGrace = std::chrono::milliseconds(500);
// Commands and peer messages whose Actions are executed together (one store
// transaction); a longer run is flushed in slices of this many.
constexpr size_t kBatchInputs = 256;
// Room a multicast frame needs beyond its payload (origin, topic, header).
constexpr int64_t kMulticastFrameOverheadBytes = 4096;

uint64_t monotonic_us() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now().time_since_epoch())
          .count());
}

}  // namespace

Result<std::unique_ptr<NodeRuntime>> NodeRuntime::create(const config::Config& config) {
  auto name = config.get("node_name");
  if (name->empty()) return Status::invalid("node_name: required to start a node");
  if (config.get("data_dir")->empty()) return Status::invalid("data_dir: required to start a node");
  if (*config.get_bool("tls")) {
    for (const char* key : {"tls.cert_file", "tls.key_file", "tls.ca_file"}) {
      if (config.get(key)->empty()) return Status::invalid(std::string(key) + ": required when tls is on");
    }
  }
  auto contacts = config::parse_address_list(*config.get("contact_nodes"));
  if (!contacts) return Status::invalid("contact_nodes: " + contacts.status().message());
  const std::string listen = *config.get("listen_address");
  if (config.get("advertise_address")->empty()) {
    auto address = config::parse_address(listen);
    if (address && is_wildcard(address->host)) {
      return Status::invalid("advertise_address: required when listen_address is a wildcard address (" + listen + ")");
    }
  }
  const int64_t payload_max = *config.get_int("multicast.payload_bytes_max");
  const int64_t frame_max = *config.get_int("transport.frame_bytes_max");
  if (payload_max + kMulticastFrameOverheadBytes > frame_max) {
    return Status::invalid("multicast.payload_bytes_max (" + std::to_string(payload_max) +
                           ") must leave " + std::to_string(kMulticastFrameOverheadBytes) +
                           " bytes of transport.frame_bytes_max (" + std::to_string(frame_max) +
                           ") for the message header");
  }
  if (payload_max > static_cast<int64_t>(wire::kMcPayloadMaxBytes)) {
    // Receivers refuse a larger payload as malformed and close the connection.
    return Status::invalid("multicast.payload_bytes_max (" + std::to_string(payload_max) +
                           ") exceeds what the multicast wire format carries (" +
                           std::to_string(wire::kMcPayloadMaxBytes) + " bytes)");
  }
  if (Status s = http::check_config(config); !s) return s;
  std::unique_ptr<NodeRuntime> runtime(new NodeRuntime(config));
  // The event fd exists from creation on, so an application can register it
  // with its poller before start.
  if (Status s = runtime->events_.open_fd(); !s) return s;
  return runtime;
}

NodeRuntime::NodeRuntime(const config::Config& config)
    : config_(config),
      node_config_(NodeConfig::from(config)),
      commands_(4096, WhenFull::refuse),
      events_(static_cast<size_t>(*config.get_int("events.queue_max")), WhenFull::drop_oldest),
      reconnect_min_(std::chrono::milliseconds(*config.get_int("transport.reconnect_min_ms"))),
      reconnect_max_(std::chrono::milliseconds(*config.get_int("transport.reconnect_max_ms"))) {
  const std::string level = *config.get("log.level");
  log_level_ = level == "error" ? LogLevel::error
               : level == "warn" ? LogLevel::warn
               : level == "debug" ? LogLevel::debug
                                  : LogLevel::info;
  value_bytes_warn_ = static_cast<size_t>(*config.get_int("kv.value_bytes_warn"));
  const auto contacts = config::parse_address_list(*config.get("contact_nodes"));  // validated by create()
  for (const auto& contact : *contacts) {
    const bool ipv6 = contact.host.find(':') != std::string::npos;
    std::string address = (ipv6 ? "[" + contact.host + "]" : contact.host) + ":" + std::to_string(contact.port);
    // A contact given by address only is dialled without a name; the
    // handshake tells it, and the core then joins through it.
    if (contact.name.empty()) {
      unnamed_contacts_.push_back(UnnamedContact{std::move(address), {}, {}});
    } else {
      node_config_.contacts.push_back({contact.name, std::move(address)});
    }
  }
}

NodeRuntime::~NodeRuntime() { stop(); }

Time NodeRuntime::now() const {
  // Never backwards, also after on_timer advanced it to a timer's time.
  const Time real = std::chrono::duration_cast<Duration>(std::chrono::steady_clock::now() - epoch_);
  last_now_ = std::max(last_now_, real);
  return last_now_;
}

Status NodeRuntime::start() {
  if (running_ || core_) return Status::state("the node was already started (create a new one to run again)");
  std::call_once(evthread_once, [] { evthread_use_pthreads(); });

  const bool tls = *config_.get_bool("tls");
  const TlsMaterial material{*config_.get("tls.cert_file"), *config_.get("tls.key_file"),
                             *config_.get("tls.ca_file")};
  if (tls) {
    // Checked before anything is opened, so a bad file is reported as such.
    auto context = make_tls_context(material, *config_.get("node_name"));
    if (!context) return Status::tls(context.status().message());
  } else if (!log_callback_ && log_level_ != LogLevel::error) {
    // Without a log callback, on stderr at once; with one, the loop thread
    // logs it when it starts.
    std::fprintf(stderr, "lashup: warning: node %s runs with tls = off: peers are not authenticated and "
                 "traffic is not encrypted\n", config_.get("node_name")->c_str());
  }

  storage::StoreOptions store_options;
  store_options.dir = *config_.get("data_dir");
  auto durability = storage::parse_durability(*config_.get("durability"));
  if (durability) store_options.durability = *durability;
  store_options.group_commit = std::chrono::milliseconds(*config_.get_int("durability.group_commit_ms"));
  auto store = storage::open_berkeley_db(store_options);
  if (!store) return Status::storage(store.status().message());
  store_ = std::move(*store);
  auto persisted = store_->load_all();
  if (!persisted) return Status::storage(persisted.status().message());

  // A new incarnation, durable before anyone can see it.
  Incarnation previous = 0;
  if (auto it = persisted->find(kPersistIncarnation); it != persisted->end()) {
    wire::Reader r(it->second);
    r.varint(previous);
  }
  const auto wall_seconds = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count());
  incarnation_ = next_incarnation(previous, wall_seconds);
  wire::Writer w;
  w.varint(incarnation_);
  if (Status s = store_->apply({{kPersistIncarnation, w.take()}}); !s) return Status::storage(s.message());
  if (Status s = store_->wait_durable(); !s) return Status::storage(s.message());

  // libevent reads a coarse clock (CLOCK_MONOTONIC_COARSE, a few ms per
  // tick) by default: near a timer's expiry it wakes every millisecond until
  // that clock catches up, several wake-ups per round for an idle node. The
  // precise clock costs a vDSO call per loop iteration.
  {
    event_config* config = event_config_new();
    if (config == nullptr) return Status::io("event_config_new failed");
    event_config_set_flag(config, EVENT_BASE_FLAG_PRECISE_TIMER);
    base_ = event_base_new_with_config(config);
    event_config_free(config);
  }
  if (base_ == nullptr) return Status::io("event_base_new failed");
  TransportOptions options;
  options.node_name = *config_.get("node_name");
  options.incarnation = incarnation_;
  options.protocol_version_max = node_config_.protocol_version;
  options.cluster_id = *config_.get("cluster_id");
  options.listen_address = *config_.get("listen_address");
  options.tls = tls;
  options.tls_material = material;
  options.frame_bytes_max = static_cast<uint32_t>(*config_.get_int("transport.frame_bytes_max"));
  options.send_queue_bytes_max = static_cast<size_t>(*config_.get_int("transport.send_queue_bytes_max"));
  options.handshake_timeout = std::chrono::milliseconds(*config_.get_int("transport.handshake_timeout_ms"));
  options.idle_timeout = std::chrono::milliseconds(*config_.get_int("transport.idle_timeout_ms"));
  auto transport = Transport::create(base_, options, *this);
  if (!transport) return transport.status();
  transport_ = std::move(*transport);
  advertised_ = *config_.get("advertise_address");
  if (advertised_.empty()) advertised_ = transport_->bound_address();
  auto ops = http::OpsServer::create(*this, base_, config_);
  if (!ops) return ops.status();
  ops_ = std::move(*ops);
  node_config_.self = {options.node_name, advertised_};

  if (Status s = commands_.open_fd(); !s) return s;
  timer_ = evtimer_new(base_, &NodeRuntime::on_timer, this);
  command_event_ = event_new(base_, commands_.fd(), EV_READ | EV_PERSIST, &NodeRuntime::on_commands, this);
  publish_event_ = event_new(base_, -1, 0, &NodeRuntime::on_publish, this);
  deferred_event_ = event_new(base_, -1, 0, &NodeRuntime::on_deferred_downs, this);
  housekeeping_event_ = evtimer_new(base_, &NodeRuntime::on_housekeeping, this);
  quiesce_event_ = evtimer_new(base_, &NodeRuntime::on_quiesce_check, this);
  flush_event_ = event_new(base_, -1, 0, &NodeRuntime::on_flush, this);
  if (timer_ == nullptr || command_event_ == nullptr || publish_event_ == nullptr || deferred_event_ == nullptr ||
      housekeeping_event_ == nullptr || quiesce_event_ == nullptr || flush_event_ == nullptr || event_add(command_event_, nullptr) != 0 ||
      event_add(housekeeping_event_, &kFirstHousekeeping) != 0) {
    return Status::io("cannot register loop events");
  }

  // Probe rounds aligned to the wall clock: nodes whose clocks agree probe
  // at the same instants, so their messages arrive in bursts (fewer wakeups).
  {
    // A multiple of both round lengths, so that both kinds of round align.
    const int64_t interval = std::lcm(std::max<int64_t>(node_config_.detector.probe_interval.count(), 1),
                                      std::max<int64_t>(node_config_.detector.heartbeat_interval.count(), 1));
    const int64_t wall_us = std::chrono::duration_cast<std::chrono::microseconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count();
    node_config_.detector.round_offset = Duration(((wall_us - now().count()) % interval + interval) % interval);
  }
  NodeCore::PersistedState state(persisted->begin(), persisted->end());
  partial_since_ = now();  // the view is partial until the node first reaches a member
  CoreLock core_lock(*this);  // readers may already look for the core
  core_ = std::make_unique<NodeCore>(node_config_, incarnation_, state, std::random_device{}());
  // A damaged record must stop the node, not be dropped: it would come back
  // as silently lost data.
  if (const Status& restored = core_->restore_status(); !restored) return restored;
  next_checkpoint_at_ = now() + kCheckpointInterval;
  execute(core_->on_start(now()));
  dial_unnamed_contacts();
  publish();
  {
    // Subscriptions made before start reach the core before any message
    // can; later ones go to the loop thread, which runs from here on.
    std::lock_guard lock(topics_mutex_);
    for (const auto& topic : initial_topics_) {
      if (core_->mc_subscribe(topic)) app_topics_.insert(topic);
    }
    initial_topics_.clear();
    topics_handed_over_ = true;
    running_ = true;
  }
  loop_ = std::thread([this] { run_loop(); });
  return Status::ok();
}

void NodeRuntime::run_loop() {
  // A write to a connection the peer has closed raises SIGPIPE in the
  // writing thread (OpenSSL's socket BIO cannot ask for MSG_NOSIGNAL); its
  // default action would kill the host process. Blocked here, it stays
  // pending on this thread and the write fails with EPIPE instead.
  sigset_t pipe;
  sigemptyset(&pipe);
  sigaddset(&pipe, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe, nullptr);
  loop_id_ = std::this_thread::get_id();
  for (auto& early : std::exchange(early_logs_, {})) log(early.level, early.component, early.message);
  log(LogLevel::info, "node",
      "started node=" + *config_.get("node_name") + " address=" + advertised_ + " incarnation=" +
          std::to_string(incarnation_) + (ops_ ? " " + ops_->describe() : std::string()));
  if (!*config_.get_bool("tls") && log_callback_) {
    log(LogLevel::warn, "config", "tls = off: peers are not authenticated and traffic is not encrypted");
  }
  // Events queued by start() (before this thread existed) are signalled here,
  // so the callback only ever runs on this thread.
  if (event_callback_ && events_.size() > 0) {
    in_callback_ = true;  // not re-entered by what the callback calls
    event_callback_();
    in_callback_ = false;
  }
  while (running_.load()) event_base_loop(base_, 0);
  // Input handled in the last iteration whose flush had not run yet: its
  // writes are persisted like any other.
  flush_batch();
  log(LogLevel::info, "node", "stopped node=" + *config_.get("node_name"));
}

void NodeRuntime::stop() {
  if (running_.exchange(false)) {
    // The loop stops itself when it sees running_ false after draining
    // commands (event_base_loop clears a break requested before it starts,
    // so a break from here could be lost): it closes every connection
    // gracefully, so what is queued (a leave announcement) still leaves,
    // and breaks once they are closed or kShutdownGrace has passed. A no-op
    // command wakes it; if the queue is full, it is readable already.
    commands_.push([](Time, NodeCore&) { return Actions{}; });
    if (loop_.joinable()) loop_.join();
  }
  commands_.close();
  // Commands that never ran: destroying them breaks their promises, so a
  // caller waiting in run() or ask() hears "closed" at once.
  while (commands_.pop(std::chrono::milliseconds(0))) {
  }
  ops_.reset();        // closes the admin and metrics sockets
  transport_.reset();  // no transport callback after this
  for (event** e : {&timer_, &command_event_, &publish_event_, &deferred_event_, &housekeeping_event_, &quiesce_event_,
                    &flush_event_}) {
    if (*e != nullptr) event_free(*e);
    *e = nullptr;
  }
  if (base_ != nullptr) event_base_free(base_);
  base_ = nullptr;
  {
    CoreLock lock(*this);
    core_.reset();
  }
  if (store_) store_->close();
  events_.close();
}

Status NodeRuntime::post(Command command) {
  if (!running_) return Status::closed("the node is not running");
  if (!commands_.push(std::move(command))) {
    if (commands_.closed()) return Status::closed("the node is not running");
    return Status::again("the command queue is full");
  }
  return Status::ok();
}

Status NodeRuntime::run(std::function<Actions(Time, NodeCore&, Status&)> command) {
  struct Answer {
    Status status;
  };
  Result<Answer> answer = call<Answer>([this, command = std::move(command)](Time now, NodeCore& core) {
    Answer a;
    execute(command(now, core, a.status));
    publish();
    return a;
  });
  return answer ? answer->status : answer.status();
}

Result<NodeRuntime::KvRead> NodeRuntime::kv_update(std::string key, std::vector<crdt::FieldOp> ops,
                                                    std::optional<crdt::CausalContext> expected) {
  struct Answer {
    Status status;
    KvRead read;
  };
  // The write, on the loop thread; `answer` runs once its outcome is known
  // (after the commit of the batch it is part of).
  auto write = [this](Time now, NodeCore& core, const std::string& key, const std::vector<crdt::FieldOp>& ops,
                      const std::optional<crdt::CausalContext>& expected, auto answer) {
    Result<kv::KvStore::Written> written = Status::internal("not written");
    const size_t before = core.kv().encoded_bytes(key);
    Actions out = core.kv_update(now, key, ops, expected ? &*expected : nullptr, written);
    if (!written) {
      answer(Answer{written.status(), {}});
      return out;
    }
    warn_if_large(core, key, before);
    Answer a;
    a.read.value = std::move(written->value);
    if (const crdt::Map* state = core.kv().get_state(key)) a.read.context = crdt::encode_context(state->context());
    after_commit([answer, a = std::move(a)](const Status& stored) mutable {
      if (!stored) a.status = stored;
      answer(std::move(a));
    });
    return out;
  };
  if (on_loop_thread()) {
    // From the event callback: nothing may wait for the loop here.
    if (!running_) return Status::closed("the node is not running");
    Answer result;
    Actions out;
    {
      CoreLock lock(*this);
      out = write(now(), *core_, key, ops, expected, [&result](Answer a) { result = std::move(a); });
    }
    add_to_batch(std::move(out));
    flush_batch();
    if (!result.status) return result.status;
    return std::move(result.read);
  }
  // Everything the loop needs is owned by the command: a caller that gives
  // up waiting leaves it nothing dangling.
  auto promise = std::make_shared<std::promise<Answer>>();
  auto future = promise->get_future();
  // The command (then its continuation) owns the only reference to the
  // promise, so a command dropped without running breaks it: see ask().
  Status posted = post([write, key = std::move(key), ops = std::move(ops), expected = std::move(expected),
                        promise = std::move(promise)](Time now, NodeCore& core) {
    return write(now, core, key, ops, expected, [promise](Answer a) { promise->set_value(std::move(a)); });
  });
  if (!posted) return posted;
  if (future.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
    return Status::internal("the loop thread did not answer within 10 s");
  }
  Answer answer;
  try {
    answer = future.get();
  } catch (const std::future_error&) {
    return Status::closed("the node stopped before the write ran");
  }
  if (!answer.status) return answer.status;
  return std::move(answer.read);
}

void NodeRuntime::warn_if_large(const NodeCore& core, const std::string& key, size_t before) {
  // Once per crossing of the threshold, not at every write of a large value.
  const size_t after = core.kv().encoded_bytes(key);
  if (before > value_bytes_warn_ || after <= value_bytes_warn_) return;
  log(LogLevel::warn, "kv",
      "the value of key \"" + key + "\" is " + std::to_string(after) + " bytes, above kv.value_bytes_warn (" +
          std::to_string(value_bytes_warn_) + "); every node keeps it, and kv.value_bytes_max (" +
          std::to_string(node_config_.kv.value_bytes_max) + ") refuses larger ones");
}

Status NodeRuntime::kv_update_async(std::string key, std::vector<crdt::FieldOp> ops,
                                    std::optional<crdt::CausalContext> expected, uint64_t request_id) {
  return post([this, key = std::move(key), ops = std::move(ops), expected = std::move(expected), request_id](
                  Time now, NodeCore& core) {
    Result<kv::KvStore::Written> written = Status::internal("not written");
    const size_t before = core.kv().encoded_bytes(key);
    Actions out = core.kv_update(now, key, ops, expected ? &*expected : nullptr, written);
    if (!written) {
      out.emit(KvUpdateDone{request_id, key, written.status()});
      return out;
    }
    warn_if_large(core, key, before);
    after_commit([this, request_id, key](const Status& stored) {
      batch_events_.push_back(KvUpdateDone{request_id, key, stored});
    });
    return out;
  });
}

Status NodeRuntime::kv_remove(std::string key) {
  struct Answer {
    Status status;
  };
  Result<Answer> answer = call<Answer>([this, key = std::move(key)](Time now, NodeCore& core) {
    Result<kv::KvStore::Written> written = Status::internal("not written");
    Status stored = execute(core.kv_remove(now, key, written));
    return Answer{written ? stored : written.status()};
  });
  return answer ? answer->status : answer.status();
}

Result<NodeRuntime::KvRead> NodeRuntime::kv_get(std::string_view key) const {
  Result<std::optional<KvRead>> read = read_core<std::optional<KvRead>>([key](const NodeCore& core) {
    std::optional<KvRead> out;
    if (const crdt::Map* map = core.kv().get(key)) out = KvRead{map->value(), crdt::encode_context(map->context())};
    return out;
  });
  if (!read) return read.status();
  if (!*read) return Status::not_found("no such key");
  return std::move(**read);
}

Result<std::vector<std::string>> NodeRuntime::kv_keys(std::string_view pattern, bool glob) const {
  return read_core<std::vector<std::string>>([pattern, glob](const NodeCore& core) {
    return glob ? core.kv().keys_matching(pattern) : core.kv().keys_with_prefix(pattern);
  });
}

Status NodeRuntime::kv_subscribe(uint64_t id, std::string pattern, bool glob) {
  struct Answer {
    Status status;
  };
  Result<Answer> answer = call<Answer>([this, id, pattern = std::move(pattern), glob](Time now, NodeCore& core) {
    Answer a;
    execute(core.kv_subscribe(now, id, pattern, glob, a.status));
    return a;
  });
  return answer ? answer->status : answer.status();
}

Status NodeRuntime::kv_unsubscribe(uint64_t id) {
  Result<bool> removed = call<bool>([id](Time, NodeCore& core) { return core.kv_unsubscribe(id); });
  if (!removed) return removed.status();
  return *removed ? Status::ok() : Status::not_found("no such subscription: " + std::to_string(id));
}

Status NodeRuntime::check_topic(std::string_view topic) const {
  if (Status s = wire::validate_topic(topic); !s) return s;
  // The node's own protocols' topics (the rule NodeCore::mc_publish applies).
  if (topic.starts_with(kReservedTopicPrefix)) {
    return Status::invalid("multicast topics starting with \"" + std::string(kReservedTopicPrefix) +
                           "\" are reserved");
  }
  return Status::ok();
}

Status NodeRuntime::check_publish(std::string_view topic, size_t payload_bytes) const {
  if (Status s = check_topic(topic); !s) return s;
  const size_t max = node_config_.multicast.max_payload_bytes;
  if (payload_bytes > max) {
    return Status::too_large("payload of " + std::to_string(payload_bytes) +
                             " bytes exceeds multicast.payload_bytes_max (" + std::to_string(max) + ")");
  }
  return Status::ok();
}

Status NodeRuntime::publish(std::string_view topic, wire::ByteView payload) {
  if (Status s = check_publish(topic, payload.size()); !s) return s;
  return post(
      [this, topic = std::string(topic), payload = Bytes(payload.begin(), payload.end())](Time now, NodeCore& core) {
        Result<uint64_t> sequence = Status::internal("not published");
        Actions out = core.mc_publish(now, topic, payload, sequence);
        if (!sequence) ++publishes_failed_;
        return out;
      });
}

Result<uint64_t> NodeRuntime::publish_and_wait(std::string_view topic, wire::ByteView payload) {
  if (Status s = check_publish(topic, payload.size()); !s) return s;
  struct Answer {
    Status status;
    uint64_t sequence = 0;
  };
  // Copied: a caller that gives up waiting (ask's time limit) must not
  // leave the loop a dangling view.
  Result<Answer> answer = call<Answer>(
      [this, topic = std::string(topic), payload = Bytes(payload.begin(), payload.end())](Time now, NodeCore& core) {
        Result<uint64_t> sequence = Status::internal("not published");
        execute(core.mc_publish(now, topic, payload, sequence));
        Answer a;
        if (sequence) {
          a.sequence = *sequence;
        } else {
          ++publishes_failed_;
          a.status = sequence.status();
        }
        return a;
      });
  if (!answer) return answer.status();
  if (!answer->status) return answer->status;
  return answer->sequence;
}

Status NodeRuntime::subscribe(std::string_view topic) {
  if (Status s = check_topic(topic); !s) return s;
  {
    std::lock_guard lock(topics_mutex_);
    if (!topics_handed_over_) {
      initial_topics_.emplace(topic);
      return Status::ok();
    }
  }
  struct Answer {
    Status status;
  };
  Result<Answer> answer = call<Answer>([this, topic = std::string(topic)](Time, NodeCore& core) {
    Answer a{core.mc_subscribe(topic)};
    if (a.status) app_topics_.insert(topic);
    return a;
  });
  return answer ? answer->status : answer.status();
}

Status NodeRuntime::unsubscribe(std::string_view topic) {
  const auto not_subscribed = [&] { return Status::not_found("not subscribed to " + std::string(topic)); };
  {
    std::lock_guard lock(topics_mutex_);
    if (!topics_handed_over_) return initial_topics_.erase(std::string(topic)) > 0 ? Status::ok() : not_subscribed();
  }
  Result<bool> removed = call<bool>([this, topic = std::string(topic)](Time, NodeCore& core) {
    if (app_topics_.erase(topic) == 0) return false;
    // A topic the admin server's streams still hold stays subscribed.
    if (held_topics_.count(topic) == 0) core.mc_unsubscribe(topic);
    return true;
  });
  if (!removed) return removed.status();
  return *removed ? Status::ok() : not_subscribed();
}

void NodeRuntime::on_peer_up(const std::string& peer, uint64_t, const std::string& address,
                             uint32_t protocol_version) {
  if (quiescing_) return;
  dialling_.erase(peer);
  backoff_.erase(peer);
  log(LogLevel::debug, "transport",
      "peer connected peer=" + peer + " address=" + address + " version=" + std::to_string(protocol_version));
  Actions out;
  {
    CoreLock lock(*this);
    core_->on_connection_version(peer, protocol_version);
    out = core_->on_connection(now(), peer, true);
    for (auto& contact : unnamed_contacts_) {
      if (contact.name.empty() && contact.address == address) {
        contact.name = peer;
        out.append(core_->add_contact(now(), {peer, address}));
      }
    }
  }
  execute(std::move(out));
}

void NodeRuntime::back_off(Backoff& backoff, Time now) {
  // Jittered exponential: reconnect_min, doubling per failure, capped at
  // reconnect_max, each delay drawn from [half, all] of it.
  backoff.failures = std::min<uint32_t>(backoff.failures + 1, 20);
  const Duration delay =
      std::min(reconnect_max_, reconnect_min_ * (int64_t{1} << std::min<uint32_t>(backoff.failures - 1, 16)));
  std::uniform_real_distribution<double> jitter(0.5, 1.0);
  backoff.not_before = now + Duration(static_cast<int64_t>(static_cast<double>(delay.count()) * jitter(jitter_)));
}

void NodeRuntime::dial_unnamed_contacts() {
  const Time t = now();
  for (auto& contact : unnamed_contacts_) {
    if (!contact.name.empty() || t < contact.backoff.not_before || contact.address == advertised_) continue;
    // A failed attempt reports nothing (there is no name to report), so
    // every attempt counts as failed until a handshake names the contact.
    back_off(contact.backoff, t);
    transport_->connect("", contact.address);
  }
}

void NodeRuntime::on_peer_down(const std::string& peer) {
  if (quiescing_) return;
  if (dialling_.erase(peer) > 0) {
    back_off(backoff_[peer], now());  // our attempt failed: space the next ones out
    log(LogLevel::debug, "transport", "connection attempt failed peer=" + peer);
  } else {
    log(LogLevel::info, "transport", "peer disconnected peer=" + peer + " reason=connection_closed");
  }
  Actions out;
  {
    CoreLock lock(*this);
    out = core_->on_connection(now(), peer, false);
  }
  execute(std::move(out));
}

void NodeRuntime::on_message(const std::string& peer, std::span<const uint8_t> message) {
  if (quiescing_) return;
  Actions out;
  {
    CoreLock lock(*this);
    const Time t = now();
    last_message_at_[peer] = t;
    out = core_->on_message(t, peer, message);
  }
  batch_has_messages_ = true;
  // Batched with the other messages and commands of this loop iteration.
  add_to_batch(std::move(out));
}

void NodeRuntime::connect(const NodeName& peer, const std::string& address) {
  if (!transport_->is_connected(peer)) {
    auto it = backoff_.find(peer);
    if (it != backoff_.end() && now() < it->second.not_before) {
      // Refused without a socket; the core hears "down" on the next loop
      // iteration (never from inside the call that asked).
      ++connects_deferred_;
      deferred_downs_.push_back(peer);
      event_active(deferred_event_, 0, 0);
      return;
    }
    dialling_.insert(peer);
  }
  transport_->connect(peer, address);
}

void NodeRuntime::on_deferred_downs(int, short, void* self) {
  auto* runtime = static_cast<NodeRuntime*>(self);
  if (runtime->quiescing_) return;
  std::vector<NodeName> downs;
  downs.swap(runtime->deferred_downs_);
  std::sort(downs.begin(), downs.end());
  downs.erase(std::unique(downs.begin(), downs.end()), downs.end());
  Actions out;
  {
    CoreLock lock(*runtime);
    for (const auto& peer : downs) {
      if (!runtime->transport_->is_connected(peer)) out.append(runtime->core_->on_connection(runtime->now(), peer, false));
    }
  }
  runtime->execute(std::move(out));
}

void NodeRuntime::on_timer(int, short, void* self) {
  auto* runtime = static_cast<NodeRuntime*>(self);
  // libevent may fire a timer up to a millisecond early (it reads a coarse
  // clock); the core, seeing a time before what it asked for, would do
  // nothing and ask again. It gets at least the time it asked for.
  runtime->last_now_ = std::max(runtime->last_now_, runtime->timer_at_.value_or(Time{0}));
  runtime->timer_at_.reset();
  if (runtime->quiescing_) return;
  Actions out;
  {
    CoreLock lock(*runtime);
    out = runtime->core_->on_tick(runtime->now());
  }
  runtime->execute(std::move(out));
}

void NodeRuntime::on_commands(int, short, void* self) {
  auto* runtime = static_cast<NodeRuntime*>(self);
  while (auto command = runtime->commands_.pop(std::chrono::milliseconds(0))) {
    Actions out;
    {
      CoreLock lock(*runtime);
      out = (*command)(runtime->now(), *runtime->core_);
    }
    runtime->add_to_batch(std::move(out));
  }
  runtime->flush_batch();
  if (!runtime->running_.load()) runtime->quiesce();
}

void NodeRuntime::on_flush(int, short, void* self) { static_cast<NodeRuntime*>(self)->flush_batch(); }

void NodeRuntime::add_to_batch(Actions actions) {
  batch_.append(std::move(actions));
  if (++batch_inputs_ >= kBatchInputs) {
    flush_batch();
  } else if (batch_inputs_ == 1) {
    // Flushed once this loop iteration's other input is handled.
    event_active(flush_event_, 0, 0);
  }
}

void NodeRuntime::after_commit(std::function<void(const Status&)> continuation) {
  batch_continuations_.push_back(std::move(continuation));
}

void NodeRuntime::flush_batch() {
  if (batch_inputs_ == 0 && batch_continuations_.empty() && batch_.empty()) return;
  Actions actions = std::exchange(batch_, Actions{});
  auto continuations = std::exchange(batch_continuations_, {});
  batch_inputs_ = 0;
  const Status stored = execute_now(std::move(actions));
  for (auto& continuation : continuations) continuation(stored);
  if (!batch_events_.empty()) {
    Actions emitted;
    for (auto& event : std::exchange(batch_events_, {})) emitted.emit(std::move(event));
    execute_now(std::move(emitted));
  }
  if (std::exchange(batch_has_messages_, false)) rearm_timer();
}

// A message can only postpone the core's deadlines (a heartbeat moves its
// neighbour's silence deadline past the next round), but Actions::wake_at
// and arm_timer() only ever move the timer earlier. Without this an idle
// node woke once per round for a deadline the round's heartbeats had
// already moved. on_tick() computes every deadline afresh, and calling it
// early is harmless (protocol_core.h); it costs a few microseconds, once
// per loop iteration that handled messages. A timer due within
// kTimerSlack is taken as due now, as libevent fires timers up to a
// millisecond early: the node's own round starts in the wake-up that its
// neighbours' heartbeats of that round caused, not in one of its own a
// moment later.
void NodeRuntime::rearm_timer() {
  constexpr Duration kTimerSlack = 2ms;
  if (quiescing_) return;
  if (timer_at_ && *timer_at_ - now() <= kTimerSlack) last_now_ = std::max(last_now_, *timer_at_);
  Actions out;
  {
    CoreLock lock(*this);
    out = core_->on_tick(now());
  }
  evtimer_del(timer_);
  timer_at_.reset();
  execute_now(std::move(out));
}

void NodeRuntime::quiesce() {
  if (quiescing_) return;
  quiescing_ = true;
  log(LogLevel::info, "node", "stopping node=" + *config_.get("node_name"));
  if (ops_) ops_->shut_down();
  evtimer_del(timer_);
  transport_->shut_down();
  quiesce_deadline_ = now() + kShutdownGrace;
  on_quiesce_check(-1, 0, this);
}

void NodeRuntime::on_quiesce_check(int, short, void* self) {
  auto* runtime = static_cast<NodeRuntime*>(self);
  if (runtime->transport_->connection_count() == 0 || runtime->now() >= runtime->quiesce_deadline_) {
    event_base_loopbreak(runtime->base_);
    return;
  }
  const timeval every{0, 5000};
  event_add(runtime->quiesce_event_, &every);
}

void NodeRuntime::on_publish(int, short, void* self) {
  auto* runtime = static_cast<NodeRuntime*>(self);
  runtime->publish_pending_ = false;
  runtime->publish();
}

void NodeRuntime::request_publish() {
  if (publish_pending_) return;
  publish_pending_ = true;
  event_active(publish_event_, 0, 0);
}

void NodeRuntime::on_housekeeping(int, short, void* self) { static_cast<NodeRuntime*>(self)->housekeeping(); }

void NodeRuntime::housekeeping() {
  if (quiescing_) return;
  const Time t = now();
  if (t >= next_checkpoint_at_) {
    next_checkpoint_at_ = t + kCheckpointInterval;
    if (Status s = store_->checkpoint(); s) {
      ++checkpoints_;
    } else {
      log(LogLevel::error, "storage", "checkpoint failed: " + s.message());
      ++storage_errors_;
      if (storage_error_.is_ok()) storage_error_ = s;
    }
  }
  dial_unnamed_contacts();
  log_transport_failures();
  // Forget backoff state long past its window.
  for (auto it = backoff_.begin(); it != backoff_.end();) {
    it = t > it->second.not_before + 2 * reconnect_max_ ? backoff_.erase(it) : std::next(it);
  }
  publish();
  arm_housekeeping();
}

// convergence.whole_ms: one sample per period in which this node's view is
// partial, from its start (until it first reaches a member) or from the
// first member it reported unreachable, to the moment it reports every
// member it knows reachable (or left) again.
void NodeRuntime::note_convergence() {
  const bool whole = ever_joined_ && reported_unreachable_.empty();
  if (whole && partial_since_) {
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now() - *partial_since_).count();
    histograms_.convergence_ms.observe(static_cast<uint64_t>(std::max<int64_t>(0, ms)));
    partial_since_.reset();
  } else if (!whole && !partial_since_) {
    partial_since_ = now();
  }
}

// At most a second apart (the stats are documented as refreshed at least
// once a second), at the start of a detector round: in the wake-up the round
// causes anyway (RoundGrid). Rounds of a second or more are not waited for.
void NodeRuntime::arm_housekeeping() {
  RoundGrid grid{node_config_.detector.heartbeat_interval, node_config_.detector.round_offset};
  if (grid.length >= kHousekeepingPeriod) grid.length = Duration(0);
  const Time t = now();
  // The first round start in [t + period - round, t + period).
  const Duration delay = grid.at_or_after(t + kHousekeepingPeriod - grid.length) - t;
  timeval tv{static_cast<time_t>(delay.count() / 1'000'000), static_cast<suseconds_t>(delay.count() % 1'000'000)};
  evtimer_add(housekeeping_event_, &tv);
}

void NodeRuntime::publish() {
  const Time t = now();
  auto snapshot = std::make_shared<Snapshot>();
  snapshot->self = core_->name();
  const Membership& membership = core_->membership();
  for (auto& info : membership.members(t)) {
    MemberView view;
    view.name = std::move(info.name);
    view.address = std::move(info.address);
    view.state = info.state;
    view.incarnation = info.incarnation;
    view.last_heard_ms = view.name == snapshot->self
                             ? 0
                             : static_cast<uint64_t>(std::max<int64_t>(
                                   0, std::chrono::duration_cast<std::chrono::milliseconds>(t - info.last_heard).count()));
    if (auto d = membership.distance(view.name)) view.distance = *d;
    view.metadata = std::move(info.metadata);
    view.neighbors = std::move(info.active_view);
    view.link_reports = std::move(info.link_reports);
    snapshot->members.push_back(std::move(view));
  }
  uint64_t unreachable = 0;
  for (const auto& m : snapshot->members) unreachable += m.state == Reachability::unreachable ? 1 : 0;
  const auto& node = core_->stats();
  const auto& ms = membership.stats();
  const auto& ts = transport_->stats();
  const auto& mc = core_->multicast().stats();
  const auto& kv = core_->kv().stats();
  const auto& sync = core_->kv_sync().stats();
  snapshot->stats = {
      membership.member_count(),
      membership.reachable_member_count(),
      unreachable,
      core_->overlay().active_view().size(),
      core_->overlay().passive_view().size(),
      node.departition_probes,
      node.neighbors_failed,
      node.neighbors_link_broken,
      node.connection_closes_detected,
      ms.records_received,
      ms.records_applied,
      ms.records_sent,
      ms.members_expired,
      node.malformed_messages,
      transport_->connection_count(),
      ts.connections_accepted,
      ts.connections_opened,
      ts.handshake_failures,
      ts.tls_failures,
      ts.malformed_frames,
      ts.version_mismatches,
      ts.messages_sent,
      ts.messages_received,
      ts.bytes_sent,
      ts.bytes_received,
      ts.send_queue_drops,
      connects_deferred_,
      events_.dropped(),
      commands_.refused(),
      storage_errors_,
      checkpoints_,
      ++snapshots_published_,
      mc.published,
      mc.delivered,
      mc.received,
      mc.duplicates_received,
      mc.stale_received,
      mc.forwarded,
      mc.no_subscriber,
      mc.hops_exhausted,
      mc.announcements_sent,
      mc.pulls_sent,
      mc.repairs_sent,
      mc.repaired,
      mc.pull_misses,
      mc.lost,
      mc.history_evicted_early,
      mc.missing_overflow,
      core_->multicast().history_bytes(),
      core_->multicast().missing_count(),
      publishes_failed_,
      mc.late_tree_copies,
      mc.skipped_unannounced,
      core_->kv().size(),
      kv.local_updates,
      kv.deltas_applied,
      kv.deltas_redundant,
      kv.deltas_rejected,
      node.kv_deltas_malformed,
      node.kv_deltas_unsent,
      sync.rounds_started,
      sync.rounds_equal,
      sync.states_sent,
      sync.states_applied,
      sync.bytes_sent,
      sync.rounds_followed_up,
      core_->kv().tombstone_count(),
      kv.tombstones_collected,
  };
  {
    // Operations stats (appended to the core's; runtime/http).
    auto& stats = snapshot->stats;
    uint64_t left = 0;
    for (const auto& m : snapshot->members) left += m.state == Reachability::left ? 1 : 0;
    const auto& ds = core_->detector().stats();
    stats[stat_index("members.left")] = left;
    stats[stat_index("membership.unreachable_marks")] = unreachable_marks_;
    stats[stat_index("membership.reachable_marks")] = reachable_marks_;
    stats[stat_index("detector.probes_sent")] = ds.probes_sent;
    stats[stat_index("detector.probes_missed")] = ds.probes_missed;
    stats[stat_index("detector.indirect_requests_sent")] = ds.indirect_requests_sent;
    stats[stat_index("detector.indirect_acks_received")] = ds.indirect_acks_received;
    stats[stat_index("detector.heartbeats_received")] = ds.heartbeats_received;
    stats[stat_index("commands.queued")] = commands_.size();
    stats[stat_index("events.queued")] = events_.size();
    if (ops_) {
      stats[stat_index("admin.requests")] = ops_->counters().requests;
      stats[stat_index("admin.requests_refused")] = ops_->counters().refused;
      stats[stat_index("admin.streams")] = ops_->counters().streams;
    }
    histograms_.commit_us.write(&stats[stat_index("storage.commit_us.count")]);
    histograms_.detection_ms.write(&stats[stat_index("detection.unreachable_ms.count")]);
    histograms_.convergence_ms.write(&stats[stat_index("convergence.whole_ms.count")]);
    histograms_.health_rtt_us.write(&stats[stat_index("health.rtt_us.count")]);
  }
  std::shared_ptr<const Snapshot> published(std::move(snapshot));
  {
    std::lock_guard lock(snapshot_mutex_);
    snapshot_.swap(published);
  }
  // The previous snapshot, if no reader holds it, is freed here, outside the lock.
}

Status NodeRuntime::execute(Actions actions) {
  flush_batch();
  return execute_now(std::move(actions));
}

Status NodeRuntime::execute_now(Actions actions) {
  // Writes first, as one transaction: a persist is durable (per the
  // durability mode) before any message that follows it leaves.
  std::vector<std::pair<std::string, std::vector<uint8_t>>> writes;
  for (auto& action : actions.items) {
    if (auto* persist = std::get_if<PersistAction>(&action)) writes.emplace_back(persist->key, std::move(persist->value));
  }
  Status written;
  if (!writes.empty()) {
    const uint64_t commit_started_us = monotonic_us();
    Status s = store_->apply(writes);
    histograms_.commit_us.observe(monotonic_us() - commit_started_us);
    if (!s) {
      log(LogLevel::error, "storage", "write failed: " + s.message());
      ++storage_errors_;
      if (storage_error_.is_ok()) storage_error_ = s;
      written = Status::storage(s.message());
    }
  }
  bool queued = false;
  std::vector<NodeName> lost;
  for (auto& action : actions.items) {
    if (auto* send = std::get_if<SendAction>(&action)) {
      if (!transport_->send(send->to, send->message)) lost.push_back(send->to);
    } else if (auto* connect = std::get_if<ConnectAction>(&action)) {
      this->connect(connect->peer, connect->address);
    } else if (auto* disconnect = std::get_if<DisconnectAction>(&action)) {
      transport_->disconnect(disconnect->peer);
    } else if (auto* emit = std::get_if<EmitAction>(&action)) {
      // Probe outcomes are the detector's business; the application sees
      // what they lead to.
      if (std::holds_alternative<ProbeAnswered>(emit->event) || std::holds_alternative<ProbeTimedOut>(emit->event)) {
        continue;
      }
      if (const auto* removed = std::get_if<MemberRemoved>(&emit->event)) {
        if (reported_unreachable_.erase(removed->name) > 0) note_convergence();
      }
      if (const auto* change = std::get_if<ReachabilityChanged>(&emit->event)) {
        if (change->state == Reachability::unreachable) {
          reported_unreachable_.insert(change->name);
        } else {
          reported_unreachable_.erase(change->name);
          if (change->state == Reachability::reachable) ever_joined_ = true;
        }
        note_convergence();
        if (change->state == Reachability::unreachable) {
          ++unreachable_marks_;
          // Detection time: since the last message the member sent us
          // directly, or the last record of it we heard, whichever is later.
          std::string heard;
          Time last{0};
          if (auto it = last_message_at_.find(change->name); it != last_message_at_.end()) last = it->second;
          if (auto member = core_->membership().member(change->name)) last = std::max(last, member->last_heard);
          if (last.count() > 0) {
            const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now() - last).count();
            histograms_.detection_ms.observe(static_cast<uint64_t>(std::max<int64_t>(0, ms)));
            heard = " last_heard_ms=" + std::to_string(ms);
          }
          log(LogLevel::warn, "membership", "member unreachable name=" + change->name + heard);
        } else {
          if (change->state == Reachability::reachable) ++reachable_marks_;
          log(LogLevel::info, "membership",
              std::string(change->state == Reachability::left ? "member left" : "member reachable") +
                  " name=" + change->name);
        }
      } else if (const auto* health = std::get_if<HealthCheckResult>(&emit->event); health && health->alive) {
        histograms_.health_rtt_us.observe(static_cast<uint64_t>(std::max<int64_t>(0, health->round_trip.count())));
      }
      // The admin server's own requests are answered here, not queued.
      if (ops_ && ops_->on_event(emit->event)) continue;
      if (const auto* message = std::get_if<McDelivered>(&emit->event);
          message && held_topics_.count(message->topic) != 0 && app_topics_.count(message->topic) == 0) {
        continue;  // a topic only the admin server's streams subscribe to
      }
      // A snapshot shows membership; what the multicast counters say is
      // republished by the housekeeping timer.
      // KV events neither change what a snapshot shows.
      if (!std::holds_alternative<HealthCheckResult>(emit->event) &&
          !std::holds_alternative<McDelivered>(emit->event) && !std::holds_alternative<KvChanged>(emit->event) &&
          !std::holds_alternative<KvDumpDone>(emit->event) && !std::holds_alternative<KvUpdateDone>(emit->event)) {
        request_publish();
      }
      events_.push(TimedEvent{std::move(emit->event), monotonic_us()});
      queued = true;
    }
  }
  if (actions.wake_at && !quiescing_) arm_timer(*actions.wake_at);
  // The core thought these were connected: tell it they are not.
  for (const auto& peer : lost) {
    if (transport_->is_connected(peer) || quiescing_) continue;
    Actions out;
    {
      CoreLock lock(*this);
      out = core_->on_connection(now(), peer, false);
    }
    execute_now(std::move(out));
  }
  // Last, so a callback that calls back into the node (set_metadata, leave)
  // finds this batch complete.
  if (queued && event_callback_ && !in_callback_ && std::this_thread::get_id() == loop_id_.load()) {
    // Not re-entered: events a call from the callback queues are signalled
    // after it returns, by the next batch.
    in_callback_ = true;
    event_callback_();
    in_callback_ = false;
  }
  return written;
}

void NodeRuntime::log(LogLevel level, const char* component, const std::string& message) {
  if (static_cast<int>(level) > static_cast<int>(log_level_)) return;
  if (log_callback_ && !on_loop_thread()) {
    // Made by start() before the loop thread runs: the callback only ever
    // runs on the loop thread, which delivers these first.
    early_logs_.push_back({level, component, message});
    return;
  }
  if (log_callback_) {
    log_callback_(level, component, message);
  } else if (level == LogLevel::error) {
    std::fprintf(stderr, "lashup: error: %s: %s\n", component, message.c_str());
  }
}

void NodeRuntime::log_transport_failures() {
  const auto& ts = transport_->stats();
  const auto report = [&](uint64_t total, uint64_t& logged, LogLevel level, const char* what) {
    if (total == logged) return;
    log(level, "transport", std::string(what) + " count=" + std::to_string(total - logged) +
                                " total=" + std::to_string(total));
    logged = total;
  };
  report(ts.tls_failures, logged_tls_failures_, LogLevel::warn, "TLS handshake failures");
  report(ts.malformed_frames, logged_malformed_frames_, LogLevel::warn, "malformed frames (connections closed)");
  report(ts.version_mismatches, logged_version_mismatches_, LogLevel::warn,
         "handshakes refused for want of a common protocol version");
  report(ts.handshake_failures, logged_handshake_failures_, LogLevel::info, "handshake failures");
}

Status NodeRuntime::hold_topic(const std::string& topic) {
  if (Status s = check_topic(topic); !s) return s;
  if (!running_ || !core_) return Status::closed("the node is not running");
  CoreLock lock(*this);
  if (Status s = core_->mc_subscribe(topic); !s) return s;
  ++held_topics_[topic];
  return Status::ok();
}

void NodeRuntime::release_topic(const std::string& topic) {
  auto it = held_topics_.find(topic);
  if (it == held_topics_.end() || --it->second > 0) return;
  held_topics_.erase(it);
  if (app_topics_.count(topic) != 0 || !core_) return;
  CoreLock lock(*this);
  core_->mc_unsubscribe(topic);
}

void NodeRuntime::arm_timer(Time wake_at) {
  if (timer_at_ && *timer_at_ <= wake_at) return;
  timer_at_ = wake_at;
  const Duration delay = std::max(Duration(0), wake_at - now());
  timeval tv{static_cast<time_t>(delay.count() / 1'000'000), static_cast<suseconds_t>(delay.count() % 1'000'000)};
  evtimer_add(timer_, &tv);
}

}  // namespace lashup::runtime
