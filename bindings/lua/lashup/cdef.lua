-- The C API of liblashup (include/lashup/lashup.h) as LuaJIT FFI
-- declarations. Every handle is an opaque struct: no layout is mirrored, so
-- a newer library stays compatible as long as these prototypes do.
local ffi = require "ffi"

ffi.cdef [[
typedef struct lashup_config lashup_config_t;
typedef struct lashup_node lashup_node_t;
typedef struct lashup_event lashup_event_t;
typedef struct lashup_kv_value lashup_kv_value_t;
typedef struct lashup_kv_ops lashup_kv_ops_t;
typedef struct lashup_kv_context lashup_kv_context_t;
typedef struct lashup_kv_keys lashup_kv_keys_t;
typedef struct lashup_members lashup_members_t;
typedef struct lashup_route_tree lashup_route_tree_t;

uint32_t lashup_version(void);
const char *lashup_version_string(void);
const char *lashup_strerror(int err);
const char *lashup_last_error(void);
void lashup_free(void *ptr);

int lashup_config_new(lashup_config_t **out);
void lashup_config_destroy(lashup_config_t *cfg);
int lashup_config_set(lashup_config_t *cfg, const char *key, const char *value, char *errbuf, size_t errbuf_len);
int lashup_config_load_file(lashup_config_t *cfg, const char *path, char *errbuf, size_t errbuf_len);
int lashup_config_get(const lashup_config_t *cfg, const char *key, char **value_out);
size_t lashup_config_key_count(void);
const char *lashup_config_key_name(size_t index);

int lashup_node_new(lashup_node_t **out, const lashup_config_t *cfg, char *errbuf, size_t errbuf_len);
int lashup_node_start(lashup_node_t *node);
int lashup_node_stop(lashup_node_t *node);
void lashup_node_destroy(lashup_node_t *node);
const char *lashup_node_name(const lashup_node_t *node);
int lashup_node_address(const lashup_node_t *node, char **address_out);
int lashup_node_incarnation(const lashup_node_t *node, uint64_t *incarnation_out);

int lashup_node_event_fd(const lashup_node_t *node);
int lashup_node_poll(lashup_node_t *node, lashup_event_t **out, int timeout_ms);
int lashup_event_type(const lashup_event_t *ev);
const char *lashup_event_node(const lashup_event_t *ev);
const char *lashup_event_peer(const lashup_event_t *ev);
int lashup_event_state(const lashup_event_t *ev);
uint64_t lashup_event_incarnation(const lashup_event_t *ev);
uint64_t lashup_event_request_id(const lashup_event_t *ev);
uint64_t lashup_event_rtt_us(const lashup_event_t *ev);
uint64_t lashup_event_time_us(const lashup_event_t *ev);
const char *lashup_event_topic(const lashup_event_t *ev);
const void *lashup_event_payload(const lashup_event_t *ev, size_t *len_out);
uint64_t lashup_event_sequence(const lashup_event_t *ev);
uint64_t lashup_event_subscription(const lashup_event_t *ev);
const void *lashup_event_key(const lashup_event_t *ev, size_t *len_out);
const lashup_kv_value_t *lashup_event_kv_value(const lashup_event_t *ev);
int lashup_event_status(const lashup_event_t *ev);
const char *lashup_event_error(const lashup_event_t *ev);
void lashup_event_destroy(lashup_event_t *ev);

int lashup_node_members(lashup_node_t *node, lashup_members_t **out);
void lashup_members_destroy(lashup_members_t *members);
size_t lashup_members_count(const lashup_members_t *members);
const char *lashup_members_name(const lashup_members_t *members, size_t index);
const char *lashup_members_address(const lashup_members_t *members, size_t index);
int lashup_members_state(const lashup_members_t *members, size_t index);
uint64_t lashup_members_incarnation(const lashup_members_t *members, size_t index);
uint64_t lashup_members_last_heard_ms(const lashup_members_t *members, size_t index);
uint32_t lashup_members_distance(const lashup_members_t *members, size_t index);
const void *lashup_members_metadata(const lashup_members_t *members, size_t index, size_t *len_out);
size_t lashup_members_neighbor_count(const lashup_members_t *members, size_t index);
const char *lashup_members_neighbor(const lashup_members_t *members, size_t index, size_t n);
size_t lashup_members_link_report_count(const lashup_members_t *members, size_t index);
const char *lashup_members_link_report(const lashup_members_t *members, size_t index, size_t n);

int lashup_node_reachable(lashup_node_t *node, const char *name, int *reachable_out);
int lashup_node_distance(lashup_node_t *node, const char *name, uint32_t *hops_out);
int lashup_node_route_tree(lashup_node_t *node, const char *root, lashup_route_tree_t **out);
void lashup_route_tree_destroy(lashup_route_tree_t *tree);
size_t lashup_route_tree_count(const lashup_route_tree_t *tree);
const char *lashup_route_tree_node(const lashup_route_tree_t *tree, size_t index);
const char *lashup_route_tree_parent(const lashup_route_tree_t *tree, size_t index);
uint32_t lashup_route_tree_distance(const lashup_route_tree_t *tree, size_t index);

int lashup_node_health_check(lashup_node_t *node, const char *name, uint64_t *request_id_out);
int lashup_node_set_metadata(lashup_node_t *node, const void *data, size_t len);
int lashup_node_leave(lashup_node_t *node);

int lashup_mc_publish(lashup_node_t *node, const char *topic, const void *data, size_t len);
int lashup_mc_publish_seq(lashup_node_t *node, const char *topic, const void *data, size_t len,
                          uint64_t *sequence_out);
int lashup_mc_subscribe(lashup_node_t *node, const char *topic);
int lashup_mc_unsubscribe(lashup_node_t *node, const char *topic);

int lashup_kv_ops_new(lashup_kv_ops_t **out);
void lashup_kv_ops_destroy(lashup_kv_ops_t *ops);
size_t lashup_kv_ops_count(const lashup_kv_ops_t *ops);
int lashup_kv_ops_counter_add(lashup_kv_ops_t *ops, const char *path, int64_t amount);
int lashup_kv_ops_set_add(lashup_kv_ops_t *ops, const char *path, const void *element, size_t len);
int lashup_kv_ops_set_remove(lashup_kv_ops_t *ops, const char *path, const void *element, size_t len);
int lashup_kv_ops_register_set(lashup_kv_ops_t *ops, const char *path, const void *value, size_t len,
                               uint64_t timestamp);
int lashup_kv_ops_flag_enable(lashup_kv_ops_t *ops, const char *path);
int lashup_kv_ops_flag_disable(lashup_kv_ops_t *ops, const char *path);
int lashup_kv_ops_remove_field(lashup_kv_ops_t *ops, const char *path, int type);

int lashup_kv_update(lashup_node_t *node, const void *key, size_t key_len, const lashup_kv_ops_t *ops,
                     const lashup_kv_context_t *expected, lashup_kv_value_t **value_out);
int lashup_kv_update_async(lashup_node_t *node, const void *key, size_t key_len, const lashup_kv_ops_t *ops,
                           const lashup_kv_context_t *expected, uint64_t *request_id_out);
int lashup_kv_delete(lashup_node_t *node, const void *key, size_t key_len);
int lashup_kv_get(lashup_node_t *node, const void *key, size_t key_len, lashup_kv_value_t **out);
void lashup_kv_value_destroy(lashup_kv_value_t *value);
size_t lashup_kv_value_field_count(const lashup_kv_value_t *value);
const char *lashup_kv_value_field_name(const lashup_kv_value_t *value, size_t index, size_t *len);
int lashup_kv_value_field_type(const lashup_kv_value_t *value, size_t index);
int64_t lashup_kv_value_counter(const lashup_kv_value_t *value, size_t index);
const void *lashup_kv_value_register(const lashup_kv_value_t *value, size_t index, size_t *len,
                                     uint64_t *timestamp);
int lashup_kv_value_flag(const lashup_kv_value_t *value, size_t index);
size_t lashup_kv_value_set_size(const lashup_kv_value_t *value, size_t index);
const void *lashup_kv_value_set_element(const lashup_kv_value_t *value, size_t index, size_t element,
                                        size_t *len);
const lashup_kv_value_t *lashup_kv_value_map(const lashup_kv_value_t *value, size_t index);
int lashup_kv_value_json(const lashup_kv_value_t *value, char **json_out);
int lashup_kv_value_context(const lashup_kv_value_t *value, lashup_kv_context_t **out);
void lashup_kv_context_destroy(lashup_kv_context_t *context);

int lashup_kv_keys(lashup_node_t *node, const char *pattern, int glob, lashup_kv_keys_t **out);
void lashup_kv_keys_destroy(lashup_kv_keys_t *keys);
size_t lashup_kv_keys_count(const lashup_kv_keys_t *keys);
const void *lashup_kv_keys_at(const lashup_kv_keys_t *keys, size_t index, size_t *len);
int lashup_kv_subscribe(lashup_node_t *node, const char *pattern, int glob, uint64_t *subscription_out);
int lashup_kv_unsubscribe(lashup_node_t *node, uint64_t subscription);

int lashup_node_stat(lashup_node_t *node, const char *name, uint64_t *value_out);
size_t lashup_node_stat_count(void);
const char *lashup_node_stat_name(size_t index);
]]

-- The wall clock for register timestamps, under a name of our own (an asm
-- label) so that another module's declaration of clock_gettime cannot clash.
ffi.cdef [[
struct lashup_lua_timespec { long tv_sec; long tv_nsec; };
int lashup_lua_clock_gettime(int clock_id, struct lashup_lua_timespec *tp) __asm__("clock_gettime");
]]

return true
