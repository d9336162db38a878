// lashup._lashup: the low-level Python module over the C API of liblashup
// (<lashup/lashup.h>). The Pythonic layer (lashup/*.py) is built on it.
//
// Rules this file keeps:
//  - The GIL is released around every call into the library; results are
//    copied into C++ values first and turned into Python objects after the
//    GIL is taken again.
//  - lashup_last_error() is read on the thread that made the failing call,
//    before anything else calls into the library from that thread.
//  - No Python code runs on the library's loop thread: no event callback is
//    installed; events are pulled with lashup_node_poll.
//  - lashup_node_destroy must not race other calls on the node, so every call
//    holds a shared lock on the node and close() takes it exclusively after
//    stopping the node (which wakes pollers).
#include <lashup/lashup.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <utility>
#include <vector>

namespace py = pybind11;

namespace {

// Raises the lashup.Error subclass of code (defined in lashup/_errors.py)
// carrying the library's message. The GIL must be held.
[[noreturn]] void raise_error(int code, std::string message) {
  if (message.empty()) message = lashup_strerror(code);
  py::object error = py::module_::import("lashup._errors").attr("error_for_code")(code, message);
  PyErr_SetObject(reinterpret_cast<PyObject*>(Py_TYPE(error.ptr())), error.ptr());
  throw py::error_already_set();
}

void check(int code, const std::string& message) {
  if (code != LASHUP_OK) raise_error(code, message);
}

// Calls f (which returns a lashup code) and raises on failure; for calls that
// cannot block (configuration, operation lists).
template <typename F>
void call_checked(F&& f) {
  int code = f();
  if (code != LASHUP_OK) raise_error(code, lashup_last_error());
}

bool interpreter_finalizing() {
#if PY_VERSION_HEX >= 0x030D0000
  return Py_IsFinalizing() != 0;
#else
  return _Py_IsFinalizing() != 0;
#endif
}

std::string bytes_of(const void* data, size_t len) {
  return data == nullptr ? std::string() : std::string(static_cast<const char*>(data), len);
}

// ---- Values ---------------------------------------------------------------

class Context {
 public:
  explicit Context(lashup_kv_context_t* context) : context_(context) {}
  ~Context() { lashup_kv_context_destroy(context_); }
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;
  const lashup_kv_context_t* get() const { return context_; }

 private:
  lashup_kv_context_t* context_;
};

// A value copied out of the library, so that it can be turned into Python
// objects with the GIL held after the library's object is gone.
struct Field {
  std::string name;
  int type = 0;
  int64_t counter = 0;
  std::string bytes;  // register
  uint64_t timestamp = 0;
  bool flag = false;
  std::vector<std::string> elements;  // set
  std::vector<Field> fields;          // map
};

struct CopiedValue {
  std::vector<Field> fields;
  std::shared_ptr<Context> context;  // null for nested maps
};

std::vector<Field> copy_fields(const lashup_kv_value_t* value) {
  std::vector<Field> out;
  size_t count = lashup_kv_value_field_count(value);
  out.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    Field field;
    size_t len = 0;
    const char* name = lashup_kv_value_field_name(value, i, &len);
    field.name = bytes_of(name, len);
    field.type = lashup_kv_value_field_type(value, i);
    switch (field.type) {
      case LASHUP_KV_COUNTER: field.counter = lashup_kv_value_counter(value, i); break;
      case LASHUP_KV_REGISTER: {
        const void* data = lashup_kv_value_register(value, i, &len, &field.timestamp);
        field.bytes = bytes_of(data, len);
        break;
      }
      case LASHUP_KV_FLAG: field.flag = lashup_kv_value_flag(value, i) != 0; break;
      case LASHUP_KV_SET: {
        size_t size = lashup_kv_value_set_size(value, i);
        field.elements.reserve(size);
        for (size_t e = 0; e < size; ++e) {
          const void* data = lashup_kv_value_set_element(value, i, e, &len);
          field.elements.push_back(bytes_of(data, len));
        }
        break;
      }
      case LASHUP_KV_MAP: field.fields = copy_fields(lashup_kv_value_map(value, i)); break;
      default: break;
    }
    out.push_back(std::move(field));
  }
  return out;
}

