// Nodes, events and snapshots of the C API: a thin layer over
// lashup::runtime::NodeRuntime. Reads go to the runtime's published
// snapshot and never wait for the loop thread; writes are posted to it.
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>

#include "capi/node_internal.h"

using lashup::runtime::MemberView;
using lashup::runtime::NodeRuntime;
using lashup::runtime::Snapshot;
using namespace lashup::capi;

struct lashup_members {
  std::shared_ptr<const Snapshot> snapshot;
};

struct lashup_route_tree {
  std::vector<lashup::runtime::RouteEntry> entries;
};

namespace {

int null_argument(const char* what) { return fail(LASHUP_ERR_INVALID, std::string(what) + " is NULL"); }

// A multicast payload as bytes; NULL with a length is refused by the caller.
lashup::wire::ByteView payload_view(const void* data, size_t len) {
  return len == 0 ? lashup::wire::ByteView() : lashup::wire::ByteView(static_cast<const uint8_t*>(data), len);
}

int member_state(lashup::Reachability state) {
  switch (state) {
    case lashup::Reachability::reachable: return LASHUP_REACHABLE;
    case lashup::Reachability::unreachable: return LASHUP_UNREACHABLE;
    case lashup::Reachability::left: return LASHUP_LEFT;
  }
  return LASHUP_UNREACHABLE;
}

// The C form of a runtime event (its strings and bytes are moved out); false
// for events the C API does not report.
bool convert(lashup::runtime::TimedEvent& in, lashup_event& out) {
  out.time_us = in.monotonic_us;
  return std::visit(
      [&](auto& e) -> bool {
        using E = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<E, lashup::MemberUpdated>) {
          out.type = LASHUP_EVENT_MEMBER_UPDATED;
          out.node = e.name;
          out.incarnation = e.incarnation;
        } else if constexpr (std::is_same_v<E, lashup::MemberRemoved>) {
          out.type = LASHUP_EVENT_MEMBER_REMOVED;
          out.node = e.name;
        } else if constexpr (std::is_same_v<E, lashup::ReachabilityChanged>) {
          out.type = LASHUP_EVENT_REACHABILITY;
          out.node = e.name;
          out.state = member_state(e.state);
        } else if constexpr (std::is_same_v<E, lashup::LinkReportChanged>) {
          out.type = LASHUP_EVENT_LINK_REPORT;
          out.node = e.reporter;
          out.peer = e.target;
          out.state = e.present ? 1 : 0;
        } else if constexpr (std::is_same_v<E, lashup::HealthCheckResult>) {
          out.type = LASHUP_EVENT_HEALTH_CHECK;
          out.node = e.name;
          out.state = e.alive ? 1 : 0;
          out.request_id = e.request_id;
          out.rtt_us = e.alive ? static_cast<uint64_t>(e.round_trip.count()) : 0;
        } else if constexpr (std::is_same_v<E, lashup::NeighborChanged>) {
          out.type = LASHUP_EVENT_NEIGHBOR;
          out.node = e.peer;
          out.state = e.up ? 1 : 0;
        } else if constexpr (std::is_same_v<E, lashup::McDelivered>) {
          out.type = LASHUP_EVENT_MC_MESSAGE;
          out.node = std::move(e.origin);
          out.incarnation = e.incarnation;
          out.sequence = e.sequence;
          out.topic = std::move(e.topic);
          out.payload = std::move(e.payload);
        } else if constexpr (std::is_same_v<E, lashup::KvChanged>) {
          out.type = LASHUP_EVENT_KV_CHANGED;
          out.subscription = e.subscription;
          out.key = std::move(e.key);
          out.state = e.initial ? 1 : 0;
          if (!e.deleted) {
            // The core encoded a state it holds: it decodes (with the
            // default limits, which the core's own are not above).
            auto map = lashup::crdt::Map::decode(e.state);
            if (!map) return false;
            out.kv_value = make_kv_value(map->value(), lashup::crdt::encode_context(map->context()));
          }
        } else if constexpr (std::is_same_v<E, lashup::KvDumpDone>) {
          out.type = LASHUP_EVENT_KV_DUMP_DONE;
          out.subscription = e.subscription;
        } else if constexpr (std::is_same_v<E, lashup::KvUpdateDone>) {
          out.type = LASHUP_EVENT_KV_UPDATE_DONE;
          out.request_id = e.request_id;
          out.key = std::move(e.key);
          if (!e.status) {
            out.status = lashup::capi::error_code(e.status.code());
            out.error = e.status.message();
          }
        } else {
          return false;
        }
        return true;
      },
      in.event);
}

