// Time in the core is an input: a monotonic instant supplied by the runtime
// (steady clock) or by the simulator (virtual clock). The core never reads a
// clock itself.
#pragma once

#include <chrono>
#include <cstdint>

namespace lashup {

using Duration = std::chrono::microseconds;

// An instant on the caller's monotonic clock, as a duration since its epoch.
using Time = std::chrono::microseconds;

using std::chrono_literals::operator""ms;
using std::chrono_literals::operator""s;
using std::chrono_literals::operator""us;

inline constexpr Time kTimeZero{0};

inline constexpr int64_t to_ms(Duration d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}
inline constexpr double to_seconds(Duration d) {
  return static_cast<double>(d.count()) / 1e6;
}
inline constexpr Duration from_ms(int64_t ms) { return std::chrono::milliseconds(ms); }

// Rounds of `length` that start where (t + offset) is a multiple of length:
// the failure detector's rounds. Lazy periodic work (anti-entropy, refreshes,
// shuffles, persisting the views) is moved to the start of a round, so it
// runs in the wake-ups the rounds cause anyway instead of waking an idle node
// by itself; nodes whose clocks agree share the grid (docs/ARCHITECTURE.md).
struct RoundGrid {
  Duration length{0};  // 0: no grid, times stay as they are
  Duration offset{0};

  // The first round start at or after t.
  constexpr Time at_or_after(Time t) const {
    const int64_t l = length.count();
    if (l <= 0) return t;
    const int64_t into = (((t.count() + offset.count()) % l) + l) % l;
    return into == 0 ? t : t + Duration(l - into);
  }
};

}  // namespace lashup
