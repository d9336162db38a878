/*
 * One SWIG interface over the C API (include/lashup/lashup.h), for two
 * targets:
 *   swig -lua  ...              -> the Lua 5.4 C module `lashup` (luaopen_lashup)
 *   swig -go -cgo -intgosize 64 -package clashup ...
 *                               -> the low-level Go package under
 *                                  bindings/go/internal/clashup
 *
 * The wrappers mirror the C functions one to one (same names, same return
 * codes); only the parameter shapes change, through the typemaps below:
 *   - byte buffers (const void *, size_t)        Lua string / Go []byte
 *   - handle out-parameters (lashup_X_t **out)   Lua: an extra result;
 *                                                Go: a 1-element slice
 *   - scalar out-parameters (uint64_t *, int *, uint32_t *, int64_t *)
 *                                                Lua: an extra result;
 *                                                Go: a 1-element slice
 *   - strings returned through char ** (freed here with lashup_free)
 *                                                Lua: an extra result;
 *                                                Go: *string
 *   - errbuf pairs (char *errbuf, size_t errbuf_len)
 *                                                Lua: an extra result (the
 *                                                message, "" when none);
 *                                                Go: a caller-owned []byte
 *   - accessors returning (const void *, size_t *len) bytes
 *                                                Lua: a string (plus the
 *                                                register's timestamp);
 *                                                Go: not wrapped, see below
 *
 * Left out, on purpose:
 *   - lashup_node_set_event_cb and lashup_event_cb: a callback runs on the
 *     node's loop thread, where neither a lua_State nor Go code may run.
 *     Events are pulled with lashup_node_poll (or lashup_node_event_fd)
 *     instead, which is the intended way for bindings.
 *   - lashup_node_set_log_cb and lashup_log_cb, for the same reason: the
 *     log callback runs on the loop thread. Without it the library writes
 *     errors to stderr.
 *   - Go only: the byte accessors (lashup_event_payload, lashup_event_key,
 *     lashup_members_metadata, lashup_kv_value_field_name,
 *     lashup_kv_value_register, lashup_kv_value_set_element,
 *     lashup_kv_keys_at). They return a pointer whose length comes back
 *     through an out-parameter; a SWIG-Go typemap cannot see that length
 *     when it converts the return value, so the result would have to be
 *     copied through malloc twice. The Go package reads them with cgo
 *     (C.GoBytes) on the SWIG handles instead.
 *
 * Handles are plain pointers in both languages: nothing is freed by a
 * garbage collector here. Each lashup_X_new / lashup_X_destroy pair is the
 * caller's, as in C (the idiomatic Go package does it for Go users); in Lua
 * a destroyed handle is cleared (see below), so destroying it twice or using
 * it afterwards returns an error instead of crashing. Borrowed handles
 * (lashup_event_kv_value, lashup_kv_value_map) live as long as their owner.
 */
%module lashup

%{
#include <stdlib.h>
#include <string.h>
#include <lashup/lashup.h>
%}

%include <stdint.i>

%ignore lashup_node_set_event_cb;
%ignore lashup_event_cb;
%ignore lashup_node_set_log_cb;
%ignore lashup_log_cb;

/* ---- Lua: destroy clears the handle ------------------------------------------
 * Each lashup_X_destroy is wrapped through a function whose parameter is
 * named `destroyed`; after the call its typemap sets the pointer inside the
 * Lua userdata to NULL. A second destroy then passes NULL (which every
 * destroy function accepts) and a later call with the handle gets NULL,
 * which the library answers with an error code or an empty result instead
 * of touching freed memory. */
