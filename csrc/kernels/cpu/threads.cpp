// ember's thread budget: every parallel loop and every BLAS call
// (Note [BLAS threads]) takes its thread count from max_threads().
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>
#ifdef __linux__
#include <sched.h>
#endif

#include "kernels/cpu/loops.h"

namespace ember {
namespace kernels {

// 0: not set, default_threads().
static std::atomic<int> g_num_threads{0};

// A cap for the current thread (ThreadCap): the backward executor's threads
// split the budget between the nodes they run at the same time.
static thread_local int t_cap = 0;

// The cores this process may use: its CPU affinity mask (taskset, cpusets,
// a batch scheduler's binding), capped by a cgroup v2 CPU quota (a container's
// --cpus), which the affinity mask does not show.
static int usable_cores() {
  int cores = (int)std::max(1u, std::thread::hardware_concurrency());
#ifdef __linux__
  cpu_set_t mask;
  if (sched_getaffinity(0, sizeof(mask), &mask) == 0) cores = std::max(1, CPU_COUNT(&mask));
  if (std::FILE* f = std::fopen("/sys/fs/cgroup/cpu.max", "r")) {
    char quota[32] = {0};
    long period = 0;
    if (std::fscanf(f, "%31s %ld", quota, &period) == 2 && std::strcmp(quota, "max") != 0 && period > 0)
      cores = std::min(cores, (int)std::max(1L, (std::atol(quota) + period - 1) / period));
    std::fclose(f);
  }
#endif
  return cores;
}

// How many processes of the same MPI job share this machine, from the
// variables each MPI launcher sets (Open MPI, MPICH/Hydra, Intel MPI and
// MVAPICH; PMI_LOCAL_SIZE for PMI launchers); 1 outside MPI.
static int local_mpi_ranks() {
  for (const char* name :
       {"OMPI_COMM_WORLD_LOCAL_SIZE", "MPI_LOCALNRANKS", "PMI_LOCAL_SIZE", "MV2_COMM_WORLD_LOCAL_SIZE"}) {
    const char* value = std::getenv(name);
    if (value && std::atoi(value) > 0) return std::atoi(value);
  }
  return 1;
}

// Note [Thread budget]
// OMP_NUM_THREADS, when set, decides (as OpenMP reads it). Otherwise each
// process takes its share of the cores it may use: N ranks of an MPI job on
// one machine get cores / N threads each, as they would with
// OMP_NUM_THREADS = cores / ranks. Every rank taking every core
// oversubscribes the machine N-fold; two ranks of the MLP example trained
// 25x slower that way than with one thread each on 2 cores.
static int default_threads() {
  static const int n = [] {
    const char* env = std::getenv("OMP_NUM_THREADS");
    int v = env ? std::atoi(env) : 0;
#ifdef _OPENMP
    if (v > 0) return omp_get_max_threads();
#else
    if (v > 0) return v;
#endif
    return std::max(1, usable_cores() / local_mpi_ranks());
  }();
  return n;
}

// Every parallel loop passes this as its num_threads clause, so the setting
// reaches threads that never called set_num_threads (OpenMP's own count is
// per thread). Without OpenMP (the ThreadSanitizer build) the kernels' loops
// run serially whatever this says, but the budget still sizes the backward
// executor's pool.
int max_threads() {
  int n = g_num_threads.load(std::memory_order_relaxed);
  if (n == 0) n = default_threads();
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
