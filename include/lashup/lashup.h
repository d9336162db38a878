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
 * Thread safety: every function may be called from any thread, with two
 * exceptions: a lashup_config_t is not synchronized (do not modify one
 * configuration from two threads at once), and lashup_node_destroy must not
 * race other calls on the same node (see "Nodes" below).
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
  LASHUP_ERR_PERMISSION = -14, /* a write to another node's namespace (nodes/<name>/...) */
  LASHUP_ERR_TYPE = -15,       /* an operation of another type than the field it addresses */
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

/* ---- Nodes -----------------------------------------------------------------
 *
 * A node is one member of a cluster: it owns a loop thread (libevent) that
 * talks to its peers over mutual TLS, runs the failure detector and keeps the
 * membership of the whole cluster. Its state (incarnation, passive view,
 * known members) lives in a Berkeley DB environment in data_dir.
 *
 * Thread safety: every lashup_node_* function may be called from any thread
 * at any time, except lashup_node_destroy, which must not race other calls on
 * the same node and must not be called from the event callback. Reads
 * (members, reachable, distance, route tree, stats) never wait for the loop
 * thread: they read an immutable snapshot that the loop thread publishes
 * after each change; KV reads take a reader lock on the store. Writes
 * (metadata, leave, health checks, multicast, KV writes and subscriptions)
 * are queued to the loop thread. */

typedef struct lashup_node lashup_node_t;

/* Creates a node from a configuration (copied; cfg may be destroyed after
 * this returns) and checks what a running node needs beyond single keys:
 * node_name, data_dir, the TLS files when tls is on, an advertise_address
 * when listen_address is a wildcard. Contact nodes are name@host:port or
 * host:port (the handshake then tells the name).
 * No thread, socket or file is opened yet. On failure stores NULL in *out,
 * returns LASHUP_ERR_INVALID (or another code) and writes the reason into
 * errbuf as lashup_config_set does. */
LASHUP_API int lashup_node_new(lashup_node_t **out, const lashup_config_t *cfg, char *errbuf, size_t errbuf_len);

/* Opens the store (recovering it after a crash), raises and persists the
 * incarnation, binds listen_address, loads the TLS material and starts the
 * loop thread, which joins the cluster through the contact nodes. Returns
 * LASHUP_ERR_TLS for unusable certificates, LASHUP_ERR_STORAGE for a store
 * that cannot be opened (e.g. held by another process), LASHUP_ERR_IO for an
 * address that cannot be bound, LASHUP_ERR_STATE when called twice. A node
 * runs at most once: after stop, create a new one. */
LASHUP_API int lashup_node_start(lashup_node_t *node);

/* Stops the loop thread and closes every connection and the store. What is
 * queued to peers is flushed first (for at most 500 ms). Peers see the
 * connections close and mark this node unreachable (call lashup_node_leave
 * first to be marked left instead). A poll waiting in
 * another thread returns LASHUP_ERR_CLOSED once the queued events are
 * drained. Idempotent; LASHUP_OK also when never started. */
LASHUP_API int lashup_node_stop(lashup_node_t *node);

/* Stops the node if it runs and frees it. Blocks until the loop thread has
 * exited; no event callback runs after it returns. Snapshots (members,
 * route trees) and events taken from the node stay valid. NULL is accepted. */
LASHUP_API void lashup_node_destroy(lashup_node_t *node);

/* This node's name (static for the node's life). NULL for a NULL node. */
LASHUP_API const char *lashup_node_name(const lashup_node_t *node);

/* The address peers reach this node at (advertise_address, or the bound
 * listen address, e.g. after port 0), as a new string to be freed with
 * lashup_free(). LASHUP_ERR_STATE before start. */
LASHUP_API int lashup_node_address(const lashup_node_t *node, char **address_out);

/* This run's incarnation (raised at every start). LASHUP_ERR_STATE before
 * start. */
LASHUP_API int lashup_node_incarnation(const lashup_node_t *node, uint64_t *incarnation_out);

/* ---- Events ----------------------------------------------------------------
 *
 * The loop thread queues events (at most events.queue_max; when full the
 * oldest is dropped and counted in the "events.dropped" stat). The queue is
 * pulled with lashup_node_poll. lashup_node_event_fd is readable while the
 * queue is not empty (level-triggered: drain until LASHUP_ERR_AGAIN).
 *
 * Thread safety: any number of threads may poll one node; each event goes to
 * one of them. An event is immutable: its accessors may be called from any
 * thread, and lashup_event_destroy once, when no thread reads it any more. */

typedef struct lashup_event lashup_event_t;
/* A value of the key-value store (see "Replicated key-value store"). */
typedef struct lashup_kv_value lashup_kv_value_t;