#if defined(SWIGLUA)
%typemap(argout) SWIGTYPE *destroyed
%{
  if (lua_isuserdata(L, $input)) {
    ((swig_lua_userdata *)lua_touserdata(L, $input))->ptr = NULL;
  }
%}
%define LASHUP_LUA_DESTROY(CTYPE, FN)
%ignore FN;
%rename(FN) lashup_lua_##FN;
%inline %{
static void lashup_lua_##FN(CTYPE *destroyed) { FN(destroyed); }
%}
%enddef
LASHUP_LUA_DESTROY(lashup_config_t, lashup_config_destroy)
LASHUP_LUA_DESTROY(lashup_node_t, lashup_node_destroy)
LASHUP_LUA_DESTROY(lashup_event_t, lashup_event_destroy)
LASHUP_LUA_DESTROY(lashup_members_t, lashup_members_destroy)
LASHUP_LUA_DESTROY(lashup_route_tree_t, lashup_route_tree_destroy)
LASHUP_LUA_DESTROY(lashup_kv_ops_t, lashup_kv_ops_destroy)
LASHUP_LUA_DESTROY(lashup_kv_value_t, lashup_kv_value_destroy)
LASHUP_LUA_DESTROY(lashup_kv_context_t, lashup_kv_context_destroy)
LASHUP_LUA_DESTROY(lashup_kv_keys_t, lashup_kv_keys_destroy)
#endif

/* ---- Byte buffers in: (const void *, size_t) ----------------------------- */

#if defined(SWIGLUA)
%typemap(in) (const void *data, size_t len), (const void *key, size_t key_len),
             (const void *element, size_t len), (const void *value, size_t len)
{
  size_t bytes_len = 0;
  $1 = ($1_ltype)luaL_checklstring(L, $input, &bytes_len);
  $2 = ($2_ltype)bytes_len;
}
#elif defined(SWIGGO)
%typemap(gotype) (const void *data, size_t len), (const void *key, size_t key_len),
                 (const void *element, size_t len), (const void *value, size_t len) "[]byte"
%typemap(in) (const void *data, size_t len), (const void *key, size_t key_len),
             (const void *element, size_t len), (const void *value, size_t len)
%{
  $1 = ($1_ltype)$input.array;
  $2 = ($2_ltype)$input.len;
%}
#endif

/* ---- errbuf pairs ----------------------------------------------------------- */

#if defined(SWIGLUA)
%typemap(in, numinputs=0) (char *errbuf, size_t errbuf_len) (char errbuf_temp[512])
%{
  errbuf_temp[0] = '\0';
  $1 = errbuf_temp;
  $2 = sizeof errbuf_temp;
%}
%typemap(argout) (char *errbuf, size_t errbuf_len)
%{
  lua_pushstring(L, errbuf_temp$argnum);
  SWIG_arg++;
%}
#elif defined(SWIGGO)
/* The caller passes a buffer (e.g. make([]byte, 512)); the message is
 * NUL-terminated inside it. An empty slice passes NULL, 0. */
%typemap(gotype) (char *errbuf, size_t errbuf_len) "[]byte"
%typemap(in) (char *errbuf, size_t errbuf_len)
%{
  $1 = $input.len > 0 ? (char *)$input.array : NULL;
  $2 = (size_t)$input.len;
%}
#endif

/* ---- Handle out-parameters ---------------------------------------------------- */

%define LASHUP_HANDLE_OUT(CTYPE, GOTYPE)
#if defined(SWIGLUA)
%typemap(in, numinputs=0) CTYPE **out (CTYPE *handle_temp = NULL), CTYPE **value_out (CTYPE *handle_temp = NULL)
%{ $1 = &handle_temp; %}
%typemap(argout) CTYPE **out, CTYPE **value_out
%{
  if (handle_temp$argnum != NULL) {
    SWIG_NewPointerObj(L, handle_temp$argnum, $*1_descriptor, 0);
  } else {
    lua_pushnil(L);
  }
  SWIG_arg++;
%}
#elif defined(SWIGGO)
/* A slice of at least one element receives the handle; an empty (or nil)
 * slice passes NULL where the C function accepts it (value_out). */
%typemap(gotype) CTYPE **out, CTYPE **value_out "[]" #GOTYPE
%typemap(in) CTYPE **out (CTYPE *handle_temp = NULL)
%{
  if ($input.len == 0) {
    _swig_gopanic("lashup: the out-parameter slice must hold one element");
  }
  $1 = &handle_temp;
%}
%typemap(in) CTYPE **value_out (CTYPE *handle_temp = NULL)
%{ $1 = $input.len > 0 ? &handle_temp : NULL; %}
%typemap(argout) CTYPE **out, CTYPE **value_out
%{
  if ($input.len > 0) {
    ((CTYPE **)$input.array)[0] = handle_temp$argnum;
  }
%}
#endif
%enddef

