#include "heap_counter.h"

#include <malloc.h>

#include <cstdlib>
#include <new>

namespace {
size_t g_heap_bytes = 0;
}  // namespace

size_t lashup::bench::heap_bytes() { return g_heap_bytes; }

void* operator new(size_t size) {
  void* p = std::malloc(size == 0 ? 1 : size);
  if (p == nullptr) throw std::bad_alloc();
  g_heap_bytes += malloc_usable_size(p);
  return p;
}
void operator delete(void* p) noexcept {
  if (p != nullptr) g_heap_bytes -= malloc_usable_size(p);
  std::free(p);
}
void operator delete(void* p, size_t) noexcept { operator delete(p); }
void* operator new[](size_t size) { return operator new(size); }
void operator delete[](void* p) noexcept { operator delete(p); }
void operator delete[](void* p, size_t) noexcept { operator delete(p); }
