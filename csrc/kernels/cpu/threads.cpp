// ember's thread budget: every parallel loop and every BLAS call (Note [BLAS
// threads]) takes its thread count from max_threads().
#include <atomic>

#include "kernels/cpu/loops.h"

namespace ember {
namespace kernels {

// 0: not set, OpenMP's default (OMP_NUM_THREADS, or the number of cores).
static std::atomic<int> g_num_threads{0};

int max_threads() {
#ifdef _OPENMP
  int n = g_num_threads.load(std::memory_order_relaxed);
  if (n == 0) return omp_get_max_threads();
  // OpenMP keeps the count per thread: a Python thread started after
  // set_num_threads picks the setting up here, on its first parallel loop.
  if (omp_get_max_threads() != n) omp_set_num_threads(n);
  return n;
#else
  return 1;
#endif
}

void set_num_threads(int n) {
  EMBER_CHECK(n > 0, "set_num_threads expects a positive integer, got ", n);
  g_num_threads.store(n, std::memory_order_relaxed);
#ifdef _OPENMP
  omp_set_num_threads(n);
#endif
}

}  // namespace kernels
}  // namespace ember
