// The allocator of the lashup-sim executable (not of the lashup_sim library,
// nor of the tests): replaces the global operator new/delete with per-thread
// free lists of 16-byte size classes.
//
// Why: a simulated event allocates a handful of small blocks — the Actions
// vector a core returns, the encoded message (wire::Writer grows it byte by
// byte: 1, 2, 4, 8), a map node — and frees them a few events later. With
// 10,000 nodes, glibc's per-size caches overflow between an allocation and
// its free, and malloc/free took about a fifth of the run. A LIFO free list
// per size class makes both a few instructions, and hands back a block that
// is still in cache. FoundationDB's simulator uses a FastAllocator for the
// same reason.
//
// Blocks up to kSmallMax bytes come from 1 MiB chunks that are never
// returned to the system (the simulator's peak is its steady state); larger
// ones go to malloc. Every block carries a 16-byte header naming its class,
// so a free routes it correctly whatever thread or mode allocated it.
// LASHUP_SIM_SYSTEM_ALLOCATOR=1 in the environment sends every new
// allocation to malloc, to measure the difference.
//
// Not built under the sanitizers (tests/sim/CMakeLists.txt): they must own
// the allocator to see use-after-free and leaks.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <new>

namespace {

constexpr size_t kHeaderBytes = 16;  // keeps blocks aligned for max_align_t
constexpr size_t kGranuleBytes = 16;
constexpr size_t kSmallMax = 512;
constexpr size_t kClasses = kSmallMax / kGranuleBytes;
constexpr size_t kChunkBytes = size_t{1} << 20;
constexpr uint64_t kFromMalloc = ~uint64_t{0};

struct FreeBlock {
  FreeBlock* next;
};

struct Pools {
  FreeBlock* free_lists[kClasses + 1];
  char* chunk_cursor;
  char* chunk_end;
};

// Zero-initialised per thread, without a guard: no locking anywhere.
constinit thread_local Pools pools{};

bool use_system_allocator = false;
const bool read_environment = [] {
  use_system_allocator = std::getenv("LASHUP_SIM_SYSTEM_ALLOCATOR") != nullptr;
  return true;
}();

void* from_malloc(size_t size) {
  void* raw = std::malloc(size + kHeaderBytes);
  if (raw == nullptr) return nullptr;
  *static_cast<uint64_t*>(raw) = kFromMalloc;
  return static_cast<char*>(raw) + kHeaderBytes;
}

void* allocate(size_t size) noexcept {
  if (size > kSmallMax || use_system_allocator) return from_malloc(size);
  const size_t size_class = size == 0 ? 1 : (size + kGranuleBytes - 1) / kGranuleBytes;
  Pools& p = pools;
  if (FreeBlock* block = p.free_lists[size_class]) {
    p.free_lists[size_class] = block->next;
    return block;  // its header still names its class
  }
  const size_t block_bytes = kHeaderBytes + size_class * kGranuleBytes;
  if (static_cast<size_t>(p.chunk_end - p.chunk_cursor) < block_bytes) {
    // The rest of the old chunk is abandoned: at most kSmallMax + header bytes.
    auto* chunk = static_cast<char*>(std::malloc(kChunkBytes));
    if (chunk == nullptr) return nullptr;
    p.chunk_cursor = chunk;
    p.chunk_end = chunk + kChunkBytes;
  }
  char* raw = p.chunk_cursor;
  p.chunk_cursor += block_bytes;
  *reinterpret_cast<uint64_t*>(raw) = size_class;
  return raw + kHeaderBytes;
}

void deallocate(void* pointer) noexcept {
  if (pointer == nullptr) return;
  char* raw = static_cast<char*>(pointer) - kHeaderBytes;
  const uint64_t size_class = *reinterpret_cast<uint64_t*>(raw);
  if (size_class == kFromMalloc) {
    std::free(raw);
    return;
  }
  auto* block = static_cast<FreeBlock*>(pointer);
  block->next = pools.free_lists[size_class];
  pools.free_lists[size_class] = block;
}

void* allocate_or_throw(size_t size) {
  void* pointer = allocate(size);
  if (pointer == nullptr) throw std::bad_alloc();
  return pointer;
}

}  // namespace

void* operator new(size_t size) { return allocate_or_throw(size); }
void* operator new[](size_t size) { return allocate_or_throw(size); }
void* operator new(size_t size, const std::nothrow_t&) noexcept { return allocate(size); }
void* operator new[](size_t size, const std::nothrow_t&) noexcept { return allocate(size); }
void operator delete(void* pointer) noexcept { deallocate(pointer); }
void operator delete[](void* pointer) noexcept { deallocate(pointer); }
void operator delete(void* pointer, size_t) noexcept { deallocate(pointer); }
void operator delete[](void* pointer, size_t) noexcept { deallocate(pointer); }
void operator delete(void* pointer, const std::nothrow_t&) noexcept { deallocate(pointer); }
void operator delete[](void* pointer, const std::nothrow_t&) noexcept { deallocate(pointer); }