// The latest snapshot, or an error code (with the detail recorded).
int current_snapshot(lashup_node_t* node, std::shared_ptr<const Snapshot>& out) {
  if (node == nullptr) return null_argument("node");
  out = node->runtime->snapshot();
  if (!out) return fail(LASHUP_ERR_STATE, "the node was not started");
  return LASHUP_OK;
}

const lashup::runtime::MemberView* member_at(const lashup_members_t* members, size_t index) {
  if (members == nullptr || index >= members->snapshot->members.size()) return nullptr;
  return &members->snapshot->members[index];
}

// One of a member's name lists (neighbours, link reports); empty when the
// index is out of range.
using NameList = std::vector<std::string> MemberView::*;
const std::vector<std::string>& names_of(const lashup_members_t* members, size_t index, NameList list) {
  static const std::vector<std::string> none;
  const auto* m = member_at(members, index);
  return m == nullptr ? none : m->*list;
}

const char* name_at(const std::vector<std::string>& names, size_t n) { return n < names.size() ? names[n].c_str() : ""; }

}  // namespace

extern "C" {

LASHUP_API int lashup_node_new(lashup_node_t** out, const lashup_config_t* cfg, char* errbuf, size_t errbuf_len) {
  return guard([&] {
    if (out == nullptr || cfg == nullptr) {
      const char* what = out == nullptr ? "out" : "cfg";
      write_errbuf(errbuf, errbuf_len, std::string(what) + " is NULL");
      return null_argument(what);
    }
    *out = nullptr;
    auto runtime = NodeRuntime::create(cfg->rep);
    if (!runtime) {
      write_errbuf(errbuf, errbuf_len, runtime.status().message());
      return fail(runtime.status());
    }
    auto node = std::make_unique<lashup_node>();
    node->name = *cfg->rep.get("node_name");
    node->runtime = std::move(*runtime);
    *out = node.release();
    return succeed();
  });
}

LASHUP_API int lashup_node_start(lashup_node_t* node) {
  return guard([&] {
    if (node == nullptr) return null_argument("node");
    std::lock_guard lock(node->lifecycle);
    if (node->state != lashup_node::State::created) {
      return fail(LASHUP_ERR_STATE, "the node was already started (a node runs at most once)");
    }
    if (node->callback != nullptr) {
      node->runtime->set_event_callback([node, cb = node->callback, userdata = node->userdata] { cb(node, userdata); });
    }
    if (lashup::Status s = node->runtime->start(); !s) {
      node->runtime->stop();  // releases what start opened
      node->state = lashup_node::State::stopped;
      return fail(s);
    }
    node->state = lashup_node::State::running;
    return succeed();
  });
}

LASHUP_API int lashup_node_stop(lashup_node_t* node) {
  return guard([&] {
    if (node == nullptr) return null_argument("node");
    std::lock_guard lock(node->lifecycle);
    node->runtime->stop();
    node->state = lashup_node::State::stopped;
    return succeed();
  });
}

LASHUP_API void lashup_node_destroy(lashup_node_t* node) {
  if (node == nullptr) return;
  guard([&] {
    lashup_node_stop(node);
    delete node;
    return LASHUP_OK;
  });
}

LASHUP_API const char* lashup_node_name(const lashup_node_t* node) {
  return node == nullptr ? nullptr : node->name.c_str();
}

LASHUP_API int lashup_node_address(const lashup_node_t* node, char** address_out) {
  return guard([&] {
    if (node == nullptr || address_out == nullptr) return null_argument(node == nullptr ? "node" : "address_out");
    *address_out = nullptr;
    if (node->state == lashup_node::State::created) return fail(LASHUP_ERR_STATE, "the node was not started");
    *address_out = duplicate_string(node->runtime->advertised_address());
    return succeed();
  });
}

LASHUP_API int lashup_node_incarnation(const lashup_node_t* node, uint64_t* incarnation_out) {
  return guard([&] {
    if (node == nullptr || incarnation_out == nullptr) {
      return null_argument(node == nullptr ? "node" : "incarnation_out");
    }
    if (node->state == lashup_node::State::created) return fail(LASHUP_ERR_STATE, "the node was not started");
    *incarnation_out = node->runtime->incarnation();
    return succeed();
  });
}

LASHUP_API int lashup_node_event_fd(const lashup_node_t* node) {
  return node == nullptr ? -1 : node->runtime->event_fd();
}

LASHUP_API int lashup_node_poll(lashup_node_t* node, lashup_event_t** out, int timeout_ms) {
  return guard([&] {
    if (node == nullptr || out == nullptr) return null_argument(node == nullptr ? "node" : "out");
    *out = nullptr;
    using Clock = std::chrono::steady_clock;
    const bool forever = timeout_ms < 0;
    const auto deadline = Clock::now() + std::chrono::milliseconds(forever ? 0 : timeout_ms);
    for (;;) {
      std::chrono::milliseconds wait(-1);
      if (!forever) {
        wait = std::max(std::chrono::milliseconds(0),
                        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()));
      }
      auto event = node->runtime->poll(wait);
      if (!event) {
        if (node->runtime->drained()) return fail(LASHUP_ERR_CLOSED, "the node is stopped");
        return fail(LASHUP_ERR_AGAIN, "no event");
      }
      auto converted = std::make_unique<lashup_event>();
      if (!convert(*event, *converted)) continue;  // not reported through the C API
      *out = converted.release();
      return succeed();
    }
  });
}

