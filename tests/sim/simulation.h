// The deterministic simulator: thousands of protocol cores in one process,
// on a virtual clock, over a simulated network and disk (DESIGN §1). The
// simulation *is* the network, as in FoundationDB: everything a core could
// observe from the outside world — time, message delivery, connection
// changes, what survived a crash — comes from here and is drawn from one
// master seed, so a seed replays a run exactly.
//
// Threading: none. A Simulation and everything it calls run on the caller's
// thread; callbacks (factory, observers, scheduled actions, checks) run
// inside run_until and may call back into the Simulation (see each one).
//
// The network, in brief (docs/SIMULATOR.md has the whole model):
//  - one connection per pair of nodes, opened by either side with a
//    ConnectAction and reported up to both; each direction is a FIFO queue,
//    so a later message never overtakes an earlier one (TCP), while
//    different connections reorder freely through latency jitter;
//  - latency = base + uniform jitter per message (+ per-node extra latency);
//  - partitions (symmetric or one-way) blackhole traffic sent across them;
//  - clogs and pauses hold traffic and release it later, in order;
//  - a crash closes a node's connections (peers see down), a hang does not.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/common/actions.h"
#include "core/common/event.h"
#include "core/common/protocol_core.h"
#include "core/common/random.h"
#include "core/common/time.h"
#include "durable_store.h"
#include "event_queue.h"
#include "flat_index.h"
#include "partitions.h"
#include "trace.h"

namespace lashup::sim {

inline constexpr Time kNever{std::numeric_limits<int64_t>::max()};

// One-way latency of a link: base + uniform [0, jitter].
struct LinkLatency {
  Duration base{1000};
  Duration jitter{500};
};

struct NetworkConfig {
  // Used for every link unless `link_latency` is set. A LAN with some queueing.
  LinkLatency latency;
  // Per-link latency (racks, zones, a WAN link). Called once per message and
  // per connection attempt: it must be cheap and depend only on its inputs.
  std::function<LinkLatency(NodeIndex from, NodeIndex to)> link_latency;
  // A ConnectAction towards a host that does not answer (hung, or across a
  // partition) is reported down after this. A crashed process's host answers
  // at once ("connection refused"): down after one round trip.
  Duration connect_timeout{1'000'000};
  // Bound of one direction of a connection: messages in flight (sent, not
  // yet delivered) beyond this are dropped and counted in
  // SimStats::dropped_queue_full. The runtime bounds its send queue per peer
  // the same way; a core that floods a stalled peer must not grow the
  // simulator without limit either. At most 2^31 - 1.
  uint32_t max_in_flight_per_direction = 4096;
};

struct SimConfig {
  uint32_t nodes = 0;
  // The master seed: node seeds and the network's Random derive from it.
  uint64_t seed = 1;
  NetworkConfig network;
  // Node names; default "n<index>" (short names stay in std::string's inline buffer).
  std::function<NodeName(NodeIndex)> name_of;
  // Record a hash of every executed input (cheap) / the full list (memory).
  bool trace_hash = false;
  bool trace_list = false;
  // Stops the run with a failure after this many events (0: no limit); a
  // guard against a livelocked core spinning on the same instant.
  uint64_t max_events = 0;
};

// What a factory gets to build (or rebuild, after a restart) a node's core.
struct NodeContext {
  NodeIndex index;
  const NodeName& name;
  uint64_t seed;                       // distinct per node and per boot, derived from the master seed
  uint32_t boot;                       // 1 on the first start, +1 on every restart
  const DurableStore::Map& persisted;  // what the node's disk holds (durable writes only)
};

using CoreFactory = std::function<std::unique_ptr<ProtocolCore>(const NodeContext&)>;

// Called for every EmitAction, in the order cores emit. May call fail(), and
// may schedule with at()/after(); fault verbs should be scheduled, not
// called from inside an observer.
using EventObserver = std::function<void(Time, NodeIndex, const Event&)>;

// A periodic invariant check: returns a description of the violation, or
// nothing when the invariant holds.
using Check = std::function<std::optional<std::string>()>;

enum class NodeStatus {
  not_started,  // no process yet; its host refuses connections
  alive,        // running (possibly paused)
  crashed,      // process gone, host up: connections were closed, new ones are refused
  hung,         // host frozen: nothing is answered, nothing is closed
};

const char* to_string(NodeStatus status);

struct SimStats {
  uint64_t events = 0;         // agenda entries executed (including stale ones skipped)
  uint64_t handler_calls = 0;  // inputs handed to cores
  uint64_t messages_sent = 0;
  uint64_t messages_delivered = 0;
  uint64_t dropped_partition = 0;      // sent across a cut link
  uint64_t dropped_queue_full = 0;     // beyond max_in_flight_per_direction
  uint64_t dropped_no_connection = 0;  // sent with no connection to the peer (reported down)
  uint64_t dropped_closed = 0;         // arrived on a connection the receiver had closed (or never had)
  uint64_t dropped_node_down = 0;      // arrived at a crashed, hung or unstarted node
  uint64_t connects_attempted = 0;
  uint64_t connects_failed = 0;
  uint64_t connections_reset = 0;  // stale connections reset by a restarted or crashed peer
};

struct RunResult {
  bool ok = true;
  std::string failure;  // when !ok: what failed, when
  Time now{0};
  uint64_t seed = 0;
  // "seed=<n> ..." — what a failing test or scenario prints so the run can be replayed.
  std::string describe() const;
};

class Simulation {
 public:
  Simulation(SimConfig config, CoreFactory factory);
  ~Simulation();
  Simulation(const Simulation&) = delete;
  Simulation& operator=(const Simulation&) = delete;

