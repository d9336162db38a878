#include "core/crdt/lww_register.h"

#include "core/crdt/mutators.h"

namespace lashup::crdt {

LwwRegister LwwRegister::assign(const ReplicaId& self, std::string value, uint64_t timestamp) {
  LwwRegister delta;
  const ReplicaIndex me = context_.intern(self);
  detail::DeltaSink sink(context_, delta.context_);
  detail::register_assign(store_, context_, me, Timestamped{timestamp, std::move(value)}, delta.store_, sink);
  return delta;
}

LwwRegister LwwRegister::reset(const ReplicaId& self) {
  LwwRegister delta;
  if (store_.entries.empty()) return delta;
  detail::reset_store(store_, [](auto& store) { store.entries.clear(); }, context_, delta.context_, self);
  return delta;
}

std::optional<Timestamped> LwwRegister::value() const {
  const auto* winner = detail::register_winner(store_);
  if (winner == nullptr) return std::nullopt;
  return winner->value;
}

}  // namespace lashup::crdt
