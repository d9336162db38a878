-- A lashup node inside an nginx worker (examples/nginx/nginx.conf).
--
-- init_worker() creates and starts the node from the lashup configuration
-- file named by LASHUP_NGINX_NODE_CONF (docs/CONFIG.md); an ngx.timer.every
-- timer drains its events with poll(0), so no Lua runs on the library's
-- thread and nothing blocks the worker. The handlers read the node's
-- snapshots and replica directly (reads never wait for the loop thread);
-- the counter write is queued with kv_update_async and its completion
-- comes back through the same timer.
local lashup = require "lashup"

local ngx = ngx
local log, ERR, WARN, NOTICE, INFO = ngx.log, ngx.ERR, ngx.WARN, ngx.NOTICE, ngx.INFO

local DRAIN_INTERVAL_S = 0.05 -- how often the timer drains the event queue
local DRAIN_MAX = 1000        -- events taken per tick, so one tick stays short
local WRITE_TIMEOUT_S = 5     -- how long a POST waits for its write
local START_RETRY_S = 0.25    -- after a reload, the old worker may still hold the node
local START_ATTEMPTS_MAX = 240

local _M = {}

local node       -- this worker's node (nil when it could not start)
local node_error -- why not
local events_drained = 0
local events_by_type = {}
-- Writes a POST waits for: request id -> false while queued, then its
-- kv_update_done event until the POST takes it. Completions of writes
-- nobody waits for any more (timed out) are dropped.
local writes = {}

-- ---- A small JSON encoder (members and statuses hold names, numbers,
-- booleans and lists; KV values come already rendered by the library) ----

local encode

local function encode_string(s)
  return '"' .. s:gsub('[%c"\\]', function(c)
    local named = { ['"'] = '\\"', ['\\'] = '\\\\', ['\n'] = '\\n', ['\r'] = '\\r', ['\t'] = '\\t' }
    return named[c] or string.format("\\u%04x", c:byte())
  end) .. '"'
end

-- A table is a list when it has an element 1 or is marked as one.
local LIST = {}
local function list(t)
  return setmetatable(t, LIST)
end