  // --- Running ---------------------------------------------------------

  // Schedules the start of every node (in index order) / of one node at now().
  void start_all();
  void start(NodeIndex node);
  // Executes events up to and including `end`, then sets now() to `end`.
  // Stops early when the run fails. May be called repeatedly.
  RunResult run_until(Time end);
  RunResult run_for(Duration duration) { return run_until(now_ + duration); }

  // Runs `action` at simulated time `when` (clamped to now()). Scenarios
  // script their faults with this.
  void at(Time when, std::function<void()> action);
  void after(Duration delay, std::function<void()> action) { at(now_ + delay, std::move(action)); }
  // Runs `check` every `period`, first at now() + period; a violation fails
  // the run with "check '<name>' at t=...: <violation>".
  void every(Duration period, std::string name, Check check);
  // Fails the run: run_until stops after the current event.
  void fail(std::string message);
  bool failed() const { return !failure_.empty(); }

  void observe(EventObserver observer) { observers_.push_back(std::move(observer)); }

  // Executes `actions` as if `node`'s core had just returned them. The way a
  // scenario issues commands (e.g. a write) to a core it downcast: call the
  // core's command method, then hand its Actions here. Ignored if the node
  // is not alive.
  void execute(NodeIndex node, Actions actions);

  // --- Faults ----------------------------------------------------------

  // Symmetric partition between two groups; one-way: `from` cannot reach
  // `to` while `to` reaches `from`. Traffic already in flight still arrives.
  PartitionId partition(std::span<const NodeIndex> group_a, std::span<const NodeIndex> group_b);
  PartitionId partition_one_way(std::span<const NodeIndex> from, std::span<const NodeIndex> to);
  // Cuts each listed link, both ways.
  PartitionId cut_links(std::span<const std::pair<NodeIndex, NodeIndex>> links);
  // Cuts `node` from every other node, both ways.
  PartitionId isolate(NodeIndex node);
  void heal(PartitionId id);
  void heal_all();

  // Holds traffic (including what is already in flight) for `duration`,
  // then releases it in order, as FoundationDB's clogPair.
  void clog_one_way(NodeIndex from, NodeIndex to, Duration duration);
  void clog_pair(NodeIndex a, NodeIndex b, Duration duration);
  // Holds all traffic to and from `node`; the node itself keeps running.
  void clog_node(NodeIndex node, Duration duration);

  // The node processes nothing (no message, tick or connection change) for
  // `duration`, then everything that queued meanwhile, in order: a GC pause,
  // a stopped VM, an overloaded host.
  void pause(NodeIndex node, Duration duration);
  // Added to the latency of every message to and from `node` (a slow NIC or host).
  void set_extra_latency(NodeIndex node, Duration extra);

  // The process dies; its host closes its connections (each peer gets
  // on_connection(down) after the link latency) and refuses new ones.
  // Unsynced writes are lost.
  void crash(NodeIndex node);
  // The host freezes: messages to it vanish, connections are not closed,
  // connection attempts time out. Unsynced writes are lost.
  void hang(NodeIndex node);
  // A crashed or hung node boots again (an alive one is crashed first): a
  // fresh core from the factory, given its durable store; all its
  // connections start closed (peers that still believe in an old connection
  // are reset when they next use it).
  void restart(NodeIndex node);
  // Closes the connection between a and b as a network failure would
  // (both sides get on_connection(down) after the latency).
  void break_connection(NodeIndex a, NodeIndex b);

  void set_disk_sync(NodeIndex node, DiskSync mode);
  void sync_disk(NodeIndex node);

  // --- Queries ---------------------------------------------------------

