// Handle structs of the node facade, shared by lashup_node.cc (nodes,
// events, snapshots) and lashup_kv.cc (the key-value store): events carry
// KV values, and the KV calls go to the node's runtime.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "capi/capi_internal.h"
#include "core/crdt/map.h"
#include "runtime/node_runtime.h"

struct lashup_node {
  std::unique_ptr<lashup::runtime::NodeRuntime> runtime;
  std::string name;
  std::mutex lifecycle;  // start and stop, which may come from any thread
  enum class State { created, running, stopped };
  std::atomic<State> state{State::created};
  std::atomic<uint64_t> next_request_id{1};
  std::atomic<uint64_t> next_subscription_id{1};
  lashup_event_cb callback = nullptr;
  void* userdata = nullptr;
};

// A map value: the top-level value owns the whole tree (`root`); every
// value, nested ones included, points into it and owns the values of its
// nested maps, built when the tree is made so that readers never mutate it.
struct lashup_kv_value {
  std::unique_ptr<const lashup::crdt::MapValue> root;  // top level only
  const lashup::crdt::MapValue* map = nullptr;
  std::vector<std::unique_ptr<lashup_kv_value>> nested;  // per field; null unless a map
  lashup::Bytes context;                                 // encoded; top level only
  bool top = false;
  // Destroyed by lashup_kv_value_destroy; false for the top-level values
  // owned by events (and for nested ones).
  bool caller_owned = false;
};

struct lashup_event {
  int type = 0;
  std::string node;
  std::string peer;
  int state = 0;
  uint64_t incarnation = 0;
  uint64_t request_id = 0;
  uint64_t rtt_us = 0;
  uint64_t time_us = 0;
  std::string topic;
  std::vector<uint8_t> payload;
  uint64_t sequence = 0;
  // KV_CHANGED and KV_DUMP_DONE.
  uint64_t subscription = 0;
  std::string key;
  std::unique_ptr<lashup_kv_value> kv_value;  // null when deleted
  // KV_UPDATE_DONE.
  int status = 0;
  std::string error;
};

namespace lashup::capi {

// A value tree over `value`, with `context` (crdt::encode_context of the
// key's map) as its compare-and-set token.
std::unique_ptr<lashup_kv_value> make_kv_value(crdt::MapValue value, Bytes context);

}  // namespace lashup::capi