typedef enum lashup_event_type {
  LASHUP_EVENT_MEMBER_UPDATED = 1, /* a member appeared, or its address, incarnation or metadata changed */
  LASHUP_EVENT_MEMBER_REMOVED = 2, /* a member was forgotten (expired while unreachable, or left) */
  LASHUP_EVENT_REACHABILITY = 3,   /* state: LASHUP_REACHABLE, LASHUP_UNREACHABLE or LASHUP_LEFT */
  LASHUP_EVENT_LINK_REPORT = 4,    /* node cannot reach peer directly although peer answers others
                                      (state 1), or no longer (state 0) */
  LASHUP_EVENT_HEALTH_CHECK = 5,   /* answer to lashup_node_health_check: state 1 alive, 0 not */
  LASHUP_EVENT_NEIGHBOR = 6,       /* an overlay neighbour of this node came (state 1) or went (0) */
  LASHUP_EVENT_MC_MESSAGE = 7,     /* a multicast message on a subscribed topic (see "Multicast") */
  LASHUP_EVENT_KV_CHANGED = 8,     /* a key a KV subscription covers: in its initial dump (state 1) or
                                      changed (state 0); see lashup_kv_subscribe */
  LASHUP_EVENT_KV_DUMP_DONE = 9,   /* the initial dump of a KV subscription is complete */
  LASHUP_EVENT_KV_UPDATE_DONE = 10 /* a lashup_kv_update_async write completed: lashup_event_status,
                                      lashup_event_request_id, lashup_event_key */
} lashup_event_type_t;

typedef enum lashup_member_state {
  LASHUP_REACHABLE = 0,   /* reachable from this node through the overlay */
  LASHUP_UNREACHABLE = 1, /* known, but no path from this node leads to it */
  LASHUP_LEFT = 2         /* announced a graceful leave */
} lashup_member_state_t;

/* A descriptor readable while the node's event queue is not empty, for
 * poll/epoll/asyncio/nginx. Owned by the node (do not close it); valid from
 * lashup_node_new until lashup_node_destroy. -1 for a NULL node. */
LASHUP_API int lashup_node_event_fd(const lashup_node_t *node);

/* Takes the oldest queued event into *out, waiting up to timeout_ms (0: do
 * not wait; negative: wait until an event or stop). Returns LASHUP_ERR_AGAIN
 * when nothing arrived in time, LASHUP_ERR_CLOSED when the node is stopped
 * and the queue is drained. Free the event with lashup_event_destroy. */
LASHUP_API int lashup_node_poll(lashup_node_t *node, lashup_event_t **out, int timeout_ms);

/* Called on the loop thread after events were queued (a signal to drain the
 * queue, not the event itself). It must return quickly and must not call
 * lashup_node_destroy or lashup_node_stop; other calls on the node are
 * allowed (set_metadata and leave then run at once on the loop thread). Set it before start (otherwise
 * LASHUP_ERR_STATE); NULL removes it. */
typedef void (*lashup_event_cb)(lashup_node_t *node, void *userdata);
LASHUP_API int lashup_node_set_event_cb(lashup_node_t *node, lashup_event_cb cb, void *userdata);

/* Event accessors. Strings are owned by the event. For a NULL event: type 0,
 * strings "", numbers 0. */
LASHUP_API int lashup_event_type(const lashup_event_t *ev);
/* The member the event is about (for LINK_REPORT: the reporter; for
 * MC_MESSAGE: the origin, the node that published the message). */
LASHUP_API const char *lashup_event_node(const lashup_event_t *ev);
/* LINK_REPORT: the node the reporter cannot reach. "" otherwise. */
LASHUP_API const char *lashup_event_peer(const lashup_event_t *ev);
/* REACHABILITY: a lashup_member_state_t. LINK_REPORT, HEALTH_CHECK and
 * NEIGHBOR: 1 or 0 as described above. KV_CHANGED: 1 when the event is part
 * of the subscription's initial dump, 0 for a change. 0 otherwise. */
LASHUP_API int lashup_event_state(const lashup_event_t *ev);
/* MEMBER_UPDATED: the member's incarnation. MC_MESSAGE: the origin's
 * incarnation when it published the message. */
LASHUP_API uint64_t lashup_event_incarnation(const lashup_event_t *ev);
/* HEALTH_CHECK: the id lashup_node_health_check returned; KV_UPDATE_DONE: the
 * id lashup_kv_update_async returned. */
LASHUP_API uint64_t lashup_event_request_id(const lashup_event_t *ev);
/* HEALTH_CHECK: the round trip in microseconds when alive, as the node's
 * loop clock measures it. That clock may run up to 2 ms ahead within one
 * wake-up (to run timers that are about due), so a round trip of less than
 * 2 ms can read 0. */