LASHUP_API int lashup_node_set_event_cb(lashup_node_t* node, lashup_event_cb cb, void* userdata) {
  return guard([&] {
    if (node == nullptr) return null_argument("node");
    std::lock_guard lock(node->lifecycle);
    if (node->state != lashup_node::State::created) {
      return fail(LASHUP_ERR_STATE, "the event callback must be set before start");
    }
    node->callback = cb;
    node->userdata = cb == nullptr ? nullptr : userdata;
    return succeed();
  });
}

LASHUP_API int lashup_node_set_log_cb(lashup_node_t* node, lashup_log_cb cb, void* userdata) {
  return guard([&] {
    if (node == nullptr) return null_argument("node");
    std::lock_guard lock(node->lifecycle);
    if (node->state != lashup_node::State::created) {
      return fail(LASHUP_ERR_STATE, "the log callback must be set before start");
    }
    if (cb == nullptr) {
      node->runtime->set_log_callback(nullptr);
    } else {
      node->runtime->set_log_callback([cb, userdata](NodeRuntime::LogLevel level, const char* component,
                                                     const std::string& message) {
        cb(static_cast<int>(level), component, message.c_str(), userdata);
      });
    }
    return succeed();
  });
}

LASHUP_API const char* lashup_log_level_name(int level) {
  switch (level) {
    case LASHUP_LOG_ERROR: return "error";
    case LASHUP_LOG_WARN: return "warn";
    case LASHUP_LOG_INFO: return "info";
    case LASHUP_LOG_DEBUG: return "debug";
    default: return "unknown";
  }
}

LASHUP_API int lashup_event_type(const lashup_event_t* ev) { return ev == nullptr ? 0 : ev->type; }
LASHUP_API const char* lashup_event_node(const lashup_event_t* ev) { return ev == nullptr ? "" : ev->node.c_str(); }
LASHUP_API const char* lashup_event_peer(const lashup_event_t* ev) { return ev == nullptr ? "" : ev->peer.c_str(); }
LASHUP_API int lashup_event_state(const lashup_event_t* ev) { return ev == nullptr ? 0 : ev->state; }
LASHUP_API uint64_t lashup_event_incarnation(const lashup_event_t* ev) { return ev == nullptr ? 0 : ev->incarnation; }
LASHUP_API uint64_t lashup_event_request_id(const lashup_event_t* ev) { return ev == nullptr ? 0 : ev->request_id; }
LASHUP_API int lashup_event_status(const lashup_event_t* ev) { return ev == nullptr ? LASHUP_OK : ev->status; }
LASHUP_API const char* lashup_event_error(const lashup_event_t* ev) { return ev == nullptr ? "" : ev->error.c_str(); }
LASHUP_API uint64_t lashup_event_rtt_us(const lashup_event_t* ev) { return ev == nullptr ? 0 : ev->rtt_us; }
LASHUP_API uint64_t lashup_event_time_us(const lashup_event_t* ev) { return ev == nullptr ? 0 : ev->time_us; }
LASHUP_API const char* lashup_event_topic(const lashup_event_t* ev) { return ev == nullptr ? "" : ev->topic.c_str(); }
LASHUP_API uint64_t lashup_event_sequence(const lashup_event_t* ev) { return ev == nullptr ? 0 : ev->sequence; }

