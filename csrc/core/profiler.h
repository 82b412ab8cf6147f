#pragma once
// Note [Profiler events]
// ember.profiler records, in C++, one event per forward op called from
// Python (the registry wraps every op: Note [Op registry]), per backward node
// the engine runs (with the executor thread that ran it), per user range
// (record_function) and, with profile_memory, the bytes each event's storage
// allocations and frees add up to. With no profiler active each op pays one
// relaxed atomic load (active()). Events go to per-thread buffers, each with
// its own lock (taken by its thread, and by stop() when collecting), so
// threads never contend; stop() hands every thread's events to Python, which
// computes self times, averages, tables and Chrome traces.
//
// Note [Profiler device time]
// With the CUDA activity (ProfilerActivity.CUDA, use_device="cuda"), an op or
// backward node that runs on a GPU also records a timing event on that
// device's stream when it opens and when it closes, as PyTorch's legacy CUDA
// profiler did: the stream runs in order, so the GPU time between the two is
// the time its kernels took there (plus any wait for the host). stop() waits
// for the marks and reports each event's device time. Marks come from a pool
// of CUDA events kept across sessions; none are recorded while the device
// captures a CUDA graph.
#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

namespace ember {
namespace profiler {

extern std::atomic<bool> g_active;
inline bool active() { return g_active.load(std::memory_order_relaxed); }

enum class Kind : uint8_t { Op = 0, Backward = 1, User = 2 };

struct Event {
  const char* static_name = nullptr;  // an op's registry name (lives as long as the module)
  std::string name;                   // otherwise: a node's or a user range's name
  Kind kind = Kind::Op;
  int32_t thread = 0;                        // the recording thread's number, in order of first event
  int64_t start_ns = 0, end_ns = -1;         // steady clock; end -1 while open
  int64_t self_bytes = 0;                    // allocated minus freed while it was the thread's innermost event
  int64_t self_device_bytes = 0;             // the same on CUDA devices
  std::vector<std::vector<int64_t>> shapes;  // input shapes, with record_shapes
  int device = -1;                           // Note [Profiler device time]: the GPU it ran on, if marked
  void* marks[2] = {nullptr, nullptr};       // its timing events there (open, close)
  int64_t device_ns = -1;                    // the GPU time between them, filled by stop()
};

struct Options {
  bool record_shapes = false;
  bool profile_memory = false;
  bool device_time = false;  // Note [Profiler device time]
};

// Starts a session (RuntimeError if one is running); stop() ends it and
// returns its events, each thread's in the order they started.
void start(const Options& options);
std::vector<Event> stop();
bool recording_shapes();

// Opens an event on this thread; close(handle) ends it (-1: not recorded). `device` >= 0: the GPU the
// event runs on, marked there when the session records device time (Note [Profiler device time]).
int64_t open(Kind kind, const char* static_name, std::string name, int device = -1);
void close(int64_t handle);
// Input shapes of the event just opened on this thread.
void set_shapes(int64_t handle, std::vector<std::vector<int64_t>> shapes);
// Storage allocations (+) and frees (-), host or CUDA memory, charged to this thread's innermost open event.
void on_memory(int64_t bytes, bool device = false);

// RAII: an event from construction to destruction, when a session is active.
class Scope {
 public:
  Scope(Kind kind, const char* static_name, std::string name = {}, int device = -1)
      : handle_(active() ? open(kind, static_name, std::move(name), device) : -1) {}
  ~Scope() {
    if (handle_ >= 0) close(handle_);
  }
  int64_t handle() const { return handle_; }
  Scope(const Scope&) = delete;
  Scope& operator=(const Scope&) = delete;

 private:
  int64_t handle_;
};

}  // namespace profiler
}  // namespace ember