LASHUP_API uint64_t lashup_event_rtt_us(const lashup_event_t *ev);
/* Microseconds on CLOCK_MONOTONIC when the loop thread queued the event. */
LASHUP_API uint64_t lashup_event_time_us(const lashup_event_t *ev);
/* MC_MESSAGE: the topic (NUL-terminated). "" otherwise. */
LASHUP_API const char *lashup_event_topic(const lashup_event_t *ev);
/* MC_MESSAGE: the payload bytes (owned by the event; not NUL-terminated;
 * non-NULL also when empty) and, if len_out is not NULL, their length.
 * NULL and 0 for other events. */
LASHUP_API const void *lashup_event_payload(const lashup_event_t *ev, size_t *len_out);
/* MC_MESSAGE: the message's sequence, 1, 2, ... per origin incarnation. */
LASHUP_API uint64_t lashup_event_sequence(const lashup_event_t *ev);
/* KV_CHANGED and KV_DUMP_DONE: the id lashup_kv_subscribe returned. */
LASHUP_API uint64_t lashup_event_subscription(const lashup_event_t *ev);
/* KV_CHANGED and KV_UPDATE_DONE: the key (owned by the event; followed by a NUL byte) and, if
 * len_out is not NULL, its length. NULL and 0 for other events. */
LASHUP_API const void *lashup_event_key(const lashup_event_t *ev, size_t *len_out);
/* KV_CHANGED: the key's value when the event was made (owned by the event:
 * do not destroy it; it has a context, see lashup_kv_value_context). NULL
 * when the key was deleted, and for other events. */
LASHUP_API const lashup_kv_value_t *lashup_event_kv_value(const lashup_event_t *ev);
/* The outcome of the request an event answers (KV_UPDATE_DONE): LASHUP_OK or
 * a negative LASHUP_ERR_* code; LASHUP_OK for other events and NULL. */
LASHUP_API int lashup_event_status(const lashup_event_t *ev);
/* The failure's detail (what lashup_last_error() says for the synchronous
 * call), owned by the event; "" on success, for other events and NULL. */
LASHUP_API const char *lashup_event_error(const lashup_event_t *ev);
LASHUP_API void lashup_event_destroy(lashup_event_t *ev);

/* ---- Membership snapshots ----------------------------------------------------
 *
 * A lashup_members_t is an immutable copy of this node's view of the
 * cluster at one moment, sorted by name, this node included. It may be read
 * from any number of threads at once and outlives the node. Destroy it once,
 * when no thread reads it any more. Strings and bytes it returns live as long
 * as the snapshot. Route trees follow the same rules. */

typedef struct lashup_members lashup_members_t;

/* Takes the latest published snapshot. LASHUP_ERR_STATE before start. */
LASHUP_API int lashup_node_members(lashup_node_t *node, lashup_members_t **out);
LASHUP_API void lashup_members_destroy(lashup_members_t *members);

/* Number of members (0 for NULL). Index arguments below are in
 * [0, count); out of range gives "" / 0 / NULL. */
LASHUP_API size_t lashup_members_count(const lashup_members_t *members);
/* The index of name, or -1 if it is not a member. */
LASHUP_API long lashup_members_find(const lashup_members_t *members, const char *name);
LASHUP_API const char *lashup_members_name(const lashup_members_t *members, size_t index);
LASHUP_API const char *lashup_members_address(const lashup_members_t *members, size_t index);
/* A lashup_member_state_t. */
LASHUP_API int lashup_members_state(const lashup_members_t *members, size_t index);
LASHUP_API uint64_t lashup_members_incarnation(const lashup_members_t *members, size_t index);
/* Milliseconds between the last record heard from the member (directly or
 * relayed) and the snapshot; 0 for this node. */
LASHUP_API uint64_t lashup_members_last_heard_ms(const lashup_members_t *members, size_t index);
/* Hops from this node; UINT32_MAX when not reachable. */
LASHUP_API uint32_t lashup_members_distance(const lashup_members_t *members, size_t index);
/* The member's metadata bytes (owned by the snapshot) and their length. */
LASHUP_API const void *lashup_members_metadata(const lashup_members_t *members, size_t index, size_t *len_out);
/* The member's overlay neighbours, as it last announced them. */
LASHUP_API size_t lashup_members_neighbor_count(const lashup_members_t *members, size_t index);
LASHUP_API const char *lashup_members_neighbor(const lashup_members_t *members, size_t index, size_t n);
/* The member's link reports: nodes it cannot reach directly although they
 * answer others. */