// Copies a top-level value (which has a context). Called without the GIL.
std::optional<CopiedValue> copy_value(const lashup_kv_value_t* value) {
  if (value == nullptr) return std::nullopt;
  CopiedValue out;
  out.fields = copy_fields(value);
  lashup_kv_context_t* context = nullptr;
  if (lashup_kv_value_context(value, &context) == LASHUP_OK) out.context = std::make_shared<Context>(context);
  return out;
}

// A field as (name: bytes, type: int, value, timestamp: int); value is an
// int, bytes, bool, list[bytes] or a list of fields (map).
py::list fields_to_python(const std::vector<Field>& fields) {
  py::list out;
  for (const Field& field : fields) {
    py::object value;
    switch (field.type) {
      case LASHUP_KV_COUNTER: value = py::int_(field.counter); break;
      case LASHUP_KV_REGISTER: value = py::bytes(field.bytes); break;
      case LASHUP_KV_FLAG: value = py::bool_(field.flag); break;
      case LASHUP_KV_SET: {
        py::list elements;
        for (const std::string& element : field.elements) elements.append(py::bytes(element));
        value = elements;
        break;
      }
      case LASHUP_KV_MAP: value = fields_to_python(field.fields); break;
      default: value = py::none();
    }
    out.append(py::make_tuple(py::bytes(field.name), field.type, value, py::int_(field.timestamp)));
  }
  return out;
}

// (fields, context) or None.
py::object value_to_python(const std::optional<CopiedValue>& value) {
  if (!value) return py::none();
  py::object context = value->context ? py::cast(value->context) : py::none();
  return py::make_tuple(fields_to_python(value->fields), context);
}

// ---- Operation lists ----------------------------------------------------------

class Ops {
 public:
  Ops() {
    call_checked([&] { return lashup_kv_ops_new(&ops_); });
  }
  ~Ops() { lashup_kv_ops_destroy(ops_); }
  Ops(const Ops&) = delete;
  Ops& operator=(const Ops&) = delete;

  size_t count() const { return lashup_kv_ops_count(ops_); }
  void counter_add(const std::string& path, int64_t amount) {
    call_checked([&] { return lashup_kv_ops_counter_add(ops_, path.c_str(), amount); });
  }
  void set_add(const std::string& path, const py::bytes& element) {
    std::string_view data = element;
    call_checked([&] { return lashup_kv_ops_set_add(ops_, path.c_str(), data.data(), data.size()); });
  }
  void set_remove(const std::string& path, const py::bytes& element) {
    std::string_view data = element;
    call_checked([&] { return lashup_kv_ops_set_remove(ops_, path.c_str(), data.data(), data.size()); });
  }
  void register_set(const std::string& path, const py::bytes& value, uint64_t timestamp) {
    std::string_view data = value;
    call_checked([&] { return lashup_kv_ops_register_set(ops_, path.c_str(), data.data(), data.size(), timestamp); });
  }
  void flag_enable(const std::string& path) {
    call_checked([&] { return lashup_kv_ops_flag_enable(ops_, path.c_str()); });
  }
  void flag_disable(const std::string& path) {
    call_checked([&] { return lashup_kv_ops_flag_disable(ops_, path.c_str()); });
  }
  void remove_field(const std::string& path, int type) {
    call_checked([&] { return lashup_kv_ops_remove_field(ops_, path.c_str(), type); });
  }
  const lashup_kv_ops_t* get() const { return ops_; }

 private:
  lashup_kv_ops_t* ops_ = nullptr;
};

// ---- Events -------------------------------------------------------------------

// An event copied out of the library (without the GIL).
struct CopiedEvent {
  int type = 0;
  std::string node, peer, topic, payload, key, error;
  bool has_key = false;
  int state = 0;
  int status = 0;
  uint64_t incarnation = 0, request_id = 0, rtt_us = 0, time_us = 0, sequence = 0, subscription = 0;
  std::optional<CopiedValue> value;
};

