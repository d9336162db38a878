// Heap bytes in use, counted by replacing operator new in the benchmark
// binary that links tests/bench/heap_counter.cc (not under ThreadSanitizer,
// whose runtime replaces it too). Single-threaded benchmarks only.
#pragma once

#include <cstddef>

namespace lashup::bench {
size_t heap_bytes();
}  // namespace lashup::bench
