-- Tests of the LuaJIT FFI module (bindings/lua/lashup.lua), run by ctest:
--   LASHUP_LIBRARY=build/<dir>/capi/liblashup.so luajit bindings/lua/tests/lashup_test.lua [name]
-- (name: run only the tests whose name contains it).
-- Nodes run in this process with tls = off on 127.0.0.1, port 0 (the
-- examples/nginx test covers TLS). Waits poll for a condition with a
-- deadline; none sleeps.
-- The module next to this directory comes first on the path.
local here = (arg and arg[0] or ""):match("^(.*)/[^/]*$") or "."
package.path = here .. "/../?.lua;" .. package.path

local ffi = require "ffi"
local lashup = require "lashup"

ffi.cdef [[ char *mkdtemp(char *template); ]]

local WAIT_S = 15 -- deadline of every wait for the cluster

-- ---- A minimal runner ---------------------------------------------------------

local tests = {}
local function test(name, fn)
  tests[#tests + 1] = { name = name, fn = fn }
end

local function fail(message, level)
  error(message, (level or 1) + 1)
end

local function eq(actual, expected, what)
  if actual ~= expected then
    fail(string.format("%s: expected %s, got %s", what or "value", tostring(expected), tostring(actual)), 2)
  end
end

local function truthy(value, what)
  if not value then
    fail((what or "condition") .. " does not hold", 2)
  end
end

-- pcall(fn, ...) must fail with a message containing `pattern` (plain).
local function raises(pattern, fn, ...)
  local ok, err = pcall(fn, ...)
  if ok then
    fail("expected an error containing '" .. pattern .. "', got none", 2)
  end
  if not tostring(err):find(pattern, 1, true) then
    fail("expected an error containing '" .. pattern .. "', got: " .. tostring(err), 2)
  end
end

-- ---- Fixtures -------------------------------------------------------------------

local dirs = {}
local function temp_dir()
  local template = ffi.new("char[?]", 64, "/tmp/lashup-lua-XXXXXX")
  local path = ffi.C.mkdtemp(template)
  truthy(path ~= nil, "mkdtemp")
  local dir = ffi.string(path)
  dirs[#dirs + 1] = dir
  return dir
end

local nodes = {}
local function new_node(name, extra)
  local settings = {
    node_name = name,
    data_dir = temp_dir(),
    tls = false,
    listen_address = "127.0.0.1:0",
    ["log.level"] = "error",
    -- a small cluster in one process: quick repairs and anti-entropy
    ["kv.anti_entropy_interval_ms"] = 200,
  }
  for k, v in pairs(extra or {}) do
    settings[k] = v
  end
  local node, err = lashup.new(settings)
  truthy(node, "lashup.new: " .. tostring(err))
  nodes[#nodes + 1] = node
  return node
end

local function started(name, extra)
  local node = new_node(name, extra)
  local ok, err = node:start()
  truthy(ok, "start: " .. tostring(err))
  return node
end

local function now_s()
  return lashup.now_us() / 1e6
end

-- Drains every node's events into node.seen (a list per node, kept on the
-- Lua object) until predicate() is true or the deadline passes. The
-- blocking poll of the first node spaces the checks.
local function wait_until(predicate, what, nodes_to_drain)
  local deadline = now_s() + WAIT_S
  while true do
    for _, node in ipairs(nodes_to_drain) do
      node.seen = node.seen or {}
      for ev in node:events() do
        node.seen[#node.seen + 1] = ev
      end
    end
    local result = predicate()
    if result then
      return result
    end
    if now_s() > deadline then
      fail("timed out after " .. WAIT_S .. " s waiting for " .. what, 2)
    end
    local ev = nodes_to_drain[1]:poll(20)
    if ev then
      local seen = nodes_to_drain[1].seen
      seen[#seen + 1] = ev
    end
  end
end

local function find_event(node, predicate)
  for _, ev in ipairs(node.seen or {}) do
    if predicate(ev) then
      return ev
    end
  end
  return nil
end

-- ---- Library and configuration ----------------------------------------------------

test("version_and_strerror_come_from_the_library", function()
  truthy(lashup.version() > 0, "version number")
  truthy(lashup.version_string():match("^%d+%.%d+%.%d+"), "version string")
  eq(lashup.strerror(lashup.ERR_NOT_FOUND), "not found", "strerror")
end)

test("a_library_that_cannot_be_loaded_raises_naming_the_path", function()
  -- in a child interpreter: this one has loaded the library already
  local interpreter = arg[-1] or "luajit"
  local command = string.format("LASHUP_LIBRARY=/nonexistent/liblashup.so %s -e "
    .. "'package.path = %q .. package.path; local ok, err = pcall(require(\"lashup\").version); "
    .. "io.write(tostring(ok), \" \", tostring(err))' 2>&1", interpreter, here .. "/../?.lua;")
  local child = assert(io.popen(command))
  local out = child:read("*a")
  child:close()
  truthy(out:find("^false ") and out:find("cannot load liblashup", 1, true)
    and out:find("/nonexistent/liblashup.so", 1, true), "child output: " .. out)
end)

test("config_keys_lists_the_library_keys", function()
  local keys = lashup.config_keys()
  local set = {}
  for _, k in ipairs(keys) do
    set[k] = true
  end
  truthy(#keys > 10, "key count " .. #keys)
  truthy(set.node_name and set["tls.ca_file"] and set["kv.anti_entropy_interval_ms"], "known keys")
end)

test("a_bad_configuration_value_is_returned_with_the_library_message", function()
  local node, err, code = lashup.new({ node_name = "a", ["overlay.active_view_size"] = 500 })
  eq(node, nil, "node")
  eq(code, lashup.ERR_INVALID, "code")
  truthy(err:find("overlay.active_view_size", 1, true), "message names the key: " .. err)
end)

test("an_unknown_configuration_key_is_returned", function()
  local node, err, code = lashup.new({ node_name = "a", no_such_key = 1 })
  eq(node, nil, "node")
  eq(code, lashup.ERR_INVALID, "code")
  truthy(err:find("no_such_key", 1, true), "message names the key: " .. err)
end)

test("a_missing_config_file_is_returned_as_io_error", function()
  local node, err, code = lashup.new(nil, "/nonexistent/lashup.conf")
  eq(node, nil, "node")
  eq(code, lashup.ERR_IO, "code")
  truthy(err ~= "", "message")
end)

test("a_config_file_is_loaded_before_the_settings", function()
  local dir = temp_dir()
  local path = dir .. "/node.conf"
  local f = assert(io.open(path, "w"))
  f:write("node_name = from-file\ndata_dir = " .. dir .. "\ntls = off\nlisten_address = 127.0.0.1:0\n")
  f:close()
  local node = assert(lashup.new({ node_name = "from-settings" }, path))
  eq(node:name(), "from-settings", "name")
  node:close()
end)

test("wrong_lua_types_raise", function()
  raises("settings", lashup.new, "node_name=a")
  raises("bad configuration value", lashup.new, { node_name = function() end })
  local node = new_node("types")
  raises("key", node.kv_get, node, 42)
  raises("timeout_ms", node.poll, node, "soon")
end)

test("calls_before_start_return_a_state_error", function()
  local node = new_node("early")
  local value, err, code = node:kv_get("k")
  eq(value, nil, "value")
  eq(code, lashup.ERR_STATE, "code")
  truthy(err ~= "", "message")
  local members, _, mcode = node:members()
  eq(members, nil, "members")
  eq(mcode, lashup.ERR_STATE, "members code")
  eq(node:poll(0), nil, "no event before start")
end)

-- ---- One node ----------------------------------------------------------------------

test("a_started_node_lists_itself_reachable", function()
  local node = started("solo")
  eq(node:name(), "solo", "name")
  truthy(node:address():match("^127%.0%.0%.1:%d+$"), "address " .. tostring(node:address()))
  truthy(node:incarnation() > 0, "incarnation")
  truthy(node:event_fd() >= 0, "event fd")
  local members = assert(node:members())
  eq(#members, 1, "members")
  eq(members[1].name, "solo", "member name")
  eq(members[1].state, "reachable", "member state")
  eq(members[1].distance, 0, "distance to itself")
  eq(node:reachable("solo"), true, "reachable(self)")
  eq(node:reachable("nobody"), false, "reachable(unknown)")
  local hops, _, code = node:distance("nobody")
  eq(hops, nil, "distance(unknown)")
  eq(code, lashup.ERR_NOT_FOUND, "distance code")
  truthy(node:stats().members == 1, "stats.members")
  eq(node:stat("members"), 1, "stat(members)")
end)

test("start_twice_returns_a_state_error", function()
  local node = started("twice")
  local ok, err, code = node:start()
  eq(ok, nil, "second start")
  eq(code, lashup.ERR_STATE, "code")
  truthy(err ~= "", "message")
end)

test("kv_update_returns_the_value_as_a_table", function()
  local node = started("kv")
  local value = assert(node:kv_update("svc/web", {
    { "counter_add", "hits", 3 },
    { "counter_add", "hits", -1 },
    { "register_set", "color", "red", 10 },
    { "set_add", "tags", "b" },
    { "set_add", "tags", "a" },
    { "flag_enable", "on" },
    { "counter_add", "nested/deeper/n", 7 },
  }))
  eq(value.hits.counter, 2, "counter")
  eq(value.color.register, "red", "register")
  eq(value.color.register_timestamp, 10, "register timestamp")
  eq(#value.tags.set, 2, "set size")
  eq(value.tags.set[1], "a", "set sorted")
  eq(value.on.flag, true, "flag")
  eq(value.nested.map.deeper.map.n.counter, 7, "nested map")

  local read = assert(node:kv_get("svc/web"))
  eq(read.hits.counter, 2, "read back")
  local json = assert(node:kv_get_json("svc/web"))
  truthy(json:find('"hits":{"counter":2}', 1, true), "json " .. json)
end)

test("a_register_written_without_timestamp_takes_the_wall_clock_in_microseconds", function()
  local node = started("clock")
  local before = os.time()
  local value = assert(node:kv_update("k", { { "register_set", "r", "v" } }))
  local ts = value.r.register_timestamp
  truthy(ts >= (before - 1) * 1e6 and ts <= (os.time() + 1) * 1e6, "timestamp " .. ts .. " near " .. before)
  local later = assert(node:kv_update("k", { { "register_set", "r", "w" } }))
  eq(later.r.register, "w", "a later write wins")
end)

test("a_field_name_and_bytes_keep_nul_and_binary", function()
  local node = started("binary")
  local key = "bin\0key"
  local value = assert(node:kv_update(key, { { "register_set", "r", "\0\255\1" }, { "set_add", "s", "" } }))
  eq(value.r.register, "\0\255\1", "register bytes")
  eq(value.s.set[1], "", "empty element")
  local keys = assert(node:kv_keys("bin"))
  eq(keys[1], key, "key with a NUL byte")
end)

test("an_ops_list_is_reusable_and_freed_once", function()
  local node = started("ops")
  local ops = lashup.ops():counter_add("n", 1):set_add("s", "x")
  eq(ops:count(), 2, "count")
  eq(assert(node:kv_update("k", ops)).n.counter, 1, "first")
  eq(assert(node:kv_update("k", ops)).n.counter, 2, "second")
  ops:free()
  ops:free() -- idempotent
  eq(ops:count(), 0, "count after free")
  raises("freed", node.kv_update, node, "k", ops)
  raises("freed", ops.counter_add, ops, "n", 1)
end)

test("bad_operations_raise_with_the_library_message", function()
  local node = started("badops")
  raises('bad path "a//b"', node.kv_update, node, "k", { { "counter_add", "a//b", 1 } })
  raises("unknown operation", node.kv_update, node, "k", { { "increment", "a", 1 } })
  raises("integer expected", node.kv_update, node, "k", { { "counter_add", "a", 0.5 } })
  raises("field_type", node.kv_update, node, "k", { { "remove_field", "a", "number" } })
  raises("empty key", node.kv_update, node, "", { { "counter_add", "a", 1 } })
  raises("empty key", node.kv_get, node, "")
  raises("bad path", lashup.ops().flag_enable, lashup.ops(), "/x")
  -- a failed write changes nothing
  local value, _, code = node:kv_get("k")
  eq(value, nil, "nothing written")
  eq(code, lashup.ERR_NOT_FOUND, "code")
end)

test("runtime_kv_errors_are_returned_with_codes", function()
  local node = started("kverr")
  local v, err, code = node:kv_get("missing")
  eq(v, nil, "missing value")
  eq(code, lashup.ERR_NOT_FOUND, "not found")
  truthy(err ~= "", "message")

  assert(node:kv_update("k", { { "counter_add", "x", 1 } }))
  v, err, code = node:kv_update(string.rep("k", 4097), { { "counter_add", "x", 1 } })
  eq(code, lashup.ERR_TOO_LARGE, "a key over 4096 bytes: " .. tostring(err))
  v, err, code = node:kv_update("k", { { "set_remove", "s", "absent" } })
  eq(code, lashup.ERR_NOT_FOUND, "absent element")
  truthy(err:find("absent", 1, true), "message names the element: " .. err)
  v, err, code = node:kv_update("nodes/other/x", { { "counter_add", "x", 1 } })
  eq(code, lashup.ERR_PERMISSION, "another node's namespace")
  eq(node:kv_delete("k"), true, "delete")
  v, err, code = node:kv_delete("k")
  eq(code, lashup.ERR_NOT_FOUND, "delete twice")
end)

test("compare_and_set_fails_on_a_stale_context", function()
  local node = started("cas")
  assert(node:kv_update("k", { { "counter_add", "x", 1 } }))
  local value, context = node:kv_read("k")
  eq(value.x.counter, 1, "read")
  truthy(ffi.istype("lashup_kv_context_t *", context), "context is a handle")
  local updated = assert(node:kv_update("k", { { "counter_add", "x", 1 } }, context))
  eq(updated.x.counter, 2, "write with a fresh context")
  local v, err, code = node:kv_update("k", { { "counter_add", "x", 1 } }, context)
  eq(v, nil, "stale write")
  eq(code, lashup.ERR_CONFLICT, "conflict: " .. tostring(err))
  raises("expected", node.kv_update, node, "k", { { "counter_add", "x", 1 } }, "ctx")
end)

test("keys_by_prefix_and_glob", function()
  local node = started("keys")
  for _, key in ipairs({ "a/1", "a/2", "a/b/3", "b/1" }) do
    assert(node:kv_update(key, { { "flag_enable", "f" } }))
  end
  eq(table.concat(assert(node:kv_keys("a/")), ","), "a/1,a/2,a/b/3", "prefix")
  eq(table.concat(assert(node:kv_keys("a/*", true)), ","), "a/1,a/2", "glob")
  eq(#assert(node:kv_keys()), 4, "all keys")
end)

test("kv_subscription_events_dump_then_changes", function()
  local node = started("sub")
  assert(node:kv_update("watch/a", { { "counter_add", "n", 1 } }))
  local id = assert(node:kv_subscribe("watch/"))
  local dump = node:poll(1000)
  eq(dump.type, "kv_changed", "dump event")
  eq(dump.initial, true, "initial")
  eq(dump.key, "watch/a", "key")
  eq(dump.subscription, id, "subscription")
  eq(dump.value.n.counter, 1, "value")
  local done = node:poll(1000)
  eq(done.type, "kv_dump_done", "dump done")
  eq(done.subscription, id, "dump done subscription")

  assert(node:kv_update("watch/a", { { "counter_add", "n", 1 } }))
  local change = node:poll(2000)
  eq(change and change.type, "kv_changed", "change event")
  eq(change.initial, false, "not initial")
  eq(change.value.n.counter, 2, "changed value")
  assert(node:kv_delete("watch/a"))
  local deleted = node:poll(2000)
  eq(deleted and deleted.deleted, true, "deleted")
  eq(node:kv_unsubscribe(id), true, "unsubscribe")
  local _, _, code = node:kv_unsubscribe(id)
  eq(code, lashup.ERR_NOT_FOUND, "unsubscribe twice")
end)

test("kv_update_async_completes_through_events", function()
  local node = started("async")
  local ok_id = assert(node:kv_update_async("k", { { "counter_add", "n", 5 } }))
  local bad_id = assert(node:kv_update_async("k", { { "set_remove", "s", "absent" } }))
  truthy(ok_id ~= bad_id, "distinct ids")
  local done = {}
  local deadline = now_s() + WAIT_S
  while (done[ok_id] == nil or done[bad_id] == nil) and now_s() < deadline do
    local ev = node:poll(100)
    if ev and ev.type == "kv_update_done" then
      done[ev.request_id] = ev
    end
  end
  truthy(done[ok_id] and done[bad_id], "both completions")
  eq(done[ok_id].ok, true, "the good write")
  eq(done[ok_id].key, "k", "key")
  eq(done[bad_id].ok, false, "the bad write")
  eq(done[bad_id].status, lashup.ERR_NOT_FOUND, "status")
  truthy(done[bad_id].err:find("absent", 1, true), "detail " .. tostring(done[bad_id].err))
  eq(assert(node:kv_get("k")).n.counter, 5, "applied")
  raises("bad path", node.kv_update_async, node, "k", { { "counter_add", "", 1 } })
end)

test("multicast_to_itself", function()
  local node = started("mc")
  eq(node:mc_subscribe("news"), true, "subscribe")
  local seq = assert(node:mc_publish_seq("news", "hello\0world"))
  truthy(seq >= 1, "sequence")
  local ev = node:poll(2000)
  eq(ev and ev.type, "mc_message", "message event")
  eq(ev.topic, "news", "topic")
  eq(ev.payload, "hello\0world", "payload")
  eq(ev.node, "mc", "origin")
  eq(ev.sequence, seq, "sequence")
  eq(node:mc_publish("news"), true, "empty payload")
  eq(node:poll(2000).payload, "", "empty payload delivered")
  raises("reserved", node.mc_publish, node, "lashup/x", "y")
  eq(node:mc_unsubscribe("news"), true, "unsubscribe")
  local _, _, code = node:mc_unsubscribe("news")
  eq(code, lashup.ERR_NOT_FOUND, "unsubscribe twice")
end)

test("a_stopped_node_returns_closed_and_close_is_idempotent", function()
  local node = started("stopper")
  eq(node:stop(), true, "stop")
  local v, err, code = node:kv_get("k")
  eq(v, nil, "kv_get after stop")
  eq(code, lashup.ERR_CLOSED, "code")
  truthy(err ~= "", "message")
  local ev, _, pcode = node:poll(0)
  eq(ev, nil, "poll after stop")
  eq(pcode, lashup.ERR_CLOSED, "poll code")
  eq(node:stop(), true, "stop is idempotent")
  node:close()
  node:close()
  eq(node:is_closed(), true, "closed")
  raises("closed", node.kv_get, node, "k")
  raises("closed", node.members, node)
end)

test("collected_nodes_are_destroyed_by_the_finalizer", function()
  -- Nodes dropped without close(): ffi.gc destroys them (stopping their
  -- threads); a node closed first is not destroyed again.
  for i = 1, 3 do
    local node = assert(lashup.new({ node_name = "gc" .. i, data_dir = temp_dir(), tls = false,
      listen_address = "127.0.0.1:0", ["log.level"] = "error" }))
    assert(node:start())
    if i == 2 then
      node:close()
    end
  end
  collectgarbage()
  collectgarbage()
  -- the process is intact and a new node starts on a data dir just released
  local node = started("after-gc")
  eq(node:reachable("after-gc"), true, "alive")
end)

-- ---- Two nodes -----------------------------------------------------------------------

test("two_nodes_see_each_other_and_replicate", function()
  local a = started("pair-a")
  local b = started("pair-b", { contact_nodes = { "pair-a@" .. a:address() } })
  assert(b:mc_subscribe("chat"))
  wait_until(function()
    return a:reachable("pair-b") and b:reachable("pair-a")
  end, "both reachable", { a, b })
  local members = assert(b:members())
  eq(#members, 2, "members")
  eq(members[1].name, "pair-a", "sorted by name")
  eq(members[1].state, "reachable", "state")
  eq(members[1].distance, 1, "one hop")
  truthy(find_event(b, function(ev) return ev.type == "reachability" and ev.node == "pair-a" end)
    or find_event(b, function(ev) return ev.type == "member_updated" and ev.node == "pair-a" end),
    "a membership event about pair-a on pair-b")

  assert(a:kv_update("shared/k", { { "counter_add", "n", 41 }, { "register_set", "who", "a" } }))
  local value = wait_until(function()
    local v = b:kv_get("shared/k")
    return v and v.n and v.n.counter == 41 and v
  end, "the write of pair-a on pair-b", { a, b })
  eq(value.who.register, "a", "register replicated")

  assert(b:set_metadata("role=web"))
  wait_until(function()
    for _, m in ipairs(a:members() or {}) do
      if m.name == "pair-b" and m.metadata == "role=web" then
        return true
      end
    end
  end, "metadata of pair-b on pair-a", { a, b })

  -- a message published after b's subscription took effect
  local got = wait_until(function()
    assert(a:mc_publish("chat", "hi"))
    return find_event(b, function(ev) return ev.type == "mc_message" and ev.payload == "hi" end)
  end, "a message of pair-a on pair-b", { b, a })
  eq(got.node, "pair-a", "origin")

  local request = assert(a:health_check("pair-b"))
  local answer = wait_until(function()
    return find_event(a, function(ev) return ev.type == "health_check" and ev.request_id == request end)
  end, "the health check answer", { a })
  eq(answer.alive, true, "alive")
  eq(answer.node, "pair-b", "probed node")
  local tree = assert(a:route_tree("pair-a"))
  eq(#tree, 2, "route tree")
  eq(tree[1].parent, "", "root has no parent")
  eq(tree[2].parent, "pair-a", "child")
end)

-- ---- Run ---------------------------------------------------------------------------------

local filter = arg and arg[1]
local failed, ran = 0, 0
for _, t in ipairs(tests) do
  if not filter or t.name:find(filter, 1, true) then
    ran = ran + 1
    local started_at = now_s()
    local ok, err = xpcall(t.fn, debug.traceback)
    for _, node in ipairs(nodes) do
      node:close()
    end
    nodes = {}
    if ok then
      print(string.format("ok   %s (%.0f ms)", t.name, (now_s() - started_at) * 1000))
    else
      failed = failed + 1
      print(string.format("FAIL %s\n%s", t.name, err))
    end
  end
end
collectgarbage()
for _, dir in ipairs(dirs) do
  os.execute("rm -rf '" .. dir .. "'")
end
print(string.format("%d of %d tests passed", ran - failed, ran))
if ran == 0 or failed > 0 then
  os.exit(1)
end
