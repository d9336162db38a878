-- liblashup for LuaJIT (and OpenResty), through the FFI.
--
-- Conventions, in the style of lua-resty-core:
--  * a runtime failure is returned, never raised: `nil, err, code`, where err
--    is the library's message (lashup_last_error(), or lashup_strerror() when
--    the library gave no detail) and code the LASHUP_ERR_* number
--    (lashup.ERR_NOT_FOUND, ...);
--  * a bad argument raises a Lua error: a wrong Lua type, and any
--    LASHUP_ERR_INVALID except from lashup.new (whose configuration is data);
--  * every library handle is owned by a Lua object and freed exactly once:
--    by ffi.gc when the object is collected, or earlier by an explicit
--    close()/free() that first removes the finalizer;
--  * no Lua code ever runs on the library's loop thread: events are pulled
--    with node:poll(0) (from a timer in nginx), never pushed by a callback.
--
-- The library is loaded on first use from the path given to
-- lashup.load(path), else the environment variable LASHUP_LIBRARY, else
-- "lashup" (liblashup.so on the loader's path) or "liblashup.so.1".
local ffi = require "ffi"
require "lashup.cdef"

local C_ptr_type = ffi.typeof
local ffi_gc, ffi_string, ffi_new, ffi_istype = ffi.gc, ffi.string, ffi.new, ffi.istype
local tonumber, tostring, type, error, pairs, ipairs = tonumber, tostring, type, error, pairs, ipairs
local concat, sort = table.concat, table.sort

local _M = { _VERSION = "0.1" }

-- ---- Loading the library ---------------------------------------------------

local lib -- the ffi.load()ed library, once loaded
local C -- lib once loaded; until then a proxy that loads it

function _M.load(path)
  if lib ~= nil then
    return lib
  end
  local candidates = {}
  if path ~= nil then
    candidates[1] = path
  else
    local env = os.getenv("LASHUP_LIBRARY")
    if env ~= nil and env ~= "" then
      candidates[1] = env -- only it: no silent fallback to another copy
    else
      candidates[1] = "lashup"
      candidates[2] = "liblashup.so.1"
    end
  end
  local errors = {}
  for _, candidate in ipairs(candidates) do
    local ok, loaded = pcall(ffi.load, candidate)
    if ok then
      lib = loaded
      C = loaded
      return lib
    end
    errors[#errors + 1] = tostring(loaded)
  end
  error("lashup: cannot load liblashup: " .. concat(errors, "; "), 2)
end

-- The library, loaded at its first use: a program may call lashup.load(path)
-- after require("lashup").
C = setmetatable({}, {
  __index = function(_, name)
    return _M.load()[name]
  end,
})

-- ---- Constants -------------------------------------------------------------

_M.OK = 0
_M.ERR_INVALID = -1
_M.ERR_NOMEM = -2
_M.ERR_AGAIN = -3
_M.ERR_TIMEOUT = -4
_M.ERR_CLOSED = -5
_M.ERR_NOT_FOUND = -6
_M.ERR_IO = -7
_M.ERR_TLS = -8
_M.ERR_STORAGE = -9
_M.ERR_VERSION = -10
_M.ERR_CONFLICT = -11
_M.ERR_TOO_LARGE = -12
_M.ERR_STATE = -13
_M.ERR_PERMISSION = -14
_M.ERR_TYPE = -15
_M.ERR_INTERNAL = -99

local EVENT_TYPES = {
  [1] = "member_updated",
  [2] = "member_removed",
  [3] = "reachability",
  [4] = "link_report",
  [5] = "health_check",
  [6] = "neighbor",
  [7] = "mc_message",
  [8] = "kv_changed",
  [9] = "kv_dump_done",
  [10] = "kv_update_done",
}

local MEMBER_STATES = { [0] = "reachable", [1] = "unreachable", [2] = "left" }

local KV_TYPES = { "counter", "register", "flag", "set", "map" }
local KV_TYPE_IDS = { counter = 1, register = 2, flag = 3, set = 4, map = 5 }

-- ---- Errors ------------------------------------------------------------------

local ERRBUF_LEN = 512
local errbuf = ffi_new("char[?]", ERRBUF_LEN)

-- The message of the failure `rc` of the call just made on this thread.
local function message(rc)
  local detail = ffi_string(C.lashup_last_error())
  if detail ~= "" then
    return detail
  end
  return ffi_string(C.lashup_strerror(rc))
end

local function failure(rc)
  return nil, message(rc), rc
end

-- Raises for a bad argument (LASHUP_ERR_INVALID), else returns nil, err, code.
local function checked_failure(rc)
  if rc == _M.ERR_INVALID then
    error("lashup: " .. message(rc), 3)
  end
  return nil, message(rc), rc
end

function _M.strerror(code)
  return ffi_string(C.lashup_strerror(code))
end

function _M.version()
  return tonumber(C.lashup_version())
end

function _M.version_string()
  return ffi_string(C.lashup_version_string())
end

-- Every configuration key the library knows (docs/CONFIG.md), in its order.
function _M.config_keys()
  local keys = {}
  for i = 0, tonumber(C.lashup_config_key_count()) - 1 do
    keys[i + 1] = ffi_string(C.lashup_config_key_name(i))
  end
  return keys
end

-- ---- Argument checks ---------------------------------------------------------

local function check_string(value, what, level)
  if type(value) ~= "string" then
    error("lashup: bad argument '" .. what .. "' (string expected, got " .. type(value) .. ")", level or 3)
  end
end

local function check_bytes(value, what, level)
  if value == nil then
    return ""
  end
  check_string(value, what, (level or 3) + 1)
  return value
end

local function check_integer(value, what, level)
  if type(value) ~= "number" or value % 1 ~= 0 then
    error("lashup: bad argument '" .. what .. "' (integer expected, got " .. tostring(value) .. ")", level or 3)
  end
end

-- ---- Out-parameters (one of each per module: LuaJIT runs one thread per
-- Lua state, and nothing below yields between a call and its read) ----

local node_out = ffi_new("lashup_node_t *[1]")
local config_out = ffi_new("lashup_config_t *[1]")
local event_out = ffi_new("lashup_event_t *[1]")
local value_out = ffi_new("lashup_kv_value_t *[1]")
local ops_out = ffi_new("lashup_kv_ops_t *[1]")
local context_out = ffi_new("lashup_kv_context_t *[1]")
local keys_out = ffi_new("lashup_kv_keys_t *[1]")
local members_out = ffi_new("lashup_members_t *[1]")
local tree_out = ffi_new("lashup_route_tree_t *[1]")
local string_out = ffi_new("char *[1]")
local u64_out = ffi_new("uint64_t[1]")
local u32_out = ffi_new("uint32_t[1]")
local int_out = ffi_new("int[1]")
local size_out = ffi_new("size_t[1]")
local size_out2 = ffi_new("size_t[1]")

-- A string the library allocated, copied and freed.
local function take_string(ptr)
  local s = ffi_string(ptr)
  C.lashup_free(ptr)
  return s
end

local function bytes(ptr, len)
  if ptr == nil then
    return nil
  end
  return ffi_string(ptr, len)
end

-- ---- Values -------------------------------------------------------------------

-- A value as a Lua table shaped like its JSON rendering:
-- { hits = { counter = 3, set = { "a", "b" } }, color = { register = "red" },
--   on = { flag = true }, sub = { map = { ... } } }.
-- Register timestamps are in `register_timestamp` next to `register`.
local function value_table(value)
  local result = {}
  local n = tonumber(C.lashup_kv_value_field_count(value))
  for i = 0, n - 1 do
    local name_ptr = C.lashup_kv_value_field_name(value, i, size_out)
    local name = ffi_string(name_ptr, size_out[0])
    local field = result[name]
    if field == nil then
      field = {}
      result[name] = field
    end
    local kind = KV_TYPES[C.lashup_kv_value_field_type(value, i)]
    if kind == "counter" then
      field.counter = tonumber(C.lashup_kv_value_counter(value, i))
    elseif kind == "register" then
      local ptr = C.lashup_kv_value_register(value, i, size_out, u64_out)
      field.register = ffi_string(ptr, size_out[0])
      field.register_timestamp = tonumber(u64_out[0])
    elseif kind == "flag" then
      field.flag = C.lashup_kv_value_flag(value, i) ~= 0
    elseif kind == "set" then
      local elements = {}
      for e = 0, tonumber(C.lashup_kv_value_set_size(value, i)) - 1 do
        local ptr = C.lashup_kv_value_set_element(value, i, e, size_out2)
        elements[e + 1] = ffi_string(ptr, size_out2[0])
      end
      field.set = elements
    elseif kind == "map" then
      field.map = value_table(C.lashup_kv_value_map(value, i))
    end
  end
  return result
end

-- Copies an owned value into a table (and its context when asked), then
-- destroys it.
local function take_value(value, want_context)
  local ok, result = pcall(value_table, value)
  local context
  if ok and want_context then
    local rc = C.lashup_kv_value_context(value, context_out)
    if rc == 0 then
      context = ffi_gc(context_out[0], C.lashup_kv_context_destroy)
    end
  end
  C.lashup_kv_value_destroy(value)
  if not ok then
    error(result, 0)
  end
  return result, context
end

local function value_json(value)
  local rc = C.lashup_kv_value_json(value, string_out)
  if rc ~= 0 then
    return failure(rc)
  end
  return take_string(string_out[0])
end

-- ---- Operation lists ------------------------------------------------------------

local Ops = {}
Ops.__index = Ops

-- A reusable batch of operations for node:kv_update. Methods raise on a bad
-- path or type and return the list, so calls chain:
--   lashup.ops():counter_add("hits", 1):set_add("tags", "blue")
function _M.ops()
  local rc = C.lashup_kv_ops_new(ops_out)
  if rc ~= 0 then
    error("lashup: " .. message(rc), 2)
  end
  return setmetatable({ ptr = ffi_gc(ops_out[0], C.lashup_kv_ops_destroy) }, Ops)
end

local function type_error(what, expected, value)
  return "lashup: bad argument '" .. what .. "' (" .. expected .. " expected, got " .. tostring(value) .. ")"
end

local function is_integer(value)
  return type(value) == "number" and value % 1 == 0
end

-- Each adder checks its Lua arguments and calls the library: it returns the
-- library's status, or a message for an argument of a wrong Lua type.
local adders = {
  counter_add = function(ptr, path, amount)
    if type(path) ~= "string" then return type_error("path", "string", path) end
    if not is_integer(amount) then return type_error("amount", "integer", amount) end
    return C.lashup_kv_ops_counter_add(ptr, path, amount)
  end,
  set_add = function(ptr, path, element)
    if type(path) ~= "string" then return type_error("path", "string", path) end
    if type(element) ~= "string" then return type_error("element", "string", element) end
    return C.lashup_kv_ops_set_add(ptr, path, element, #element)
  end,
  set_remove = function(ptr, path, element)
    if type(path) ~= "string" then return type_error("path", "string", path) end
    if type(element) ~= "string" then return type_error("element", "string", element) end
    return C.lashup_kv_ops_set_remove(ptr, path, element, #element)
  end,
  -- timestamp: microseconds of the wall clock by default.
  register_set = function(ptr, path, value, timestamp)
    if type(path) ~= "string" then return type_error("path", "string", path) end
    if type(value) ~= "string" then return type_error("value", "string", value) end
    if timestamp == nil then
      timestamp = _M.now_us()
    elseif not is_integer(timestamp) or timestamp < 0 then
      return type_error("timestamp", "non-negative integer", timestamp)
    end
    return C.lashup_kv_ops_register_set(ptr, path, value, #value, timestamp)
  end,
  flag_enable = function(ptr, path)
    if type(path) ~= "string" then return type_error("path", "string", path) end
    return C.lashup_kv_ops_flag_enable(ptr, path)
  end,
  flag_disable = function(ptr, path)
    if type(path) ~= "string" then return type_error("path", "string", path) end
    return C.lashup_kv_ops_flag_disable(ptr, path)
  end,
  -- field_type: "counter", "register", "flag", "set" or "map".
  remove_field = function(ptr, path, field_type)
    if type(path) ~= "string" then return type_error("path", "string", path) end
    local id = KV_TYPE_IDS[field_type]
    if id == nil then return type_error("field_type", "counter, register, flag, set or map", field_type) end
    return C.lashup_kv_ops_remove_field(ptr, path, id)
  end,
}

-- nil, or the message of a bad operation.
local function add_operation(ops, name, a, b, c)
  local adder = adders[name]
  if adder == nil then
    return "lashup: unknown operation " .. tostring(name)
  end
  if ops.ptr == nil then
    return "lashup: the operation list was freed"
  end
  local rc = adder(ops.ptr, a, b, c)
  if type(rc) == "string" then
    return rc
  elseif rc ~= 0 then
    return "lashup: " .. message(rc)
  end
  return nil
end

for name in pairs(adders) do
  Ops[name] = function(self, a, b, c)
    local err = add_operation(self, name, a, b, c)
    if err ~= nil then
      error(err, 2)
    end
    return self
  end
end

function Ops:count()
  if self.ptr == nil then
    return 0
  end
  return tonumber(C.lashup_kv_ops_count(self.ptr))
end

-- Frees the list now (otherwise the garbage collector does). Idempotent.
function Ops:free()
  local ptr = self.ptr
  if ptr ~= nil then
    self.ptr = nil
    ffi_gc(ptr, nil)
    C.lashup_kv_ops_destroy(ptr)
  end
end

-- The Ops of a kv_update argument, and whether the caller must free it.
-- A table of operations is { {"counter_add", "hits", 1}, {"set_add", "tags", "a"} }.
-- Errors are raised at `level` (the caller of kv_update).
local function as_ops(ops, level)
  if getmetatable(ops) == Ops then
    if ops.ptr == nil then
      error("lashup: the operation list was freed", level)
    end
    return ops, false
  end
  if type(ops) ~= "table" then
    error("lashup: bad argument 'ops' (lashup.ops() or a table of operations expected)", level)
  end
  local list = _M.ops()
  for i, op in ipairs(ops) do
    local err
    if type(op) ~= "table" then
      err = "lashup: bad operation (table expected, got " .. type(op) .. ")"
    else
      err = add_operation(list, op[1], op[2], op[3], op[4])
    end
    if err ~= nil then
      list:free()
      error(err .. " (operation #" .. i .. ")", level)
    end
  end
  return list, true
end

-- ---- Events ---------------------------------------------------------------------

local function event_table(ev)
  local type_id = C.lashup_event_type(ev)
  local kind = EVENT_TYPES[type_id] or "unknown"
  local e = {
    type = kind,
    type_id = type_id,
    node = ffi_string(C.lashup_event_node(ev)),
    time_us = tonumber(C.lashup_event_time_us(ev)),
  }
  local state = C.lashup_event_state(ev)
  if kind == "member_updated" then
    e.incarnation = tonumber(C.lashup_event_incarnation(ev))
  elseif kind == "reachability" then
    e.state = MEMBER_STATES[state] or state
  elseif kind == "link_report" then
    e.peer = ffi_string(C.lashup_event_peer(ev))
    e.present = state == 1
  elseif kind == "health_check" then
    e.request_id = tonumber(C.lashup_event_request_id(ev))
    e.alive = state == 1
    e.rtt_us = tonumber(C.lashup_event_rtt_us(ev))
  elseif kind == "neighbor" then
    e.up = state == 1
  elseif kind == "mc_message" then
    e.topic = ffi_string(C.lashup_event_topic(ev))
    local ptr = C.lashup_event_payload(ev, size_out)
    e.payload = bytes(ptr, size_out[0]) or ""
    e.sequence = tonumber(C.lashup_event_sequence(ev))
    e.incarnation = tonumber(C.lashup_event_incarnation(ev))
  elseif kind == "kv_changed" then
    e.subscription = tonumber(C.lashup_event_subscription(ev))
    e.key = bytes(C.lashup_event_key(ev, size_out), size_out[0])
    e.initial = state == 1
    local value = C.lashup_event_kv_value(ev)
    if value == nil then
      e.deleted = true
    else
      e.value = value_table(value)
    end
  elseif kind == "kv_dump_done" then
    e.subscription = tonumber(C.lashup_event_subscription(ev))
  elseif kind == "kv_update_done" then
    e.request_id = tonumber(C.lashup_event_request_id(ev))
    e.key = bytes(C.lashup_event_key(ev, size_out), size_out[0])
    e.status = C.lashup_event_status(ev)
    e.ok = e.status == 0
    if not e.ok then
      local detail = ffi_string(C.lashup_event_error(ev))
      e.err = detail ~= "" and detail or ffi_string(C.lashup_strerror(e.status))
    end
  end
  return e
end

-- ---- Nodes ------------------------------------------------------------------------

local Node = {}
Node.__index = Node

-- Configuration values: strings as they are, integers in decimal, booleans
-- as on/off, lists (contact_nodes) joined with commas.
local function config_value(key, value)
  local t = type(value)
  if t == "string" then
    return value
  elseif t == "number" then
    if value % 1 == 0 then
      return string.format("%d", value)
    end
    return tostring(value)
  elseif t == "boolean" then
    return value and "on" or "off"
  elseif t == "table" then
    local parts = {}
    for i, item in ipairs(value) do
      parts[i] = tostring(item)
    end
    return concat(parts, ",")
  end
  error("lashup: bad configuration value for '" .. tostring(key) .. "' (" .. t .. ")", 4)
end

-- Creates a node (not started). settings: a table of configuration keys
-- (docs/CONFIG.md), e.g. { node_name = "web1", data_dir = "/var/lib/web1",
-- ["tls.ca_file"] = "ca.pem", ... }; config_file (optional): a file of
-- "key = value" lines loaded first. Returns the node or nil, err, code.
function _M.new(settings, config_file)
  if settings ~= nil and type(settings) ~= "table" then
    error("lashup: bad argument 'settings' (table expected, got " .. type(settings) .. ")", 2)
  end
  if config_file ~= nil then
    check_string(config_file, "config_file", 2)
  end
  local rc = C.lashup_config_new(config_out)
  if rc ~= 0 then
    return failure(rc)
  end
  local cfg = ffi_gc(config_out[0], C.lashup_config_destroy)
  local function release()
    ffi_gc(cfg, nil)
    C.lashup_config_destroy(cfg)
  end

  errbuf[0] = 0
  if config_file ~= nil then
    rc = C.lashup_config_load_file(cfg, config_file, errbuf, ERRBUF_LEN)
    if rc ~= 0 then
      local err = ffi_string(errbuf)
      release()
      return nil, err ~= "" and err or _M.strerror(rc), rc
    end
  end
  if settings ~= nil then
    local keys = {}
    for key in pairs(settings) do
      if type(key) ~= "string" then
        release()
        error("lashup: bad configuration key " .. tostring(key) .. " (string expected)", 2)
      end
      keys[#keys + 1] = key
    end
    sort(keys) -- a deterministic order: the first bad key is always the same
    for _, key in ipairs(keys) do
      local ok, value = pcall(config_value, key, settings[key])
      if not ok then
        release()
        error(value, 2)
      end
      rc = C.lashup_config_set(cfg, key, value, errbuf, ERRBUF_LEN)
      if rc ~= 0 then
        local err = ffi_string(errbuf)
        release()
        return nil, err ~= "" and err or _M.strerror(rc), rc
      end
    end
  end

  rc = C.lashup_node_new(node_out, cfg, errbuf, ERRBUF_LEN)
  release()
  if rc ~= 0 then
    local err = ffi_string(errbuf)
    return nil, err ~= "" and err or _M.strerror(rc), rc
  end
  local ptr = ffi_gc(node_out[0], C.lashup_node_destroy)
  return setmetatable({ ptr = ptr, _name = ffi_string(C.lashup_node_name(ptr)) }, Node)
end

local function node_ptr(self)
  local ptr = self.ptr
  if ptr == nil then
    error("lashup: the node is closed", 3)
  end
  return ptr
end

-- true, or nil, err, code (also for LASHUP_ERR_INVALID: nothing of the
-- caller's makes these fail with it).
local function status(rc)
  if rc ~= 0 then
    return failure(rc)
  end
  return true
end

function Node:start()
  return status(C.lashup_node_start(node_ptr(self)))
end

function Node:stop()
  return status(C.lashup_node_stop(node_ptr(self)))
end

-- Stops the node and frees it now (blocking until its loop thread exits);
-- the garbage collector would otherwise. Idempotent.
function Node:close()
  local ptr = self.ptr
  if ptr ~= nil then
    self.ptr = nil
    ffi_gc(ptr, nil)
    C.lashup_node_destroy(ptr)
  end
end

function Node:is_closed()
  return self.ptr == nil
end

function Node:name()
  return self._name
end

function Node:address()
  local rc = C.lashup_node_address(node_ptr(self), string_out)
  if rc ~= 0 then
    return failure(rc)
  end
  return take_string(string_out[0])
end

function Node:incarnation()
  local rc = C.lashup_node_incarnation(node_ptr(self), u64_out)
  if rc ~= 0 then
    return failure(rc)
  end
  return tonumber(u64_out[0])
end

-- The descriptor readable while events are queued (owned by the node).
function Node:event_fd()
  return C.lashup_node_event_fd(node_ptr(self))
end

-- The oldest queued event as a table, waiting up to timeout_ms (0: do not
-- wait; in nginx always 0). nil when none arrived in time; nil, err, code
-- when the node is stopped and the queue is drained (ERR_CLOSED).
function Node:poll(timeout_ms)
  timeout_ms = timeout_ms or 0
  check_integer(timeout_ms, "timeout_ms")
  local rc = C.lashup_node_poll(node_ptr(self), event_out, timeout_ms)
  if rc == _M.ERR_AGAIN then
    return nil
  elseif rc ~= 0 then
    return failure(rc)
  end
  local ev = event_out[0]
  local ok, result = pcall(event_table, ev)
  C.lashup_event_destroy(ev)
  if not ok then
    error(result, 0)
  end
  return result
end

-- An iterator over the events queued now: for ev in node:events() do ... end
-- (at most `max` of them, to bound one drain; default unbounded).
function Node:events(max)
  local taken = 0
  return function()
    if max ~= nil and taken >= max then
      return nil
    end
    taken = taken + 1
    return (self:poll(0))
  end
end

-- ---- Membership ----

-- This node's view of the cluster, sorted by name, this node included:
-- { { name=, address=, state="reachable"|"unreachable"|"left", incarnation=,
--     last_heard_ms=, distance= (nil when unreachable), metadata=,
--     neighbors={...}, link_reports={...} }, ... }
function Node:members()
  local rc = C.lashup_node_members(node_ptr(self), members_out)
  if rc ~= 0 then
    return failure(rc)
  end
  local m = members_out[0]
  local list = {}
  for i = 0, tonumber(C.lashup_members_count(m)) - 1 do
    local distance = C.lashup_members_distance(m, i)
    local neighbors, reports = {}, {}
    for n = 0, tonumber(C.lashup_members_neighbor_count(m, i)) - 1 do
      neighbors[n + 1] = ffi_string(C.lashup_members_neighbor(m, i, n))
    end
    for n = 0, tonumber(C.lashup_members_link_report_count(m, i)) - 1 do
      reports[n + 1] = ffi_string(C.lashup_members_link_report(m, i, n))
    end
    local state = C.lashup_members_state(m, i)
    list[i + 1] = {
      name = ffi_string(C.lashup_members_name(m, i)),
      address = ffi_string(C.lashup_members_address(m, i)),
      state = MEMBER_STATES[state] or state,
      incarnation = tonumber(C.lashup_members_incarnation(m, i)),
      last_heard_ms = tonumber(C.lashup_members_last_heard_ms(m, i)),
      distance = distance ~= 0xffffffff and tonumber(distance) or nil,
      metadata = bytes(C.lashup_members_metadata(m, i, size_out), size_out[0]) or "",
      neighbors = neighbors,
      link_reports = reports,
    }
  end
  C.lashup_members_destroy(m)
  return list
end

-- true when name is reachable from this node (itself included), else false.
function Node:reachable(name)
  check_string(name, "name")
  local rc = C.lashup_node_reachable(node_ptr(self), name, int_out)
  if rc ~= 0 then
    return checked_failure(rc)
  end
  return int_out[0] ~= 0
end

-- Hops to name; nil, err, ERR_NOT_FOUND when unknown or unreachable.
function Node:distance(name)
  check_string(name, "name")
  local rc = C.lashup_node_distance(node_ptr(self), name, u32_out)
  if rc ~= 0 then
    return checked_failure(rc)
  end
  return tonumber(u32_out[0])
end

-- The route tree rooted at root: { { node=, parent= ("" for the root), distance= }, ... }.
function Node:route_tree(root)
  check_string(root, "root")
  local rc = C.lashup_node_route_tree(node_ptr(self), root, tree_out)
  if rc ~= 0 then
    return checked_failure(rc)
  end
  local tree = tree_out[0]
  local list = {}
  for i = 0, tonumber(C.lashup_route_tree_count(tree)) - 1 do
    list[i + 1] = {
      node = ffi_string(C.lashup_route_tree_node(tree, i)),
      parent = ffi_string(C.lashup_route_tree_parent(tree, i)),
      distance = tonumber(C.lashup_route_tree_distance(tree, i)),
    }
  end
  C.lashup_route_tree_destroy(tree)
  return list
end

-- The request id; the answer comes as a "health_check" event.
function Node:health_check(name)
  check_string(name, "name")
  local rc = C.lashup_node_health_check(node_ptr(self), name, u64_out)
  if rc ~= 0 then
    return checked_failure(rc)
  end
  return tonumber(u64_out[0])
end

function Node:set_metadata(data)
  data = check_bytes(data, "data")
  local rc = C.lashup_node_set_metadata(node_ptr(self), data, #data)
  if rc ~= 0 then
    return checked_failure(rc)
  end
  return true
end

function Node:leave()
  return status(C.lashup_node_leave(node_ptr(self)))
end

function Node:stat(name)
  check_string(name, "name")
  local rc = C.lashup_node_stat(node_ptr(self), name, u64_out)
  if rc ~= 0 then
    return checked_failure(rc)
  end
  return tonumber(u64_out[0])
end

-- Every stat by name.
function Node:stats()
  local result = {}
  local ptr = node_ptr(self)
  for i = 0, tonumber(C.lashup_node_stat_count()) - 1 do
    local name = ffi_string(C.lashup_node_stat_name(i))
    if C.lashup_node_stat(ptr, name, u64_out) == 0 then
      result[name] = tonumber(u64_out[0])
    end
  end
  return result
end

-- ---- Multicast ----

-- Queues a message (true), or nil, err, code: ERR_AGAIN when the command
-- queue is full, ERR_TOO_LARGE, ERR_CLOSED.
function Node:mc_publish(topic, payload)
  check_string(topic, "topic")
  payload = check_bytes(payload, "payload")
  local rc = C.lashup_mc_publish(node_ptr(self), topic, payload, #payload)
  if rc ~= 0 then
    return checked_failure(rc)
  end
  return true
end

-- Publishes and waits for the message's sequence.
function Node:mc_publish_seq(topic, payload)
  check_string(topic, "topic")
  payload = check_bytes(payload, "payload")
  local rc = C.lashup_mc_publish_seq(node_ptr(self), topic, payload, #payload, u64_out)
  if rc ~= 0 then
    return checked_failure(rc)
  end
  return tonumber(u64_out[0])
end

function Node:mc_subscribe(topic)
  check_string(topic, "topic")
  local rc = C.lashup_mc_subscribe(node_ptr(self), topic)
  if rc ~= 0 then
    return checked_failure(rc)
  end
  return true
end

function Node:mc_unsubscribe(topic)
  check_string(topic, "topic")
  local rc = C.lashup_mc_unsubscribe(node_ptr(self), topic)
  if rc ~= 0 then
    return checked_failure(rc)
  end
  return true
end

-- ---- Key-value store ----

-- The key's value as a table (see value_table above), or nil, err, code
-- (ERR_NOT_FOUND when the key is absent).
function Node:kv_get(key)
  check_string(key, "key")
  local rc = C.lashup_kv_get(node_ptr(self), key, #key, value_out)
  if rc ~= 0 then
    return checked_failure(rc)
  end
  return (take_value(value_out[0], false))
end

-- The key's value and its causal context (a compare-and-set token for
-- kv_update's `expected`), or nil, err, code.
function Node:kv_read(key)
  check_string(key, "key")
  local rc = C.lashup_kv_get(node_ptr(self), key, #key, value_out)
  if rc ~= 0 then
    return checked_failure(rc)
  end
  return take_value(value_out[0], true)
end

-- The key's value rendered as JSON by the library (lashup_kv_value_json),
-- or nil, err, code.
function Node:kv_get_json(key)
  check_string(key, "key")
  local rc = C.lashup_kv_get(node_ptr(self), key, #key, value_out)
  if rc ~= 0 then
    return checked_failure(rc)
  end
  local value = value_out[0]
  local json, err, code = value_json(value)
  C.lashup_kv_value_destroy(value)
  return json, err, code
end

local context_type = C_ptr_type("lashup_kv_context_t *")

local function check_expected(expected)
  if expected ~= nil and not ffi_istype(context_type, expected) then
    error("lashup: bad argument 'expected' (a context from kv_read expected)", 3)
  end
end

-- Applies ops atomically and waits until the write is applied here; returns
-- the key's value after it, or nil, err, code (ERR_CONFLICT when `expected`,
-- a context from kv_read, is stale; ERR_PERMISSION, ERR_TYPE, ERR_NOT_FOUND,
-- ERR_TOO_LARGE, ERR_CLOSED, ERR_AGAIN, ERR_STORAGE).
-- ops: lashup.ops() or a list such as { {"counter_add", "hits", 1},
-- {"register_set", "color", "red"}, {"set_add", "tags", "x"},
-- {"set_remove", "tags", "y"}, {"flag_enable", "on"}, {"flag_disable", "on"},
-- {"remove_field", "color", "register"} }.
function Node:kv_update(key, ops, expected)
  check_string(key, "key")
  check_expected(expected)
  local ptr = node_ptr(self)
  local list, owned = as_ops(ops, 3)
  local rc = C.lashup_kv_update(ptr, key, #key, list.ptr, expected, value_out)
  local err
  if rc ~= 0 then
    err = message(rc)
  end
  if owned then
    list:free()
  end
  if rc == _M.ERR_INVALID then
    error("lashup: " .. err, 2)
  elseif rc ~= 0 then
    return nil, err, rc
  end
  return (take_value(value_out[0], false))
end

-- Queues the same write and returns its request id at once; the outcome
-- comes as a "kv_update_done" event with that request_id (ok, status, err).
function Node:kv_update_async(key, ops, expected)
  check_string(key, "key")
  check_expected(expected)
  local ptr = node_ptr(self)
  local list, owned = as_ops(ops, 3)
  local rc = C.lashup_kv_update_async(ptr, key, #key, list.ptr, expected, u64_out)
  local err
  if rc ~= 0 then
    err = message(rc)
  end
  if owned then
    list:free()
  end
  if rc == _M.ERR_INVALID then
    error("lashup: " .. err, 2)
  elseif rc ~= 0 then
    return nil, err, rc
  end
  return tonumber(u64_out[0])
end

-- true, or nil, err, code (ERR_NOT_FOUND when the key holds no field).
function Node:kv_delete(key)
  check_string(key, "key")
  local rc = C.lashup_kv_delete(node_ptr(self), key, #key)
  if rc ~= 0 then
    return checked_failure(rc)
  end
  return true
end

-- The live keys starting with pattern (glob false) or matching it as a glob
-- (glob true), sorted bytewise.
function Node:kv_keys(pattern, glob)
  pattern = pattern or ""
  check_string(pattern, "pattern")
  local rc = C.lashup_kv_keys(node_ptr(self), pattern, glob and 1 or 0, keys_out)
  if rc ~= 0 then
    return checked_failure(rc)
  end
  local keys = keys_out[0]
  local list = {}
  for i = 0, tonumber(C.lashup_kv_keys_count(keys)) - 1 do
    local ptr = C.lashup_kv_keys_at(keys, i, size_out)
    list[i + 1] = ffi_string(ptr, size_out[0])
  end
  C.lashup_kv_keys_destroy(keys)
  return list
end

-- The subscription's id; its "kv_changed" events (initial dump, then
-- changes) and one "kv_dump_done" come through poll.
function Node:kv_subscribe(pattern, glob)
  pattern = pattern or ""
  check_string(pattern, "pattern")
  local rc = C.lashup_kv_subscribe(node_ptr(self), pattern, glob and 1 or 0, u64_out)
  if rc ~= 0 then
    return checked_failure(rc)
  end
  return tonumber(u64_out[0])
end

function Node:kv_unsubscribe(subscription)
  check_integer(subscription, "subscription")
  local rc = C.lashup_kv_unsubscribe(node_ptr(self), subscription)
  if rc ~= 0 then
    return checked_failure(rc)
  end
  return true
end

-- ---- Helpers ----

local CLOCK_REALTIME = 0
local timespec = ffi_new("struct lashup_lua_timespec")

-- Microseconds of the wall clock (register timestamps).
function _M.now_us()
  if ffi.C.lashup_lua_clock_gettime(CLOCK_REALTIME, timespec) ~= 0 then
    return os.time() * 1000000
  end
  return tonumber(timespec.tv_sec) * 1000000 + math.floor(tonumber(timespec.tv_nsec) / 1000)
end

_M.Node = Node
_M.Ops = Ops

return _M