LASHUP_API const void* lashup_event_payload(const lashup_event_t* ev, size_t* len_out) {
  const bool message = ev != nullptr && ev->type == LASHUP_EVENT_MC_MESSAGE;
  if (len_out != nullptr) *len_out = message ? ev->payload.size() : 0;
  if (!message) return nullptr;
  return ev->payload.empty() ? static_cast<const void*>("") : ev->payload.data();
}
LASHUP_API uint64_t lashup_event_subscription(const lashup_event_t* ev) {
  return ev == nullptr ? 0 : ev->subscription;
}

LASHUP_API const void* lashup_event_key(const lashup_event_t* ev, size_t* len_out) {
  const bool keyed =
      ev != nullptr && (ev->type == LASHUP_EVENT_KV_CHANGED || ev->type == LASHUP_EVENT_KV_UPDATE_DONE);
  if (len_out != nullptr) *len_out = keyed ? ev->key.size() : 0;
  return keyed ? ev->key.c_str() : nullptr;
}

LASHUP_API const lashup_kv_value_t* lashup_event_kv_value(const lashup_event_t* ev) {
  return ev == nullptr ? nullptr : ev->kv_value.get();
}

LASHUP_API void lashup_event_destroy(lashup_event_t* ev) { delete ev; }

LASHUP_API int lashup_node_members(lashup_node_t* node, lashup_members_t** out) {
  return guard([&] {
    if (out == nullptr) return null_argument("out");
    *out = nullptr;
    std::shared_ptr<const Snapshot> snapshot;
    if (int rc = current_snapshot(node, snapshot); rc != LASHUP_OK) return rc;
    *out = new lashup_members{std::move(snapshot)};
    return succeed();
  });
}

LASHUP_API void lashup_members_destroy(lashup_members_t* members) { delete members; }

LASHUP_API size_t lashup_members_count(const lashup_members_t* members) {
  return members == nullptr ? 0 : members->snapshot->members.size();
}

LASHUP_API long lashup_members_find(const lashup_members_t* members, const char* name) {
  if (members == nullptr || name == nullptr) return -1;
  return members->snapshot->index_of(name);
}

LASHUP_API const char* lashup_members_name(const lashup_members_t* members, size_t index) {
  const auto* m = member_at(members, index);
  return m == nullptr ? "" : m->name.c_str();
}

LASHUP_API const char* lashup_members_address(const lashup_members_t* members, size_t index) {
  const auto* m = member_at(members, index);
  return m == nullptr ? "" : m->address.c_str();
}

LASHUP_API int lashup_members_state(const lashup_members_t* members, size_t index) {
  const auto* m = member_at(members, index);
  return m == nullptr ? 0 : member_state(m->state);
}

LASHUP_API uint64_t lashup_members_incarnation(const lashup_members_t* members, size_t index) {
  const auto* m = member_at(members, index);
  return m == nullptr ? 0 : m->incarnation;
}

LASHUP_API uint64_t lashup_members_last_heard_ms(const lashup_members_t* members, size_t index) {
  const auto* m = member_at(members, index);
  return m == nullptr ? 0 : m->last_heard_ms;
}

LASHUP_API uint32_t lashup_members_distance(const lashup_members_t* members, size_t index) {
  const auto* m = member_at(members, index);
  return m == nullptr ? 0 : m->distance;
}

LASHUP_API const void* lashup_members_metadata(const lashup_members_t* members, size_t index, size_t* len_out) {
  const auto* m = member_at(members, index);
  if (len_out != nullptr) *len_out = m == nullptr ? 0 : m->metadata.size();
  if (m == nullptr) return nullptr;
  return m->metadata.empty() ? static_cast<const void*>("") : m->metadata.data();
}