LASHUP_HANDLE_OUT(lashup_config_t, SwigcptrStruct_SS_lashup_config)
LASHUP_HANDLE_OUT(lashup_node_t, SwigcptrStruct_SS_lashup_node)
LASHUP_HANDLE_OUT(lashup_event_t, SwigcptrStruct_SS_lashup_event)
LASHUP_HANDLE_OUT(lashup_members_t, SwigcptrStruct_SS_lashup_members)
LASHUP_HANDLE_OUT(lashup_route_tree_t, SwigcptrStruct_SS_lashup_route_tree)
LASHUP_HANDLE_OUT(lashup_kv_ops_t, SwigcptrStruct_SS_lashup_kv_ops)
LASHUP_HANDLE_OUT(lashup_kv_value_t, SwigcptrStruct_SS_lashup_kv_value)
LASHUP_HANDLE_OUT(lashup_kv_context_t, SwigcptrStruct_SS_lashup_kv_context)
LASHUP_HANDLE_OUT(lashup_kv_keys_t, SwigcptrStruct_SS_lashup_kv_keys)

/* ---- Scalar out-parameters -------------------------------------------------------- */

%define LASHUP_SCALAR_OUT(CTYPE, NAME, GOTYPE)
#if defined(SWIGLUA)
%typemap(in, numinputs=0) CTYPE *NAME (CTYPE scalar_temp = 0)
%{ $1 = &scalar_temp; %}
%typemap(argout) CTYPE *NAME
%{
  lua_pushinteger(L, (lua_Integer)scalar_temp$argnum);
  SWIG_arg++;
%}
#elif defined(SWIGGO)
%typemap(gotype) CTYPE *NAME "[]" #GOTYPE
%typemap(in) CTYPE *NAME (CTYPE scalar_temp = 0)
%{
  if ($input.len == 0) {
    _swig_gopanic("lashup: the out-parameter slice must hold one element");
  }
  $1 = &scalar_temp;
%}
%typemap(argout) CTYPE *NAME
%{ ((CTYPE *)$input.array)[0] = scalar_temp$argnum; %}
#endif
%enddef

/* Go's uint64, int64 and uint32 have the layouts of the C types. */
LASHUP_SCALAR_OUT(uint64_t, incarnation_out, uint64)
LASHUP_SCALAR_OUT(uint64_t, request_id_out, uint64)
LASHUP_SCALAR_OUT(uint64_t, sequence_out, uint64)
LASHUP_SCALAR_OUT(uint64_t, subscription_out, uint64)
LASHUP_SCALAR_OUT(uint64_t, value_out, uint64)
LASHUP_SCALAR_OUT(int64_t, value_out, int64)
LASHUP_SCALAR_OUT(uint32_t, hops_out, uint32)

/* int *reachable_out: Go's int is 64 bits with -intgosize 64. */
#if defined(SWIGLUA)
%typemap(in, numinputs=0) int *reachable_out (int scalar_temp = 0) %{ $1 = &scalar_temp; %}
%typemap(argout) int *reachable_out %{ lua_pushboolean(L, scalar_temp$argnum != 0); SWIG_arg++; %}
#elif defined(SWIGGO)
%typemap(gotype) int *reachable_out "[]bool"
%typemap(in) int *reachable_out (int scalar_temp = 0)
%{
  if ($input.len == 0) {
    _swig_gopanic("lashup: the out-parameter slice must hold one element");
  }
  $1 = &scalar_temp;
%}
%typemap(argout) int *reachable_out %{ ((_Bool *)$input.array)[0] = scalar_temp$argnum != 0; %}
#endif

/* ---- Strings returned through char ** (freed with lashup_free) ---------------------- */

