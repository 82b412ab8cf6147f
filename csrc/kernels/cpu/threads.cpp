// ember's thread budget: every parallel loop and every BLAS call
// (Note [BLAS threads]) takes its thread count from max_threads().
#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <thread>

#include "kernels/cpu/loops.h"

namespace ember {
namespace kernels {

// 0: not set, OpenMP's default (OMP_NUM_THREADS, or the number of cores).
static std::atomic<int> g_num_threads{0};

// A cap for the current thread (ThreadCap): the backward executor's threads
// split the budget between the nodes they run at the same time.
static thread_local int t_cap = 0;

// Every parallel loop passes this as its num_threads clause, so the setting
// reaches threads that never called set_num_threads (OpenMP's own count is
// per thread).
#ifndef _OPENMP
// OMP_NUM_THREADS if set (as OpenMP reads it), else the number of cores.
static int default_threads_without_openmp() {
  static const int n = [] {
    const char* env = std::getenv("OMP_NUM_THREADS");
    int v = env ? std::atoi(env) : 0;
    return v > 0 ? v : (int)std::max(1u, std::thread::hardware_concurrency());
  }();
  return n;
}
#endif

// Without OpenMP (the ThreadSanitizer build) the kernels' loops run serially
// whatever this says, but the budget still sizes the backward executor's pool.
int max_threads() {
  int n = g_num_threads.load(std::memory_order_relaxed);
#ifdef _OPENMP
  if (n == 0) n = omp_get_max_threads();
#else
  if (n == 0) n = default_threads_without_openmp();
#endif
  return t_cap > 0 && t_cap < n ? t_cap : n;
}

ThreadCap::ThreadCap(int n) : previous(t_cap) { t_cap = n; }
ThreadCap::~ThreadCap() { t_cap = previous; }

void set_num_threads(int n) {
  EMBER_CHECK(n > 0, "set_num_threads expects a positive integer, got ", n);
  g_num_threads.store(n, std::memory_order_relaxed);
#ifdef _OPENMP
  omp_set_num_threads(n);
#endif
}

}  // namespace kernels
}  // namespace ember
