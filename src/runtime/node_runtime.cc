#include "runtime/node_runtime.h"

#include <event2/event.h>
#include <event2/thread.h>

#include <mutex>
#include <random>

namespace lashup::runtime {

namespace {

std::once_flag evthread_once;

bool is_wildcard(const std::string& host) { return host == "0.0.0.0" || host == "::" || host.empty(); }

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
  for (const auto& contact : *contacts) {
    // The overlay addresses nodes by name; a contact known only by address
    // needs a first connection to learn it (not supported yet).
    if (contact.name.empty()) {
      return Status::invalid("contact_nodes: give each contact as name@host:port (" + contact.host + ")");
    }
  }
  const std::string listen = *config.get("listen_address");
  if (config.get("advertise_address")->empty()) {
    auto address = config::parse_address(listen);
    if (address && is_wildcard(address->host)) {
      return Status::invalid("advertise_address: required when listen_address is a wildcard address (" + listen + ")");
    }
  }
  return std::unique_ptr<NodeRuntime>(new NodeRuntime(config));
}

NodeRuntime::NodeRuntime(const config::Config& config)
    : config_(config),
      node_config_(NodeConfig::from(config)),
      commands_(4096, WhenFull::refuse),
      events_(static_cast<size_t>(*config.get_int("events.queue_max")), WhenFull::drop_oldest) {
  const auto contacts = config::parse_address_list(*config.get("contact_nodes"));  // validated by create()
  for (const auto& contact : *contacts) {
    const bool ipv6 = contact.host.find(':') != std::string::npos;
    node_config_.contacts.push_back(
        {contact.name, (ipv6 ? "[" + contact.host + "]" : contact.host) + ":" + std::to_string(contact.port)});
  }
}

NodeRuntime::~NodeRuntime() { stop(); }

Time NodeRuntime::now() const {
  return std::chrono::duration_cast<Duration>(std::chrono::steady_clock::now() - epoch_);
}

Status NodeRuntime::start() {
  if (running_) return Status::invalid("the node is already started");
  std::call_once(evthread_once, [] { evthread_use_pthreads(); });

  storage::StoreOptions store_options;
  store_options.dir = *config_.get("data_dir");
  auto durability = storage::parse_durability(*config_.get("durability"));
  if (durability) store_options.durability = *durability;
  store_options.group_commit = std::chrono::milliseconds(*config_.get_int("durability.group_commit_ms"));
  auto store = storage::open_berkeley_db(store_options);
  if (!store) return store.status();
  store_ = std::move(*store);
  auto persisted = store_->load_all();
  if (!persisted) return persisted.status();

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
  if (Status s = store_->apply({{kPersistIncarnation, w.take()}}); !s) return s;
  if (Status s = store_->wait_durable(); !s) return s;

  base_ = event_base_new();
  if (base_ == nullptr) return Status::io("event_base_new failed");
  TransportOptions options;
  options.node_name = *config_.get("node_name");
  options.incarnation = incarnation_;
  options.cluster_id = *config_.get("cluster_id");
  options.listen_address = *config_.get("listen_address");
  options.tls = *config_.get_bool("tls");
  options.tls_material = {*config_.get("tls.cert_file"), *config_.get("tls.key_file"), *config_.get("tls.ca_file")};
  options.frame_bytes_max = static_cast<uint32_t>(*config_.get_int("transport.frame_bytes_max"));
  options.send_queue_bytes_max = static_cast<size_t>(*config_.get_int("transport.send_queue_bytes_max"));
  options.handshake_timeout = std::chrono::milliseconds(*config_.get_int("transport.handshake_timeout_ms"));
  options.idle_timeout = std::chrono::milliseconds(*config_.get_int("transport.idle_timeout_ms"));
  auto transport = Transport::create(base_, options, *this);
  if (!transport) return transport.status();
  transport_ = std::move(*transport);
  advertised_ = *config_.get("advertise_address");
  if (advertised_.empty()) advertised_ = transport_->bound_address();
  node_config_.self = {options.node_name, advertised_};

  if (Status s = commands_.open_fd(); !s) return s;
  if (Status s = events_.open_fd(); !s) return s;
  timer_ = evtimer_new(base_, &NodeRuntime::on_timer, this);
  command_event_ = event_new(base_, commands_.fd(), EV_READ | EV_PERSIST, &NodeRuntime::on_commands, this);
  if (timer_ == nullptr || command_event_ == nullptr || event_add(command_event_, nullptr) != 0) {
    return Status::io("cannot register loop events");
  }

  NodeCore::PersistedState state(persisted->begin(), persisted->end());
  core_ = std::make_unique<NodeCore>(node_config_, incarnation_, state, std::random_device{}());
  execute(core_->on_start(now()));
  running_ = true;
  loop_ = std::thread([this] { run_loop(); });
  return Status::ok();
}

void NodeRuntime::run_loop() {
  while (running_.load()) event_base_loop(base_, 0);
}

void NodeRuntime::stop() {
  if (running_.exchange(false)) {
    // The loop stops itself when it sees running_ false after draining
    // commands (event_base_loop clears a break requested before it starts,
    // so a break from here could be lost). A no-op command wakes it; if the
    // queue is full, it is readable already.
    commands_.push([](Time, NodeCore&) { return Actions{}; });
    if (loop_.joinable()) loop_.join();
  }
  commands_.close();
  transport_.reset();  // no transport callback after this
  if (timer_ != nullptr) event_free(timer_);
  if (command_event_ != nullptr) event_free(command_event_);
  timer_ = command_event_ = nullptr;
  if (base_ != nullptr) event_base_free(base_);
  base_ = nullptr;
  core_.reset();
  if (store_) store_->close();
  events_.close();
}

Status NodeRuntime::post(Command command) {
  if (!running_) return Status::invalid("the node is not running");
  if (!commands_.push(std::move(command))) return Status::too_large("the command queue is full");
  return Status::ok();
}

void NodeRuntime::on_peer_up(const std::string& peer, uint64_t, const std::string&) {
  execute(core_->on_connection(now(), peer, true));
}

void NodeRuntime::on_peer_down(const std::string& peer) { execute(core_->on_connection(now(), peer, false)); }

void NodeRuntime::on_message(const std::string& peer, std::span<const uint8_t> message) {
  execute(core_->on_message(now(), peer, message));
}

void NodeRuntime::on_timer(int, short, void* self) {
  auto* runtime = static_cast<NodeRuntime*>(self);
  runtime->timer_at_.reset();
  runtime->execute(runtime->core_->on_tick(runtime->now()));
}

void NodeRuntime::on_commands(int, short, void* self) {
  auto* runtime = static_cast<NodeRuntime*>(self);
  while (auto command = runtime->commands_.pop(std::chrono::milliseconds(0))) {
    runtime->execute((*command)(runtime->now(), *runtime->core_));
  }
  if (!runtime->running_.load()) event_base_loopbreak(runtime->base_);
}

void NodeRuntime::execute(Actions actions) {
  // Writes first, as one transaction: a persist is durable (per the
  // durability mode) before any message that follows it leaves.
  std::vector<std::pair<std::string, std::vector<uint8_t>>> writes;
  for (auto& action : actions.items) {
    if (auto* persist = std::get_if<PersistAction>(&action)) writes.emplace_back(persist->key, std::move(persist->value));
  }
  if (!writes.empty()) {
    if (Status s = store_->apply(writes); !s && storage_error_.is_ok()) storage_error_ = s;
  }
  std::vector<NodeName> lost;
  for (auto& action : actions.items) {
    if (auto* send = std::get_if<SendAction>(&action)) {
      if (!transport_->send(send->to, send->message)) lost.push_back(send->to);
    } else if (auto* connect = std::get_if<ConnectAction>(&action)) {
      transport_->connect(connect->peer, connect->address);
    } else if (auto* disconnect = std::get_if<DisconnectAction>(&action)) {
      transport_->disconnect(disconnect->peer);
    } else if (auto* emit = std::get_if<EmitAction>(&action)) {
      events_.push(std::move(emit->event));
    }
  }
  if (actions.wake_at) arm_timer(*actions.wake_at);
  // The core thought these were connected: tell it they are not.
  for (const auto& peer : lost) {
    if (!transport_->is_connected(peer)) execute(core_->on_connection(now(), peer, false));
  }
}

void NodeRuntime::arm_timer(Time wake_at) {
  if (timer_at_ && *timer_at_ <= wake_at) return;
  timer_at_ = wake_at;
  const Duration delay = std::max(Duration(0), wake_at - now());
  timeval tv{static_cast<time_t>(delay.count() / 1'000'000), static_cast<suseconds_t>(delay.count() % 1'000'000)};
  evtimer_add(timer_, &tv);
}

}  // namespace lashup::runtime
