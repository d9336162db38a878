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

}  // namespace lashup
