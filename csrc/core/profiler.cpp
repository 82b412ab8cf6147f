// Note [Profiler events]: per-thread event buffers and the session that collects them.
#include "core/profiler.h"

#include <chrono>
#include <deque>
#include <memory>
#include <mutex>
#include <utility>

#include "core/cuda.h"
#include "core/error.h"

namespace ember {
namespace profiler {

std::atomic<bool> g_active{false};

namespace {

struct ThreadBuffer {
  std::mutex mutex;
  int32_t number = 0;
  uint64_t session = 0;       // the session its events belong to
  std::deque<Event> events;   // this session's events, in order of opening; chunked: growing never copies them
  std::vector<int64_t> open;  // indices of the open events, innermost last
};

struct Session {
  std::mutex mutex;  // guards `buffers` and the session fields
  std::vector<std::shared_ptr<ThreadBuffer>> buffers;
  uint64_t id = 0;
  bool running = false;
  Options options;
};

Session& session() {
  static Session* s = new Session();  // never destroyed: threads may record during shutdown
  return *s;
}

std::atomic<uint64_t> g_session_id{0};
std::atomic<bool> g_record_shapes{false};
std::atomic<bool> g_profile_memory{false};
std::atomic<bool> g_device_time{false};

// Note [Profiler device time]: timing events, made once and reused (cudaEventCreate costs microseconds).
struct MarkPool {
  std::mutex mutex;
  std::vector<void*> spare[cuda::kMaxDevices];
};
MarkPool& marks() {
  static MarkPool* p = new MarkPool();  // never destroyed, as Session
  return *p;
}

// A timing event recorded now on `device`'s stream; nullptr while the device captures a CUDA graph.
void* mark(int device) {
  cuda::Backend& backend = cuda_backend();
  if (backend.capturing(device)) return nullptr;
  void* event = nullptr;
  {
    MarkPool& pool = marks();
    std::lock_guard<std::mutex> lock(pool.mutex);
    if (!pool.spare[device].empty()) {
      event = pool.spare[device].back();
      pool.spare[device].pop_back();
    }
  }
  if (!event) event = backend.event_create(device, true);
  backend.event_record(event, device);
  return event;
}

// The events' device times (waiting for their marks), and the marks back to the pool.
void measure_devices(std::vector<Event>& events) {
  cuda::Backend* backend = nullptr;
  for (Event& e : events) {
    if (!e.marks[0] || !e.marks[1]) continue;
    if (!backend) backend = &cuda_backend();
    backend->event_synchronize(e.marks[1]);
    e.device_ns = (int64_t)((double)backend->event_elapsed_ms(e.marks[0], e.marks[1]) * 1e6);
  }
  MarkPool& pool = marks();
  std::lock_guard<std::mutex> lock(pool.mutex);
  for (Event& e : events)
    for (void*& m : e.marks)
      if (m) pool.spare[e.device].push_back(std::exchange(m, nullptr));
}

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// This thread's buffer, registered with the session on first use and emptied
// when a new session starts.
ThreadBuffer& buffer() {
  thread_local std::shared_ptr<ThreadBuffer> mine;
  if (!mine) {
    mine = std::make_shared<ThreadBuffer>();
    Session& s = session();
    std::lock_guard<std::mutex> lock(s.mutex);
    mine->number = (int32_t)s.buffers.size();
    s.buffers.push_back(mine);
  }
  return *mine;
}

}  // namespace

void start(const Options& options) {
  Session& s = session();
  std::lock_guard<std::mutex> lock(s.mutex);
  EMBER_CHECK(!s.running, "Profiler is already enabled on this thread");
  s.running = true;
  s.options = options;
  s.id = g_session_id.fetch_add(1) + 1;
  g_record_shapes.store(options.record_shapes);
  g_profile_memory.store(options.profile_memory);
  g_device_time.store(options.device_time);
  g_active.store(true);
}

std::vector<Event> stop() {
  std::vector<Event> out;
  {
    Session& s = session();
    std::lock_guard<std::mutex> lock(s.mutex);
    EMBER_CHECK(s.running, "The profiler is not running");
    g_active.store(false);
    s.running = false;
    int64_t end = now_ns();
    for (auto& b : s.buffers) {
      std::lock_guard<std::mutex> buffer_lock(b->mutex);
      if (b->session != s.id) continue;
      for (auto& e : b->events) {
        if (e.end_ns < 0) e.end_ns = end;  // still open when the profiler stopped
        out.push_back(std::move(e));
      }
      b->events.clear();
      b->open.clear();
    }
  }
  measure_devices(out);  // (outside the locks: it waits for the GPUs)
  return out;
}

bool recording_shapes() { return g_record_shapes.load(std::memory_order_relaxed); }

int64_t open(Kind kind, const char* static_name, std::string name, int device) {
  void* start_mark = device >= 0 && g_device_time.load(std::memory_order_relaxed) ? mark(device) : nullptr;
  ThreadBuffer& b = buffer();
  uint64_t id = g_session_id.load(std::memory_order_relaxed);
  std::lock_guard<std::mutex> lock(b.mutex);
  if (b.session != id) {  // the first event of a new session on this thread
    b.session = id;
    b.events.clear();
    b.open.clear();
  }
  Event& e = b.events.emplace_back();
  e.static_name = static_name;
  e.name = std::move(name);
  e.kind = kind;
  e.thread = b.number;
  e.start_ns = now_ns();
  if (start_mark) e.device = device, e.marks[0] = start_mark;
  int64_t index = (int64_t)b.events.size() - 1;
  b.open.push_back(index);
  return (int64_t)(id << 32) | index;
}

namespace {
// A handle names its session and its index in the thread's buffer: an event
// of a session that stopped (and maybe restarted) meanwhile is not touched.
Event* event_of(ThreadBuffer& b, int64_t handle) {
  int64_t index = handle & 0xffffffff;
  if ((uint64_t)(handle >> 32) != b.session || index >= (int64_t)b.events.size()) return nullptr;
  return &b.events[index];
}
}  // namespace

void close(int64_t handle) {
  int64_t end = now_ns();
  ThreadBuffer& b = buffer();
  std::lock_guard<std::mutex> lock(b.mutex);
  Event* e = event_of(b, handle);
  if (!e || e->end_ns >= 0) return;
  e->end_ns = end;
  if (e->marks[0]) e->marks[1] = mark(e->device);
  int64_t index = handle & 0xffffffff;
  for (auto it = b.open.rbegin(); it != b.open.rend(); ++it)
    if (*it == index) {
      b.open.erase(std::next(it).base());
      break;
    }
}

void set_shapes(int64_t handle, std::vector<std::vector<int64_t>> shapes) {
  ThreadBuffer& b = buffer();
  std::lock_guard<std::mutex> lock(b.mutex);
  if (Event* e = event_of(b, handle)) e->shapes = std::move(shapes);
}

void on_memory(int64_t bytes, bool device) {
  if (!g_profile_memory.load(std::memory_order_relaxed)) return;
  ThreadBuffer& b = buffer();
  std::lock_guard<std::mutex> lock(b.mutex);
  if (!b.open.empty() && b.session == g_session_id.load(std::memory_order_relaxed))
    (device ? b.events[b.open.back()].self_device_bytes : b.events[b.open.back()].self_bytes) += bytes;
}

}  // namespace profiler
}  // namespace ember
