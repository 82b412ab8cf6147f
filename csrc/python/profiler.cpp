// The profiler's Python face (ember.profiler, ember.autograd.profiler): start
// and stop a session, user ranges; Note [Profiler events].
#include "core/profiler.h"
#include "python/bindings.h"

namespace ember {
namespace bind {

void init_profiler(py::module_& m) {
  m.def(
      "_profiler_start",
      [](bool record_shapes, bool profile_memory, bool device_time) {
        profiler::start({record_shapes, profile_memory, device_time});
      },
      "Starts recording events (RuntimeError when a session is running); device_time: the GPU time of the ops "
      "that run on one (Note [Profiler device time]).",
      py::arg("record_shapes"), py::arg("profile_memory"), py::arg("device_time") = false);
  m.def(
      "_profiler_stop",
      [] {
        std::vector<profiler::Event> events;
        {
          py::gil_scoped_release unlocked;  // other threads may be recording: let them finish their event
          events = profiler::stop();
        }
        py::list out;
        for (auto& e : events)
          out.append(py::make_tuple(e.static_name ? py::str(e.static_name) : py::str(e.name), (int)e.kind, e.thread,
                                    e.start_ns, e.end_ns, e.self_bytes, e.self_device_bytes, py::cast(e.shapes),
                                    e.device_ns, e.device));
        return out;
      },
      "Stops recording; the events as (name, kind, thread, start_ns, end_ns, self_bytes, self_device_bytes, shapes, "
      "device_ns, device) tuples (bytes of host and of CUDA memory; device_ns -1 unless its GPU time was measured, "
      "on GPU `device`), kind 0 for an op, 1 a backward node, 2 a user range.");
  m.def("_profiler_enabled", &profiler::active, "Whether a profiler session is recording.");
  m.def(
      "_record_function_enter",
      [](const std::string& name) {
        return profiler::active() ? profiler::open(profiler::Kind::User, nullptr, name) : -1;
      },
      "Opens a user range (record_function); returns its handle.", py::arg("name"));
  m.def(
      "_record_function_exit", [](int64_t handle) { profiler::close(handle); }, "Closes a user range.",
      py::arg("handle"));
}

}  // namespace bind
}  // namespace ember