  Time now() const { return now_; }
  uint64_t seed() const { return config_.seed; }
  uint32_t node_count() const { return static_cast<uint32_t>(nodes_.size()); }
  const NodeName& name(NodeIndex node) const { return names_[node]; }
  std::optional<NodeIndex> find(std::string_view name) const;
  // The running core, or nullptr when the node is not alive.
  ProtocolCore* core(NodeIndex node) const { return nodes_[node].core.get(); }
  NodeStatus status(NodeIndex node) const { return nodes_[node].status; }
  bool paused(NodeIndex node) const { return nodes_[node].paused_until > now_; }
  uint32_t boot_count(NodeIndex node) const { return nodes_[node].boot; }
  const DurableStore& store(NodeIndex node) const { return stores_[node]; }
  // Whether `node` currently holds an open connection to `peer` (its own view).
  bool connected(NodeIndex node, NodeIndex peer) const;

  const SimStats& stats() const { return stats_; }
  uint64_t trace_hash() const { return trace_.hash(); }
  const std::vector<TraceEntry>& trace() const { return trace_.entries(); }
  RunResult result() const;

 private:
  static constexpr uint32_t kNone = std::numeric_limits<uint32_t>::max();

  // What every event on a node touches, in one cache line; the rest of a
  // node (name, disk, pairs) lives in parallel arrays. At 10,000 nodes every
  // event lands on a node nobody touched for a while: a compact hot array
  // stays in cache where 200-byte records did not.
  struct alignas(64) Node {
    std::unique_ptr<ProtocolCore> core;
    Time tick_at = kNever;  // the one pending tick
    Time paused_until{0};
    Time clogged_until{0};
    Duration extra_latency{0};
    // Raised on every boot and every crash: agenda entries carry its low 16
    // bits, so a tick or notice meant for a previous life of the node is
    // recognised as stale.
    uint32_t life = 0;
    uint32_t boot = 0;  // boots so far
    NodeStatus status = NodeStatus::not_started;
    uint8_t next_contact = 0;  // the Contacts entry replaced next
    uint8_t last_contact = 0;  // the Contacts entry used last
  };
  static_assert(sizeof(Node) == 64);

  // The pairs a node sent on lately, by the peer's name (NameKey summary).
  // A protocol sends to the same few peers again and again (a probe round,
  // an active view); these two lines, prefetched with the node's tick,
  // answer a send without the name index and the pair index, whose slots
  // are two cache misses at 10,000 nodes. A cache: a pair never goes away,
  // so an entry never goes stale, and a miss falls back to the indexes.
  static constexpr uint32_t kContacts = 8;
  struct Contact {
    uint32_t tag = 0;
    uint32_t pair = kNone;
    uint64_t prefix = 0;
  };
  struct alignas(64) Contacts {
    std::array<Contact, kContacts> entries;
  };
  static_assert(sizeof(Contacts) == 128);

  enum class SideState : uint8_t { closed, connecting, open };
  struct Side {
    uint32_t generation = 0;
    SideState state = SideState::closed;
    bool reset_sent = false;  // a reset for this generation is already on its way
  };

  // One direction of a pair: the FIFO of items in flight. Only the head has
  // an agenda entry; the next one is scheduled when the head is delivered,
  // so FIFO order holds by construction, whatever the jitter, clogs or pauses.
  struct Direction {
    uint32_t head = kNone;
    uint32_t tail = kNone;
    uint32_t messages : 31 = 0;  // messages in flight (bounded by max_in_flight_per_direction)
    uint32_t scheduled : 1 = 0;
  };

  // The record of a pair of nodes, node[0] < node[1]. Side s is node[s];
  // direction d carries node[d] -> node[1 - d]. It lives as long as the
  // simulation: its FIFOs order the connections of the pair one after the
  // other (a close is delivered before the next connection's accept).
  // One cache line (clogs, which are rare, live in direction_clogs_).
  struct alignas(64) Pair {
    NodeIndex node[2] = {0, 0};
    Side side[2];
    Direction direction[2];
    uint32_t latest_generation = 0;
    uint8_t latest_initiator = 0;   // side that opened latest_generation
    bool accept_in_flight = false;  // the accept of latest_generation has not arrived yet
  };
  static_assert(sizeof(Pair) == 64);

  enum class ItemKind : uint8_t {
    message,
    accept,       // to the side that did not initiate: the connection is up
    established,  // to the initiator, one round trip after its ConnectAction
    close,        // FIN or reset: the connection is down
  };
  struct Item {
    Time deliver_at{0};
    uint32_t next = kNone;  // next item of the same direction, or the next free slot
    uint32_t generation = 0;
    ItemKind kind = ItemKind::message;
    Bytes payload;
  };

  // A connection change the host reports on its own, not carried by the network.
  enum class NoticeKind : uint8_t {
    connect_failed,  // attempt `generation` timed out or was refused
    no_connection,   // a send found no connection: dropped, reported down
    still_up,        // a ConnectAction on an open connection: answered up
  };
  struct Notice {
    NodeIndex node = 0;
    uint16_t life_tag = 0;
    NoticeKind kind = NoticeKind::connect_failed;
    NodeIndex peer = kNone;  // kNone: a name that is not a node (unknown_peer)
    uint32_t generation = 0;
    NodeName unknown_peer;
  };