CopiedEvent copy_event(const lashup_event_t* event) {
  CopiedEvent out;
  out.type = lashup_event_type(event);
  out.node = lashup_event_node(event);
  out.peer = lashup_event_peer(event);
  out.state = lashup_event_state(event);
  out.incarnation = lashup_event_incarnation(event);
  out.request_id = lashup_event_request_id(event);
  out.rtt_us = lashup_event_rtt_us(event);
  out.time_us = lashup_event_time_us(event);
  out.topic = lashup_event_topic(event);
  size_t len = 0;
  const void* payload = lashup_event_payload(event, &len);
  out.payload = bytes_of(payload, len);
  out.sequence = lashup_event_sequence(event);
  out.subscription = lashup_event_subscription(event);
  const void* key = lashup_event_key(event, &len);
  out.has_key = key != nullptr;
  out.key = bytes_of(key, len);
  out.value = copy_value(lashup_event_kv_value(event));
#ifdef LASHUP_PY_HAVE_KV_UPDATE_ASYNC
  out.status = lashup_event_status(event);
  out.error = lashup_event_error(event);
#endif
  return out;
}

py::dict event_to_python(const CopiedEvent& event) {
  py::dict out;
  out["type"] = event.type;
  out["node"] = event.node;
  out["peer"] = event.peer;
  out["state"] = event.state;
  out["status"] = event.status;
  out["error"] = event.error;
  out["incarnation"] = event.incarnation;
  out["request_id"] = event.request_id;
  out["rtt_us"] = event.rtt_us;
  out["time_us"] = event.time_us;
  out["topic"] = event.topic;
  out["payload"] = py::bytes(event.payload);
  out["sequence"] = event.sequence;
  out["subscription"] = event.subscription;
  out["key"] = event.has_key ? py::object(py::bytes(event.key)) : py::object(py::none());
  out["value"] = value_to_python(event.value);
  return out;
}

// ---- Members and routes ---------------------------------------------------------

struct CopiedMember {
  std::string name, address, metadata;
  int state = 0;
  uint64_t incarnation = 0, last_heard_ms = 0;
  uint32_t distance = 0;
  std::vector<std::string> neighbors, link_reports;
};

struct RouteEntry {
  std::string node, parent;
  uint32_t distance = 0;
};

// ---- Nodes ------------------------------------------------------------------

std::vector<std::string> config_keys() {
  std::vector<std::string> out;
  for (size_t i = 0; i < lashup_config_key_count(); ++i) out.emplace_back(lashup_config_key_name(i));
  return out;
}

std::vector<std::string> stat_names() {
  std::vector<std::string> out;
  for (size_t i = 0; i < lashup_node_stat_count(); ++i) out.emplace_back(lashup_node_stat_name(i));
  return out;
}

class Node {
 public:
  // settings are applied in order after config_file, if any.
  Node(const std::vector<std::pair<std::string, std::string>>& settings,
       const std::optional<std::string>& config_file) {
    lashup_config_t* raw = nullptr;
    call_checked([&] { return lashup_config_new(&raw); });
    std::unique_ptr<lashup_config_t, void (*)(lashup_config_t*)> config(raw, lashup_config_destroy);
    char errbuf[512] = "";
    if (config_file) {
      int code = lashup_config_load_file(config.get(), config_file->c_str(), errbuf, sizeof errbuf);
      check(code, errbuf);
    }
    for (const auto& [key, value] : settings) {
      int code = lashup_config_set(config.get(), key.c_str(), value.c_str(), errbuf, sizeof errbuf);
      check(code, errbuf);
    }
    int code = lashup_node_new(&node_, config.get(), errbuf, sizeof errbuf);
    check(code, errbuf);
    event_fd_ = lashup_node_event_fd(node_);
    name_ = lashup_node_name(node_);
  }

  ~Node() {
    // Destroy joins the loop thread, which never needs the GIL; let other
    // Python threads run meanwhile (not while the interpreter shuts down).
    if (interpreter_finalizing()) {
      lashup_node_destroy(node_);
      return;
    }
    py::gil_scoped_release release;
    close_without_gil();
  }

  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  const std::string& name() const { return name_; }

  void start() {
    std::string error;
    check(with_node([](lashup_node_t* node) { return lashup_node_start(node); }, error), error);
  }

