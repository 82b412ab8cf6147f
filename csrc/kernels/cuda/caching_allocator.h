#pragma once
// Note [CUDA caching allocator]
// cudaMalloc and cudaFree synchronise the device and cost tens of
// microseconds; a training step would pay them for every op. Freed blocks are
// kept on a free list per (device, rounded size) and handed out again. Every
// kernel of a device runs on that device's one stream, in order, so a block
// freed by the host can be handed to the next kernel at once: the kernel that
// last used it runs first (stream order). When the device has no memory left,
// the cache is released and the allocation tried again, before PyTorch's "CUDA
// out of memory" error. Sizes round up to 512 bytes below 1 MiB, to 2 MiB
// above, so that slightly different sizes share blocks. A limit
// (set_per_process_memory_fraction) caps the bytes reserved from CUDA: past it
// the cache is released, then the allocation fails as out of memory. The same class serves
// the host emulation (Note [CUDA host emulation]), with malloc underneath.
//
// Note [CUDA graph pools]
// A captured CUDA graph writes, at every replay, the very blocks its capture
// was given; were they back in the cache, a later tensor would share them and
// a replay would overwrite it. So while a device captures, its allocations come
// from a private pool (ember.cuda.graph_pool_handle's number) and its frees of
// the pool's blocks go back to that pool, which later captures sharing it may
// use (replayed in their capture order, as PyTorch asks); the pool joins the
// cache when no graph uses it any more (release_pool).
#include <algorithm>
#include <cstdio>
#include <mutex>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

#include "kernels/cuda/backend.h"

namespace ember {
namespace cuda {

class CachingAllocator {
 public:
  struct Raw {
    void* (*alloc)(size_t nbytes, int device);  // nullptr when the device is out of memory
    void (*free)(void* p, int device);
    std::string (*describe)(int device);  // the device's capacity, for the out-of-memory error
  };

  explicit CachingAllocator(Raw raw) : raw_(raw) {}

  static size_t rounded(size_t n) {
    const size_t small = 512, large = size_t(2) << 20;
    return n < (size_t(1) << 20) ? (n + small - 1) / small * small : (n + large - 1) / large * large;
  }

  void* alloc(size_t nbytes, int device) {
    const size_t size = rounded(nbytes);
    std::lock_guard<std::mutex> lock(mutex_);
    PerDevice& d = at(device);
    const uint64_t pool = d.capture_pool;
    void* cached = pool ? take(d.pools[pool], size) : nullptr;
    if (!cached) cached = take(d.free_lists, size);
    if (cached) {
      d.stats.cache_hits++;
      if (pool) d.pool_of[cached] = pool;
      return note_allocated(d, cached, size);
    }
    if (over_limit(d, size)) release_locked(device);
    void* p = over_limit(d, size) ? nullptr : raw_.alloc(size, device);
    if (!p && !over_limit(d, size)) {
      release_locked(device);
      p = raw_.alloc(size, device);
    }
    if (!p) {
      char mib[64];
      std::snprintf(mib, sizeof mib, "%.2f MiB", size / 1048576.0);
      std::string limit;
      if (d.limit) {
        char cap[96];
        std::snprintf(cap, sizeof cap, " The process may hold at most %.2f MiB (memory fraction %g).",
                      d.limit / 1048576.0, d.fraction);
        limit = cap;
      }
      throw std::runtime_error(std::string("CUDA out of memory. Tried to allocate ") + mib + ". GPU " +
                               std::to_string(device) + ": " + raw_.describe(device) + "; " +
                               std::to_string(d.stats.allocated >> 20) + " MiB is allocated by ember." + limit);
    }
    d.stats.reserved += size;
    d.stats.max_reserved = std::max(d.stats.max_reserved, d.stats.reserved);
    if (pool) d.pool_of[p] = pool;
    return note_allocated(d, p, size);
  }

  void free(void* p, size_t nbytes, int device) {
    const size_t size = rounded(nbytes);
    std::lock_guard<std::mutex> lock(mutex_);
    PerDevice& d = at(device);
    FreeLists* lists = &d.free_lists;
    if (!d.pool_of.empty()) {  // (empty unless a graph was captured)
      auto it = d.pool_of.find(p);
      if (it != d.pool_of.end()) {
        lists = &d.pools[it->second];
        d.pool_of.erase(it);
      }
    }
    (*lists)[size].push_back(p);
    d.stats.allocated -= size;
  }

