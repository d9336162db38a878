-- The SWIG Lua module under plain Lua 5.4: configuration, a node with tls
-- off, a KV write and read, a multicast message to itself, and the error
-- codes of bad arguments. Run by ctest (swig_lua) with LUA_CPATH pointing at
-- the built lashup.so.
local lashup = require("lashup")

local failures, passes = 0, 0
local function check(cond, what)
  if cond then
    passes = passes + 1
    print("ok     " .. what)
  else
    print("FAILED " .. what)
    failures = failures + 1
  end
end

local function must(rc, what, detail)
  if rc ~= lashup.LASHUP_OK then
    error(string.format("%s: %s (%s)", what, lashup.lashup_strerror(rc), detail or lashup.lashup_last_error()))
  end
end

check(type(lashup.lashup_version_string()) == "string", "version " .. lashup.lashup_version_string())

-- Configuration: an out-parameter handle and an errbuf message.
local rc, cfg = lashup.lashup_config_new()
must(rc, "lashup_config_new")
local err
rc, err = lashup.lashup_config_set(cfg, "overlay.active_view_size", "500")
check(rc == lashup.LASHUP_ERR_INVALID, "an out-of-range value returns LASHUP_ERR_INVALID")
check(err:find("overlay.active_view_size", 1, true) ~= nil, "the errbuf names the key: " .. err)
rc, err = lashup.lashup_config_set(cfg, "no.such.key", "1")
check(rc == lashup.LASHUP_ERR_INVALID and err ~= "", "an unknown key returns LASHUP_ERR_INVALID")

local data_dir = os.tmpname()
os.remove(data_dir)
for _, kv in ipairs({
  {"node_name", "lua-1"}, {"data_dir", data_dir}, {"listen_address", "127.0.0.1:0"},
  {"tls", "off"}, {"durability", "none"}, {"log.level", "error"},
}) do
  rc, err = lashup.lashup_config_set(cfg, kv[1], kv[2])
  must(rc, "lashup_config_set " .. kv[1], err)
end
local value
rc, value = lashup.lashup_config_get(cfg, "node_name")
check(rc == lashup.LASHUP_OK and value == "lua-1", "lashup_config_get returns the string")
local int_value
rc, int_value = lashup.lashup_config_get_int(cfg, "overlay.active_view_size")
check(rc == lashup.LASHUP_OK and int_value == 7, "lashup_config_get_int returns the integer")

-- A node.
local node
rc, node, err = lashup.lashup_node_new(cfg)
must(rc, "lashup_node_new", err)
lashup.lashup_config_destroy(cfg)
rc = lashup.lashup_kv_get(node, "k")
check(rc == lashup.LASHUP_ERR_STATE, "lashup_kv_get before start returns LASHUP_ERR_STATE")
must(lashup.lashup_node_start(node), "lashup_node_start")
check(lashup.lashup_node_name(node) == "lua-1", "lashup_node_name")
local address
rc, address = lashup.lashup_node_address(node)
check(rc == lashup.LASHUP_OK and address:match("^127%.0%.0%.1:%d+$") ~= nil, "lashup_node_address " .. tostring(address))
local incarnation
rc, incarnation = lashup.lashup_node_incarnation(node)
check(rc == lashup.LASHUP_OK and math.type(incarnation) == "integer" and incarnation > 0, "incarnation is an integer")

-- KV: write, then read back.
local ops
rc, ops = lashup.lashup_kv_ops_new()
must(rc, "lashup_kv_ops_new")
must(lashup.lashup_kv_ops_counter_add(ops, "hits", 5), "counter_add")
must(lashup.lashup_kv_ops_register_set(ops, "color", "red\0blue", 7), "register_set")
must(lashup.lashup_kv_ops_set_add(ops, "tags", "x"), "set_add")
rc = lashup.lashup_kv_ops_counter_add(ops, "a//b", 1)
check(rc == lashup.LASHUP_ERR_INVALID and lashup.lashup_last_error() ~= "", "a bad path returns LASHUP_ERR_INVALID: " .. lashup.lashup_last_error())
local written
rc, written = lashup.lashup_kv_update(node, "lua/key", ops, nil)
must(rc, "lashup_kv_update")
lashup.lashup_kv_ops_destroy(ops)
check(written ~= nil, "lashup_kv_update returns the value")
lashup.lashup_kv_value_destroy(written)

local read
rc, read = lashup.lashup_kv_get(node, "lua/key")
must(rc, "lashup_kv_get")
local fields = {}
for i = 0, lashup.lashup_kv_value_field_count(read) - 1 do
  local name = lashup.lashup_kv_value_field_name(read, i)
  local t = lashup.lashup_kv_value_field_type(read, i)
  if t == lashup.LASHUP_KV_COUNTER then
    fields[name] = lashup.lashup_kv_value_counter(read, i)
  elseif t == lashup.LASHUP_KV_REGISTER then
    local bytes, timestamp = lashup.lashup_kv_value_register(read, i)
    fields[name] = bytes
    fields[name .. ".timestamp"] = timestamp
  elseif t == lashup.LASHUP_KV_SET then
    fields[name] = lashup.lashup_kv_value_set_element(read, i, 0)
  end
end
check(fields.hits == 5, "the counter reads 5")
check(fields.color == "red\0blue" and fields["color.timestamp"] == 7, "the register reads its bytes (with a NUL) and timestamp")
check(fields.tags == "x", "the set holds x")
local json
rc, json = lashup.lashup_kv_value_json(read)
check(rc == lashup.LASHUP_OK and json:find('"hits":{"counter":5}', 1, true) ~= nil, "json " .. tostring(json))
local context
rc, context = lashup.lashup_kv_value_context(read)
must(rc, "lashup_kv_value_context")
lashup.lashup_kv_value_destroy(read)