LASHUP_API size_t lashup_members_link_report_count(const lashup_members_t *members, size_t index);
LASHUP_API const char *lashup_members_link_report(const lashup_members_t *members, size_t index, size_t n);

/* ---- Reachability and routes ---------------------------------------------- */

/* *reachable_out = 1 when name is reachable from this node through the
 * overlay (this node is reachable from itself), else 0 (also for a name
 * that is not a member). */
LASHUP_API int lashup_node_reachable(lashup_node_t *node, const char *name, int *reachable_out);

/* Hops from this node to name. LASHUP_ERR_NOT_FOUND when name is unknown or
 * unreachable. */
LASHUP_API int lashup_node_distance(lashup_node_t *node, const char *name, uint32_t *hops_out);

/* The breadth-first route tree rooted at root (any member, e.g. the sender
 * of a multicast) over the overlay graph of the latest snapshot: every
 * member reachable from root with its parent and distance, sorted by
 * (distance, name). LASHUP_ERR_NOT_FOUND for an unknown root. */
typedef struct lashup_route_tree lashup_route_tree_t;
LASHUP_API int lashup_node_route_tree(lashup_node_t *node, const char *root, lashup_route_tree_t **out);
LASHUP_API void lashup_route_tree_destroy(lashup_route_tree_t *tree);
LASHUP_API size_t lashup_route_tree_count(const lashup_route_tree_t *tree);
LASHUP_API const char *lashup_route_tree_node(const lashup_route_tree_t *tree, size_t index);
/* "" for the root. */
LASHUP_API const char *lashup_route_tree_parent(const lashup_route_tree_t *tree, size_t index);
LASHUP_API uint32_t lashup_route_tree_distance(const lashup_route_tree_t *tree, size_t index);

/* ---- Commands ----------------------------------------------------------------
 * Queued to the loop thread. LASHUP_ERR_CLOSED when the node does not run,
 * LASHUP_ERR_AGAIN when the command queue is full. */

/* Probes name directly (connecting to it if needed); the answer comes as a
 * LASHUP_EVENT_HEALTH_CHECK event carrying *request_id_out. An unknown name
 * answers "not alive" at once. */
LASHUP_API int lashup_node_health_check(lashup_node_t *node, const char *name, uint64_t *request_id_out);

/* Replaces this node's metadata (flooded to every member). Waits for the
 * loop thread; LASHUP_ERR_TOO_LARGE beyond membership.metadata_bytes_max. */
LASHUP_API int lashup_node_set_metadata(lashup_node_t *node, const void *data, size_t len);

/* Announces a graceful leave: the others mark this node LASHUP_LEFT instead
 * of unreachable and forget it. Stop the node afterwards (lashup_node_stop
 * flushes the announcement before closing the connections). */
LASHUP_API int lashup_node_leave(lashup_node_t *node);

/* ---- Multicast ------------------------------------------------------------------
 *
 * A message published on a topic reaches every node of the cluster down a
 * spanning tree rooted at its origin, and is delivered as a
 * LASHUP_EVENT_MC_MESSAGE event on each node that subscribes to the topic —
 * the origin included, when it subscribes. A message missed by the tree (a
 * link that dropped, trees that disagreed for a moment, a full send queue) is
 * pulled from a neighbour that has it, for as long as neighbours keep it
 * (multicast.history_ms).
 *
 * Guarantees:
 *  - at most once: a node delivers each message (origin, incarnation,
 *    sequence) at most once;
 *  - order: one origin's messages are delivered in the order it published
 *    them while they travel down an unchanged tree; a repaired message is
 *    delivered when it arrives, possibly after later ones (compare the
 *    sequences when order matters);
 *  - no replay: a subscription takes effect for messages that reach the node
 *    after it; a node delivers nothing it had received before it subscribed,
 *    and a node that joins late is not sent the messages published before
 *    (what the first neighbour's summary lists counts as "before": a
 *    message published at the very moment a node joins may not reach it);
 *  - no delivery is guaranteed to a node that is unreachable for longer than
 *    the history; such messages are counted in the "multicast.lost" stat of
 *    the node that missed them.
 * Deliveries are events: a consumer slower than the message rate loses the
 * oldest events once events.queue_max are queued ("events.dropped").
 *
 * Topics are NUL-terminated, 1 to 255 bytes; topics starting with "lashup/"
 * are reserved for the library (LASHUP_ERR_INVALID). Payloads are at most
 * multicast.payload_bytes_max bytes (LASHUP_ERR_TOO_LARGE); data may be NULL
 * when len is 0.
 *
 * Thread safety: any thread, also the event callback. */