  void stop() {
    std::string error;
    check(with_node([](lashup_node_t* node) { return lashup_node_stop(node); }, error), error);
  }

  void close() {
    py::gil_scoped_release release;
    close_without_gil();
  }

  bool closed() {
    std::shared_lock lock(mutex_);
    return node_ == nullptr;
  }

  int fileno() {
    std::shared_lock lock(mutex_);
    if (node_ == nullptr) raise_error(LASHUP_ERR_CLOSED, "the node is closed");
    return event_fd_;
  }

  std::string address() {
    std::string error, address;
    int code = with_node(
        [&](lashup_node_t* node) -> int {
          char* raw = nullptr;
          int rc = lashup_node_address(node, &raw);
          if (rc == LASHUP_OK) address = raw;
          lashup_free(raw);
          return rc;
        },
        error);
    check(code, error);
    return address;
  }

  uint64_t incarnation() {
    std::string error;
    uint64_t incarnation = 0;
    check(with_node([&](lashup_node_t* node) -> int { return lashup_node_incarnation(node, &incarnation); }, error),
          error);
    return incarnation;
  }

  // Up to max_events events: waits up to timeout_ms for the first (negative:
  // until one arrives or the node stops), then takes what is queued without
  // waiting. An empty list when nothing arrived; raises Closed when the node
  // is stopped and drained.
  py::list poll(int timeout_ms, size_t max_events) {
    std::vector<CopiedEvent> events;
    std::string error;
    int code = with_node(
        [&](lashup_node_t* node) -> int {
          int rc = LASHUP_OK;
          while (events.size() < max_events) {
            lashup_event_t* event = nullptr;
            rc = lashup_node_poll(node, &event, events.empty() ? timeout_ms : 0);
            if (rc != LASHUP_OK) break;
            events.push_back(copy_event(event));
            lashup_event_destroy(event);
          }
          // Events taken before the queue closed or emptied are delivered;
          // the next poll reports the closing.
          if (!events.empty() || rc == LASHUP_ERR_AGAIN) return LASHUP_OK;
          return rc;
        },
        error);
    check(code, error);
    py::list out;
    for (const CopiedEvent& event : events) out.append(event_to_python(event));
    return out;
  }

  py::list members() {
    std::vector<CopiedMember> members;
    std::string error;
    int code = with_node(
        [&](lashup_node_t* node) -> int {
          lashup_members_t* snapshot = nullptr;
          int rc = lashup_node_members(node, &snapshot);
          if (rc != LASHUP_OK) return rc;
          size_t count = lashup_members_count(snapshot);
          for (size_t i = 0; i < count; ++i) {
            CopiedMember member;
            member.name = lashup_members_name(snapshot, i);
            member.address = lashup_members_address(snapshot, i);
            member.state = lashup_members_state(snapshot, i);
            member.incarnation = lashup_members_incarnation(snapshot, i);
            member.last_heard_ms = lashup_members_last_heard_ms(snapshot, i);
            member.distance = lashup_members_distance(snapshot, i);
            size_t len = 0;
            const void* metadata = lashup_members_metadata(snapshot, i, &len);
            member.metadata = bytes_of(metadata, len);
            for (size_t n = 0; n < lashup_members_neighbor_count(snapshot, i); ++n)
              member.neighbors.emplace_back(lashup_members_neighbor(snapshot, i, n));
            for (size_t n = 0; n < lashup_members_link_report_count(snapshot, i); ++n)
              member.link_reports.emplace_back(lashup_members_link_report(snapshot, i, n));
            members.push_back(std::move(member));
          }
          lashup_members_destroy(snapshot);
          return LASHUP_OK;
        },
        error);
    check(code, error);
    py::list out;
    for (const CopiedMember& m : members) {
      py::object distance = m.distance == UINT32_MAX ? py::object(py::none()) : py::object(py::int_(m.distance));
      out.append(py::make_tuple(m.name, m.address, m.state, m.incarnation, m.last_heard_ms, distance,
                                py::bytes(m.metadata), py::tuple(py::cast(m.neighbors)),
                                py::tuple(py::cast(m.link_reports))));
    }
    return out;
  }