function encode(v)
  local t = type(v)
  if t == "string" then
    return encode_string(v)
  elseif t == "number" then
    return v % 1 == 0 and string.format("%d", v) or tostring(v)
  elseif t == "boolean" then
    return tostring(v)
  elseif t == "table" then
    local parts = {}
    if getmetatable(v) == LIST or v[1] ~= nil then
      for i, item in ipairs(v) do
        parts[i] = encode(item)
      end
      return "[" .. table.concat(parts, ",") .. "]"
    end
    local keys = {}
    for k in pairs(v) do
      keys[#keys + 1] = k
    end
    table.sort(keys)
    for i, k in ipairs(keys) do
      parts[i] = encode_string(tostring(k)) .. ":" .. encode(v[k])
    end
    return "{" .. table.concat(parts, ",") .. "}"
  end
  return "null"
end

local function reply(status, body)
  ngx.status = status
  ngx.header["Content-Type"] = "application/json"
  ngx.say(type(body) == "string" and body or encode(body))
  return ngx.exit(status)
end

-- ---- Events ----

local function handle(ev)
  events_drained = events_drained + 1
  events_by_type[ev.type] = (events_by_type[ev.type] or 0) + 1
  if ev.type == "reachability" then
    log(NOTICE, "lashup: ", ev.node, " is ", ev.state)
  elseif ev.type == "member_removed" then
    log(NOTICE, "lashup: ", ev.node, " was removed")
  elseif ev.type == "kv_update_done" then
    if writes[ev.request_id] == false then
      writes[ev.request_id] = ev
    end
  else
    log(INFO, "lashup: event ", ev.type, " about ", ev.node)
  end
end

local function drain(premature)
  if premature or node == nil or node:is_closed() then
    return
  end
  for _ = 1, DRAIN_MAX do
    local ev, err, code = node:poll(0)
    if ev == nil then
      if err ~= nil and code ~= lashup.ERR_CLOSED then
        log(WARN, "lashup: poll: ", err)
      end
      return
    end
    handle(ev)
  end
end

-- ---- Worker life ----

-- Creates and starts the node: the node, or nil, the reason and whether to
-- try again. On a reload the old worker holds the node's data dir and port
-- until it has exited, so a start that fails on them (ERR_STORAGE, ERR_IO)
-- is retried; a bad configuration is not.
local function start_node(conf)
  local loaded, n, err = pcall(lashup.new, nil, conf)
  if not loaded then
    return nil, "cannot load liblashup: " .. tostring(n), false
  end
  if n == nil then
    return nil, "cannot create the node: " .. err, false
  end
  local ok, start_err, code = n:start()
  if not ok then
    n:close()
    return nil, "cannot start the node: " .. start_err, code == lashup.ERR_STORAGE or code == lashup.ERR_IO
  end
  return n
end

function _M.init_worker()
  local conf = os.getenv("LASHUP_NGINX_NODE_CONF")
  if conf == nil or conf == "" then
    node_error = "LASHUP_NGINX_NODE_CONF is not set"
    log(ERR, "lashup: ", node_error)
    return
  end
  -- "{worker}" in the path names one configuration per worker (README.md).
  conf = conf:gsub("{worker}", tostring(ngx.worker.id()))
  local attempts = 0
  local function try(premature)
    if premature then -- the worker exits
      return
    end
    attempts = attempts + 1
    local n, err, again = start_node(conf)
    if n == nil then
      node_error = err
      if again and attempts < START_ATTEMPTS_MAX then
        if attempts == 1 then
          log(WARN, "lashup: ", err, "; trying again every ", START_RETRY_S, " s")
        end
        local ok, timer_err = ngx.timer.at(START_RETRY_S, try)
        if not ok then
          log(ERR, "lashup: cannot retry the start: ", timer_err)
        end
      else
        log(ERR, "lashup: ", err)
      end
      return
    end
    node, node_error = n, nil
    log(NOTICE, "lashup: node ", n:name(), " started at ", n:address(), " (attempt ", attempts, ")")
    local ok, timer_err = ngx.timer.every(DRAIN_INTERVAL_S, drain)
    if not ok then
      log(ERR, "lashup: cannot start the event timer: ", timer_err)
    end
  end
  try(false)
end

-- On shutdown or reload: leave (peers mark this node "left" rather than
-- unreachable), then stop and free the node before the worker exits.
function _M.exit_worker()
  if node ~= nil then
    node:leave()
    node:close()
    node = nil
  end
end

local function require_node()
  if node == nil then
    return reply(503, { error = node_error or "no node" })
  end
  return node
end

-- ---- Handlers ----

function _M.members()
  local n = require_node()
  local members, err = n:members()
  if members == nil then
    return reply(503, { error = err })
  end
  local out = {}
  for i, m in ipairs(members) do
    out[i] = {
      name = m.name,
      address = m.address,
      state = m.state,
      incarnation = m.incarnation,
      distance = m.distance,
      last_heard_ms = m.last_heard_ms,
    }
  end
  return reply(200, { node = n:name(), members = list(out) })
end

local function get(n, key)
  local json, err, code = n:kv_get_json(key)
  if json == nil then
    if code == lashup.ERR_NOT_FOUND then
      return reply(404, { key = key, error = err })
    end
    return reply(503, { key = key, error = err })
  end
  return reply(200, '{"key":' .. encode_string(key) .. ',"value":' .. json .. "}")
end

-- Adds `add` to the counter at `field`, waiting (without blocking the
-- worker) for the write's completion event.
local function add(n, key)
  local args = ngx.req.get_uri_args()
  local field, amount = args.field, tonumber(args.add)
  if type(field) ~= "string" or field == "" or amount == nil or amount % 1 ~= 0 then
    return reply(400, { error = "expected ?field=<path>&add=<integer>" })
  end
  local ok, id, err = pcall(n.kv_update_async, n, key, { { "counter_add", field, amount } })
  if not ok then -- a bad path: the library's message
    return reply(400, { key = key, error = tostring(id):gsub("^.-lashup: ", "") })
  end
  if id == nil then
    return reply(503, { key = key, error = err })
  end
  writes[id] = false
  local deadline = ngx.now() + WRITE_TIMEOUT_S
  while writes[id] == false and ngx.now() < deadline do
    ngx.sleep(0.005) -- yields to the worker's other requests and to the timer
  end
  local done = writes[id]
  writes[id] = nil
  if not done then
    return reply(504, { key = key, error = "the write did not complete in time" })
  end
  if not done.ok then
    return reply(409, { key = key, error = done.err })
  end
  return get(n, key)
end

function _M.kv(key)
  local n = require_node()
  local method = ngx.req.get_method()
  if method == "GET" then
    return get(n, key)
  elseif method == "POST" then
    return add(n, key)
  end
  return reply(405, { error = "GET or POST" })
end

function _M.status()
  local n = require_node()
  return reply(200, {
    node = n:name(),
    address = n:address(),
    incarnation = n:incarnation(),
    events_drained = events_drained,
    events = events_by_type,
    library = lashup.version_string(),
  })
end

return _M
