#include "simulation.h"

#include <algorithm>
#include <cassert>
#include <type_traits>
#include <utility>

namespace lashup::sim {
namespace {

uint64_t mix64(uint64_t z) {
  z += 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// Seeds are derived, never drawn from a shared stream: a node's seed does
// not change when another node restarts more or less often.
uint64_t node_seed(uint64_t master, NodeIndex node, uint32_t boot) { return mix64(mix64(mix64(master) ^ node) ^ boot); }

constexpr uint64_t kNetworkSalt = 0x6e6574776f726b00ULL;  // "network"

// Random::uniform, without its 64-bit division on every call: Lemire's
// method needs the rejection threshold only when the low half of the product
// falls below the bound, which is rare. Same accept/reject decisions, so the
// same values as Random::uniform for the same stream. One draw per message.
uint64_t uniform_below(Random& random, uint64_t bound) {
  auto product = static_cast<unsigned __int128>(random.next_u64()) * bound;
  if (static_cast<uint64_t>(product) < bound) {
    const uint64_t threshold = -bound % bound;
    while (static_cast<uint64_t>(product) < threshold) {
      product = static_cast<unsigned __int128>(random.next_u64()) * bound;
    }
  }
  return static_cast<uint64_t>(product >> 64);
}

uint16_t tag_of(uint32_t life) { return static_cast<uint16_t>(life & 0xffff); }

std::string format_time(Time t) {
  return std::to_string(t.count() / 1000) + "." + std::to_string((t.count() % 1000) / 100) + "ms";
}

}  // namespace

const char* to_string(NodeStatus status) {
  switch (status) {
    case NodeStatus::not_started: return "not_started";
    case NodeStatus::alive: return "alive";
    case NodeStatus::crashed: return "crashed";
    case NodeStatus::hung: return "hung";
  }
  return "?";
}

std::string RunResult::describe() const {
  std::string out = "seed=" + std::to_string(seed);
  if (ok) return out + " ok at t=" + format_time(now);
  return out + " failed: " + failure;
}

Simulation::Simulation(SimConfig config, CoreFactory factory)
    : config_(std::move(config)),
      factory_(std::move(factory)),
      network_random_(mix64(config_.seed ^ kNetworkSalt)),
      partitions_(config_.nodes) {
  assert(factory_);
  trace_.enable(config_.trace_hash, config_.trace_list);
  nodes_.resize(config_.nodes);
  names_.resize(config_.nodes);
  stores_.resize(config_.nodes);
  node_pairs_.resize(config_.nodes);
  contacts_.resize(config_.nodes);
  for (NodeIndex i = 0; i < config_.nodes; ++i) {
    names_[i] = config_.name_of ? config_.name_of(i) : "n" + std::to_string(i);
  }
  index_by_name_.reserve(config_.nodes, names_);
  for (NodeIndex i = 0; i < config_.nodes; ++i) {
    const bool unique = index_by_name_.try_emplace(names_[i], i, names_).second;
    assert(unique && "node names must be unique");
    (void)unique;
  }
}

Simulation::~Simulation() = default;

// ---------------------------------------------------------------------------
// Running

void Simulation::start_all() {
  for (NodeIndex i = 0; i < node_count(); ++i) start(i);
}

void Simulation::start(NodeIndex node) { queue_.push(now_, EntryKind::boot, node, 0, 0, tag_of(nodes_[node].life)); }

RunResult Simulation::run_until(Time end) {
  Entry entry;
  while (failure_.empty() && queue_.pop_due(end, entry)) {
    now_ = entry.time;
    ++stats_.events;
    std::array<const Entry*, 2> hints;
    queue_.peek_hints(hints);
    if (hints[0] != nullptr) prefetch_near(*hints[0]);
    if (hints[1] != nullptr) prefetch_far(*hints[1]);
    dispatch(entry);
    if (config_.max_events != 0 && stats_.events >= config_.max_events && failure_.empty()) {
      fail("event budget of " + std::to_string(config_.max_events) + " exhausted (livelock?)");
    }
  }
  if (failure_.empty() && now_ < end) now_ = end;
  return result();
}

RunResult Simulation::result() const { return RunResult{failure_.empty(), failure_, now_, config_.seed}; }

void Simulation::at(Time when, std::function<void()> action) {
  uint32_t slot;
  if (!free_controls_.empty()) {
    slot = free_controls_.back();
    free_controls_.pop_back();
    controls_[slot] = std::move(action);
  } else {
    slot = static_cast<uint32_t>(controls_.size());
    controls_.push_back(std::move(action));
  }
  queue_.push(std::max(when, now_), EntryKind::control, slot);
}

void Simulation::every(Duration period, std::string name, Check check) {
  assert(period > Duration::zero());
  schedule_check(std::make_shared<PeriodicCheck>(PeriodicCheck{period, std::move(name), std::move(check)}));
}

void Simulation::schedule_check(std::shared_ptr<PeriodicCheck> check) {
  const Time when = now_ + check->period;
  at(when, [this, check = std::move(check)]() mutable {
    if (auto violation = check->check()) {
      fail("check '" + check->name + "': " + *violation);
      return;
    }
    schedule_check(std::move(check));
  });
}

void Simulation::fail(std::string message) {
  if (failure_.empty()) failure_ = "t=" + format_time(now_) + ": " + std::move(message);
}

void Simulation::execute(NodeIndex node, Actions actions) {
  if (nodes_[node].status == NodeStatus::alive) apply(node, std::move(actions));
}

void Simulation::dispatch(const Entry& entry) {
  switch (entry.kind) {
    case EntryKind::direction_head: on_direction_head(entry.a, entry.b); return;
    case EntryKind::tick: on_tick(entry.a, entry.tag, entry.time); return;
    case EntryKind::notice: on_notice(entry.a); return;
    case EntryKind::boot:
      if (entry.tag == tag_of(nodes_[entry.a].life) && nodes_[entry.a].status != NodeStatus::alive) boot(entry.a);
      return;
    case EntryKind::control: on_control(entry.a); return;
  }
}

// Every event lands on state nobody touched for a while (at 10,000 nodes,
// on lines long evicted): asking for the lines of the next events while the
// current one runs overlaps their misses with useful work. In two steps:
// two events ahead, the lines named by the entry itself (a node, a pair);
// one event ahead, the lines those lead to (the core object, the item in
// flight, the pair a tick will most likely send on). Only hints: nothing
// here changes what runs or in which order.
void Simulation::prefetch_far(const Entry& entry) const {
  switch (entry.kind) {
    case EntryKind::direction_head:
      __builtin_prefetch(&pairs_[entry.a]);
      __builtin_prefetch(&nodes_[entry.c]);  // the receiver
      return;
    case EntryKind::tick: {
      __builtin_prefetch(&nodes_[entry.a]);
      const auto* contacts = reinterpret_cast<const char*>(&contacts_[entry.a]);
      __builtin_prefetch(contacts);
      __builtin_prefetch(contacts + 64);
      return;
    }
    default: return;
  }
}

void Simulation::prefetch_near(const Entry& entry) const {
  switch (entry.kind) {
    case EntryKind::direction_head: {
      __builtin_prefetch(nodes_[entry.c].core.get());
      const uint32_t head = pairs_[entry.a].direction[entry.b].head;
      if (head != kNone) __builtin_prefetch(&items_[head]);
      return;
    }
    case EntryKind::tick: {
      const Node& n = nodes_[entry.a];
      __builtin_prefetch(n.core.get());
      // A probe round goes through the peers in turn: most likely, the
      // contact after the last one used.
      const auto& entries = contacts_[entry.a].entries;
      uint32_t pair = entries[(n.last_contact + 1u) % kContacts].pair;
      if (pair == kNone) pair = entries[0].pair;
      if (pair != kNone) __builtin_prefetch(&pairs_[pair]);
      return;
    }
    default: return;
  }
}

void Simulation::on_control(uint32_t slot) {
  std::function<void()> action = std::move(controls_[slot]);
  controls_[slot] = nullptr;
  free_controls_.push_back(slot);
  action();
}

void Simulation::boot(NodeIndex node) {
  Node& n = nodes_[node];
  ++n.boot;
  ++n.life;
  n.status = NodeStatus::alive;
  n.tick_at = kNever;
  n.paused_until = Time{0};
  const NodeContext context{node, names_[node], node_seed(config_.seed, node, n.boot), n.boot, stores_[node].durable()};
  n.core = factory_(context);
  assert(n.core && "the core factory returned no core");
  record(n.boot == 1 ? TraceKind::start : TraceKind::restart, node, 0, n.boot);
  ++stats_.handler_calls;
  apply(node, n.core->on_start(now_));
}

// ---------------------------------------------------------------------------
// Inputs to cores

void Simulation::deliver_message(uint32_t pair_index, NodeIndex to, NodeIndex from, Bytes payload) {
  ++stats_.messages_delivered;
  ++stats_.handler_calls;
  if (trace_.enabled()) record(TraceKind::message, to, from, Trace::hash_bytes(payload.data(), payload.size()));
  Node& n = nodes_[to];
  replying_ = Replying{to, from, pair_index};
  apply(to, n.core->on_message(now_, names_[from], payload));
  replying_ = Replying{};
}

void Simulation::report_connection(NodeIndex node, NodeIndex peer, bool up) {
  record(up ? TraceKind::connection_up : TraceKind::connection_down, node, peer);
  ++stats_.handler_calls;
  if (up) {
    // The connection speaks the highest protocol version both cores speak,
    // as the runtime's handshake negotiates it.
    const uint32_t ours = nodes_[node].core->protocol_version_max();
    const uint32_t theirs = nodes_[peer].core ? nodes_[peer].core->protocol_version_max() : 0;
    if (ours != 0 && theirs != 0) nodes_[node].core->on_connection_version(names_[peer], std::min(ours, theirs));
  }
  apply(node, nodes_[node].core->on_connection(now_, names_[peer], up));
}

void Simulation::report_connection_to_unknown(NodeIndex node, const NodeName& peer) {
  record(TraceKind::connection_down, node, kNone);
  ++stats_.handler_calls;
  apply(node, nodes_[node].core->on_connection(now_, peer, false));
}

void Simulation::apply(NodeIndex node, Actions&& actions) {
  Node& n = nodes_[node];  // nodes_ never grows: the reference stays valid
  const uint32_t life = n.life;
  bool persisted = false;
  for (Action& action : actions.items) {
    // An observer may have crashed the node: a dead process does nothing more.
    if (n.life != life) return;
    if (auto* send_action = std::get_if<SendAction>(&action)) {
      send(node, send_action->to, std::move(send_action->message));
    } else if (auto* connect_action = std::get_if<ConnectAction>(&action)) {
      connect(node, connect_action->peer);
    } else if (auto* disconnect_action = std::get_if<DisconnectAction>(&action)) {
      disconnect(node, disconnect_action->peer);
    } else if (auto* persist = std::get_if<PersistAction>(&action)) {
      stores_[node].write(std::move(persist->key), std::move(persist->value));
      persisted = true;
    } else if (auto* emit = std::get_if<EmitAction>(&action)) {
      for (const auto& observer : observers_) observer(now_, node, emit->event);
    }
  }
  if (n.life != life) return;
  // Syncing at the end of the handler is equivalent to syncing before its
  // first send: a crash can only happen between handlers.
  if (persisted && stores_[node].sync_mode() == DiskSync::each_handler) stores_[node].sync();
  if (actions.wake_at) wake(node, *actions.wake_at);
}

void Simulation::wake(NodeIndex node, Time when) {
  Node& n = nodes_[node];
  const Time at = std::max(when, now_);
  // One pending tick per node: an earlier wish replaces a later one; a later
  // wish waits for the pending tick, where the core will state it again.
  if (at >= n.tick_at) return;
  n.tick_at = at;
  queue_.push(at, EntryKind::tick, node, 0, 0, tag_of(n.life));
}

void Simulation::on_tick(NodeIndex node, uint16_t life_tag, Time due) {
  Node& n = nodes_[node];
  // Superseded by an earlier wake, or meant for a previous life.
  if (n.status != NodeStatus::alive || life_tag != tag_of(n.life) || n.tick_at != due) return;
  if (n.paused_until > now_) {
    n.tick_at = n.paused_until;
    queue_.push(n.tick_at, EntryKind::tick, node, 0, 0, life_tag);
    return;
  }
  n.tick_at = kNever;
  record(TraceKind::tick, node);
  ++stats_.handler_calls;
  apply(node, n.core->on_tick(now_));
}

// ---------------------------------------------------------------------------
// Actions

void Simulation::send(NodeIndex from, const NodeName& to_name, Bytes&& payload) {
  ++stats_.messages_sent;
  NodeIndex to;
  uint32_t pair_index;
  if (from == replying_.node && to_name == names_[replying_.peer]) {
    to = replying_.peer;
    pair_index = replying_.pair;
  } else {
    const NameKey key(to_name);
    pair_index = recall_contact(from, to_name, key, to);
    if (pair_index == kNone) {
      to = index_by_name_.find(to_name, key, names_);
      pair_index = (to == kNone || to == from) ? kNone : find_pair(from, to);
      if (pair_index != kNone) remember_contact(from, key, pair_index);
    }
  }
  const uint32_t side = from < to ? 0 : 1;
  if (pair_index == kNone || pairs_[pair_index].side[side].state == SideState::closed) {
    // The contract: no connection, the host drops the message and reports the connection down.
    ++stats_.dropped_no_connection;
    const bool is_peer = to != kNone && to != from;
    post_notice(now_, from, NoticeKind::no_connection, is_peer ? to : kNone, 0, is_peer ? NodeName{} : to_name);
    return;
  }
  if (partitions_.blocked(from, to)) {
    ++stats_.dropped_partition;
    return;
  }
  Pair& pair = pairs_[pair_index];
  if (pair.direction[side].messages >= config_.network.max_in_flight_per_direction) {
    ++stats_.dropped_queue_full;
    return;
  }
  // A message sent while the connection is still opening waits behind the
  // handshake in the same FIFO, as the runtime buffers it.
  enqueue(pair_index, side, ItemKind::message, pair.side[side].generation, now_ + latency(from, to),
          std::move(payload));
}

void Simulation::connect(NodeIndex from, const NodeName& to_name) {
  const NodeIndex to = index_by_name_.find(to_name, names_);
  if (to == kNone || to == from) {
    ++stats_.connects_attempted;
    ++stats_.connects_failed;
    // Not a node of the simulation (or the node itself): nothing to dial.
    post_notice(now_, from, NoticeKind::no_connection, kNone, 0, to_name);
    return;
  }
  const uint32_t pair_index = pair_for(from, to);
  const uint32_t mine = from < to ? 0 : 1;
  const uint32_t theirs = 1 - mine;
  Pair& pair = pairs_[pair_index];
  switch (pair.side[mine].state) {
    case SideState::open:
      // "Open (or keep)": every ConnectAction is answered, here at once.
      post_notice(now_, from, NoticeKind::still_up, to, pair.side[mine].generation);
      return;
    case SideState::connecting: return;  // the pending attempt will answer
    case SideState::closed: break;
  }
  ++stats_.connects_attempted;
  if (pair.accept_in_flight && pair.latest_initiator == theirs && pair.latest_generation > pair.side[mine].generation) {
    // Both ends dial each other at once: the peer's accept is already on its
    // way to us, so we join that connection instead of opening a second one.
    pair.side[mine] = Side{pair.latest_generation, SideState::connecting, false};
    // Its own deadline: the accept may still fail to complete (a partition
    // that cuts the answer), and then nothing else would ever answer.
    post_notice(now_ + config_.network.connect_timeout, from, NoticeKind::connect_failed, to, pair.latest_generation);
    return;
  }
  const uint32_t generation = ++pair.latest_generation;
  pair.latest_initiator = static_cast<uint8_t>(mine);
  pair.side[mine] = Side{generation, SideState::connecting, false};
  // Every attempt has a deadline; it is moot once the attempt is answered
  // (the notice then finds the side no longer connecting with this generation).
  post_notice(now_ + config_.network.connect_timeout, from, NoticeKind::connect_failed, to, generation);
  if (partitions_.blocked(from, to)) {
    pair.accept_in_flight = false;  // the SYN is lost: only the deadline will answer
    return;
  }
  // The SYN: whether anyone listens is decided when it arrives (deliver_item),
  // so nodes started at the same instant can dial each other.
  pair.accept_in_flight = true;
  enqueue(pair_index, mine, ItemKind::accept, generation, now_ + latency(from, to));
}

void Simulation::disconnect(NodeIndex from, const NodeName& to_name) {
  const NodeIndex to = index_by_name_.find(to_name, names_);
  if (to == kNone || to == from) return;
  const uint32_t pair_index = find_pair(from, to);
  if (pair_index == kNone) return;
  const uint32_t mine = from < to ? 0 : 1;
  if (pairs_[pair_index].side[mine].state == SideState::closed) return;
  // The one asking is not told: it knows. The peer learns after the
  // messages already sent (a FIN follows the data).
  close_side(pair_index, mine, /*tell_peer=*/true);
}

// ---------------------------------------------------------------------------
// The connection model

uint32_t Simulation::find_pair(NodeIndex a, NodeIndex b) const {
  const uint64_t key = (static_cast<uint64_t>(std::min(a, b)) << 32) | std::max(a, b);
  return pair_by_nodes_.find(key);
}

uint32_t Simulation::recall_contact(NodeIndex from, std::string_view to_name, const NameKey& key, NodeIndex& to) {
  const auto& entries = contacts_[from].entries;
  for (uint32_t i = 0; i < kContacts; ++i) {
    const Contact& contact = entries[i];
    if (contact.tag != key.tag || contact.prefix != key.prefix || contact.pair == kNone) continue;
    const Pair& pair = pairs_[contact.pair];
    const NodeIndex peer = pair.node[pair.node[0] == from ? 1 : 0];
    if (!key.exact() && names_[peer] != to_name) continue;
    to = peer;
    nodes_[from].last_contact = static_cast<uint8_t>(i);
    return contact.pair;
  }
  return kNone;
}

void Simulation::remember_contact(NodeIndex from, const NameKey& key, uint32_t pair_index) {
  Node& n = nodes_[from];
  contacts_[from].entries[n.next_contact] = Contact{key.tag, pair_index, key.prefix};
  n.last_contact = n.next_contact;
  n.next_contact = static_cast<uint8_t>((n.next_contact + 1) % kContacts);
}

uint32_t Simulation::pair_for(NodeIndex a, NodeIndex b) {
  assert(a != b);
  const uint64_t key = (static_cast<uint64_t>(std::min(a, b)) << 32) | std::max(a, b);
  const auto [index, inserted] = pair_by_nodes_.try_emplace(key, static_cast<uint32_t>(pairs_.size()));
  if (inserted) {
    Pair pair;
    pair.node[0] = std::min(a, b);
    pair.node[1] = std::max(a, b);
    pairs_.push_back(pair);
    node_pairs_[a].push_back(index);
    node_pairs_[b].push_back(index);
  }
  return index;
}

void Simulation::enqueue(uint32_t pair_index, uint32_t direction, ItemKind kind, uint32_t generation, Time earliest,
                         Bytes&& payload) {
  uint32_t slot;
  if (free_item_ != kNone) {
    slot = free_item_;
    free_item_ = items_[slot].next;
  } else {
    slot = static_cast<uint32_t>(items_.size());
    items_.emplace_back();
  }
  Direction& d = pairs_[pair_index].direction[direction];
  // FIFO: never before the item ahead of it, whatever this one's latency.
  const Time deliver_at = d.tail == kNone ? earliest : std::max(earliest, items_[d.tail].deliver_at);
  Item& item = items_[slot];
  item.deliver_at = deliver_at;
  item.next = kNone;
  item.generation = generation;
  item.kind = kind;
  item.payload = std::move(payload);
  if (d.tail == kNone) {
    d.head = slot;
  } else {
    items_[d.tail].next = slot;
  }
  d.tail = slot;
  if (kind == ItemKind::message) ++d.messages;
  if (!d.scheduled) {
    d.scheduled = true;
    queue_.push(std::max(items_[d.head].deliver_at, now_), EntryKind::direction_head, pair_index, direction,
                pairs_[pair_index].node[1 - direction]);
  }
}

Time Simulation::held_until(const Pair& pair, uint32_t direction) const {
  const Node& from = nodes_[pair.node[direction]];
  const Node& to = nodes_[pair.node[1 - direction]];
  Time hold = std::max(from.clogged_until, to.clogged_until);
  if (!direction_clogs_.empty()) {
    const uint64_t pair_index = static_cast<uint64_t>(&pair - pairs_.data());
    const auto clog = direction_clogs_.find(pair_index << 1 | direction);
    if (clog != direction_clogs_.end()) hold = std::max(hold, clog->second);
  }
  if (to.status == NodeStatus::alive) hold = std::max(hold, to.paused_until);
  return hold;
}

void Simulation::on_direction_head(uint32_t pair_index, uint32_t direction) {
  if (now_ < holds_until_) {
    const Time hold = held_until(pairs_[pair_index], direction);
    if (hold > now_) {
      // Clogged or paused: the head (and everything behind it) waits.
      queue_.push(hold, EntryKind::direction_head, pair_index, direction, pairs_[pair_index].node[1 - direction]);
      return;
    }
  }
  Direction& d = pairs_[pair_index].direction[direction];
  d.scheduled = false;
  const uint32_t slot = d.head;
  Item& item = items_[slot];
  d.head = item.next;
  if (d.head == kNone) d.tail = kNone;
  const ItemKind kind = item.kind;
  const uint32_t generation = item.generation;
  if (kind == ItemKind::message) --d.messages;
  Bytes payload = std::move(item.payload);
  item.next = free_item_;
  free_item_ = slot;

  deliver_item(pair_index, direction, kind, generation, std::move(payload));

  // The handler may have created pairs (reallocating pairs_) or queued more items.
  Direction& after = pairs_[pair_index].direction[direction];
  if (after.head != kNone && !after.scheduled) {
    after.scheduled = true;
    queue_.push(std::max(items_[after.head].deliver_at, now_), EntryKind::direction_head, pair_index, direction,
                pairs_[pair_index].node[1 - direction]);
  }
}

void Simulation::deliver_item(uint32_t pair_index, uint32_t direction, ItemKind kind, uint32_t generation,
                              Bytes&& payload) {
  Pair& pair = pairs_[pair_index];
  const uint32_t sender_side = direction;
  const uint32_t receiver_side = 1 - direction;
  const NodeIndex from = pair.node[sender_side];
  const NodeIndex to = pair.node[receiver_side];
  if (kind == ItemKind::accept && generation == pair.latest_generation) pair.accept_in_flight = false;

  if (nodes_[to].status != NodeStatus::alive) {
    if (kind == ItemKind::message) ++stats_.dropped_node_down;
    // A host whose process is gone answers with a reset; a hung host answers nothing.
    if (nodes_[to].status != NodeStatus::hung && (kind == ItemKind::message || kind == ItemKind::accept)) {
      reset_peer(pair_index, sender_side, generation);
    }
    return;
  }

  Side& receiver = pair.side[receiver_side];
  switch (kind) {
    case ItemKind::message:
      if (receiver.state == SideState::open && receiver.generation == generation) {
        deliver_message(pair_index, to, from, std::move(payload));
        return;
      }
      // Sent on a connection the receiver no longer has (it closed it, or
      // restarted since): dropped, and the sender's stale connection reset.
      ++stats_.dropped_closed;
      reset_peer(pair_index, sender_side, generation);
      return;

    case ItemKind::accept: {
      const bool fresh = generation > receiver.generation ||
                         (generation == receiver.generation && receiver.state == SideState::connecting);
      if (!fresh) {
        // The receiver closed this connection before it arrived.
        reset_peer(pair_index, sender_side, generation);
        return;
      }
      // The SYN-ACK would be lost: the handshake never completes, so the
      // listener never sees the connection and the dialer times out.
      if (partitions_.blocked(to, from)) return;
      const bool replaces_open = receiver.state == SideState::open;
      receiver.state = SideState::open;
      receiver.generation = generation;
      receiver.reset_sent = false;
      // The SYN-ACK: the initiator's connection is up one round trip after it asked.
      enqueue(pair_index, receiver_side, ItemKind::established, generation, now_ + latency(to, from));
      if (replaces_open) {
        // The peer came back (after a hang) and dialed again while we still
        // held its old connection: the old one is reported down first.
        ++stats_.connections_reset;
        report_connection(to, from, false);
        const Side& now_side = pairs_[pair_index].side[receiver_side];
        if (nodes_[to].status != NodeStatus::alive || now_side.state != SideState::open ||
            now_side.generation != generation) {
          return;
        }
      }
      report_connection(to, from, true);
      return;
    }

    case ItemKind::established:
      if (receiver.state == SideState::connecting && receiver.generation == generation) {
        receiver.state = SideState::open;
        report_connection(to, from, true);
      }
      return;

    case ItemKind::close:
      if (receiver.state != SideState::closed && receiver.generation == generation) {
        if (receiver.state == SideState::connecting) ++stats_.connects_failed;  // refused
        receiver.state = SideState::closed;
        report_connection(to, from, false);
      }
      return;
  }
}

void Simulation::close_side(uint32_t pair_index, uint32_t side, bool tell_peer) {
  Pair& pair = pairs_[pair_index];
  const uint32_t generation = pair.side[side].generation;
  pair.side[side].state = SideState::closed;
  if (!tell_peer) return;
  const NodeIndex from = pair.node[side];
  const NodeIndex to = pair.node[1 - side];
  // A FIN sent across a cut link is lost like any packet: the peer keeps a
  // half-open connection until it uses it.
  if (partitions_.blocked(from, to)) return;
  enqueue(pair_index, side, ItemKind::close, generation, now_ + latency(from, to));
}

void Simulation::reset_peer(uint32_t pair_index, uint32_t peer_side, uint32_t generation) {
  Pair& pair = pairs_[pair_index];
  Side& peer = pair.side[peer_side];
  if (peer.state == SideState::closed || peer.generation != generation) return;
  if (peer.reset_sent) return;  // one reset per connection is enough
  const NodeIndex host = pair.node[1 - peer_side];
  const NodeIndex to = pair.node[peer_side];
  if (partitions_.blocked(host, to)) return;
  peer.reset_sent = true;
  ++stats_.connections_reset;
  enqueue(pair_index, 1 - peer_side, ItemKind::close, generation, now_ + latency(host, to));
}

Duration Simulation::latency(NodeIndex from, NodeIndex to) {
  const LinkLatency link =
      config_.network.link_latency ? config_.network.link_latency(from, to) : config_.network.latency;
  int64_t us = link.base.count();
  if (any_extra_latency_) us += nodes_[from].extra_latency.count() + nodes_[to].extra_latency.count();
  if (link.jitter.count() > 0)
    us += static_cast<int64_t>(uniform_below(network_random_, static_cast<uint64_t>(link.jitter.count()) + 1));
  // At least 1 us: an answer never lands on the instant of its question.
  return Duration(std::max<int64_t>(us, 1));
}

void Simulation::post_notice(Time when, NodeIndex node, NoticeKind kind, NodeIndex peer, uint32_t generation,
                             NodeName unknown_peer) {
  uint32_t slot;
  if (!free_notices_.empty()) {
    slot = free_notices_.back();
    free_notices_.pop_back();
  } else {
    slot = static_cast<uint32_t>(notices_.size());
    notices_.emplace_back();
  }
  notices_[slot] = Notice{node, tag_of(nodes_[node].life), kind, peer, generation, std::move(unknown_peer)};
  queue_.push(when, EntryKind::notice, slot);
}

void Simulation::on_notice(uint32_t slot) {
  Notice& notice = notices_[slot];
  const NodeIndex node = notice.node;
  Node& n = nodes_[node];
  if (n.status == NodeStatus::alive && notice.life_tag == tag_of(n.life) && n.paused_until > now_) {
    queue_.push(n.paused_until, EntryKind::notice, slot);  // keep the slot; retry on resume
    return;
  }
  const Notice taken = std::move(notice);
  notices_[slot] = Notice{};
  free_notices_.push_back(slot);
  if (n.status != NodeStatus::alive || taken.life_tag != tag_of(n.life)) return;

  if (taken.peer == kNone) {
    report_connection_to_unknown(node, taken.unknown_peer);
    return;
  }
  const uint32_t pair_index = find_pair(node, taken.peer);
  const uint32_t mine = node < taken.peer ? 0 : 1;
  Side* side = pair_index == kNone ? nullptr : &pairs_[pair_index].side[mine];
  switch (taken.kind) {
    case NoticeKind::connect_failed:
      if (side && side->state == SideState::connecting && side->generation == taken.generation) {
        side->state = SideState::closed;
        ++stats_.connects_failed;
        report_connection(node, taken.peer, false);
      }
      return;
    case NoticeKind::no_connection:
      if (!side || side->state == SideState::closed) report_connection(node, taken.peer, false);
      return;
    case NoticeKind::still_up:
      if (side && side->state == SideState::open && side->generation == taken.generation) {
        report_connection(node, taken.peer, true);
      }
      return;
  }
}

// ---------------------------------------------------------------------------
// Faults

PartitionId Simulation::partition(std::span<const NodeIndex> group_a, std::span<const NodeIndex> group_b) {
  const PartitionId id = partitions_.cut(group_a, group_b, /*both_directions=*/true);
  record(TraceKind::partition, kNone, id, 2);
  return id;
}

PartitionId Simulation::partition_one_way(std::span<const NodeIndex> from, std::span<const NodeIndex> to) {
  const PartitionId id = partitions_.cut(from, to, /*both_directions=*/false);
  record(TraceKind::partition, kNone, id, 1);
  return id;
}

PartitionId Simulation::cut_links(std::span<const std::pair<NodeIndex, NodeIndex>> links) {
  const PartitionId id = partitions_.cut_links(links);
  record(TraceKind::partition, kNone, id, 3);
  return id;
}

PartitionId Simulation::isolate(NodeIndex node) {
  std::vector<NodeIndex> others;
  others.reserve(node_count());
  for (NodeIndex i = 0; i < node_count(); ++i) {
    if (i != node) others.push_back(i);
  }
  const NodeIndex alone[] = {node};
  return partition(alone, others);
}

void Simulation::heal(PartitionId id) {
  partitions_.heal(id);
  record(TraceKind::heal, kNone, id);
}

void Simulation::heal_all() {
  partitions_.heal_all();
  record(TraceKind::heal, kNone, kNone);
}

void Simulation::clog_one_way(NodeIndex from, NodeIndex to, Duration duration) {
  if (from == to) return;  // a node's traffic to itself does not cross the network
  const uint32_t pair_index = pair_for(from, to);
  Time& until = direction_clogs_[static_cast<uint64_t>(pair_index) << 1 | (from < to ? 0 : 1)];
  until = std::max(until, now_ + duration);
  holds_until_ = std::max(holds_until_, until);
  record(TraceKind::clog, from, to, static_cast<uint64_t>(duration.count()));
}

void Simulation::clog_pair(NodeIndex a, NodeIndex b, Duration duration) {
  clog_one_way(a, b, duration);
  clog_one_way(b, a, duration);
}

void Simulation::clog_node(NodeIndex node, Duration duration) {
  nodes_[node].clogged_until = std::max(nodes_[node].clogged_until, now_ + duration);
  holds_until_ = std::max(holds_until_, nodes_[node].clogged_until);
  record(TraceKind::clog, node, kNone, static_cast<uint64_t>(duration.count()));
}

void Simulation::pause(NodeIndex node, Duration duration) {
  Node& n = nodes_[node];
  if (n.status != NodeStatus::alive) return;
  n.paused_until = std::max(n.paused_until, now_ + duration);
  holds_until_ = std::max(holds_until_, n.paused_until);
  record(TraceKind::pause, node, 0, static_cast<uint64_t>(duration.count()));
}

void Simulation::set_extra_latency(NodeIndex node, Duration extra) {
  nodes_[node].extra_latency = extra;
  any_extra_latency_ = any_extra_latency_ || extra != Duration::zero();
}

void Simulation::crash(NodeIndex node) { down_node(node, NodeStatus::crashed); }

void Simulation::hang(NodeIndex node) { down_node(node, NodeStatus::hung); }

void Simulation::down_node(NodeIndex node, NodeStatus status) {
  Node& n = nodes_[node];
  if (n.status != NodeStatus::alive) {
    // A crashed host may still freeze; a frozen host cannot then close anything.
    if (n.status == NodeStatus::crashed && status == NodeStatus::hung) n.status = status;
    return;
  }
  record(status == NodeStatus::hung ? TraceKind::hang : TraceKind::crash, node);
  for (uint32_t pair_index : node_pairs_[node]) {
    const uint32_t side = pairs_[pair_index].node[0] == node ? 0 : 1;
    if (pairs_[pair_index].side[side].state != SideState::closed) {
      close_side(pair_index, side, /*tell_peer=*/status == NodeStatus::crashed);
    }
  }
  n.core.reset();
  n.status = status;
  stores_[node].lose_unsynced();
  n.tick_at = kNever;
  n.paused_until = Time{0};
  ++n.life;
}

void Simulation::restart(NodeIndex node) {
  if (nodes_[node].status == NodeStatus::alive) crash(node);
  boot(node);
}

void Simulation::break_connection(NodeIndex a, NodeIndex b) {
  const uint32_t pair_index = find_pair(a, b);
  if (pair_index == kNone) return;
  for (uint32_t side = 0; side < 2; ++side) {
    const Side& s = pairs_[pair_index].side[side];
    if (s.state == SideState::closed) continue;
    const NodeIndex other = pairs_[pair_index].node[1 - side];
    const NodeIndex self = pairs_[pair_index].node[side];
    // Each end hears of it through the direction that leads to it, after
    // what was already in flight to it.
    enqueue(pair_index, 1 - side, ItemKind::close, s.generation, now_ + latency(other, self));
  }
}

void Simulation::set_disk_sync(NodeIndex node, DiskSync mode) {
  stores_[node].set_sync_mode(mode);
  if (mode == DiskSync::each_handler) stores_[node].sync();
}

void Simulation::sync_disk(NodeIndex node) { stores_[node].sync(); }

// ---------------------------------------------------------------------------
// Queries

std::optional<NodeIndex> Simulation::find(std::string_view name) const {
  const NodeIndex node = index_by_name_.find(name, names_);
  if (node == kNone) return std::nullopt;
  return node;
}

bool Simulation::connected(NodeIndex node, NodeIndex peer) const {
  if (node == peer) return false;
  const uint32_t pair_index = find_pair(node, peer);
  if (pair_index == kNone) return false;
  return pairs_[pair_index].side[node < peer ? 0 : 1].state == SideState::open;
}

void Simulation::record(TraceKind kind, NodeIndex node, uint32_t peer, uint64_t detail) {
  if (trace_.enabled()) trace_.record(TraceEntry{now_, node, kind, peer, detail});
}

}  // namespace lashup::sim
