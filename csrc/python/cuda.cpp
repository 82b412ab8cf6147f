// ember.cuda's compiled half (python/ember/cuda/__init__.py): device queries,
// the allocator's statistics, the CUDA generator's seed, and tensors made
// directly on a device. Every function answers a build without CUDA or a
// machine without a GPU as PyTorch's do (0 devices, zero bytes).
#include "core/cuda.h"
#include "kernels/cuda_dispatch.h"
#include "python/bindings.h"
#include "python/registry.h"

namespace ember {
namespace bind {

// generator= of the private random fills: None (the default stream) or a Generator(device="cuda").
static Generator* cuda_generator(const py::object& generator) {
  if (generator.is_none()) return nullptr;
  auto* g = generator.cast<Generator*>();
  EMBER_CHECK(g->device.type == DeviceType::CUDA, "Expected a 'cuda' device type for generator but found '",
              g->device.type_name(), "'");
  return g;
}

namespace {

int device_index(int device) {
  return device >= 0 ? device : cuda_call([] { return cuda_backend().current_device(); });
}

}  // namespace

// Note [Sync debug mode]: a warning where Python code can see it (possibly from the device thread).
static void warn_synchronizing_op(const char* message) {
  py::gil_scoped_acquire gil;
  if (PyErr_WarnEx(PyExc_UserWarning, message, 1) != 0) throw py::error_already_set();
}

void init_cuda(py::module_& m) {
  set_sync_warning_handler(&warn_synchronizing_op);
  m.def("_cuda_set_sync_debug_mode", &set_sync_debug_mode, "Note [Sync debug mode]: 0, 1 (warn) or 2 (raise).",
        py::arg("mode"));
  m.def("_cuda_get_sync_debug_mode", &sync_debug_mode, "The sync debug mode (0, 1 or 2).");
  m.def(
      "_cuda_reset_accumulated_memory_stats",
      [](int device) {
        if (cuda_device_count())
          cuda_call([&] { cuda_backend().reset_accumulated_memory_stats(device_index(device)); });
      },
      "Sets the allocator's counts (allocations, cache hits) to zero.", py::arg("device") = -1);
  m.def(
      "_cuda_set_memory_fraction",
      [](double fraction, int device) {
        cuda_call([&] { cuda_backend().set_memory_fraction(device_index(device), fraction); });
      },
      "Caps the bytes the caching allocator holds on the device at fraction * its memory.", py::arg("fraction"),
      py::arg("device") = -1);
  m.def(
      "_cuda_memory_fraction",
      [](int device) { return cuda_call([&] { return cuda_backend().memory_fraction(device_index(device)); }); },
      "The device's memory fraction (1.0 unless set).", py::arg("device") = -1);
  m.def(
      "_cuda_can_access_peer",
      [](int device, int peer) { return cuda_call([&] { return cuda_backend().can_access_peer(device, peer); }); },
      "Whether `device` can read `peer`'s memory directly.", py::arg("device"), py::arg("peer"));
  m.def("_cuda_built", &cuda_built, "Whether ember was built with its CUDA backend (libember_cuda.so).");
  m.def("_cuda_device_count", &cuda_device_count, "The number of CUDA devices (0 without CUDA).");
  m.def("_cuda_current_device", [] { return device_index(-1); }, "The current CUDA device's index.");
  m.def(
      "_cuda_set_device",
      [](int device) {
        resolve_cuda_device(Device{DeviceType::CUDA, device});
        cuda_call([&] { cuda_backend().set_device(device); });
      },
      "Makes `device` the current CUDA device.", py::arg("device"));
  m.def(
      "_cuda_synchronize",
      [](int device) {
        py::gil_scoped_release no_gil;
        cuda_call([&] { cuda_backend().synchronize(device_index(device)); });
      },
      "Waits for every kernel queued on the device.", py::arg("device") = -1);
  m.def(
      "_cuda_device_name", [](int device) { return std::string(cuda_backend().device_name(device_index(device))); },
      "The device's name.", py::arg("device") = -1);
  m.def(
      "_cuda_device_properties",
      [](int device) {
        const cuda::DeviceProperties p =
            cuda_call([&] { return cuda_backend().device_properties(device_index(device)); });
        py::dict d;
        d["name"] = std::string(p.name);
        d["major"] = p.major, d["minor"] = p.minor, d["multi_processor_count"] = p.multi_processor_count;
        d["total_memory"] = p.total_memory;
        return d;
      },
      "The device's name, compute capability, memory and multiprocessor count.", py::arg("device") = -1);
  m.def(
      "_cuda_mem_get_info",
      [](int device) {
        uint64_t free_bytes = 0, total = 0;
        cuda_call([&] { cuda_backend().mem_get_info(device_index(device), &free_bytes, &total); });
        return py::make_tuple(free_bytes, total);
      },
      "The device's free and total memory in bytes, as the driver counts them.", py::arg("device") = -1);
  // Events as integer handles: ember.cuda.Event owns one and destroys it.
  m.def(
      "_cuda_event_create",
      [](int device, bool timing) {
        return reinterpret_cast<uintptr_t>(
            cuda_call([&] { return cuda_backend().event_create(device_index(device), timing); }));
      },
      "A CUDA event on `device` (with timing: elapsed_time works).", py::arg("device"), py::arg("timing"));
  m.def(
      "_cuda_event_destroy", [](uintptr_t e) { cuda_call([&] { cuda_backend().event_destroy((void*)e); }); },
      "Destroys an event.", py::arg("event"));
  m.def(
      "_cuda_event_record",
      [](uintptr_t e, int device) { cuda_call([&] { cuda_backend().event_record((void*)e, device_index(device)); }); },
      "Records the event on the device's stream.", py::arg("event"), py::arg("device"));
  m.def(
      "_cuda_event_synchronize",
      [](uintptr_t e) {
        py::gil_scoped_release released;
        cuda_call([&] { cuda_backend().event_synchronize((void*)e); });
      },
      "Waits for the work recorded before the event.", py::arg("event"));
  m.def(
      "_cuda_event_query", [](uintptr_t e) { return cuda_call([&] { return cuda_backend().event_query((void*)e); }); },
      "Whether the work recorded before the event has run.", py::arg("event"));
  m.def(
      "_cuda_event_elapsed_ms",
      [](uintptr_t start, uintptr_t end) {
        return cuda_call([&] { return cuda_backend().event_elapsed_ms((void*)start, (void*)end); });
      },
      "Milliseconds between two recorded timing events.", py::arg("start"), py::arg("end"));
  // Interop with other CUDA code: handles as integers, as PyTorch's cuda_stream and current_blas_handle.
  m.def(
      "_cuda_stream_handle",
      [](int device) {
        return reinterpret_cast<uintptr_t>(
            cuda_call([&] { return cuda_backend().stream_handle(device_index(device)); }));
      },
      "The cudaStream_t ember queues the device's work on.", py::arg("device") = -1);
  m.def(
      "_cuda_blas_handle",
      [](int device) {
        return reinterpret_cast<uintptr_t>(cuda_call([&] { return cuda_backend().blas_handle(device_index(device)); }));
      },
      "The device's cublasHandle_t.", py::arg("device") = -1);
  m.def(
      "_cuda_error_string",
      [](int code) { return std::string(cuda_call([&] { return cuda_backend().error_string(code); })); },
      "CUDA's words for a cudaError_t code.", py::arg("code"));
  m.def(
      "_cuda_stream_wait_event",
      [](uintptr_t stream, uintptr_t event) {
        cuda_call([&] { cuda_backend().stream_wait_event((void*)stream, (void*)event); });
      },
      "Work queued on the stream later runs after the event's recorded point.", py::arg("stream"), py::arg("event"));
  m.def(
      "_cuda_stream_wait_stream",
      [](uintptr_t waiting, uintptr_t waited, int waited_device) {
        cuda_call([&] { cuda_backend().stream_wait_stream((void*)waiting, (void*)waited, waited_device); });
      },
      "Work queued on `waiting` later runs after the work queued on `waited` so far.", py::arg("waiting"),
      py::arg("waited"), py::arg("waited_device"));
  // CUDA graphs (python/ember/cuda/graphs.py): captured graphs as integer handles.
  m.def(
      "_cuda_capture_begin",
      [](int device, uint64_t pool) {
        const int index = device_index(device);
        cuda_call([&] { cuda_backend().capture_begin(index, pool); });
        kernels::cuda_dispatch::rng_capture_begin(index);
      },
      "Starts capturing the device's stream into a graph; allocations come from the private pool.", py::arg("device"),
      py::arg("pool"));
  m.def(
      "_cuda_capture_end",
      [](int device) {
        const int index = device_index(device);
        const uint64_t counters = kernels::cuda_dispatch::rng_capture_end(index);
        const auto graph = reinterpret_cast<uintptr_t>(cuda_call([&] { return cuda_backend().capture_end(index); }));
        return py::make_tuple(graph, counters);
      },
      "Ends the capture: (the graph, ready to replay; the random counters each replay draws).", py::arg("device"));
  m.def(
      "_cuda_graph_replay",
      [](uintptr_t g, uint64_t counters) { kernels::cuda_dispatch::graph_replay((void*)g, counters); },
      "Queues the captured graph's work again (its random numbers from the generator's next counters).",
      py::arg("graph"), py::arg("counters"));
  m.def(
      "_cuda_graph_destroy", [](uintptr_t g) { cuda_call([&] { cuda_backend().graph_destroy((void*)g); }); },
      "Frees a captured graph.", py::arg("graph"));
  m.def(
      "_cuda_capturing",
      [](int device) {
        return cuda_device_count() > 0 && cuda_call([&] { return cuda_backend().capturing(device_index(device)); });
      },
      "Whether the device is capturing a graph.", py::arg("device") = -1);
  m.def(
      "_cuda_refuse_draw_in_capture", [](int device) { refuse_draw_in_capture(Device{DeviceType::CUDA, device}); },
      "Raises while the device captures a CUDA graph (random numbers made on the host, then copied there).",
      py::arg("device"));
  m.def(
      "_cuda_release_pool",
      [](int device, uint64_t pool) { cuda_call([&] { cuda_backend().release_pool(device, pool); }); },
      "Lets a private pool's blocks join the cache (no graph uses it any more).", py::arg("device"), py::arg("pool"));
  m.def(
      "_cuda_use_pool", [](int device, uint64_t pool) { cuda_call([&] { cuda_backend().use_pool(device, pool); }); },
      "Routes the device's allocations to a private pool while it does not capture (0: the cache again).",
      py::arg("device"), py::arg("pool"));
  m.def(
      "_cuda_memory_blocks",
      [](int device) {
        py::list blocks;
        if (cuda_device_count() == 0) return blocks;
        std::vector<cuda::MemoryBlock> found(64);
        int64_t n = 0;
        while ((n = cuda_call([&] {
                  return cuda_backend().memory_blocks(device, found.data(), (int64_t)found.size());
                })) > (int64_t)found.size())
          found.resize((size_t)n);
        for (int64_t i = 0; i < n; ++i) {
          const cuda::MemoryBlock& b = found[(size_t)i];
          blocks.append(py::make_tuple(b.address, b.size, b.requested, b.pool, b.active));
        }
        return blocks;
      },
      "The caching allocator's blocks on the device: (address, size, requested, pool, active) each.",
      py::arg("device"));
  m.def(
      "_cuda_set_caching",
      [](bool enabled) {
        if (cuda_device_count()) cuda_call([&] { cuda_backend().set_caching(enabled); });
      },
      "Whether freed blocks are cached for reuse (else given back to CUDA at once).", py::arg("enabled"));
  m.def(
      "_cuda_host_memory_stats",
      []() {
        py::dict out;
        if (cuda_device_count() == 0) return out;
        const cuda::HostMemoryStats s = cuda_call([&] { return cuda_backend().host_memory_stats(); });
        auto stat = [&](const char* name, const cuda::HostStat& v) {
          out[name] = py::make_tuple(v.current, v.peak, v.allocated, v.freed);
        };
        stat("allocations", s.allocations);
        stat("allocated_bytes", s.allocated_bytes);
        stat("active_requests", s.active_requests);
        stat("active_bytes", s.active_bytes);
        out["host_alloc_time"] = py::make_tuple(s.alloc_us_total, s.alloc_us_max, s.alloc_us_min, s.alloc_count);
        out["host_free_time"] = py::make_tuple(s.free_us_total, s.free_us_max, s.free_us_min, s.free_count);
        return out;
      },
      "The pinned host allocator's counters: (current, peak, allocated, freed) each, and (total, max, min, count) "
      "microseconds of cudaHostAlloc and cudaFreeHost.");
  m.def(
      "_cuda_reset_host_memory_stats",
      [](bool peaks) {
        if (cuda_device_count()) cuda_call([&] { cuda_backend().reset_host_memory_stats(peaks); });
      },
      "Resets the pinned allocator's peaks (peaks=True) or its accumulated counts.", py::arg("peaks"));
  m.def(
      "_cuda_raw_alloc",
      [](size_t nbytes, int device) {
        return reinterpret_cast<uintptr_t>(
            cuda_call([&] { return cuda_backend().alloc(nbytes, device_index(device)); }));
      },
      "nbytes of device memory from the caching allocator (caching_allocator_alloc).", py::arg("nbytes"),
      py::arg("device") = -1);
  m.def(
      "_cuda_raw_free",
      [](uintptr_t p, size_t nbytes, int device) {
        cuda_call([&] { cuda_backend().free((void*)p, nbytes, device_index(device)); });
      },
      "Gives _cuda_raw_alloc's block back to the caching allocator.", py::arg("ptr"), py::arg("nbytes"),
      py::arg("device"));
  m.def(
      "_cuda_memory_stats",
      [](int device) {
        if (cuda_device_count() == 0) return py::dict();  // PyTorch's zeros without CUDA
        cuda::MemoryStats s = cuda_call([&] { return cuda_backend().memory_stats(device_index(device)); });
        return py::dict(py::arg("allocated") = s.allocated, py::arg("max_allocated") = s.max_allocated,
                        py::arg("reserved") = s.reserved, py::arg("max_reserved") = s.max_reserved,
                        py::arg("allocations") = s.allocations, py::arg("cache_hits") = s.cache_hits);
      },
      "The caching allocator's byte counts on the device (empty without CUDA).", py::arg("device") = -1);
  m.def(
      "_cuda_reset_peak_memory_stats",
      [](int device) {
        if (cuda_device_count()) cuda_call([&] { cuda_backend().reset_peak_memory_stats(device_index(device)); });
      },
      "Resets the peaks to the current counts.", py::arg("device") = -1);
  m.def(
      "_cuda_empty_cache",
      [] {
        if (cuda_device_count()) cuda_call([] { cuda_backend().empty_cache(); });
      },
      "Gives the allocator's cached blocks back to CUDA.");
  m.def("_cuda_manual_seed", &kernels::cuda_dispatch::manual_seed, "Seeds the CUDA generator (Philox).",
        py::arg("seed"));
  m.def("_cuda_initial_seed", &kernels::cuda_dispatch::initial_seed, "The CUDA generator's seed.");
  m.def("_cuda_rng_state", &kernels::cuda_dispatch::rng_state, "The CUDA generator's (seed, offset).");
  m.def("_cuda_set_rng_state", &kernels::cuda_dispatch::set_rng_state, "Sets the CUDA generator's seed and offset.",
        py::arg("seed"), py::arg("offset"));
  m.def(
      "_empty_on",
      [](const Shape& s, DType d, const Device& device, std::optional<double> fill) {
        Tensor t = empty(s, d, device);
        if (fill) kernels::fill(t, *fill);  // made so, not written after: version 0, as PyTorch's zeros
        return t;
      },
      "A tensor on `device`, uninitialised or filled with `fill`.", py::arg("size"), py::arg("dtype"),
      py::arg("device"), py::arg("fill") = py::none());
  def_private(
      m, "_pin_memory", [](const Tensor& t) { return pin_memory(t); },
      "A copy of a CPU tensor in page-locked memory (itself when it is there; Note [Pinned memory]).", py::arg("self"));
  m.def(
      "_is_pinned", [](const Tensor& t) { return t->storage()->pinned; },
      "Whether the tensor's memory is page-locked (Note [Pinned memory]).", py::arg("self"));
  m.def(
      "_cuda_random_",
      [](const Tensor& t, bool normal, double a, double b, py::object generator) {
        EMBER_CHECK(t->device().type == DeviceType::CUDA, "_cuda_random_: expected a CUDA tensor");
        Generator* gen = cuda_generator(generator);
        if (normal)
          kernels::cuda_dispatch::normal(t, a, b, gen);
        else
          kernels::cuda_dispatch::uniform(t, a, b, gen);
        return t;  // a fresh tensor's values: its version stays 0, as PyTorch's randn
      },
      "Fills a fresh CUDA tensor with uniform [a, b) or normal (mean a, std b) numbers from the Philox stream "
      "(generator's own, a Generator(device='cuda'), when given).",
      py::arg("tensor"), py::arg("normal"), py::arg("a"), py::arg("b"), py::arg("generator") = py::none());
  m.def(
      "_cuda_randint_",
      [](const Tensor& t, int64_t low, int64_t high, py::object generator) {
        EMBER_CHECK(t->device().type == DeviceType::CUDA, "_cuda_randint_: expected a CUDA tensor");
        kernels::cuda_dispatch::randint(t, low, high, cuda_generator(generator));
        return t;
      },
      "Fills a fresh CUDA tensor with integers in [low, high) from the Philox stream (generator's own when given).",
      py::arg("tensor"), py::arg("low"), py::arg("high"), py::arg("generator") = py::none());
}

}  // namespace bind
}  // namespace ember