/* Publishes a message. The topic and the size are checked on the calling
 * thread; the publish is then queued to the loop thread without waiting for
 * it. LASHUP_OK means the message is queued and will be published — given
 * the next sequence of this node, delivered here if this node subscribes to
 * the topic, sent down the tree — unless the node stops first. Messages
 * queued from one thread are published in the order of the calls. Returns
 * LASHUP_ERR_AGAIN when the command queue (4096 commands) is full: the loop
 * is behind, retry later; LASHUP_ERR_CLOSED when the node is not running
 * (before start, after stop). */
LASHUP_API int lashup_mc_publish(lashup_node_t *node, const char *topic, const void *data, size_t len);

/* Like lashup_mc_publish, but waits for the loop thread to publish the
 * message and stores its sequence (as lashup_event_sequence reports it on
 * every node) in *sequence_out (may be NULL). One round trip to the loop
 * thread per message: for a stream of messages use lashup_mc_publish. */
LASHUP_API int lashup_mc_publish_seq(lashup_node_t *node, const char *topic, const void *data, size_t len,
                                     uint64_t *sequence_out);

/* Subscribes this node to topic (idempotent). Before lashup_node_start the
 * topic is kept and subscribed at start, before any message can arrive;
 * after start the call waits for the loop thread. LASHUP_ERR_CLOSED after
 * stop. */
LASHUP_API int lashup_mc_subscribe(lashup_node_t *node, const char *topic);

/* Ends a subscription: messages on topic that arrive afterwards are not
 * delivered (events queued already stay queued). LASHUP_ERR_NOT_FOUND when
 * this node does not subscribe to topic. */
LASHUP_API int lashup_mc_unsubscribe(lashup_node_t *node, const char *topic);

/* ---- Replicated key-value store ---------------------------------------------
 *
 * Every node holds a replica of one key-value store (docs/KV.md). A key is a
 * byte string of 1 to 4096 bytes, by convention '/'-separated; its value is a
 * map of fields. A field is named by (name, type): the counter "x" and the
 * set "x" are two fields. Field types:
 *  - counter: a 64-bit sum of increments and decrements (wraps around);
 *  - register: bytes and a timestamp; the highest timestamp wins (on equal
 *    timestamps the greater bytes), whichever node wrote last;
 *  - flag: enabled or disabled; an enable concurrent with a disable wins;
 *  - set: a set of byte strings (observed-remove: an add concurrent with a
 *    remove wins);
 *  - map: nested fields, at most 32 levels of maps.
 * A field exists while it holds something: a set whose last element is
 * removed, a disabled flag and a map whose last field is removed are not
 * listed in a value (and removing them is removing an absent field).
 * A write is a batch of operations on one key, applied atomically on this
 * node and then replicated to every node (multicast, then anti-entropy for
 * what multicast missed). Replicas converge: concurrent writes on different
 * nodes all take effect. Keys under "nodes/<name>/" belong to node <name>;
 * only it may write them (LASHUP_ERR_PERMISSION).
 *
 * Reads are local: they see this node's replica, which includes every write
 * made on this node and, after a short while, every write made elsewhere.
 * Reads never wait for the loop thread: they read the store under a reader
 * lock, which the loop thread holds exclusively only while it applies an
 * input to the node.
 *
 * Errors of writes name the first failing operation in lashup_last_error().
 * A failed write changes nothing.
 *
 * Thread safety: lashup_kv_update, _delete, _get, _keys, _subscribe and
 * _unsubscribe may be called from any thread, also from the event callback.
 * An operation list (lashup_kv_ops_t) is not synchronized: build it on one
 * thread (it may then be used by several updates, on any thread, as long as
 * no thread modifies it). Values, contexts and key lists are immutable:
 * read them from any number of threads; destroy each once, when no thread
 * reads it any more. They do not refer to the node and outlive it. */

typedef enum lashup_kv_type {
  LASHUP_KV_COUNTER = 1,
  LASHUP_KV_REGISTER = 2,
  LASHUP_KV_FLAG = 3,
  LASHUP_KV_SET = 4,
  LASHUP_KV_MAP = 5
} lashup_kv_type_t;

/* A batch of operations for lashup_kv_update. Each operation addresses a
 * field by a path: field names separated by '/', where every name but the
 * last names a nested map (created by the write if absent) and the last
 * names the field operated on. "a/b/hits" is the counter "hits" of the map
 * "b" of the map "a". A path is NUL-terminated, not empty, and has no empty
 * name (no leading, trailing or double '/'): LASHUP_ERR_INVALID otherwise,
 * with the list unchanged. Operations are applied in the order they were
 * added. Several operations below the same nested map are sent as one
 * operation on that map. */
typedef struct lashup_kv_ops lashup_kv_ops_t;