  bool reachable(const std::string& name) {
    std::string error;
    int reachable = 0;
    check(with_node([&](lashup_node_t* node) -> int { return lashup_node_reachable(node, name.c_str(), &reachable); },
                    error),
          error);
    return reachable != 0;
  }

  uint32_t distance(const std::string& name) {
    std::string error;
    uint32_t hops = 0;
    check(with_node([&](lashup_node_t* node) -> int { return lashup_node_distance(node, name.c_str(), &hops); }, error),
          error);
    return hops;
  }

  py::list route_tree(const std::string& root) {
    std::vector<RouteEntry> entries;
    std::string error;
    int code = with_node(
        [&](lashup_node_t* node) -> int {
          lashup_route_tree_t* tree = nullptr;
          int rc = lashup_node_route_tree(node, root.c_str(), &tree);
          if (rc != LASHUP_OK) return rc;
          for (size_t i = 0; i < lashup_route_tree_count(tree); ++i)
            entries.push_back(RouteEntry{lashup_route_tree_node(tree, i), lashup_route_tree_parent(tree, i),
                                         lashup_route_tree_distance(tree, i)});
          lashup_route_tree_destroy(tree);
          return LASHUP_OK;
        },
        error);
    check(code, error);
    py::list out;
    for (const RouteEntry& e : entries) out.append(py::make_tuple(e.node, e.parent, e.distance));
    return out;
  }

  uint64_t health_check(const std::string& name) {
    std::string error;
    uint64_t request_id = 0;
    check(
        with_node([&](lashup_node_t* node) -> int { return lashup_node_health_check(node, name.c_str(), &request_id); },
                  error),
        error);
    return request_id;
  }

  void set_metadata(const py::bytes& metadata) {
    std::string data = metadata;
    std::string error;
    check(
        with_node([&](lashup_node_t* node) -> int { return lashup_node_set_metadata(node, data.data(), data.size()); },
                  error),
        error);
  }

  void leave() {
    std::string error;
    check(with_node([](lashup_node_t* node) { return lashup_node_leave(node); }, error), error);
  }

  uint64_t stat(const std::string& name) {
    std::string error;
    uint64_t value = 0;
    check(with_node([&](lashup_node_t* node) -> int { return lashup_node_stat(node, name.c_str(), &value); }, error),
          error);
    return value;
  }

  // ---- Multicast ----

  void mc_publish(const std::string& topic, const py::bytes& data) {
    std::string payload = data;
    std::string error;
    check(with_node([&](lashup_node_t* node)
                        -> int { return lashup_mc_publish(node, topic.c_str(), payload.data(), payload.size()); },
                    error),
          error);
  }

  uint64_t mc_publish_seq(const std::string& topic, const py::bytes& data) {
    std::string payload = data;
    std::string error;
    uint64_t sequence = 0;
    check(with_node(
              [&](lashup_node_t* node) -> int {
                return lashup_mc_publish_seq(node, topic.c_str(), payload.data(), payload.size(), &sequence);
              },
              error),
          error);
    return sequence;
  }

  void mc_subscribe(const std::string& topic) {
    std::string error;
    check(with_node([&](lashup_node_t* node) -> int { return lashup_mc_subscribe(node, topic.c_str()); }, error),
          error);
  }

  void mc_unsubscribe(const std::string& topic) {
    std::string error;
    check(with_node([&](lashup_node_t* node) -> int { return lashup_mc_unsubscribe(node, topic.c_str()); }, error),
          error);
  }

  // ---- Key-value store ----

  // (fields, context) or None when the key is absent.
  py::object kv_get(const py::bytes& key_bytes) {
    std::string key = key_bytes;
    std::string error;
    std::optional<CopiedValue> value;
    int code = with_node(
        [&](lashup_node_t* node) -> int {
          lashup_kv_value_t* raw = nullptr;
          int rc = lashup_kv_get(node, key.data(), key.size(), &raw);
          if (rc == LASHUP_OK) value = copy_value(raw);
          lashup_kv_value_destroy(raw);
          return rc;
        },
        error);
    if (code == LASHUP_ERR_NOT_FOUND) return py::none();
    check(code, error);
    return value_to_python(value);
  }

