#include "core/allocator.h"

#include <atomic>
#include <cstdlib>
#include <mutex>
#include <unordered_map>
#include <vector>
#ifdef __linux__
#include <sys/mman.h>
#endif

#include "core/error.h"

namespace ember {
namespace {

constexpr size_t kAlignment = 64;  // AVX-512 loads of contiguous tensors stay aligned
constexpr size_t kMaxCachedBytes = size_t(1) << 30;

#ifdef EMBER_EXACT_ALLOCATIONS
// Sanitizer builds (tools/sanitize.sh): every buffer has exactly the bytes asked
// for, and none is reused, so AddressSanitizer sees an overrun by one element.
constexpr bool kExact = true;
size_t rounded(size_t nbytes) { return nbytes; }
#else
constexpr bool kExact = false;
size_t rounded(size_t nbytes) { return (nbytes + kAlignment - 1) / kAlignment * kAlignment; }
#endif

struct Cache {
  std::mutex mutex;
  std::unordered_map<size_t, std::vector<void*>> free_lists;  // rounded size -> buffers
  size_t cached_bytes = 0;
  uint64_t hits = 0, misses = 0;
  std::atomic<bool> enabled{!kExact};
};

// Never destroyed: tensors freed during interpreter shutdown still find it.
Cache& cache() {
  static Cache* c = new Cache();
  return *c;
}

// Note [Huge pages]
// Buffers of 4 MB and more are aligned to 2 MB and marked MADV_HUGEPAGE, as
// numpy marks its arrays: where transparent huge pages are "madvise" (the
// common default), only marked memory gets them. One TLB entry then covers
// 2 MB instead of 4 KB; a 16 MB all-reduce through MPI's shared memory ran
// 20% slower from unmarked ember memory than from numpy's.
constexpr size_t kHugePage = size_t(2) << 20;
constexpr size_t kHugePagesFrom = size_t(4) << 20;

void* system_alloc(size_t size) {
  const bool huge = !kExact && size >= kHugePagesFrom;
  const size_t huge_size = (size + kHugePage - 1) / kHugePage * kHugePage;
  auto attempt = [&] {
    if (kExact) return std::malloc(size ? size : 1);
    return huge ? std::aligned_alloc(kHugePage, huge_size) : std::aligned_alloc(kAlignment, size);
  };
  void* p = attempt();
  if (!p) {
    empty_cache();  // the cache may be holding what the system needs
    p = attempt();
  }
  EMBER_CHECK(p, "ember: out of memory allocating ", size, " bytes");
#ifdef MADV_HUGEPAGE
  if (huge) madvise(p, huge_size, MADV_HUGEPAGE);  // a hint: failure leaves ordinary pages
#endif
  return p;
}

}  // namespace

void* cpu_alloc(size_t nbytes) {
  size_t size = rounded(nbytes);
  Cache& c = cache();
  if (c.enabled.load(std::memory_order_relaxed)) {
    std::lock_guard<std::mutex> lock(c.mutex);
    auto it = c.free_lists.find(size);
    if (it != c.free_lists.end() && !it->second.empty()) {
      void* p = it->second.back();
      it->second.pop_back();
      c.cached_bytes -= size;
      ++c.hits;
      return p;
    }
    ++c.misses;
  }
  return system_alloc(size);
}

void cpu_free(void* p, size_t nbytes) {
  if (!p) return;
  size_t size = rounded(nbytes);
  Cache& c = cache();
  if (c.enabled.load(std::memory_order_relaxed)) {
    std::lock_guard<std::mutex> lock(c.mutex);
    if (c.cached_bytes + size <= kMaxCachedBytes) {
      c.free_lists[size].push_back(p);
      c.cached_bytes += size;
      return;
    }
  }
  std::free(p);
}

void empty_cache() {
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  for (auto& [size, list] : c.free_lists)
    for (void* p : list) std::free(p);
  c.free_lists.clear();
  c.cached_bytes = 0;
}

void set_caching_allocator(bool enabled) {
  cache().enabled.store(enabled && !kExact);
  if (!enabled) empty_cache();
}

AllocatorStats allocator_stats() {
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  return {c.hits, c.misses, c.cached_bytes, kExact};
}

}  // namespace ember