-- Compare-and-set: the context taken before a write conflicts after it.
rc, ops = lashup.lashup_kv_ops_new()
must(lashup.lashup_kv_ops_counter_add(ops, "hits", 1), "counter_add")
must(lashup.lashup_kv_update(node, "lua/key", ops, context), "a write with the current context")
rc = lashup.lashup_kv_update(node, "lua/key", ops, context)
check(rc == lashup.LASHUP_ERR_CONFLICT, "a stale context returns LASHUP_ERR_CONFLICT")
lashup.lashup_kv_context_destroy(context)

-- Bad arguments return the library's codes.
rc = lashup.lashup_kv_get(node, "")
check(rc == lashup.LASHUP_ERR_INVALID, "an empty key returns LASHUP_ERR_INVALID")
rc = lashup.lashup_kv_get(node, "lua/absent")
check(rc == lashup.LASHUP_ERR_NOT_FOUND, "an absent key returns LASHUP_ERR_NOT_FOUND")
rc = lashup.lashup_kv_update(node, "nodes/other/x", ops, nil)
check(rc == lashup.LASHUP_ERR_PERMISSION, "another node's namespace returns LASHUP_ERR_PERMISSION")
lashup.lashup_kv_ops_destroy(ops)
rc = lashup.lashup_mc_publish(node, "lashup/reserved", "x")
check(rc == lashup.LASHUP_ERR_INVALID, "a reserved topic returns LASHUP_ERR_INVALID")
local ok, message = pcall(lashup.lashup_kv_get, 42, "k")
check(not ok and tostring(message):find("lashup_kv_get", 1, true) ~= nil, "a number for a node raises a Lua error")

-- Keys and a multicast message to itself, pulled with lashup_node_poll.
local keys
rc, keys = lashup.lashup_kv_keys(node, "lua/", 0)
must(rc, "lashup_kv_keys")
check(lashup.lashup_kv_keys_count(keys) == 1 and lashup.lashup_kv_keys_at(keys, 0) == "lua/key", "lashup_kv_keys lists lua/key")
lashup.lashup_kv_keys_destroy(keys)

must(lashup.lashup_mc_subscribe(node, "lua-topic"), "lashup_mc_subscribe")
local seq
rc, seq = lashup.lashup_mc_publish_seq(node, "lua-topic", "payload\0bytes")
must(rc, "lashup_mc_publish_seq")
local got
local deadline = os.time() + 10
while not got and os.time() <= deadline do
  local ev
  rc, ev = lashup.lashup_node_poll(node, 200)
  if rc == lashup.LASHUP_OK then
    if lashup.lashup_event_type(ev) == lashup.LASHUP_EVENT_MC_MESSAGE then
      got = {
        topic = lashup.lashup_event_topic(ev),
        origin = lashup.lashup_event_node(ev),
        sequence = lashup.lashup_event_sequence(ev),
        payload = lashup.lashup_event_payload(ev),
      }
    end
    lashup.lashup_event_destroy(ev)
  elseif rc ~= lashup.LASHUP_ERR_AGAIN then
    must(rc, "lashup_node_poll")
  end
end
check(got ~= nil, "the multicast message arrived")
check(got and got.topic == "lua-topic" and got.origin == "lua-1" and got.sequence == seq, "its topic, origin and sequence")
check(got and got.payload == "payload\0bytes", "its payload, NUL included")

-- A destroyed handle is cleared: destroying it again or using it returns an
-- error code instead of touching freed memory.
local spare_cfg
rc, spare_cfg = lashup.lashup_config_new()
must(rc, "lashup_config_new")
lashup.lashup_config_destroy(spare_cfg)
lashup.lashup_config_destroy(spare_cfg)
rc, err = lashup.lashup_config_set(spare_cfg, "tls", "off")
check(rc == lashup.LASHUP_ERR_INVALID and math.type(rc) == "integer", "a destroyed configuration returns LASHUP_ERR_INVALID")
local spare_ops
rc, spare_ops = lashup.lashup_kv_ops_new()
lashup.lashup_kv_ops_destroy(spare_ops)
check(lashup.lashup_kv_ops_counter_add(spare_ops, "x", 1) == lashup.LASHUP_ERR_INVALID, "destroyed ops return LASHUP_ERR_INVALID")
rc = lashup.lashup_kv_update(node, "lua/key", spare_ops, nil)
check(rc == lashup.LASHUP_ERR_INVALID, "an update with destroyed ops returns LASHUP_ERR_INVALID")

must(lashup.lashup_node_stop(node), "lashup_node_stop")
rc = lashup.lashup_node_poll(node, 0)
while rc == lashup.LASHUP_OK do rc = lashup.lashup_node_poll(node, 0) end
check(rc == lashup.LASHUP_ERR_CLOSED, "poll after stop returns LASHUP_ERR_CLOSED")
lashup.lashup_node_destroy(node)
lashup.lashup_node_destroy(node)
rc = lashup.lashup_kv_get(node, "lua/key")
check(rc == lashup.LASHUP_ERR_INVALID, "a destroyed node returns LASHUP_ERR_INVALID")
os.execute("rm -rf '" .. data_dir .. "'")

print(string.format("%d passed, %d failed", passes, failures))
os.exit(failures == 0 and 0 or 1)
