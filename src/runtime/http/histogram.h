// Fixed-bucket histograms the runtime keeps for the operations endpoints
// (docs/ADMIN.md): written on the loop thread, copied into each snapshot's
// stats as `<name>.count`, `<name>.sum` and one cumulative `<name>.le_<bound>`
// per bound (kStatNames lists them in that order).
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <vector>

namespace lashup::runtime {

// Berkeley DB commit latency: store_->apply of one batch of writes, µs.
inline constexpr std::array<uint64_t, 9> kCommitBoundsUs = {100, 250, 500, 1000, 2500, 5000, 10000, 25000, 100000};
// Detection: from the last record heard of a member to this node marking it
// unreachable, ms.
inline constexpr std::array<uint64_t, 7> kDetectionBoundsMs = {250, 500, 1000, 2000, 5000, 10000, 30000};
// Health-check round trips (answered checks only), µs.
inline constexpr std::array<uint64_t, 7> kHealthRttBoundsUs = {250, 500, 1000, 2500, 10000, 50000, 250000};

class Histogram {
 public:
  explicit Histogram(std::span<const uint64_t> bounds) : bounds_(bounds), buckets_(bounds.size(), 0) {}

  void observe(uint64_t value) {
    ++count_;
    sum_ += value;
    for (size_t i = 0; i < bounds_.size(); ++i) {
      if (value <= bounds_[i]) {
        ++buckets_[i];
        break;
      }
    }
  }
  // Writes count, sum and the cumulative bucket counts (2 + bounds values).
  void write(uint64_t* out) const {
    out[0] = count_;
    out[1] = sum_;
    uint64_t cumulative = 0;
    for (size_t i = 0; i < buckets_.size(); ++i) out[2 + i] = cumulative += buckets_[i];
  }
  size_t values() const { return 2 + bounds_.size(); }

 private:
  std::span<const uint64_t> bounds_;
  std::vector<uint64_t> buckets_;
  uint64_t count_ = 0;
  uint64_t sum_ = 0;
};

struct RuntimeHistograms {
  Histogram commit_us{kCommitBoundsUs};
  Histogram detection_ms{kDetectionBoundsMs};
  Histogram convergence_ms{kDetectionBoundsMs};
  Histogram health_rtt_us{kHealthRttBoundsUs};
};

}  // namespace lashup::runtime
