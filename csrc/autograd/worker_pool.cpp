#include "autograd/worker_pool.h"

#include <deque>
#include <queue>
#include <thread>
#include <vector>

#include "autograd/grad_mode.h"

namespace ember {

static thread_local bool t_on_worker = false;
bool on_worker_thread() { return t_on_worker; }

void HelperGroup::wait() {
  std::unique_lock<std::mutex> lock(mutex);
  done.wait(lock, [&] { return running == 0; });
}

void HelperGroup::returned() {
  std::lock_guard<std::mutex> lock(mutex);
  if (--running == 0) done.notify_all();
}

struct PoolThreads {
  std::mutex mutex;
  std::condition_variable wake;
  std::deque<HelperGroup*> jobs;
  int idle = 0;

  void loop() {
    t_on_worker = true;
    std::unique_lock<std::mutex> lock(mutex);
    for (;;) {
      ++idle;
      wake.wait(lock, [&] { return !jobs.empty(); });
      --idle;
      HelperGroup* g = jobs.front();
      jobs.pop_front();
      lock.unlock();
      g->work();
      g->returned();
      lock.lock();
    }
  }
};

// The pool lives as long as the process: its threads are detached and never
// joined, so interpreter shutdown never waits on them.
static PoolThreads& pool() {
  static PoolThreads* p = new PoolThreads();
  return *p;
}

WorkerPool& WorkerPool::instance() {
  static WorkerPool w;
  return w;
}

void WorkerPool::help(HelperGroup& group, int helpers) {
  if (helpers <= 0) return;
  {
    std::lock_guard<std::mutex> lock(group.mutex);
    group.running += helpers;
  }
  PoolThreads& p = pool();
  std::lock_guard<std::mutex> lock(p.mutex);
  for (int i = 0; i < helpers; ++i) p.jobs.push_back(&group);
  for (int start = helpers - p.idle; start > 0; --start) std::thread([&p] { p.loop(); }).detach();
  p.wake.notify_all();
}

static thread_local bool t_on_device_thread = false;
bool on_device_thread() { return t_on_device_thread; }

namespace {

struct DeviceItem {
  uint64_t priority;
  uint64_t order;  // FIFO among equal priorities
  std::function<void()> work;
  bool operator<(const DeviceItem& o) const { return priority != o.priority ? priority < o.priority : order > o.order; }
};

struct DeviceThread {
  std::mutex mutex;
  std::condition_variable wake;
  std::priority_queue<DeviceItem> items;
  uint64_t posted = 0;

  void loop() {
    t_on_device_thread = true;
    GradMode::set_enabled(false);  // the passes it serves record no graph (create_graph stays on the caller)
    std::unique_lock<std::mutex> lock(mutex);
    for (;;) {
      wake.wait(lock, [&] { return !items.empty(); });
      std::function<void()> work = std::move(const_cast<DeviceItem&>(items.top()).work);
      items.pop();
      lock.unlock();
      work();  // never throws: the engine keeps a node's error in its pass
      work = nullptr;
      lock.lock();
    }
  }
};

constexpr int kMaxDeviceThreads = 64;

}  // namespace

void post_to_device_thread(int device, uint64_t priority, std::function<void()> work) {
  // Never destroyed, their threads detached: interpreter shutdown never waits on them.
  static std::mutex start_mutex;
  static DeviceThread* threads[kMaxDeviceThreads] = {};
  if (device < 0 || device >= kMaxDeviceThreads) device = 0;
  DeviceThread* t;
  {
    std::lock_guard<std::mutex> lock(start_mutex);
    if (!threads[device]) {
      threads[device] = new DeviceThread();
      DeviceThread* fresh = threads[device];
      std::thread([fresh] { fresh->loop(); }).detach();
    }
    t = threads[device];
  }
  {
    std::lock_guard<std::mutex> lock(t->mutex);
    t->items.push({priority, t->posted++, std::move(work)});
  }
  t->wake.notify_one();
}

}  // namespace ember
