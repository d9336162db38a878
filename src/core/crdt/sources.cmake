# The CRDT library (src/core/crdt), part of lashup_core. Paths are relative
# to src/.
target_sources(lashup_core PRIVATE
  core/crdt/causal.cc
  core/crdt/causal_context.cc
  core/crdt/counter.cc
  core/crdt/flag.cc
  core/crdt/lww_register.cc
  core/crdt/map.cc
  core/crdt/map_batch.cc
  core/crdt/mutators.cc
  core/crdt/or_set.cc
  core/crdt/store_codec.cc
  core/crdt/store_join.cc
  core/crdt/stores.cc
)
