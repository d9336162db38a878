// The one random source of a node: xoshiro256** seeded through splitmix64.
// Every protocol of a node draws from its node's Random, so a seed replays a
// simulated run exactly.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <utility>

#include "core/common/time.h"

namespace lashup {

class Random {
 public:
  explicit Random(uint64_t seed) { reseed(seed); }

  void reseed(uint64_t seed) {
    for (auto& word : state_) word = splitmix64(seed);
  }

  uint64_t next_u64() {
    const uint64_t result = rotl(state_[1] * 5, 7) * 9;
    const uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = rotl(state_[3], 45);
    return result;
  }

  // Uniform in [0, bound); bound > 0. Lemire's multiply-shift, with rejection
  // so the result is unbiased.
  uint64_t uniform(uint64_t bound) {
    if (bound <= 1) return 0;
    unsigned __int128 product = static_cast<unsigned __int128>(next_u64()) * bound;
    // The division is needed only when the low half falls below the bound.
    if (static_cast<uint64_t>(product) < bound) {
      const uint64_t threshold = -bound % bound;
      while (static_cast<uint64_t>(product) < threshold) {
        product = static_cast<unsigned __int128>(next_u64()) * bound;
      }
    }
    return static_cast<uint64_t>(product >> 64);
  }

  // Uniform in [low, high], inclusive.
  int64_t uniform_between(int64_t low, int64_t high) {
    if (high <= low) return low;
    return low + static_cast<int64_t>(uniform(static_cast<uint64_t>(high - low) + 1));
  }

  // Uniform in [0, 1).
  double uniform_real() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }

  bool chance(double probability) { return uniform_real() < probability; }

  // A duration drawn uniformly from [base * (1 - spread), base * (1 + spread)]:
  // timers are randomized so nodes started together do not act in lockstep.
  Duration jittered(Duration base, double spread) {
    const auto count = base.count();
    const auto delta = static_cast<int64_t>(static_cast<double>(count) * spread);
    return Duration(uniform_between(count - delta, count + delta));
  }

  template <typename Container>
  auto& pick(Container& items) {
    auto it = std::begin(items);
    std::advance(it, static_cast<std::ptrdiff_t>(uniform(std::size(items))));
    return *it;
  }

  template <typename Container>
  void shuffle(Container& items) {
    const size_t n = std::size(items);
    for (size_t i = n; i > 1; --i) {
      using std::swap;
      swap(items[i - 1], items[uniform(i)]);
    }
  }

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  static uint64_t splitmix64(uint64_t& x) {
    uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  uint64_t state_[4] = {};
};

}  // namespace lashup
