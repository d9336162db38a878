// Round-trip samples of one neighbour and the probe timeout derived from
// them. The original kept only the last sample and erased it on a failure,
// so one slow answer could change the next timeout wildly (reference §4.2).
// We keep a window and time out at mean + 4 standard deviations, clamped to
// the configured floor and ceiling.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

#include "core/common/time.h"

namespace lashup {

class RttHistory {
 public:
  explicit RttHistory(size_t capacity) : capacity_(capacity == 0 ? 1 : capacity) {}

  void add(Duration sample) {
    if (samples_.size() < capacity_) {
      samples_.push_back(sample);
    } else {
      samples_[next_] = sample;
    }
    next_ = (next_ + 1) % capacity_;
  }

  size_t size() const { return samples_.size(); }

  Duration timeout(Duration floor, Duration ceiling) const {
    if (samples_.empty()) return ceiling;
    double sum = 0;
    for (Duration d : samples_) sum += static_cast<double>(d.count());
    const double mean = sum / static_cast<double>(samples_.size());
    double variance = 0;
    for (Duration d : samples_) {
      const double delta = static_cast<double>(d.count()) - mean;
      variance += delta * delta;
    }
    variance /= static_cast<double>(samples_.size());
    const auto estimate = Duration(static_cast<int64_t>(mean + 4.0 * std::sqrt(variance)));
    return std::clamp(estimate, floor, ceiling);
  }

 private:
  size_t capacity_;
  size_t next_ = 0;
  std::vector<Duration> samples_;
};

}  // namespace lashup