  py::object kv_update(const py::bytes& key_bytes, const Ops& ops, const std::shared_ptr<Context>& expected) {
    std::string key = key_bytes;
    std::string error;
    std::optional<CopiedValue> value;
    int code = with_node(
        [&](lashup_node_t* node) -> int {
          lashup_kv_value_t* raw = nullptr;
          int rc =
              lashup_kv_update(node, key.data(), key.size(), ops.get(), expected ? expected->get() : nullptr, &raw);
          if (rc == LASHUP_OK) value = copy_value(raw);
          lashup_kv_value_destroy(raw);
          return rc;
        },
        error);
    check(code, error);
    return value_to_python(value);
  }

#ifdef LASHUP_PY_HAVE_KV_UPDATE_ASYNC
  uint64_t kv_update_async(const py::bytes& key_bytes, const Ops& ops, const std::shared_ptr<Context>& expected) {
    std::string key = key_bytes;
    std::string error;
    uint64_t request_id = 0;
    check(with_node(
              [&](lashup_node_t* node) -> int {
                return lashup_kv_update_async(node, key.data(), key.size(), ops.get(),
                                              expected ? expected->get() : nullptr, &request_id);
              },
              error),
          error);
    return request_id;
  }
#endif

  void kv_delete(const py::bytes& key_bytes) {
    std::string key = key_bytes;
    std::string error;
    check(with_node([&](lashup_node_t* node) -> int { return lashup_kv_delete(node, key.data(), key.size()); }, error),
          error);
  }

  std::vector<py::bytes> kv_keys(const py::bytes& pattern_bytes, bool glob) {
    std::string pattern = pattern_bytes;
    std::string error;
    std::vector<std::string> keys;
    int code = with_node(
        [&](lashup_node_t* node) -> int {
          if (pattern.find('\0') != std::string::npos) return invalid(error, "a pattern must not contain a NUL byte");
          lashup_kv_keys_t* list = nullptr;
          int rc = lashup_kv_keys(node, pattern.c_str(), glob ? 1 : 0, &list);
          if (rc != LASHUP_OK) return rc;
          for (size_t i = 0; i < lashup_kv_keys_count(list); ++i) {
            size_t len = 0;
            const void* key = lashup_kv_keys_at(list, i, &len);
            keys.push_back(bytes_of(key, len));
          }
          lashup_kv_keys_destroy(list);
          return LASHUP_OK;
        },
        error);
    check(code, error);
    std::vector<py::bytes> out;
    out.reserve(keys.size());
    for (const std::string& key : keys) out.emplace_back(key);
    return out;
  }

  uint64_t kv_subscribe(const py::bytes& pattern_bytes, bool glob) {
    std::string pattern = pattern_bytes;
    std::string error;
    uint64_t subscription = 0;
    check(with_node(
              [&](lashup_node_t* node) -> int {
                if (pattern.find('\0') != std::string::npos)
                  return invalid(error, "a pattern must not contain a NUL byte");
                return lashup_kv_subscribe(node, pattern.c_str(), glob ? 1 : 0, &subscription);
              },
              error),
          error);
    return subscription;
  }

  void kv_unsubscribe(uint64_t subscription) {
    std::string error;
    check(with_node([&](lashup_node_t* node) -> int { return lashup_kv_unsubscribe(node, subscription); }, error),
          error);
  }

 private:
  // Runs f(node) without the GIL under the shared lock; a failure's message
  // is read on this thread into error. CLOSED when the node is closed.
  template <typename F>
  int with_node(F&& f, std::string& error) {
    py::gil_scoped_release release;
    std::shared_lock lock(mutex_);
    if (node_ == nullptr) {
      error = "the node is closed";
      return LASHUP_ERR_CLOSED;
    }
    int code = f(node_);
    if (code != LASHUP_OK && error.empty()) error = lashup_last_error();
    return code;
  }

  static int invalid(std::string& error, const char* message) {
    error = message;
    return LASHUP_ERR_INVALID;
  }

