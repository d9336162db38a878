// The node's durable state: a transactional byte-string key/value store.
// Records (DESIGN.md §2 "Persistence"): the incarnation, dot counters and delta
// sequence, the passive view and known members, one record per KV key.
//
// Threading: apply, load_all, checkpoint and wait_durable may be called from
// one thread at a time (the node's loop thread, or the owner before start).
// The Berkeley DB store runs one internal flusher thread in `group` mode;
// close() joins it. No callback is ever made into the caller.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/common/status.h"

namespace lashup::storage {

// Config key `durability`: sync | group | none. What each one survives is in
// docs/STORAGE.md.
enum class Durability {
  sync,   // fsync of the log before apply() returns: survives OS crash and power loss
  group,  // log written before apply() returns (survives kill -9), fsync within group_commit
  none,   // log kept in memory: recent commits may be undone by any crash
};

struct StoreOptions {
  std::string dir;                            // data_dir; created if missing (0700)
  Durability durability = Durability::group;  // durability
  std::chrono::milliseconds group_commit{5};  // durability.group_commit_ms: fsync delay bound in group mode
  size_t cache_bytes = 16u << 20;             // Berkeley DB page cache, the store's memory bound
};

using Map = std::map<std::string, std::vector<uint8_t>>;

class Store {
 public:
  virtual ~Store() = default;

  // Everything stored, at start (after recovery).
  virtual Result<Map> load_all() = 0;

  // Writes in order as ONE transaction; an empty value deletes the key. An
  // empty key is invalid and makes the whole batch fail with nothing applied.
  // Returns once the transaction is committed; durable according to Durability
  // (sync: fsync before returning; group: the commit is flushed by a background
  // flush within group_commit — call wait_durable() to block until then; none:
  // no fsync). After an I/O failure of the log every later call fails: a
  // failed fsync cannot be retried safely, so the store must be reopened.
  virtual Status apply(const std::vector<std::pair<std::string, std::vector<uint8_t>>>& writes) = 0;

  // Blocks until every transaction committed so far is on disk (group mode's
  // barrier; in group mode it waits for the flusher, at most ~group_commit).
  // Never call it from a thread the flusher waits on (none exists today).
  virtual Status wait_durable() = 0;

  // Checkpoint and remove log files no longer needed. Also done by close().
  virtual Status checkpoint() = 0;

  // Idempotent; the destructor calls it. Flushes, checkpoints, joins the
  // flusher and releases the data dir. Every later call returns Status::invalid.
  virtual void close() = 0;
};

// Opens (creating if missing) the store in options.dir and runs recovery.
// Refused with Status::io if the dir is not a usable directory, or if another
// Store (in this or another process) has it open: the dir holds a LOCK file
// locked with flock(2) for the lifetime of the store.
Result<std::unique_ptr<Store>> open_berkeley_db(const StoreOptions& options);

// Same contract, nothing on disk: for tests and the simulator.
std::unique_ptr<Store> open_in_memory();

// The config vocabulary: "sync" | "group" | "none".
const char* durability_name(Durability durability);
Result<Durability> parse_durability(std::string_view name);

}  // namespace lashup::storage
