// ember's thread budget: every parallel loop and every BLAS call
// (Note [BLAS threads]) takes its thread count from max_threads().
#include <atomic>

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
int max_threads() {
#ifdef _OPENMP
  int n = g_num_threads.load(std::memory_order_relaxed);
  if (n == 0) n = omp_get_max_threads();
  return t_cap > 0 && t_cap < n ? t_cap : n;
#else
  return 1;
#endif
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
