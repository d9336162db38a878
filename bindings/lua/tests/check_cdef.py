#!/usr/bin/env python3
"""Checks bindings/lua/lashup/cdef.lua against include/lashup/lashup.h
(ctest: lua_ffi_cdef, label bindings).

The FFI declarations are a copy of the header's prototypes, so a change of
the header that is not carried over would make LuaJIT call a function with
the wrong types. Every prototype in cdef.lua must equal the header's
(whitespace aside); a function of the header that is neither declared nor
one of UNBOUND (with the reason) is reported as a note.

    check_cdef.py [REPO]
"""

import os
import re
import sys

UNBOUND = {
    # Callbacks run on the node's loop thread, which must never enter a
    # LuaJIT state: events are pulled with lashup_node_poll instead, and the
    # library's own log goes to stderr.
    "lashup_node_set_event_cb": "callback on the loop thread",
    "lashup_node_set_log_cb": "callback on the loop thread",
    "lashup_log_level_name": "only for the log callback",
    # node:members() returns the whole list; Lua finds a name in it.
    "lashup_members_find": "the members list is a Lua table",
    # Configuration goes in as a table or a file and is checked by
    # lashup_node_new; reading it back is not offered.
    "lashup_config_get_int": "configuration is write-only from Lua",
}


def prototypes(text):
    """{function name: prototype with normalized spacing}."""
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    found = {}
    for match in re.finditer(r"(?:^|;|\})\s*([A-Za-z_][^;{}#]*?\b(lashup_\w+)\s*\([^;{}]*\))\s*;", text, flags=re.M):
        declaration = re.sub(r"\bLASHUP_API\b", "", match.group(1))
        declaration = re.sub(r"\s*([*(),])\s*", r"\1", " ".join(declaration.split())).strip()
        found[match.group(2)] = declaration
    return found


def main():
    repo = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..", "..")
    with open(os.path.join(repo, "include", "lashup", "lashup.h")) as f:
        header = {name: p for name, p in prototypes(f.read()).items() if "typedef" not in p}
    with open(os.path.join(repo, "bindings", "lua", "lashup", "cdef.lua")) as f:
        cdef = {name: p for name, p in prototypes(f.read()).items() if name != "lashup_lua_clock_gettime"}
    problems = []
    for name, declaration in sorted(cdef.items()):
        if name not in header:
            problems.append(f"{name}: declared in cdef.lua, not in lashup.h")
        elif declaration != header[name]:
            problems.append(f"{name}: cdef.lua has\n    {declaration}\n  lashup.h has\n    {header[name]}")
    # A function added to the header is not an error of the binding (it only
    # lacks the new call): it is reported, and the check passes.
    for name in sorted(set(header) - set(cdef) - set(UNBOUND)):
        print(f"note: {name} is in lashup.h but not bound in cdef.lua (nor listed as unbound)")
    for name in sorted(set(UNBOUND) - set(header)):
        problems.append(f"{name}: listed as unbound but no longer in lashup.h")
    if problems:
        print("\n".join(problems))
        sys.exit(1)
    print(f"cdef.lua: {len(cdef)} prototypes equal to lashup.h's; {len(UNBOUND)} functions unbound on purpose")


if __name__ == "__main__":
    main()
