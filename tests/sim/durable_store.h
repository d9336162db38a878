// The simulated disk of one node. A PersistAction is a write into the page
// cache: it becomes durable only when the store is synced. By default the
// host syncs at the end of every handler (the runtime's Berkeley DB commit
// does the same), so a crash between handlers loses nothing; a fault can
// switch a node to `manual` sync, and then a crash loses every write since
// the last sync_disk — the case a protocol must survive if it acknowledges
// before its data is on disk (the "no acknowledged write lost" checker).
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/common/actions.h"

namespace lashup::sim {

enum class DiskSync {
  each_handler,  // writes are durable once the handler that made them returns
  manual,        // writes stay volatile until Simulation::sync_disk (or the mode changes back)
};

class DurableStore {
 public:
  using Map = std::map<std::string, Bytes, std::less<>>;

  // An empty value deletes the key (PersistAction's contract).
  void write(std::string key, Bytes value) { pending_.emplace_back(std::move(key), std::move(value)); }

  // Makes every pending write durable, in the order it was made.
  void sync() {
    for (auto& [key, value] : pending_) apply(durable_, std::move(key), std::move(value));
    pending_.clear();
  }

  // A crash: the page cache is gone.
  void lose_unsynced() { pending_.clear(); }

  // What survives a crash.
  const Map& durable() const { return durable_; }
  // What the running process would read: durable state plus its pending writes.
  Map current() const {
    Map view = durable_;
    for (const auto& [key, value] : pending_) apply(view, key, value);
    return view;
  }
  size_t unsynced_writes() const { return pending_.size(); }

  DiskSync sync_mode() const { return mode_; }
  void set_sync_mode(DiskSync mode) { mode_ = mode; }

 private:
  static void apply(Map& map, std::string key, Bytes value) {
    if (value.empty()) {
      map.erase(key);
    } else {
      map.insert_or_assign(std::move(key), std::move(value));
    }
  }

  Map durable_;
  std::vector<std::pair<std::string, Bytes>> pending_;
  DiskSync mode_ = DiskSync::each_handler;
};

}  // namespace lashup::sim
