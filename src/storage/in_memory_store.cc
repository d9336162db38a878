// The in-memory Store: the same contract as the Berkeley DB store, nothing on
// disk, every commit "durable" at once. For unit tests and the simulator,
// where the disk is simulated like the clock and the network.
#include <utility>

#include "storage/store.h"

namespace lashup::storage {
namespace {

class InMemoryStore final : public Store {
 public:
  Result<Map> load_all() override {
    if (closed_) return closed_status();
    return records_;
  }

  Status apply(const std::vector<std::pair<std::string, std::vector<uint8_t>>>& writes) override {
    if (closed_) return closed_status();
    // Checking every key before touching the map is what makes the batch
    // all-or-nothing here; Berkeley DB gets the same from its transaction.
    for (const auto& write : writes) {
      if (write.first.empty()) return Status::invalid("storage: empty key in a write batch");
    }
    for (const auto& [key, value] : writes) {
      if (value.empty()) {
        records_.erase(key);
      } else {
        records_[key] = value;
      }
    }
    return Status::ok();
  }

  Status wait_durable() override { return closed_ ? closed_status() : Status::ok(); }
  Status checkpoint() override { return closed_ ? closed_status() : Status::ok(); }
  void close() override { closed_ = true; }

 private:
  static Status closed_status() { return Status::invalid("storage: store is closed"); }

  Map records_;
  bool closed_ = false;
};

}  // namespace

std::unique_ptr<Store> open_in_memory() { return std::make_unique<InMemoryStore>(); }

}  // namespace lashup::storage
