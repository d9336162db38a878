// Size limits of CRDT objects, enforced on local operations and on decoding
// peer input, so a hostile or buggy peer cannot make a node allocate without
// bound or recurse without bound.
#pragma once

#include <cstddef>
#include <cstdint>

namespace lashup::crdt {

struct Limits {
  // Levels of maps, the top-level map being 1. Recursion in join, encode and
  // decode is bounded by this.
  size_t map_depth_max = 32;
  size_t field_name_bytes_max = 1024;
  size_t element_bytes_max = 64 * 1024;
  size_t register_bytes_max = 16 * 1024 * 1024;
  // Replicas in the table of one object (writers of one key over its life).
  size_t replicas_max = 1 << 20;
};

// Dot counters above this are rejected on decode, so run arithmetic
// (last + 1) can never overflow. A replica creating a million dots a second
// would need 146,000 years to reach it.
inline constexpr uint64_t kDotCounterMax = uint64_t{1} << 62;

}  // namespace lashup::crdt