  // Note [CUDA graph pools]: `device`'s allocations come from `pool` (0: the cache again).
  void set_capture_pool(int device, uint64_t pool) {
    std::lock_guard<std::mutex> lock(mutex_);
    at(device).capture_pool = pool;
  }
  // No graph replays `pool` any more: its free blocks join the cache, and so do its others when freed.
  void release_pool(int device, uint64_t pool) {
    std::lock_guard<std::mutex> lock(mutex_);
    PerDevice& d = at(device);
    auto found = d.pools.find(pool);
    if (found != d.pools.end()) {
      for (auto& [size, blocks] : found->second)
        d.free_lists[size].insert(d.free_lists[size].end(), blocks.begin(), blocks.end());
      d.pools.erase(found);
    }
    for (auto it = d.pool_of.begin(); it != d.pool_of.end();) it = it->second == pool ? d.pool_of.erase(it) : ++it;
  }

  MemoryStats stats(int device) {
    std::lock_guard<std::mutex> lock(mutex_);
    return at(device).stats;
  }
  void reset_peak(int device) {
    std::lock_guard<std::mutex> lock(mutex_);
    MemoryStats& s = at(device).stats;
    s.max_allocated = s.allocated;
    s.max_reserved = s.reserved;
  }
  void reset_counts(int device) {
    std::lock_guard<std::mutex> lock(mutex_);
    MemoryStats& s = at(device).stats;
    s.allocations = s.cache_hits = 0;
  }
  // fraction 1 removes the limit.
  void set_limit(int device, double fraction, uint64_t limit) {
    std::lock_guard<std::mutex> lock(mutex_);
    PerDevice& d = at(device);
    d.fraction = fraction;
    d.limit = fraction >= 1.0 ? 0 : limit;
  }
  double fraction(int device) {
    std::lock_guard<std::mutex> lock(mutex_);
    return at(device).fraction;
  }
  // Gives the cached blocks of `device` back (the caller has waited for its stream).
  void release(int device) {
    std::lock_guard<std::mutex> lock(mutex_);
    release_locked(device);
  }

 private:
  using FreeLists = std::unordered_map<size_t, std::vector<void*>>;  // rounded size -> blocks
  struct PerDevice {
    FreeLists free_lists;
    uint64_t capture_pool = 0;                      // Note [CUDA graph pools]: 0 unless capturing
    std::unordered_map<uint64_t, FreeLists> pools;  // the private pools' free blocks
    std::unordered_map<void*, uint64_t> pool_of;    // blocks handed out from a private pool
    MemoryStats stats;
    uint64_t limit = 0;  // bytes reserved at most; 0: no limit
    double fraction = 1.0;
  };
  static void* take(FreeLists& lists, size_t size) {
    auto it = lists.find(size);
    if (it == lists.end() || it->second.empty()) return nullptr;
    void* p = it->second.back();
    it->second.pop_back();
    return p;
  }
  static bool over_limit(const PerDevice& d, size_t size) { return d.limit && d.stats.reserved + size > d.limit; }

  PerDevice& at(int device) {
    if (device < 0 || device >= kMaxDevices) throw std::runtime_error("CUDA error: invalid device ordinal");
    return devices_[device];
  }
  void* note_allocated(PerDevice& d, void* p, size_t size) {
    d.stats.allocated += size;
    d.stats.allocations++;
    d.stats.max_allocated = std::max(d.stats.max_allocated, d.stats.allocated);
    return p;
  }
  void release_locked(int device) {
    PerDevice& d = at(device);
    for (auto& [size, blocks] : d.free_lists) {
      for (void* p : blocks) raw_.free(p, device);
      d.stats.reserved -= size * blocks.size();
    }
    d.free_lists.clear();
  }

  Raw raw_;
  std::mutex mutex_;
  PerDevice devices_[kMaxDevices];
};

}  // namespace cuda
}  // namespace ember
