// Bounded polling for the integration tests: waits fail rather than hang.
#pragma once

#include <chrono>
#include <thread>

namespace lashup::testing {

// Polls `done` every `step` until it holds or `limit` passed; returns its
// last answer.
template <typename Predicate>
bool eventually(Predicate done, std::chrono::milliseconds limit,
                std::chrono::milliseconds step = std::chrono::milliseconds(20)) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (done()) return true;
    std::this_thread::sleep_for(step);
  }
  return done();
}

}  // namespace lashup::testing