#if defined(SWIGLUA)
%typemap(in, numinputs=0) char **value_out (char *string_temp = NULL), char **address_out (char *string_temp = NULL),
                          char **json_out (char *string_temp = NULL)
%{ $1 = &string_temp; %}
%typemap(argout) char **value_out, char **address_out, char **json_out
%{
  if (string_temp$argnum != NULL) {
    lua_pushstring(L, string_temp$argnum);
  } else {
    lua_pushnil(L);
  }
  SWIG_arg++;
%}
%typemap(freearg) char **value_out, char **address_out, char **json_out
%{ lashup_free(string_temp$argnum); %}
#elif defined(SWIGGO)
/* Go passes a *string; C stores a malloc'd copy in it and the Go side copies
 * that into Go memory and frees it (SWIG's own std::string * pattern). The
 * copy is always made (empty on failure), so the Go side never frees what C
 * did not allocate. */
%typemap(gotype) char **value_out, char **address_out, char **json_out "*string"
%typemap(in) char **value_out (char *string_temp = NULL), char **address_out (char *string_temp = NULL),
             char **json_out (char *string_temp = NULL)
%{ $1 = &string_temp; %}
%typemap(argout, fragment="AllocateString") char **value_out, char **address_out, char **json_out
%{
  *$input = Swig_AllocateString(string_temp$argnum != NULL ? string_temp$argnum : "",
                                string_temp$argnum != NULL ? strlen(string_temp$argnum) : 0);
  lashup_free(string_temp$argnum);
%}
%typemap(goargout, fragment="CopyString") char **value_out, char **address_out, char **json_out
%{ *$input = swigCopyString(*$input) %}
#endif

/* ---- Byte accessors: (const void *, size_t *len) returns ------------------------------ */

#if defined(SWIGLUA)
/* The return value is pushed by the argout of the length, which knows both. */
%typemap(out) const void * ""
%typemap(out) const char *lashup_kv_value_field_name ""
%typemap(in, numinputs=0) size_t *len_out (size_t len_temp = 0), size_t *len (size_t len_temp = 0)
%{ $1 = &len_temp; %}
%typemap(argout) size_t *len_out, size_t *len
%{
  if (result != NULL) {
    lua_pushlstring(L, (const char *)result, len_temp$argnum);
  } else {
    lua_pushnil(L);
  }
  SWIG_arg++;
%}
%typemap(in, numinputs=0) uint64_t *timestamp (uint64_t timestamp_temp = 0) %{ $1 = &timestamp_temp; %}
%typemap(argout) uint64_t *timestamp %{ lua_pushinteger(L, (lua_Integer)timestamp_temp$argnum); SWIG_arg++; %}
#elif defined(SWIGGO)
%ignore lashup_event_payload;
%ignore lashup_event_key;
%ignore lashup_members_metadata;
%ignore lashup_kv_value_field_name;
%ignore lashup_kv_value_register;
%ignore lashup_kv_value_set_element;
%ignore lashup_kv_keys_at;
#endif

/* ---- 64-bit integers in Lua ------------------------------------------------------------- */

#if defined(SWIGLUA)
/* Lua 5.4 has 64-bit integers; SWIG's default goes through lua_Number
 * (double), which loses ids and incarnations above 2^53 and makes return
 * codes floats (-1.0). */
%typemap(in, checkfn="lua_isinteger") uint64_t, int64_t
%{ $1 = ($1_ltype)lua_tointeger(L, $input); %}
%typemap(out) uint64_t, int64_t
%{ lua_pushinteger(L, (lua_Integer)$1); SWIG_arg++; %}
%typemap(out) int, long, uint32_t, size_t
%{ lua_pushinteger(L, (lua_Integer)$1); SWIG_arg++; %}
#endif

#if defined(SWIGGO)
/* Go code owns the cgo directives of the generated package. */
%insert(cgo_comment_typedefs) %{
#cgo pkg-config: lashup
%}
#endif

/* lashup_version.h is not wrapped: its macros would become constants frozen
 * into the generated Go code; lashup_version() and lashup_version_string()
 * report the library actually loaded. */
#define LASHUP_API
%include <lashup/lashup.h>
