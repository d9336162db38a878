/*
 * liblashup: failure detection, global membership, a replicated CRDT
 * key-value store and multicast for every host of a cluster.
 *
 * This is the one stable public header. It is C99 and C++ compatible; every
 * handle is opaque; no struct is passed by value.
 *
 * Conventions
 *  - Functions return int: LASHUP_OK (0) or a negative LASHUP_ERR_* code.
 *    lashup_strerror() names the code; lashup_last_error() gives the detail of
 *    the calling thread's last failure.
 *  - Memory returned by the library is freed with lashup_free().
 *  - Byte strings are passed as (pointer, length).
 *
 * Thread safety: every function may be called from any thread. A
 * lashup_config_t is not synchronized: do not modify one configuration from
 * two threads at once.
 */
#ifndef LASHUP_H
#define LASHUP_H

#include <stddef.h>
#include <stdint.h>

#include <lashup/lashup_version.h>

#if defined(__GNUC__) || defined(__clang__)
#define LASHUP_API __attribute__((visibility("default")))
#else
#define LASHUP_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Version ----------------------------------------------------------- */

/* LASHUP_VERSION_NUMBER of the library actually loaded, which may be newer
 * than the header a program was compiled with. */
LASHUP_API uint32_t lashup_version(void);

/* LASHUP_VERSION_STRING of the library actually loaded. Static; never NULL. */
LASHUP_API const char *lashup_version_string(void);

/* ---- Errors -------------------------------------------------------------- */

typedef enum lashup_err {
  LASHUP_OK = 0,
  LASHUP_ERR_INVALID = -1,    /* an argument or a configuration value is invalid */
  LASHUP_ERR_NOMEM = -2,      /* out of memory */
  LASHUP_ERR_AGAIN = -3,      /* nothing available now; try again */
  LASHUP_ERR_TIMEOUT = -4,    /* the operation did not complete in time */
  LASHUP_ERR_CLOSED = -5,     /* the node is stopped or being destroyed */
  LASHUP_ERR_NOT_FOUND = -6,  /* no such key, member or configuration key */
  LASHUP_ERR_IO = -7,         /* an operating-system call failed */
  LASHUP_ERR_TLS = -8,        /* TLS material is missing or invalid */
  LASHUP_ERR_STORAGE = -9,    /* Berkeley DB failed */
  LASHUP_ERR_VERSION = -10,   /* incompatible version (protocol or data) */
  LASHUP_ERR_CONFLICT = -11,  /* a compare-and-set context is stale */
  LASHUP_ERR_TOO_LARGE = -12, /* a size limit was exceeded */
  LASHUP_ERR_STATE = -13,     /* not allowed in the object's current state */
  LASHUP_ERR_INTERNAL = -99   /* a bug in liblashup; please report it */
} lashup_err_t;

/* A short static description of an error code, e.g. "invalid argument".
 * Never NULL; unknown codes give "unknown error". */
LASHUP_API const char *lashup_strerror(int err);

/* The detail of the calling thread's most recent failed call, e.g.
 * "overlay.active_view_size: \"500\" is out of range [2, 64]". Empty when
 * the last call of this thread succeeded. Valid until this thread's next
 * call into the library. Never NULL. */
LASHUP_API const char *lashup_last_error(void);

/* ---- Memory -------------------------------------------------------------- */

/* Frees memory returned by the library. NULL is accepted. */
LASHUP_API void lashup_free(void *ptr);

/* ---- Configuration --------------------------------------------------------
 * Keys, defaults and allowed values: docs/CONFIG.md. */

typedef struct lashup_config lashup_config_t;

/* Creates a configuration holding every default. Stores NULL in *out and
 * returns an error on failure. */
LASHUP_API int lashup_config_new(lashup_config_t **out);

/* Destroys a configuration. NULL is accepted. */
LASHUP_API void lashup_config_destroy(lashup_config_t *cfg);

/* Sets key to value (both NUL-terminated). On failure the configuration is
 * unchanged and, if errbuf is not NULL and errbuf_len > 0, a NUL-terminated
 * message naming the key is written to errbuf, truncated to errbuf_len - 1
 * bytes. Returns LASHUP_ERR_INVALID for an unknown key, a malformed value or
 * an out-of-range number. */
LASHUP_API int lashup_config_set(lashup_config_t *cfg, const char *key, const char *value, char *errbuf,
                                 size_t errbuf_len);

/* Loads a file of "key = value" lines ('#' starts a comment; blank lines are
 * ignored; "..." quotes a value). Keys set before a bad line stay set; the
 * error message names the file, the line and the key. Returns
 * LASHUP_ERR_IO when the file cannot be read. */
LASHUP_API int lashup_config_load_file(lashup_config_t *cfg, const char *path, char *errbuf, size_t errbuf_len);

/* Copies the current value of key (its default when never set; "" when it
 * has no default) into a new NUL-terminated string stored in *value_out, to
 * be freed with lashup_free(). Returns LASHUP_ERR_NOT_FOUND for an unknown
 * key. */
LASHUP_API int lashup_config_get(const lashup_config_t *cfg, const char *key, char **value_out);

/* The value of an integer key. Returns LASHUP_ERR_NOT_FOUND for an unknown
 * key and LASHUP_ERR_INVALID for a key that is not an integer. */
LASHUP_API int lashup_config_get_int(const lashup_config_t *cfg, const char *key, int64_t *value_out);

/* The name of the index-th configuration key, for index in
 * [0, lashup_config_key_count()); NULL past the end. Static strings. */
LASHUP_API size_t lashup_config_key_count(void);
LASHUP_API const char *lashup_config_key_name(size_t index);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* LASHUP_H */