/* Creates an empty operation list. Stores NULL in *out on failure. */
LASHUP_API int lashup_kv_ops_new(lashup_kv_ops_t **out);
/* NULL is accepted. */
LASHUP_API void lashup_kv_ops_destroy(lashup_kv_ops_t *ops);
/* Number of operations added (nested paths count once per call). 0 for NULL. */
LASHUP_API size_t lashup_kv_ops_count(const lashup_kv_ops_t *ops);

/* Adds amount (negative: subtracts) to a counter. */
LASHUP_API int lashup_kv_ops_counter_add(lashup_kv_ops_t *ops, const char *path, int64_t amount);
/* Adds an element (len bytes; element may be NULL when len is 0) to a set. */
LASHUP_API int lashup_kv_ops_set_add(lashup_kv_ops_t *ops, const char *path, const void *element, size_t len);
/* Removes an element from a set. The update fails with LASHUP_ERR_NOT_FOUND
 * when the element is not in the set. */
LASHUP_API int lashup_kv_ops_set_remove(lashup_kv_ops_t *ops, const char *path, const void *element, size_t len);
/* Writes a register. The write takes effect where its timestamp is above the
 * register's (equal: where its bytes are greater); a stale write is no
 * error and changes nothing. */
LASHUP_API int lashup_kv_ops_register_set(lashup_kv_ops_t *ops, const char *path, const void *value, size_t len,
                                          uint64_t timestamp);
LASHUP_API int lashup_kv_ops_flag_enable(lashup_kv_ops_t *ops, const char *path);
/* Disabling a disabled or absent flag changes nothing. */
LASHUP_API int lashup_kv_ops_flag_disable(lashup_kv_ops_t *ops, const char *path);
/* Removes the field of type `type` (a lashup_kv_type_t; LASHUP_ERR_INVALID
 * for another number) named by the path's last name. The update fails with
 * LASHUP_ERR_NOT_FOUND when there is no such field. */
LASHUP_API int lashup_kv_ops_remove_field(lashup_kv_ops_t *ops, const char *path, int type);

/* The causal context of a key's value: a compare-and-set token. */
typedef struct lashup_kv_context lashup_kv_context_t;
/* A value: the fields of a key's map (or of a nested map), sorted by name,
 * then type (declared with the events, which carry values). */

/* Applies ops to key (key_len bytes) atomically, on the loop thread, and
 * waits: LASHUP_OK means the write is applied on this node, persisted
 * according to the durability mode, and on its way to the other nodes.
 * With expected (a context taken from a value of this key), the write
 * applies only if the key has not changed since: LASHUP_ERR_CONFLICT
 * otherwise. expected may be NULL (no condition). If value_out is not NULL,
 * *value_out receives the key's value after the write (destroy it with
 * lashup_kv_value_destroy), else NULL. Errors:
 *  - LASHUP_ERR_INVALID: NULL node, ops or key, an empty key, a map nested
 *    too deep, an unreadable context;
 *  - LASHUP_ERR_PERMISSION: a key in another node's namespace;
 *  - LASHUP_ERR_TYPE: an operation of another type than its field;
 *  - LASHUP_ERR_NOT_FOUND: removing an absent element or field;
 *  - LASHUP_ERR_TOO_LARGE: a key over 4096 bytes, a value that would
 *    exceed kv.value_bytes_max, or a name, element or register over its
 *    limit;
 *  - LASHUP_ERR_CONFLICT: see expected;
 *  - LASHUP_ERR_STORAGE: the write could not be persisted (it is applied in
 *    memory and replicated nonetheless);
 *  - LASHUP_ERR_CLOSED when the node does not run (before start, after
 *    stop), LASHUP_ERR_AGAIN when the command queue is full. */
LASHUP_API int lashup_kv_update(lashup_node_t *node, const void *key, size_t key_len, const lashup_kv_ops_t *ops,
                                const lashup_kv_context_t *expected, lashup_kv_value_t **value_out);

/* Queues the same write as lashup_kv_update and returns at once, with the
 * request's id (unique per node, never 0) in *request_id_out. When the write
 * is applied and persisted — or has failed — one
 * LASHUP_EVENT_KV_UPDATE_DONE with that id, the key and the outcome
 * (lashup_event_status: the codes of lashup_kv_update; lashup_event_error:
 * the detail) is queued. Writes queued by one thread are applied in the
 * order they were queued. The arguments are checked before queueing (a NULL
 * or oversized key, NULL ops, an unreadable context: the error is returned
 * and no event follows). LASHUP_ERR_AGAIN when the command queue (4096) is
 * full: the loop is behind; wait for completions and retry.
 * LASHUP_ERR_CLOSED when the node does not run; a write still queued when
 * the node stops is not applied and gets no event.
 *
 * Writes queued together are committed together: a burst of asynchronous
 * writes costs one store transaction (one fsync in `sync` mode) per loop
 * iteration rather than one per write. */
