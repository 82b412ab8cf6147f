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
  static constexpr int kMaxDevices = 64;

  explicit CachingAllocator(Raw raw) : raw_(raw) {}

  static size_t rounded(size_t n) {
    const size_t small = 512, large = size_t(2) << 20;
    return n < (size_t(1) << 20) ? (n + small - 1) / small * small : (n + large - 1) / large * large;
  }

  void* alloc(size_t nbytes, int device) {
    const size_t size = rounded(nbytes);
    std::lock_guard<std::mutex> lock(mutex_);
    PerDevice& d = at(device);
    auto it = d.free_lists.find(size);
    if (it != d.free_lists.end() && !it->second.empty()) {
      void* p = it->second.back();
      it->second.pop_back();
      d.stats.cache_hits++;
      return note_allocated(d, p, size);
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
    return note_allocated(d, p, size);
  }

  void free(void* p, size_t nbytes, int device) {
    const size_t size = rounded(nbytes);
    std::lock_guard<std::mutex> lock(mutex_);
    PerDevice& d = at(device);
    d.free_lists[size].push_back(p);
    d.stats.allocated -= size;
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
  struct PerDevice {
    std::unordered_map<size_t, std::vector<void*>> free_lists;  // rounded size -> blocks
    MemoryStats stats;
    uint64_t limit = 0;  // bytes reserved at most; 0: no limit
    double fraction = 1.0;
  };
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
