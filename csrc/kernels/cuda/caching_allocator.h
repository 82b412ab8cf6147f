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
// cache when no graph uses it any more (release_pool). ember.cuda.MemPool is
// such a pool too, which use_mem_pool routes a device's allocations to while
// no capture runs (user_pool); a capture's pool comes first.
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
    const uint64_t pool = d.capture_pool ? d.capture_pool : d.user_pool;
    void* cached = pool ? take(d.pools[pool], size) : nullptr;
    if (!cached) cached = take(d.free_lists, size);
    if (cached) {
      d.stats.cache_hits++;
      return note_allocated(d, cached, size, nbytes, pool);
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
    return note_allocated(d, p, size, nbytes, pool);
  }

  void free(void* p, size_t nbytes, int device) {
    const size_t size = rounded(nbytes);
    std::lock_guard<std::mutex> lock(mutex_);
    PerDevice& d = at(device);
    uint64_t pool = 0;
    auto it = d.in_use.find(p);
    if (it != d.in_use.end()) {
      pool = it->second.pool;
      d.in_use.erase(it);
    }
    d.stats.allocated -= size;
    if (pool) {
      d.pools[pool][size].push_back(p);
    } else if (caching_) {
      d.free_lists[size].push_back(p);
    } else {  // caching_allocator_enable(False): back to CUDA at once (cudaFree waits for the device)
      raw_.free(p, device);
      d.stats.reserved -= size;
    }
  }

  // Note [CUDA graph pools]: `device`'s allocations come from `pool` (0: the cache again).
  void set_capture_pool(int device, uint64_t pool) {
    std::lock_guard<std::mutex> lock(mutex_);
    at(device).capture_pool = pool;
  }
  // use_mem_pool: the pool of `device`'s allocations while it does not capture (0: the cache).
  void set_user_pool(int device, uint64_t pool) {
    std::lock_guard<std::mutex> lock(mutex_);
    at(device).user_pool = pool;
  }
  // caching_allocator_enable: whether freed blocks are kept for reuse (those of private pools always are).
  void set_caching(bool enabled) {
    std::lock_guard<std::mutex> lock(mutex_);
    caching_ = enabled;
  }

  // memory_snapshot: the device's blocks, handed out and cached; up to `capacity` go to `out`, and the count
  // is returned (call again with room for all when it is larger).
  int64_t blocks(int device, MemoryBlock* out, int64_t capacity) {
    std::lock_guard<std::mutex> lock(mutex_);
    PerDevice& d = at(device);
    int64_t count = 0;
    auto add = [&](void* p, uint64_t size, uint64_t requested, uint64_t pool, bool active) {
      if (count < capacity) out[count] = MemoryBlock{(uint64_t)(uintptr_t)p, size, requested, pool, active};
      ++count;
    };
    for (auto& [p, block] : d.in_use) add(p, block.size, block.requested, block.pool, true);
    for (auto& [size, blocks] : d.free_lists)
      for (void* p : blocks) add(p, size, 0, 0, false);
    for (auto& [pool, lists] : d.pools)
      for (auto& [size, blocks] : lists)
        for (void* p : blocks) add(p, size, 0, pool, false);
    return count;
  }
  // No graph or MemPool uses `pool` any more: its free blocks join the cache, and so do its others when freed.
  void release_pool(int device, uint64_t pool) {
    std::lock_guard<std::mutex> lock(mutex_);
    PerDevice& d = at(device);
    auto found = d.pools.find(pool);
    if (found != d.pools.end()) {
      for (auto& [size, blocks] : found->second)
        d.free_lists[size].insert(d.free_lists[size].end(), blocks.begin(), blocks.end());
      d.pools.erase(found);
    }
    for (auto& [p, block] : d.in_use)
      if (block.pool == pool) block.pool = 0;
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
  struct InUse {
    uint64_t size, requested, pool;  // pool: the private pool the block goes back to (0: the cache)
  };
  struct PerDevice {
    FreeLists free_lists;
    uint64_t capture_pool = 0;                      // Note [CUDA graph pools]: 0 unless capturing
    uint64_t user_pool = 0;                         // use_mem_pool's, 0 outside one
    std::unordered_map<uint64_t, FreeLists> pools;  // the private pools' free blocks
    std::unordered_map<void*, InUse> in_use;        // the blocks handed out
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
  void* note_allocated(PerDevice& d, void* p, size_t size, size_t requested, uint64_t pool) {
    d.in_use[p] = InUse{size, requested, pool};
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
  bool caching_ = true;
  PerDevice devices_[kMaxDevices];
};

}  // namespace cuda
}  // namespace ember
