// A core for testing the simulator itself (and for scenario tests that need
// a scripted peer): it records every input it is given and answers with
// whatever its `reaction` returns. Tests script it from outside through
// Simulation::execute (send, connect, persist ...) and read `inputs`.
#pragma once

#include <functional>
#include <span>
#include <string>
#include <vector>

#include "core/common/protocol_core.h"
#include "durable_store.h"

namespace lashup::sim {

class RecordingCore final : public ProtocolCore {
 public:
  enum class Kind { start, message, tick, connection_up, connection_down };
  struct Input {
    Kind kind;
    Time at;
    NodeName peer;  // message sender or connection peer
    Bytes message;
  };
  using Reaction = std::function<Actions(const Input&)>;

  explicit RecordingCore(DurableStore::Map persisted = {}, Reaction reaction = {})
      : persisted_(std::move(persisted)), reaction_(std::move(reaction)) {}

  Actions on_start(Time now) override { return record({Kind::start, now, {}, {}}); }
  Actions on_message(Time now, const NodeName& from, std::span<const uint8_t> message) override {
    return record({Kind::message, now, from, Bytes(message.begin(), message.end())});
  }
  Actions on_tick(Time now) override { return record({Kind::tick, now, {}, {}}); }
  Actions on_connection(Time now, const NodeName& peer, bool up) override {
    return record({up ? Kind::connection_up : Kind::connection_down, now, peer, {}});
  }

  const std::vector<Input>& inputs() const { return inputs_; }
  // Inputs of one kind (from one peer, when `peer` is not empty).
  std::vector<Input> inputs(Kind kind, const NodeName& peer = {}) const {
    std::vector<Input> out;
    for (const auto& input : inputs_) {
      if (input.kind == kind && (peer.empty() || input.peer == peer)) out.push_back(input);
    }
    return out;
  }
  // The durable state the factory handed over at boot.
  const DurableStore::Map& persisted() const { return persisted_; }

 private:
  Actions record(Input input) {
    inputs_.push_back(std::move(input));
    return reaction_ ? reaction_(inputs_.back()) : Actions{};
  }

  DurableStore::Map persisted_;
  Reaction reaction_;
  std::vector<Input> inputs_;
};

}  // namespace lashup::sim
