#include "autograd/worker_pool.h"

#include <deque>
#include <thread>
#include <vector>

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

}  // namespace ember