LASHUP_API int lashup_kv_update_async(lashup_node_t *node, const void *key, size_t key_len,
                                      const lashup_kv_ops_t *ops, const lashup_kv_context_t *expected,
                                      uint64_t *request_id_out);

/* Removes every field of key that this node has seen; waits like
 * lashup_kv_update. A field added concurrently on another node survives.
 * LASHUP_ERR_NOT_FOUND when the key holds no field. Other errors as
 * lashup_kv_update. */
LASHUP_API int lashup_kv_delete(lashup_node_t *node, const void *key, size_t key_len);

/* Reads key from this node's replica into *out (destroy with
 * lashup_kv_value_destroy). LASHUP_ERR_NOT_FOUND when the key is absent
 * (never written, or deleted), LASHUP_ERR_INVALID for a NULL or empty key,
 * LASHUP_ERR_TOO_LARGE for one over 4096 bytes, LASHUP_ERR_STATE before start,
 * LASHUP_ERR_CLOSED after stop. Stores NULL in *out on failure. */
LASHUP_API int lashup_kv_get(lashup_node_t *node, const void *key, size_t key_len, lashup_kv_value_t **out);

/* Destroys a value and every nested map it returned. NULL is accepted. */
LASHUP_API void lashup_kv_value_destroy(lashup_kv_value_t *value);

/* Value accessors. Fields are indexed in [0, field_count). For a NULL value,
 * an index out of range or a field of another type than the accessor's:
 * 0, NULL (and *len / *timestamp set to 0 when not NULL). */
LASHUP_API size_t lashup_kv_value_field_count(const lashup_kv_value_t *value);
/* The field's name (owned by the value; NUL-terminated, though it may hold
 * other NUL bytes: *len, if len is not NULL, is its length). */
LASHUP_API const char *lashup_kv_value_field_name(const lashup_kv_value_t *value, size_t index, size_t *len);
/* A lashup_kv_type_t. */
LASHUP_API int lashup_kv_value_field_type(const lashup_kv_value_t *value, size_t index);
LASHUP_API int64_t lashup_kv_value_counter(const lashup_kv_value_t *value, size_t index);
/* The register's bytes (owned by the value; non-NULL also when empty), their
 * length and the timestamp they were written with. */
LASHUP_API const void *lashup_kv_value_register(const lashup_kv_value_t *value, size_t index, size_t *len,
                                                uint64_t *timestamp);
/* 1 enabled, 0 disabled. */
LASHUP_API int lashup_kv_value_flag(const lashup_kv_value_t *value, size_t index);
/* A set's elements are sorted (bytewise); element in [0, set_size). */
LASHUP_API size_t lashup_kv_value_set_size(const lashup_kv_value_t *value, size_t index);
LASHUP_API const void *lashup_kv_value_set_element(const lashup_kv_value_t *value, size_t index, size_t element,
                                                   size_t *len);
/* A nested map, owned by (and destroyed with) the value it came from. */
LASHUP_API const lashup_kv_value_t *lashup_kv_value_map(const lashup_kv_value_t *value, size_t index);

/* Renders a value as a NUL-terminated JSON object in *json_out (free with
 * lashup_free). Each field name is a member whose value is an object keyed
 * by the field's type, so fields of one name and several types stay apart:
 *   {"color":{"register":"red"},"hits":{"counter":3,"set":["a","b"]},
 *    "on":{"flag":true},"sub":{"map":{...}}}
 * Register timestamps are left out. Names, registers and elements are byte
 * strings: valid UTF-8 is written as is (with the escapes JSON requires);
 * each byte that is not part of valid UTF-8 is written as \u00XX, its
 * value (so such a byte reads back as the character U+00XX: the rendering
 * is for people and tools, not a lossless encoding). */
LASHUP_API int lashup_kv_value_json(const lashup_kv_value_t *value, char **json_out);

/* The compare-and-set token of a value returned by lashup_kv_get or
 * lashup_kv_update (or carried by a KV_CHANGED event) into *out; destroy it
 * with lashup_kv_context_destroy. LASHUP_ERR_INVALID for a nested map, which
 * has no context of its own. */
LASHUP_API int lashup_kv_value_context(const lashup_kv_value_t *value, lashup_kv_context_t **out);
/* NULL is accepted. */
LASHUP_API void lashup_kv_context_destroy(lashup_kv_context_t *context);

/* The live keys of this node's replica that start with pattern (glob 0; ""
 * lists every key) or match it as a glob (glob non-zero: '*' matches any
 * bytes within one '/'-separated segment, '**' any bytes including '/', '?'
 * one byte other than '/'), sorted bytewise, into *out (destroy with
 * lashup_kv_keys_destroy). Errors as lashup_kv_get. */