LASHUP_API size_t lashup_members_neighbor_count(const lashup_members_t* members, size_t index) {
  return names_of(members, index, &MemberView::neighbors).size();
}

LASHUP_API const char* lashup_members_neighbor(const lashup_members_t* members, size_t index, size_t n) {
  return name_at(names_of(members, index, &MemberView::neighbors), n);
}

LASHUP_API size_t lashup_members_link_report_count(const lashup_members_t* members, size_t index) {
  return names_of(members, index, &MemberView::link_reports).size();
}

LASHUP_API const char* lashup_members_link_report(const lashup_members_t* members, size_t index, size_t n) {
  return name_at(names_of(members, index, &MemberView::link_reports), n);
}

LASHUP_API int lashup_node_reachable(lashup_node_t* node, const char* name, int* reachable_out) {
  return guard([&] {
    if (name == nullptr || reachable_out == nullptr) return null_argument(name == nullptr ? "name" : "reachable_out");
    *reachable_out = 0;
    std::shared_ptr<const Snapshot> snapshot;
    if (int rc = current_snapshot(node, snapshot); rc != LASHUP_OK) return rc;
    const long index = snapshot->index_of(name);
    *reachable_out =
        index >= 0 && snapshot->members[static_cast<size_t>(index)].state == lashup::Reachability::reachable;
    return succeed();
  });
}

LASHUP_API int lashup_node_distance(lashup_node_t* node, const char* name, uint32_t* hops_out) {
  return guard([&] {
    if (name == nullptr || hops_out == nullptr) return null_argument(name == nullptr ? "name" : "hops_out");
    std::shared_ptr<const Snapshot> snapshot;
    if (int rc = current_snapshot(node, snapshot); rc != LASHUP_OK) return rc;
    const long index = snapshot->index_of(name);
    if (index < 0) return fail(LASHUP_ERR_NOT_FOUND, std::string("not a member: ") + name);
    const auto& member = snapshot->members[static_cast<size_t>(index)];
    if (member.distance == lashup::runtime::kUnreachableDistance || member.state != lashup::Reachability::reachable) {
      return fail(LASHUP_ERR_NOT_FOUND, std::string("not reachable: ") + name);
    }
    *hops_out = member.distance;
    return succeed();
  });
}

LASHUP_API int lashup_node_route_tree(lashup_node_t* node, const char* root, lashup_route_tree_t** out) {
  return guard([&] {
    if (root == nullptr || out == nullptr) return null_argument(root == nullptr ? "root" : "out");
    *out = nullptr;
    std::shared_ptr<const Snapshot> snapshot;
    if (int rc = current_snapshot(node, snapshot); rc != LASHUP_OK) return rc;
    auto entries = snapshot->route_tree(root);
    if (entries.empty()) return fail(LASHUP_ERR_NOT_FOUND, std::string("not a member (or left): ") + root);
    *out = new lashup_route_tree{std::move(entries)};
    return succeed();
  });
}

LASHUP_API void lashup_route_tree_destroy(lashup_route_tree_t* tree) { delete tree; }

LASHUP_API size_t lashup_route_tree_count(const lashup_route_tree_t* tree) {
  return tree == nullptr ? 0 : tree->entries.size();
}

LASHUP_API const char* lashup_route_tree_node(const lashup_route_tree_t* tree, size_t index) {
  return tree == nullptr || index >= tree->entries.size() ? "" : tree->entries[index].node.c_str();
}

LASHUP_API const char* lashup_route_tree_parent(const lashup_route_tree_t* tree, size_t index) {
  return tree == nullptr || index >= tree->entries.size() ? "" : tree->entries[index].parent.c_str();
}

LASHUP_API uint32_t lashup_route_tree_distance(const lashup_route_tree_t* tree, size_t index) {
  return tree == nullptr || index >= tree->entries.size() ? 0 : tree->entries[index].distance;
}

LASHUP_API int lashup_node_health_check(lashup_node_t* node, const char* name, uint64_t* request_id_out) {
  return guard([&] {
    if (node == nullptr || name == nullptr) return null_argument(node == nullptr ? "node" : "name");
    if (*name == '\0') return fail(LASHUP_ERR_INVALID, "name is empty");
    const uint64_t id = node->next_request_id.fetch_add(1);
    lashup::Status s = node->runtime->post(
        [target = std::string(name), id](lashup::Time now, lashup::NodeCore& core) { return core.health_check(now, target, id); });
    if (!s) return fail(s);
    if (request_id_out != nullptr) *request_id_out = id;
    return succeed();
  });
}

