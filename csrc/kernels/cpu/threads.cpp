// ember's thread budget: every parallel loop and every BLAS call
// (Note [BLAS threads]) takes its thread count from max_threads().
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>
#ifdef __linux__
#include <fcntl.h>
#include <sched.h>
#include <time.h>
#include <unistd.h>
#endif

#include "kernels/cpu/loops.h"
#include "kernels/cpu/threads.h"

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

int machine_cores() {
  static const int cores = usable_cores();
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
    return std::max(1, machine_cores() / local_mpi_ranks());
  }();
  return n;
}

// Whether the budget is ember's default (no OMP_NUM_THREADS, no set_num_threads):
// only a default budget adapts to a busy machine.
static bool default_budget() {
  static const bool from_environment = std::getenv("OMP_NUM_THREADS") != nullptr;
  static const bool adaptive = [] {
    const char* env = std::getenv("EMBER_ADAPTIVE_THREADS");
    return !(env && std::strcmp(env, "0") == 0);
  }();
  return adaptive && !from_environment && g_num_threads.load(std::memory_order_relaxed) == 0;
}

int thread_budget() {
  int n = g_num_threads.load(std::memory_order_relaxed);
  if (n == 0) n = default_threads();
  return t_cap > 0 && t_cap < n ? t_cap : n;
}

// Note [Busy machine]
// The budget assumes the cores are free. When something else wants them (a
// second training process, numpy's BLAS threads spinning after a product, a
// test runner), an OpenMP team waits at every region's end for its slowest
// thread, and a thread the OS descheduled costs a whole time slice: a 512
// product took 3.5-4.9x its time beside a second process. So a default budget
// watches the kernel's account of how long the calling thread waited for a CPU
// (/proc/thread-self/schedstat: time run, time runnable but waiting), at most
// every 10 ms per thread. When the thread waited more than a fifth of the time
// it wanted a CPU, parallel regions run on one thread for 50 ms; if the
// machine is busy again right after, the next hold is twice as long (up to
// 0.8 s), so two ember processes settle on a core each instead of taking
// turns. A window that ran serially and saw no waiting ends the hold. Costs:
// a coarse clock read per parallel region, one pread per thread per 10 ms.
// An explicit budget (set_num_threads, OMP_NUM_THREADS) is kept as given;
// EMBER_ADAPTIVE_THREADS=0 turns this off.
// ember's own parallel backward (Note [Parallel backward]) puts helper threads
// beside the kernels' teams; their waits are ember's doing, not another
// process's, and holding the kernels to one thread for them made a ResNet-style
// step 1.7x slower. While helpers work (OwnHelpersScope), nothing is judged,
// and each thread starts a fresh window afterwards.
namespace {
std::atomic<int> g_own_helpers{0};
std::atomic<unsigned> g_own_epoch{0};  // bumped as helpers start and stop: older windows are void
}  // namespace

OwnHelpersScope::OwnHelpersScope() {
  g_own_helpers.fetch_add(1, std::memory_order_relaxed);
  g_own_epoch.fetch_add(1, std::memory_order_relaxed);
}
OwnHelpersScope::~OwnHelpersScope() {
  g_own_epoch.fetch_add(1, std::memory_order_relaxed);
  g_own_helpers.fetch_sub(1, std::memory_order_relaxed);
}

#ifdef __linux__
namespace {
constexpr int64_t kLookEveryNs = 10'000'000;
constexpr int64_t kHoldNs = 50'000'000;
constexpr int kMaxDoublings = 4;
std::atomic<int64_t> g_serial_until{0};
std::atomic<int> g_doublings{0};

int64_t coarse_now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return ts.tv_sec * 1'000'000'000LL + ts.tv_nsec;
}

// The calling thread's CPU time and run-queue wait, as last read.
struct RunQueueWait {
  int fd = -2;  // -2: not opened yet; -1: unavailable (no /proc, or no schedstat)
  int64_t at = 0, ran = 0, waited = 0;
  unsigned epoch = 0;  // g_own_epoch when the window began
  ~RunQueueWait() {
    if (fd >= 0) close(fd);
  }
  bool read(int64_t& ran_ns, int64_t& waited_ns) {
    if (fd == -2) fd = open("/proc/thread-self/schedstat", O_RDONLY | O_CLOEXEC);
    char text[128];
    ssize_t n = fd >= 0 ? pread(fd, text, sizeof(text) - 1, 0) : -1;
    long long r = 0, w = 0;
    if (n > 0) text[n] = 0;
    if (n <= 0 || std::sscanf(text, "%lld %lld", &r, &w) != 2) {
      if (fd >= 0) close(fd);
      fd = -1;
      return false;
    }
    ran_ns = r, waited_ns = w;
    return true;
  }
};
thread_local RunQueueWait t_wait;

bool machine_busy() {
  int64_t now = coarse_now_ns();
  int64_t serial_until = g_serial_until.load(std::memory_order_relaxed);
  if (now < serial_until) return true;
  RunQueueWait& w = t_wait;
  if (w.fd == -1 || now - w.at < kLookEveryNs || g_own_helpers.load(std::memory_order_relaxed) > 0) return false;
  int64_t ran, waited;
  if (!w.read(ran, waited)) return false;
  const int64_t window = now - w.at, wanted = (ran - w.ran) + (waited - w.waited), waits = waited - w.waited;
  const unsigned epoch = g_own_epoch.load(std::memory_order_relaxed);
  const bool spans_own_helpers = epoch != w.epoch;
  w.at = now, w.ran = ran, w.waited = waited, w.epoch = epoch;
  if (spans_own_helpers) return false;
  // A window longer than a second, or one in which the thread hardly ran, says little about now.
  if (window > 1'000'000'000 || wanted < 2'000'000 || waits * 5 < wanted) return false;
  const bool again = now - serial_until < 4 * kHoldNs;
  int doublings = again ? std::min(g_doublings.load(std::memory_order_relaxed) + 1, kMaxDoublings) : 0;
  g_doublings.store(doublings, std::memory_order_relaxed);
  g_serial_until.store(now + (kHoldNs << doublings), std::memory_order_relaxed);
  return true;
}
}  // namespace
#else
static bool machine_busy() { return false; }
#endif

// Every parallel loop passes this as its num_threads clause, so the setting
// reaches threads that never called set_num_threads (OpenMP's own count is
// per thread). Without OpenMP (the ThreadSanitizer build) the kernels' loops
// run serially whatever this says, but the budget still sizes the backward
// executor's pool.
int max_threads() {
  int n = thread_budget();
  return n > 1 && default_budget() && machine_busy() ? 1 : n;
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