  struct PeriodicCheck {
    Duration period;
    std::string name;
    Check check;
  };
  void schedule_check(std::shared_ptr<PeriodicCheck> check);

  void dispatch(const Entry& entry);
  void prefetch_near(const Entry& entry) const;
  void prefetch_far(const Entry& entry) const;
  void on_direction_head(uint32_t pair_index, uint32_t direction);
  void on_tick(NodeIndex node, uint16_t life_tag, Time due);
  void on_notice(uint32_t slot);
  void on_control(uint32_t slot);
  void boot(NodeIndex node);

  // Inputs to a core; each executes the Actions the core returns.
  void deliver_message(uint32_t pair_index, NodeIndex to, NodeIndex from, Bytes payload);
  void report_connection(NodeIndex node, NodeIndex peer, bool up);
  void report_connection_to_unknown(NodeIndex node, const NodeName& peer);
  void apply(NodeIndex node, Actions&& actions);

  // The Actions a core can ask for.
  void send(NodeIndex from, const NodeName& to, Bytes&& payload);
  void connect(NodeIndex from, const NodeName& to);
  void disconnect(NodeIndex from, const NodeName& to);

  // The connection model.
  uint32_t find_pair(NodeIndex a, NodeIndex b) const;
  // The pair from `from` to the node called `to_name` (key: its NameKey),
  // and that node, from `from`'s contacts; kNone if not there.
  uint32_t recall_contact(NodeIndex from, std::string_view to_name, const NameKey& key, NodeIndex& to);
  void remember_contact(NodeIndex from, const NameKey& key, uint32_t pair_index);
  uint32_t pair_for(NodeIndex a, NodeIndex b);
  void enqueue(uint32_t pair_index, uint32_t direction, ItemKind kind, uint32_t generation, Time earliest,
               Bytes&& payload = {});
  void deliver_item(uint32_t pair_index, uint32_t direction, ItemKind kind, uint32_t generation, Bytes&& payload);
  void close_side(uint32_t pair_index, uint32_t side, bool tell_peer);
  void reset_peer(uint32_t pair_index, uint32_t peer_side, uint32_t generation);
  Time held_until(const Pair& pair, uint32_t direction) const;
  Duration latency(NodeIndex from, NodeIndex to);
  void wake(NodeIndex node, Time when);
  void post_notice(Time when, NodeIndex node, NoticeKind kind, NodeIndex peer, uint32_t generation,
                   NodeName unknown_peer = {});
  void down_node(NodeIndex node, NodeStatus status);
  void record(TraceKind kind, NodeIndex node, uint32_t peer = 0, uint64_t detail = 0);

  SimConfig config_;
  CoreFactory factory_;
  Time now_{0};
  EventQueue queue_;
  Random network_random_;
  PartitionTable partitions_;
  Trace trace_;
  SimStats stats_;
  std::string failure_;

  std::vector<Node> nodes_;
  std::vector<NodeName> names_;  // by node; never resized, index_by_name_ views into it
  std::vector<DurableStore> stores_;
  std::vector<std::vector<uint32_t>> node_pairs_;  // by node: the pair records it takes part in
  std::vector<Contacts> contacts_;                 // by node
  NameIndex index_by_name_;
  std::vector<Pair> pairs_;
  FlatIndex<uint64_t, MixHash> pair_by_nodes_;  // (low node << 32 | high node) -> pairs_ index
  // The latest end of any clog or pause ever set: before it, deliveries must
  // check for holds; after it (most of a typical run) they need not.
  Time holds_until_{0};
  // (pair << 1 | direction) -> end of the clog of that direction.
  std::unordered_map<uint64_t, Time> direction_clogs_;
  bool any_extra_latency_ = false;
  // While a node handles a message: the pair it came through. A reply (a
  // send from that node to that peer, half the sends of a request/response
  // protocol) then needs neither the name index nor the pair index, whose
  // slots are cache misses at 10,000 nodes.
  struct Replying {
    NodeIndex node = kNone;
    NodeIndex peer = kNone;
    uint32_t pair = kNone;
  };
  Replying replying_;
  // Items in flight live in one pool, linked per direction; freed slots are
  // reused, so steady traffic allocates nothing in the simulator itself.
  std::vector<Item> items_;
  uint32_t free_item_ = kNone;
  std::vector<Notice> notices_;
  std::vector<uint32_t> free_notices_;
  std::vector<std::function<void()>> controls_;
  std::vector<uint32_t> free_controls_;
  std::vector<EventObserver> observers_;
};

}  // namespace lashup::sim