LASHUP_API int lashup_node_set_metadata(lashup_node_t* node, const void* data, size_t len) {
  return guard([&] {
    if (node == nullptr) return null_argument("node");
    if (data == nullptr && len > 0) return null_argument("data");
    const auto* bytes = static_cast<const uint8_t*>(data);
    lashup::Bytes metadata(bytes, bytes + len);
    lashup::Status s = node->runtime->run(
        [metadata = std::move(metadata)](lashup::Time now, lashup::NodeCore& core, lashup::Status& result) mutable {
          return core.set_metadata(now, std::move(metadata), result);
        });
    return s ? succeed() : fail(s);
  });
}

LASHUP_API int lashup_node_leave(lashup_node_t* node) {
  return guard([&] {
    if (node == nullptr) return null_argument("node");
    lashup::Status s = node->runtime->run([](lashup::Time now, lashup::NodeCore& core, lashup::Status&) {
      return core.leave(now);
    });
    return s ? succeed() : fail(s);
  });
}

LASHUP_API int lashup_mc_publish(lashup_node_t* node, const char* topic, const void* data, size_t len) {
  return guard([&] {
    if (node == nullptr || topic == nullptr) return null_argument(node == nullptr ? "node" : "topic");
    if (data == nullptr && len > 0) return null_argument("data");
    lashup::Status s = node->runtime->publish(topic, payload_view(data, len));
    return s ? succeed() : fail(s);
  });
}

LASHUP_API int lashup_mc_publish_seq(lashup_node_t* node, const char* topic, const void* data, size_t len,
                                     uint64_t* sequence_out) {
  return guard([&] {
    if (node == nullptr || topic == nullptr) return null_argument(node == nullptr ? "node" : "topic");
    if (data == nullptr && len > 0) return null_argument("data");
    lashup::Result<uint64_t> sequence = node->runtime->publish_and_wait(topic, payload_view(data, len));
    if (!sequence) return fail(sequence.status());
    if (sequence_out != nullptr) *sequence_out = *sequence;
    return succeed();
  });
}

LASHUP_API int lashup_mc_subscribe(lashup_node_t* node, const char* topic) {
  return guard([&] {
    if (node == nullptr || topic == nullptr) return null_argument(node == nullptr ? "node" : "topic");
    if (node->state == lashup_node::State::stopped) return fail(LASHUP_ERR_CLOSED, "the node is stopped");
    lashup::Status s = node->runtime->subscribe(topic);
    return s ? succeed() : fail(s);
  });
}

LASHUP_API int lashup_mc_unsubscribe(lashup_node_t* node, const char* topic) {
  return guard([&] {
    if (node == nullptr || topic == nullptr) return null_argument(node == nullptr ? "node" : "topic");
    if (node->state == lashup_node::State::stopped) return fail(LASHUP_ERR_CLOSED, "the node is stopped");
    lashup::Status s = node->runtime->unsubscribe(topic);
    return s ? succeed() : fail(s);
  });
}

LASHUP_API int lashup_node_stat(lashup_node_t* node, const char* name, uint64_t* value_out) {
  return guard([&] {
    if (name == nullptr || value_out == nullptr) return null_argument(name == nullptr ? "name" : "value_out");
    std::shared_ptr<const Snapshot> snapshot;
    if (int rc = current_snapshot(node, snapshot); rc != LASHUP_OK) return rc;
    for (size_t i = 0; i < lashup::runtime::kStatNames.size(); ++i) {
      if (std::strcmp(lashup::runtime::kStatNames[i], name) == 0) {
        *value_out = snapshot->stats[i];
        return succeed();
      }
    }
    return fail(LASHUP_ERR_NOT_FOUND, std::string("no such stat: ") + name);
  });
}

LASHUP_API size_t lashup_node_stat_count(void) { return lashup::runtime::kStatNames.size(); }

LASHUP_API const char* lashup_node_stat_name(size_t index) {
  return index < lashup::runtime::kStatNames.size() ? lashup::runtime::kStatNames[index] : nullptr;
}

}  // extern "C"
