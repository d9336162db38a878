// Actions: what a sans-IO protocol core asks its host to do. A core never
// performs I/O; every input (message, tick, command, connection change)
// returns Actions as data. The runtime executes them on real sockets and
// Berkeley DB; the simulator executes them on its virtual network.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "core/common/event.h"
#include "core/common/ids.h"
#include "core/common/time.h"

namespace lashup {

using Bytes = std::vector<uint8_t>;

// Send one encoded message (see core/wire/frame.h) over the connection to
// `to`. If there is no connection the host drops it and reports the
// connection down.
struct SendAction {
  NodeName to;
  Bytes message;
};

// Open (or keep) a connection to `peer` at `address`; the host answers with
// on_connection(peer, up) or (peer, down).
struct ConnectAction {
  NodeName peer;
  std::string address;
};

struct DisconnectAction {
  NodeName peer;
};

// Store `value` under `key` in the node's durable state (an empty value
// deletes). Persist actions are executed in order and before any send that
// follows them in the same Actions.
struct PersistAction {
  std::string key;
  Bytes value;
};

struct EmitAction {
  Event event;
};

using Action = std::variant<SendAction, ConnectAction, DisconnectAction, PersistAction, EmitAction>;

struct Actions {
  std::vector<Action> items;
  // The earliest instant at which the core wants on_tick; the one timer
  // facility of the core (as ngtcp2's expiry). Unset: no wish.
  std::optional<Time> wake_at;

  void send(NodeName to, Bytes message) { items.emplace_back(SendAction{std::move(to), std::move(message)}); }
  void connect(NodeName peer, std::string address) {
    items.emplace_back(ConnectAction{std::move(peer), std::move(address)});
  }
  void disconnect(NodeName peer) { items.emplace_back(DisconnectAction{std::move(peer)}); }
  void persist(std::string key, Bytes value) { items.emplace_back(PersistAction{std::move(key), std::move(value)}); }
  void emit(Event event) { items.emplace_back(EmitAction{std::move(event)}); }
  void wake_no_later_than(Time t) {
    if (!wake_at || t < *wake_at) wake_at = t;
  }
  // Appends `other`, keeping order, and the earlier wake-up.
  void append(Actions&& other) {
    for (auto& item : other.items) items.push_back(std::move(item));
    if (other.wake_at) wake_no_later_than(*other.wake_at);
  }
  bool empty() const { return items.empty() && !wake_at; }
};

}  // namespace lashup
