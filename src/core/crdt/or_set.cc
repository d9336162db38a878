#include "core/crdt/or_set.h"

#include "core/crdt/mutators.h"

namespace lashup::crdt {

ORSet ORSet::add(const ReplicaId& self, std::string_view element) {
  ORSet delta;
  delta.store_.complete = false;
  const ReplicaIndex me = context_.intern(self);
  detail::DeltaSink sink(context_, delta.context_);
  detail::set_add(store_, context_, me, element, delta.store_, sink);
  return delta;
}

Result<ORSet> ORSet::remove(const ReplicaId& self, std::string_view element) {
  ORSet delta;
  delta.store_.complete = false;
  detail::DeltaSink sink(context_, delta.context_);
  if (!detail::set_remove(store_, element, delta.store_, sink)) {
    return Status::not_found("element is not in the set");
  }
  detail::record_event(context_, context_.intern(self), sink);
  return delta;
}

ORSet ORSet::reset(const ReplicaId& self) {
  // Complete and empty: whoever joins it drops every dot it covers.
  ORSet delta;
  if (store_.elements.empty()) return delta;
  detail::reset_store(store_, [](auto& store) { store.elements.clear(); }, context_, delta.context_, self);
  return delta;
}

std::vector<std::string> ORSet::elements() const {
  std::vector<std::string> out;
  out.reserve(store_.elements.size());
  for (const auto& entry : store_.elements) out.push_back(entry.first);
  return out;
}

}  // namespace lashup::crdt
