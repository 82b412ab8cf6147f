#pragma once
// Note [Pinned memory]
// Tensor.pin_memory() and pin_memory=True put a CPU tensor in page-locked host
// memory (cudaHostAlloc), from which a copy to the GPU runs by DMA without a
// staging copy and, with non_blocking=True, without the host waiting for it: a
// DataLoader's next batch crosses while the GPU computes. cudaHostAlloc costs
// milliseconds, so freed blocks are cached by rounded size, as PyTorch's
// caching host allocator does. A freed block may still be the source of a
// queued copy, so it is handed out again only once an event recorded on every
// stream at its release has completed. empty_cache() releases the idle blocks.
// host_memory_stats() reads the counters PyTorch's host allocator keeps.
#include <algorithm>
#include <chrono>
#include <deque>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "kernels/cuda/caching_allocator.h"
#include "kernels/cuda/common.cuh"

namespace ember {
namespace cuda {

class PinnedPool {
 public:
  void* alloc(size_t nbytes) {
    const size_t size = CachingAllocator::rounded(nbytes);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      collect_locked();
      auto& idle = idle_[size];
      if (!idle.empty()) {
        void* p = idle.back();
        idle.pop_back();
        handed_out_locked(size);
        return p;
      }
    }
    void* p = nullptr;
    const auto start = std::chrono::steady_clock::now();
    check(cudaHostAlloc(&p, size, cudaHostAllocDefault), "cudaHostAlloc (pin_memory)");
    std::lock_guard<std::mutex> lock(mutex_);
    timed(stats_.alloc_us_total, stats_.alloc_us_min, stats_.alloc_us_max, stats_.alloc_count, start);
    grow(stats_.allocations, 1);
    grow(stats_.allocated_bytes, (int64_t)size);
    handed_out_locked(size);
    return p;
  }

  // `streams`: every stream a copy from the block may be queued on.
  void free(void* p, size_t nbytes, const std::vector<cudaStream_t>& streams) {
    Pending block{p, CachingAllocator::rounded(nbytes), {}};
    for (cudaStream_t s : streams) {
      cudaEvent_t e;
      if (cudaEventCreateWithFlags(&e, cudaEventDisableTiming) != cudaSuccess) continue;  // no check: a destructor
      cudaEventRecord(e, s);
      block.events.push_back(e);
    }
    std::lock_guard<std::mutex> lock(mutex_);
    pending_.push_back(std::move(block));
  }

  void release_idle() {
    std::lock_guard<std::mutex> lock(mutex_);
    collect_locked();
    for (auto& [size, blocks] : idle_)
      for (void* p : blocks) {
        const auto start = std::chrono::steady_clock::now();
        cudaFreeHost(p);
        timed(stats_.free_us_total, stats_.free_us_min, stats_.free_us_max, stats_.free_count, start);
        shrink(stats_.allocations, 1);
        shrink(stats_.allocated_bytes, (int64_t)size);
      }
    idle_.clear();
  }

  HostMemoryStats stats() {
    std::lock_guard<std::mutex> lock(mutex_);
    collect_locked();
    return stats_;
  }
  // peaks: each peak becomes its current value; else the accumulated counts and times start again
  void reset_stats(bool peaks) {
    std::lock_guard<std::mutex> lock(mutex_);
    for (HostStat* s : {&stats_.allocations, &stats_.allocated_bytes, &stats_.active_requests, &stats_.active_bytes}) {
      if (peaks) {
        s->peak = s->current;
      } else {
        s->allocated = s->freed = 0;
      }
    }
    if (!peaks) {
      stats_.alloc_us_total = stats_.alloc_us_max = stats_.alloc_us_min = 0;
      stats_.free_us_total = stats_.free_us_max = stats_.free_us_min = 0;
      stats_.alloc_count = stats_.free_count = 0;
    }
  }

 private:
  struct Pending {
    void* p;
    size_t size;
    std::vector<cudaEvent_t> events;
  };

  // Pending blocks whose copies have all run become idle, oldest first. A block's events follow every earlier
  // block's on each stream, so the first one not done ends the look: a long queue of small staged copies
  // (Note [Staged host copies]) costs one query per alloc, not one per pending block.
  void collect_locked() {
    while (!pending_.empty()) {
      Pending& b = pending_.front();
      bool done = true;
      for (cudaEvent_t e : b.events) done = done && cudaEventQuery(e) == cudaSuccess;
      if (!done) {
        cudaGetLastError();  // a query that was not ready leaves no error behind
        return;
      }
      for (cudaEvent_t e : b.events) cudaEventDestroy(e);
      idle_[b.size].push_back(b.p);
      shrink(stats_.active_requests, 1);  // reusable now, as PyTorch counts it
      shrink(stats_.active_bytes, (int64_t)b.size);
      pending_.pop_front();
    }
  }

  static void grow(HostStat& s, int64_t n) {
    s.current += n;
    s.allocated += n;
    s.peak = std::max(s.peak, s.current);
  }
  static void shrink(HostStat& s, int64_t n) {
    s.current -= n;
    s.freed += n;
  }
  void handed_out_locked(size_t size) {
    grow(stats_.active_requests, 1);
    grow(stats_.active_bytes, (int64_t)size);
  }
  static void timed(double& total, double& min, double& max, int64_t& count,
                    std::chrono::steady_clock::time_point start) {
    const double us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count();
    total += us;
    min = count ? std::min(min, us) : us;
    max = std::max(max, us);
    ++count;
  }

  std::mutex mutex_;
  std::unordered_map<size_t, std::vector<void*>> idle_;
  std::deque<Pending> pending_;  // in the order they were freed
  HostMemoryStats stats_;
};

}  // namespace cuda
}  // namespace ember
