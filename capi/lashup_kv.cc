// The replicated key-value store of the C API: operation lists, updates,
// reads, value trees and their JSON rendering, key lists. Writes go to the
// loop thread through NodeRuntime (which waits until they are persisted);
// reads take the runtime's core lock shared and never wait for the loop.
#include <cinttypes>
#include <cstdio>
#include <optional>
#include <string_view>

#include "capi/node_internal.h"
#include "core/common/json_string.h"
#include "core/kv/kv_store.h"

using lashup::Bytes;
using lashup::crdt::FieldOp;
using lashup::crdt::FieldType;
using lashup::crdt::FieldValue;
using lashup::crdt::MapValue;
using namespace lashup::capi;

struct lashup_kv_ops {
  std::vector<FieldOp> ops;  // top level; nested paths are update chains
  size_t count = 0;          // adder calls that succeeded
};

struct lashup_kv_context {
  Bytes encoded;  // crdt::encode_context
};

struct lashup_kv_keys {
  std::vector<std::string> keys;
};

namespace lashup::capi {

std::unique_ptr<lashup_kv_value> make_kv_value(crdt::MapValue value, Bytes context) {
  struct Builder {
    static void nest(lashup_kv_value& v) {
      v.nested.resize(v.map->fields.size());
      for (size_t i = 0; i < v.map->fields.size(); ++i) {
        if (const auto* map = std::get_if<MapValue>(&v.map->fields[i].value)) {
          v.nested[i] = std::make_unique<lashup_kv_value>();
          v.nested[i]->map = map;
          nest(*v.nested[i]);
        }
      }
    }
  };
  auto out = std::make_unique<lashup_kv_value>();
  out->root = std::make_unique<const MapValue>(std::move(value));
  out->map = out->root.get();
  out->context = std::move(context);
  out->top = true;
  Builder::nest(*out);
  return out;
}

}  // namespace lashup::capi