typedef struct lashup_kv_keys lashup_kv_keys_t;
LASHUP_API int lashup_kv_keys(lashup_node_t *node, const char *pattern, int glob, lashup_kv_keys_t **out);
LASHUP_API void lashup_kv_keys_destroy(lashup_kv_keys_t *keys);
/* 0 for NULL. */
LASHUP_API size_t lashup_kv_keys_count(const lashup_kv_keys_t *keys);
/* The index-th key (owned by the list; followed by a NUL byte) and its
 * length; NULL (and 0) out of range. */
LASHUP_API const void *lashup_kv_keys_at(const lashup_kv_keys_t *keys, size_t index, size_t *len);

/* Subscribes to the keys starting with pattern (glob 0; "" covers every
 * key) or matching it as a glob (glob non-zero; as lashup_kv_keys) and
 * stores the subscription's id in *subscription_out. Waits for the loop
 * thread, which queues at once one LASHUP_EVENT_KV_CHANGED with state 1 per
 * live key covered (the initial dump), then one LASHUP_EVENT_KV_DUMP_DONE.
 * Afterwards, every change of what a covered key reads — a write here or
 * elsewhere, a delete (then lashup_event_kv_value is NULL) — queues one
 * KV_CHANGED with state 0 carrying the key's value at that time. Changes of
 * one key within kv.subscription_coalesce_ms make one event; a replicated
 * write that changes nothing makes none. Events are subject to
 * events.queue_max like all others: a consumer that falls behind loses the
 * oldest (re-read the keys with lashup_kv_get then). LASHUP_ERR_INVALID for a
 * NULL node or pattern, LASHUP_ERR_TOO_LARGE for a pattern over 4096 bytes,
 * LASHUP_ERR_CLOSED when the node does not run. */
LASHUP_API int lashup_kv_subscribe(lashup_node_t *node, const char *pattern, int glob, uint64_t *subscription_out);

/* Ends a subscription: no event for it is queued after this returns (events
 * queued before stay queued). Waits for the loop thread.
 * LASHUP_ERR_NOT_FOUND for an unknown id, LASHUP_ERR_CLOSED when the node
 * does not run. */
LASHUP_API int lashup_kv_unsubscribe(lashup_node_t *node, uint64_t subscription);

/* ---- Stats -------------------------------------------------------------------
 * Counters and gauges of the latest snapshot, by name (e.g.
 * "transport.malformed_frames", "members", "members.reachable",
 * "multicast.delivered"). The names are listed by lashup_node_stat_name.
 * Multicast and KV counters ("kv.keys", "kv.deltas_applied", ...) are
 * refreshed at least once a second. */
LASHUP_API int lashup_node_stat(lashup_node_t *node, const char *name, uint64_t *value_out);
LASHUP_API size_t lashup_node_stat_count(void);
/* The name of the index-th stat; NULL past the end. Static strings. */
LASHUP_API const char *lashup_node_stat_name(size_t index);

/* ---- Logging -------------------------------------------------------------
 * What the node does that an operator should know — start and stop, peers
 * connecting and disconnecting, TLS handshake failures, malformed frames,
 * storage errors, members becoming unreachable or reachable, configuration
 * warnings (tls = off) — as one message per line. A message is short text
 * followed by key=value fields, e.g. "member unreachable name=n2
 * last_heard_ms=812". Levels, most severe first: */
typedef enum lashup_log_level {
  LASHUP_LOG_ERROR = 0,
  LASHUP_LOG_WARN = 1,
  LASHUP_LOG_INFO = 2,
  LASHUP_LOG_DEBUG = 3
} lashup_log_level_t;

/* Called on the node's loop thread (never after lashup_node_destroy
 * returns) for each message at or above the configured log.level; component
 * is "node", "config", "transport", "membership", "storage" or "kv". Both
 * strings are valid during the call only. It must return quickly and must not
 * call lashup_node_stop or lashup_node_destroy. */
typedef void (*lashup_log_cb)(int level, const char *component, const char *message, void *userdata);

/* Sets the log callback; before start (LASHUP_ERR_STATE otherwise). NULL
 * restores the default: errors are written to stderr as "lashup: error:
 * <component>: <message>", and tls = off is warned about at start (unless
 * log.level = error); nothing else is reported. */
LASHUP_API int lashup_node_set_log_cb(lashup_node_t *node, lashup_log_cb cb, void *userdata);

/* "error", "warn", "info" or "debug"; "unknown" for another number. Static. */
LASHUP_API const char *lashup_log_level_name(int level);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* LASHUP_H */
