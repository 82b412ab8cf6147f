#pragma once
// Note [Caching allocator]
// A training loop allocates the same tensor sizes every step. Freed CPU
// buffers are kept on a free list per exact (64-byte rounded) size and handed
// out again, so a step does not go through malloc/free per op, and large
// buffers are not returned to the OS (munmap) only to be page-faulted in again
// on the next step. The cache is bounded (kMaxCachedBytes); beyond it, frees go
// straight to the system. ember._C._empty_cache() releases everything cached.
#include <cstddef>
#include <cstdint>

namespace ember {

// 64-byte aligned memory for `nbytes` (> 0); throws on exhaustion.
void* cpu_alloc(size_t nbytes);
// Gives back memory from cpu_alloc with the same `nbytes`.
void cpu_free(void* p, size_t nbytes);

void empty_cache();
void set_caching_allocator(bool enabled);  // off: every alloc/free goes to the system
struct AllocatorStats {
  uint64_t hits, misses;
  size_t cached_bytes;
  bool exact;  // a sanitizer build: exact sizes, no reuse (EMBER_EXACT_ALLOCATIONS)
};
AllocatorStats allocator_stats();

}  // namespace ember