namespace {

int null_argument(const char* what) { return fail(LASHUP_ERR_INVALID, std::string(what) + " is NULL"); }

// Splits a path into its names; false for an empty path or an empty name.
bool split_path(const char* path, std::vector<std::string>& names) {
  std::string_view rest(path);
  if (rest.empty()) return false;
  for (;;) {
    const size_t slash = rest.find('/');
    names.emplace_back(rest.substr(0, slash));
    if (names.back().empty()) return false;
    if (slash == std::string_view::npos) return true;
    rest.remove_prefix(slash + 1);
  }
}

// Where an operation on `names` goes in `level`: descends through the maps
// of all names but the last, reusing the latest update of the same map at
// each level unless that map is removed after it (merging across the remove
// would move the later operation before it).
std::vector<FieldOp>& level_for(std::vector<FieldOp>& level, const std::vector<std::string>& names, size_t depth) {
  if (depth + 1 == names.size()) return level;
  const std::string& name = names[depth];
  for (auto it = level.rbegin(); it != level.rend(); ++it) {
    if (it->field.name != name || it->field.type != FieldType::map) continue;
    if (it->kind == FieldOp::Kind::update) return level_for(it->ops, names, depth + 1);
    break;  // a remove of the map: a new update must come after it
  }
  level.push_back(FieldOp::update(name, {}));
  return level_for(level.back().ops, names, depth + 1);
}

// Adds the operation `make(last name)` at `path`.
template <typename Make>
int add_op(lashup_kv_ops_t* ops, const char* path, Make&& make) {
  return guard([&] {
    if (ops == nullptr || path == nullptr) return null_argument(ops == nullptr ? "ops" : "path");
    std::vector<std::string> names;
    if (!split_path(path, names)) {
      return fail(LASHUP_ERR_INVALID, std::string("bad path \"") + path + "\": empty, or with an empty field name");
    }
    FieldOp op = make(std::move(names.back()));
    level_for(ops->ops, names, 0).push_back(std::move(op));
    ++ops->count;
    return succeed();
  });
}

std::string bytes_of(const void* data, size_t len) {
  return len == 0 ? std::string() : std::string(static_cast<const char*>(data), len);
}

// The key as bytes, or an error code (a NULL key with a length, a key the
// store refuses).
int read_key(const void* key, size_t key_len, std::string& out) {
  if (key == nullptr && key_len > 0) return null_argument("key");
  out = bytes_of(key, key_len);
  if (lashup::Status s = lashup::kv::validate_key(out); !s) return fail(s);
  return LASHUP_OK;
}

// The node's state as an error for calls that need it running. Before
// start, writes are refused like every command (closed) and reads like
// every read (state).
enum class Access { read, write };
int check_running(const lashup_node_t* node, Access access) {
  if (node == nullptr) return null_argument("node");
  switch (node->state.load()) {
    case lashup_node::State::created:
      if (access == Access::write) return fail(LASHUP_ERR_CLOSED, "the node is not running");
      return fail(LASHUP_ERR_STATE, "the node was not started");
    case lashup_node::State::stopped: return fail(LASHUP_ERR_CLOSED, "the node is stopped");
    case lashup_node::State::running: return LASHUP_OK;
  }
  return LASHUP_OK;
}

const FieldValue* field_at(const lashup_kv_value_t* value, size_t index) {
  if (value == nullptr || index >= value->map->fields.size()) return nullptr;
  return &value->map->fields[index];
}

template <typename T>
const T* field_as(const lashup_kv_value_t* value, size_t index) {
  const FieldValue* field = field_at(value, index);
  return field == nullptr ? nullptr : std::get_if<T>(&field->value);
}

// --- JSON ---

using lashup::append_json_string;

void append_json_map(std::string& out, const MapValue& map) {
  out += '{';
  // Fields are sorted by (name, type): one member per name, holding one
  // member per type.
  for (size_t i = 0; i < map.fields.size(); ++i) {
    const FieldValue& field = map.fields[i];
    const bool first_of_name = i == 0 || map.fields[i - 1].key.name != field.key.name;
    if (first_of_name) {
      if (i > 0) out += ',';
      append_json_string(out, field.key.name);
      out += ":{";
    } else {
      out += ',';
    }
    out += '"';
    out += lashup::crdt::field_type_name(field.key.type);
    out += "\":";
    std::visit(
        [&](const auto& v) {
          using V = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<V, int64_t>) {
            out += std::to_string(v);
          } else if constexpr (std::is_same_v<V, lashup::crdt::Timestamped>) {
            append_json_string(out, v.value);
          } else if constexpr (std::is_same_v<V, bool>) {
            out += v ? "true" : "false";
          } else if constexpr (std::is_same_v<V, std::vector<std::string>>) {
            out += '[';
            for (size_t e = 0; e < v.size(); ++e) {
              if (e > 0) out += ',';
              append_json_string(out, v[e]);
            }
            out += ']';
          } else {
            append_json_map(out, v);
          }
        },
        field.value);
    const bool last_of_name = i + 1 == map.fields.size() || map.fields[i + 1].key.name != field.key.name;
    if (last_of_name) out += '}';
  }
  out += '}';
}

// What both update calls check before a write goes to the loop: the node
// runs, ops and the key are valid, the context decodes.
struct UpdateArgs {
  std::string key;
  std::optional<lashup::crdt::CausalContext> expected;
};
int read_update_args(lashup_node_t* node, const void* key, size_t key_len, const lashup_kv_ops_t* ops,
                     const lashup_kv_context_t* expected, UpdateArgs& out) {
  if (ops == nullptr) return null_argument("ops");
  if (int rc = check_running(node, Access::write); rc != LASHUP_OK) return rc;
  if (int rc = read_key(key, key_len, out.key); rc != LASHUP_OK) return rc;
  if (expected != nullptr) {
    auto decoded = lashup::crdt::decode_context(expected->encoded);
    if (!decoded) return fail(LASHUP_ERR_INVALID, "unreadable context: " + decoded.status().message());
    out.expected = std::move(*decoded);
  }
  return LASHUP_OK;
}

}  // namespace

