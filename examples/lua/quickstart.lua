-- A first lashup cluster in one LuaJIT process: two nodes over mutual TLS.
--
-- Starts node "alpha", joins node "beta" to it, writes a key on alpha and
-- reads it back on beta, receives the change through a subscription on
-- beta, and sends beta a multicast message. Certificates come from the
-- development CA of lashupd (`lashupd ca init` / `lashupd ca issue`).
--
--   LUA_PATH="bindings/lua/?.lua;;" LASHUP_LIBRARY=build/ci/capi/liblashup.so \
--     luajit examples/lua/quickstart.lua build/ci/examples/lashupd
--
-- Exits non-zero (with the reason) if any step does not happen within 20 s.
local lashup = require "lashup"

local lashupd = arg[1] or error("usage: quickstart.lua PATH/TO/lashupd")
local DEADLINE_S = 20

local function sh(command)
  local ok = os.execute(command .. " > /dev/null")
  if ok ~= true and ok ~= 0 then error("failed: " .. command) end
end

local function quote(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

-- A scratch directory for the certificates and the data dirs.
local handle = io.popen("mktemp -d /tmp/lashup-lua-XXXXXX")
local dir = handle:read("*l")
handle:close()
local pki = dir .. "/pki"
sh(quote(lashupd) .. " ca init --dir " .. quote(pki))
sh(quote(lashupd) .. " ca issue --dir " .. quote(pki) .. " --name alpha --name beta")

local function start(name, contact)
  local node, err = lashup.new({
    node_name = name,
    listen_address = "127.0.0.1:0",
    data_dir = dir .. "/" .. name,
    contact_nodes = contact,
    ["tls.ca_file"] = pki .. "/ca.pem",
    ["tls.cert_file"] = pki .. "/" .. name .. ".pem",
    ["tls.key_file"] = pki .. "/" .. name .. ".key",
  })
  if not node then error(err) end
  assert(node:start())
  return node
end

-- Polls `node` (100 ms at a time) until `wanted(event)` holds; the event.
local function wait_for(node, what, wanted)
  local deadline = os.time() + DEADLINE_S
  while os.time() <= deadline do
    local ev = node:poll(100)
    if ev and wanted(ev) then return ev end
  end
  error("no " .. what .. " within " .. DEADLINE_S .. " s")
end

local alpha = start("alpha")
local beta = start("beta", "alpha@" .. alpha:address())
print("alpha listens on " .. alpha:address() .. ", beta joins it")

wait_for(beta, "reachability of alpha", function(ev)
  return ev.type == "reachability" and ev.node == "alpha" and ev.state == "reachable"
end)
print("beta reaches alpha")

-- beta subscribes to the keys under "svc/" and to the topic "news".
local subscription = assert(beta:kv_subscribe("svc/"))
assert(beta:mc_subscribe("news"))

-- alpha writes a key; beta reads it from its own replica once it arrived.
local written = assert(alpha:kv_update("svc/web", {
  { "counter_add", "hits", 1 },
  { "register_set", "color", "red" },
}))
print("alpha wrote svc/web: hits = " .. written.hits.counter .. ", color = " .. written.color.register)

local changed = wait_for(beta, "subscription event for svc/web", function(ev)
  return ev.type == "kv_changed" and ev.subscription == subscription and ev.key == "svc/web" and not ev.initial
end)
print("beta's subscription saw svc/web: hits = " .. changed.value.hits.counter)
local value = assert(beta:kv_get("svc/web"))
print("beta reads svc/web: color = " .. value.color.register)

-- alpha publishes; beta receives the message once.
assert(alpha:mc_publish("news", "hello from alpha"))
local message = wait_for(beta, "multicast message", function(ev)
  return ev.type == "mc_message" and ev.topic == "news"
end)
print("beta received on news from " .. message.node .. ": " .. message.payload)

-- A bad argument is a Lua error with the library's message.
local ok, err = pcall(function() return alpha:kv_update("", { { "counter_add", "n", 1 } }) end)
print("an empty key is refused: " .. tostring(not ok) .. " (" .. tostring(err) .. ")")

beta:close()
alpha:close()
sh("rm -rf " .. quote(dir))
print("done")
