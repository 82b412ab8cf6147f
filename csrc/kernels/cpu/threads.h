// What the backward executor tells the thread budget (threads.cpp): ember's
// own helper threads at work, whose competition for the cores is not a busy
// machine (Note [Busy machine]).
#pragma once

namespace ember {
namespace kernels {

// While at least one scope is alive, the busy-machine check neither judges
// nor keeps the run-queue waits of that time as evidence.
struct OwnHelpersScope {
  OwnHelpersScope();
  ~OwnHelpersScope();
  OwnHelpersScope(const OwnHelpersScope&) = delete;
  OwnHelpersScope& operator=(const OwnHelpersScope&) = delete;
};

}  // namespace kernels
}  // namespace ember