extern "C" {

LASHUP_API int lashup_kv_ops_new(lashup_kv_ops_t** out) {
  return guard([&] {
    if (out == nullptr) return null_argument("out");
    *out = nullptr;
    *out = new lashup_kv_ops();
    return succeed();
  });
}

LASHUP_API void lashup_kv_ops_destroy(lashup_kv_ops_t* ops) { delete ops; }

LASHUP_API size_t lashup_kv_ops_count(const lashup_kv_ops_t* ops) { return ops == nullptr ? 0 : ops->count; }

LASHUP_API int lashup_kv_ops_counter_add(lashup_kv_ops_t* ops, const char* path, int64_t amount) {
  return add_op(ops, path, [&](std::string name) { return FieldOp::increment(std::move(name), amount); });
}

LASHUP_API int lashup_kv_ops_set_add(lashup_kv_ops_t* ops, const char* path, const void* element, size_t len) {
  if (element == nullptr && len > 0) return guard([] { return null_argument("element"); });
  return add_op(ops, path, [&](std::string name) { return FieldOp::add(std::move(name), {bytes_of(element, len)}); });
}

LASHUP_API int lashup_kv_ops_set_remove(lashup_kv_ops_t* ops, const char* path, const void* element, size_t len) {
  if (element == nullptr && len > 0) return guard([] { return null_argument("element"); });
  return add_op(ops, path,
                [&](std::string name) { return FieldOp::remove(std::move(name), {bytes_of(element, len)}); });
}

LASHUP_API int lashup_kv_ops_register_set(lashup_kv_ops_t* ops, const char* path, const void* value, size_t len,
                                          uint64_t timestamp) {
  if (value == nullptr && len > 0) return guard([] { return null_argument("value"); });
  return add_op(ops, path,
                [&](std::string name) { return FieldOp::assign(std::move(name), bytes_of(value, len), timestamp); });
}

LASHUP_API int lashup_kv_ops_flag_enable(lashup_kv_ops_t* ops, const char* path) {
  return add_op(ops, path, [](std::string name) { return FieldOp::enable(std::move(name)); });
}

LASHUP_API int lashup_kv_ops_flag_disable(lashup_kv_ops_t* ops, const char* path) {
  return add_op(ops, path, [](std::string name) { return FieldOp::disable(std::move(name)); });
}

LASHUP_API int lashup_kv_ops_remove_field(lashup_kv_ops_t* ops, const char* path, int type) {
  if (type < LASHUP_KV_COUNTER || type > LASHUP_KV_MAP) {
    return guard([&] { return fail(LASHUP_ERR_INVALID, "unknown field type " + std::to_string(type)); });
  }
  return add_op(ops, path, [&](std::string name) {
    return FieldOp::remove_field(std::move(name), static_cast<FieldType>(type));
  });
}

LASHUP_API int lashup_kv_update(lashup_node_t* node, const void* key, size_t key_len, const lashup_kv_ops_t* ops,
                                const lashup_kv_context_t* expected, lashup_kv_value_t** value_out) {
  return guard([&] {
    if (value_out != nullptr) *value_out = nullptr;
    UpdateArgs args;
    if (int rc = read_update_args(node, key, key_len, ops, expected, args); rc != LASHUP_OK) return rc;
    auto written = node->runtime->kv_update(std::move(args.key), ops->ops, std::move(args.expected));
    if (!written) return fail(written.status());
    if (value_out != nullptr) {
      auto value = make_kv_value(std::move(written->value), std::move(written->context));
      value->caller_owned = true;
      *value_out = value.release();
    }
    return succeed();
  });
}

LASHUP_API int lashup_kv_update_async(lashup_node_t* node, const void* key, size_t key_len,
                                      const lashup_kv_ops_t* ops, const lashup_kv_context_t* expected,
                                      uint64_t* request_id_out) {
  return guard([&] {
    if (request_id_out != nullptr) *request_id_out = 0;
    UpdateArgs args;
    if (int rc = read_update_args(node, key, key_len, ops, expected, args); rc != LASHUP_OK) return rc;
    const uint64_t id = node->next_request_id.fetch_add(1);
    lashup::Status queued =
        node->runtime->kv_update_async(std::move(args.key), ops->ops, std::move(args.expected), id);
    if (!queued) return fail(queued);
    if (request_id_out != nullptr) *request_id_out = id;
    return succeed();
  });
}

LASHUP_API int lashup_kv_delete(lashup_node_t* node, const void* key, size_t key_len) {
  return guard([&] {
    if (int rc = check_running(node, Access::write); rc != LASHUP_OK) return rc;
    std::string k;
    if (int rc = read_key(key, key_len, k); rc != LASHUP_OK) return rc;
    lashup::Status s = node->runtime->kv_remove(std::move(k));
    return s ? succeed() : fail(s);
  });
}

LASHUP_API int lashup_kv_get(lashup_node_t* node, const void* key, size_t key_len, lashup_kv_value_t** out) {
  return guard([&] {
    if (out == nullptr) return null_argument("out");
    *out = nullptr;
    if (int rc = check_running(node, Access::read); rc != LASHUP_OK) return rc;
    std::string k;
    if (int rc = read_key(key, key_len, k); rc != LASHUP_OK) return rc;
    auto read = node->runtime->kv_get(k);
    if (!read) return fail(read.status());
    auto value = make_kv_value(std::move(read->value), std::move(read->context));
    value->caller_owned = true;
    *out = value.release();
    return succeed();
  });
}

LASHUP_API void lashup_kv_value_destroy(lashup_kv_value_t* value) {
  // Nested values are owned by their parent, an event's value by the
  // event: only what get and update handed out is destroyed here.
  if (value != nullptr && value->caller_owned) delete value;
}

LASHUP_API size_t lashup_kv_value_field_count(const lashup_kv_value_t* value) {
  return value == nullptr ? 0 : value->map->fields.size();
}

LASHUP_API const char* lashup_kv_value_field_name(const lashup_kv_value_t* value, size_t index, size_t* len) {
  const FieldValue* field = field_at(value, index);
  if (len != nullptr) *len = field == nullptr ? 0 : field->key.name.size();
  return field == nullptr ? nullptr : field->key.name.c_str();
}

LASHUP_API int lashup_kv_value_field_type(const lashup_kv_value_t* value, size_t index) {
  const FieldValue* field = field_at(value, index);
  return field == nullptr ? 0 : static_cast<int>(field->key.type);
}

LASHUP_API int64_t lashup_kv_value_counter(const lashup_kv_value_t* value, size_t index) {
  const auto* counter = field_as<int64_t>(value, index);
  return counter == nullptr ? 0 : *counter;
}

LASHUP_API const void* lashup_kv_value_register(const lashup_kv_value_t* value, size_t index, size_t* len,
                                                uint64_t* timestamp) {
  const auto* reg = field_as<lashup::crdt::Timestamped>(value, index);
  if (len != nullptr) *len = reg == nullptr ? 0 : reg->value.size();
  if (timestamp != nullptr) *timestamp = reg == nullptr ? 0 : reg->timestamp;
  return reg == nullptr ? nullptr : reg->value.data();
}

LASHUP_API int lashup_kv_value_flag(const lashup_kv_value_t* value, size_t index) {
  const auto* flag = field_as<bool>(value, index);
  return flag != nullptr && *flag ? 1 : 0;
}

LASHUP_API size_t lashup_kv_value_set_size(const lashup_kv_value_t* value, size_t index) {
  const auto* set = field_as<std::vector<std::string>>(value, index);
  return set == nullptr ? 0 : set->size();
}

LASHUP_API const void* lashup_kv_value_set_element(const lashup_kv_value_t* value, size_t index, size_t element,
                                                   size_t* len) {
  const auto* set = field_as<std::vector<std::string>>(value, index);
  const bool found = set != nullptr && element < set->size();
  if (len != nullptr) *len = found ? (*set)[element].size() : 0;
  return found ? (*set)[element].data() : nullptr;
}

LASHUP_API const lashup_kv_value_t* lashup_kv_value_map(const lashup_kv_value_t* value, size_t index) {
  if (field_as<MapValue>(value, index) == nullptr) return nullptr;
  return value->nested[index].get();
}

LASHUP_API int lashup_kv_value_json(const lashup_kv_value_t* value, char** json_out) {
  return guard([&] {
    if (value == nullptr || json_out == nullptr) return null_argument(value == nullptr ? "value" : "json_out");
    *json_out = nullptr;
    std::string json;
    append_json_map(json, *value->map);
    *json_out = duplicate_string(json);
    return succeed();
  });
}

LASHUP_API int lashup_kv_value_context(const lashup_kv_value_t* value, lashup_kv_context_t** out) {
  return guard([&] {
    if (value == nullptr || out == nullptr) return null_argument(value == nullptr ? "value" : "out");
    *out = nullptr;
    if (!value->top) return fail(LASHUP_ERR_INVALID, "a nested map has no context of its own");
    *out = new lashup_kv_context{value->context};
    return succeed();
  });
}

LASHUP_API void lashup_kv_context_destroy(lashup_kv_context_t* context) { delete context; }

LASHUP_API int lashup_kv_keys(lashup_node_t* node, const char* pattern, int glob, lashup_kv_keys_t** out) {
  return guard([&] {
    if (out == nullptr || pattern == nullptr) return null_argument(out == nullptr ? "out" : "pattern");
    *out = nullptr;
    if (int rc = check_running(node, Access::read); rc != LASHUP_OK) return rc;
    auto keys = node->runtime->kv_keys(pattern, glob != 0);
    if (!keys) return fail(keys.status());
    *out = new lashup_kv_keys_t{std::move(*keys)};
    return succeed();
  });
}

LASHUP_API int lashup_kv_subscribe(lashup_node_t* node, const char* pattern, int glob, uint64_t* subscription_out) {
  return guard([&] {
    if (pattern == nullptr) return null_argument("pattern");
    if (int rc = check_running(node, Access::write); rc != LASHUP_OK) return rc;
    const uint64_t id = node->next_subscription_id.fetch_add(1);
    lashup::Status s = node->runtime->kv_subscribe(id, pattern, glob != 0);
    if (!s) return fail(s);
    if (subscription_out != nullptr) *subscription_out = id;
    return succeed();
  });
}

LASHUP_API int lashup_kv_unsubscribe(lashup_node_t* node, uint64_t subscription) {
  return guard([&] {
    if (int rc = check_running(node, Access::write); rc != LASHUP_OK) return rc;
    lashup::Status s = node->runtime->kv_unsubscribe(subscription);
    return s ? succeed() : fail(s);
  });
}

LASHUP_API void lashup_kv_keys_destroy(lashup_kv_keys_t* keys) { delete keys; }

LASHUP_API size_t lashup_kv_keys_count(const lashup_kv_keys_t* keys) { return keys == nullptr ? 0 : keys->keys.size(); }

LASHUP_API const void* lashup_kv_keys_at(const lashup_kv_keys_t* keys, size_t index, size_t* len) {
  const bool found = keys != nullptr && index < keys->keys.size();
  if (len != nullptr) *len = found ? keys->keys[index].size() : 0;
  return found ? keys->keys[index].c_str() : nullptr;
}

}  // extern "C"
