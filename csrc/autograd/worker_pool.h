#pragma once
// The threads that help the backward executor run independent nodes at the
// same time (Note [Parallel backward] in engine.cpp). Started on first use,
// they sleep on a condition variable until a backward pass asks for help.
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>

namespace ember {

// One request for help: `work` runs once on each helper thread that takes it.
// The requester must call wait() before `work` (and what it uses) goes away.
struct HelperGroup {
  std::function<void()> work;
  void wait();  // until every helper that took `work` has returned from it

 private:
  friend class WorkerPool;
  friend struct PoolThreads;
  void returned();  // a helper is done with `work`
  std::mutex mutex;
  std::condition_variable done;
  int running = 0;
};

class WorkerPool {
 public:
  static WorkerPool& instance();
  // Hands `group.work` to `helpers` pool threads (started if needed).
  void help(HelperGroup& group, int helpers);
};

// True on a pool thread: a backward started there (a hook or a custom Function
// calling backward inside a backward) runs serially on that thread.
bool on_worker_thread();

// The thread of CUDA device `device` (Note [Device threads] in engine.cpp), started on first
// use, runs `work`; among queued items the highest `priority` runs first. Items of several
// backward passes (nested ones included) share the queue.
void post_to_device_thread(int device, uint64_t priority, std::function<void()> work);
// True on a device thread: a backward started there runs serially on it.
bool on_device_thread();

}  // namespace ember