  void close_without_gil() {
    {
      // Stopping wakes the threads waiting in poll, so that the exclusive
      // lock below is not held up by them.
      std::shared_lock lock(mutex_);
      if (node_ != nullptr) lashup_node_stop(node_);
    }
    lashup_node_t* node = nullptr;
    {
      std::unique_lock lock(mutex_);
      node = node_;
      node_ = nullptr;
    }
    // No other call can reach node any more: they all see nullptr.
    lashup_node_destroy(node);
  }

  std::shared_mutex mutex_;
  lashup_node_t* node_ = nullptr;
  int event_fd_ = -1;
  std::string name_;
};

}  // namespace

PYBIND11_MODULE(_lashup, m) {
  m.doc() = "Low-level binding of the liblashup C API; use the lashup package instead.";

  m.def("version", &lashup_version);
  m.def("version_string", &lashup_version_string);
  m.def("strerror", &lashup_strerror);
  m.def("config_keys", &config_keys);
  m.def("stat_names", &stat_names);
#ifdef LASHUP_PY_HAVE_KV_UPDATE_ASYNC
  m.attr("HAVE_KV_UPDATE_ASYNC") = true;
#else
  m.attr("HAVE_KV_UPDATE_ASYNC") = false;
#endif

  py::class_<Context, std::shared_ptr<Context>>(m, "Context", "A compare-and-set token (opaque).");

  py::class_<Ops>(m, "Ops")
      .def(py::init<>())
      .def("count", &Ops::count)
      .def("counter_add", &Ops::counter_add, py::arg("path"), py::arg("amount"))
      .def("set_add", &Ops::set_add, py::arg("path"), py::arg("element"))
      .def("set_remove", &Ops::set_remove, py::arg("path"), py::arg("element"))
      .def("register_set", &Ops::register_set, py::arg("path"), py::arg("value"), py::arg("timestamp"))
      .def("flag_enable", &Ops::flag_enable, py::arg("path"))
      .def("flag_disable", &Ops::flag_disable, py::arg("path"))
      .def("remove_field", &Ops::remove_field, py::arg("path"), py::arg("type"));

  py::class_<Node>(m, "Node")
      .def(py::init<const std::vector<std::pair<std::string, std::string>>&, const std::optional<std::string>&>(),
           py::arg("settings"), py::arg("config_file") = py::none())
      .def_property_readonly("name", &Node::name)
      .def("start", &Node::start)
      .def("stop", &Node::stop)
      .def("close", &Node::close)
      .def("closed", &Node::closed)
      .def("fileno", &Node::fileno)
      .def("address", &Node::address)
      .def("incarnation", &Node::incarnation)
      .def("poll", &Node::poll, py::arg("timeout_ms"), py::arg("max_events"))
      .def("members", &Node::members)
      .def("reachable", &Node::reachable, py::arg("name"))
      .def("distance", &Node::distance, py::arg("name"))
      .def("route_tree", &Node::route_tree, py::arg("root"))
      .def("health_check", &Node::health_check, py::arg("name"))
      .def("set_metadata", &Node::set_metadata, py::arg("metadata"))
      .def("leave", &Node::leave)
      .def("stat", &Node::stat, py::arg("name"))
      .def("mc_publish", &Node::mc_publish, py::arg("topic"), py::arg("data"))
      .def("mc_publish_seq", &Node::mc_publish_seq, py::arg("topic"), py::arg("data"))
      .def("mc_subscribe", &Node::mc_subscribe, py::arg("topic"))
      .def("mc_unsubscribe", &Node::mc_unsubscribe, py::arg("topic"))
      .def("kv_get", &Node::kv_get, py::arg("key"))
      .def("kv_update", &Node::kv_update, py::arg("key"), py::arg("ops"), py::arg("expected"))
#ifdef LASHUP_PY_HAVE_KV_UPDATE_ASYNC
      .def("kv_update_async", &Node::kv_update_async, py::arg("key"), py::arg("ops"), py::arg("expected"))
#endif
      .def("kv_delete", &Node::kv_delete, py::arg("key"))
      .def("kv_keys", &Node::kv_keys, py::arg("pattern"), py::arg("glob"))
      .def("kv_subscribe", &Node::kv_subscribe, py::arg("pattern"), py::arg("glob"))
      .def("kv_unsubscribe", &Node::kv_unsubscribe, py::arg("subscription"));
}
