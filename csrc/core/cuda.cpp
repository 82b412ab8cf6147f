// Loading the CUDA backend (Note [CUDA backend]) and asking the driver about devices.
#include "core/cuda.h"

#include <dlfcn.h>

#include <sys/stat.h>
#include <atomic>
#include <cstdlib>
#include <mutex>
#include <string>

namespace ember {
namespace {

// The folder holding ember._C (this code), where libember_cuda.so is installed.
std::string module_folder() {
  Dl_info info;
  if (!dladdr(reinterpret_cast<void*>(&cuda_built), &info) || !info.dli_fname) return ".";
  std::string path = info.dli_fname;
  auto slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

// EMBER_CUDA_BACKEND=emulated: the host emulation (Note [CUDA host emulation]), for tests
// on machines without a GPU; it counts its own device instead of asking the driver.
bool emulated() {
  static const bool on = [] {
    const char* v = std::getenv("EMBER_CUDA_BACKEND");
    return v && std::string(v) == "emulated";
  }();
  return on;
}

const std::string& backend_path() {
  static const std::string path = module_folder() + (emulated() ? "/libember_cuda_emulated.so" : "/libember_cuda.so");
  return path;
}

// The driver's answer through libcuda itself, not the backend: asking must not
// load cuBLAS. -1: no driver library at all.
int driver_device_count() {
  void* lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!lib) return -1;
  using Init = int (*)(unsigned);
  using Count = int (*)(int*);
  auto init = reinterpret_cast<Init>(dlsym(lib, "cuInit"));
  auto count = reinterpret_cast<Count>(dlsym(lib, "cuDeviceGetCount"));
  int n = 0;
  if (!init || !count || init(0) != 0 || count(&n) != 0) n = 0;
  return n;  // the library stays loaded: the backend's cudart uses it next
}

// The emulation has at least one device; how many, its runtime says (cuda_device_count).
int cached_driver_count() {
  static const int n = emulated() ? 1 : driver_device_count();
  return n;
}

}  // namespace

bool cuda_built() {
  struct stat st;
  return stat(backend_path().c_str(), &st) == 0;
}

int cuda_device_count() {
  if (!cuda_built()) return 0;
  if (emulated()) {  // EMBER_CUDA_EMULATED_DEVICES, read by the emulation's runtime alone
    static const int n = cuda_call([] { return cuda_backend().device_count(); });
    return n;
  }
  return std::max(cached_driver_count(), 0);
}

cuda::Backend& cuda_backend() {
  static std::once_flag once;
  static cuda::Backend* backend = nullptr;
  static std::string failure;
  std::call_once(once, [] {
    if (!cuda_built()) {
      failure = "ember was built without CUDA support: ember.cuda.is_available() is False; use device='cpu'";
      return;
    }
    if (cached_driver_count() < 0) {
      failure =
          "Found no NVIDIA driver on your system. Please check that you have an NVIDIA GPU and installed a driver "
          "from http://www.nvidia.com/Download/index.aspx";
      return;
    }
    if (cached_driver_count() == 0) {
      failure = "No CUDA GPUs are available";
      return;
    }
    void* lib = dlopen(backend_path().c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
      failure = std::string("ember could not load its CUDA backend (") + dlerror() +
                "); is nvidia-cublas installed (pip install ember[cuda])?";
      return;
    }
    auto entry = reinterpret_cast<cuda::Backend* (*)()>(dlsym(lib, "ember_cuda_backend"));
    cuda::Backend* b = entry ? entry() : nullptr;
    if (!b || b->version() != cuda::kBackendVersion) {
      failure = "ember's CUDA backend (" + backend_path() + ") is from another version of ember; reinstall ember";
      return;
    }
    backend = b;
  });
  EMBER_CHECK(backend, failure);
  return *backend;
}

Device resolve_cuda_device(Device device) {
  cuda::Backend& b = cuda_backend();
  if (device.index < 0) device.index = cuda_call([&] { return b.current_device(); });
  EMBER_CHECK(device.index < cuda_device_count(), "CUDA error: invalid device ordinal (device ", device.str(),
              " requested, ", cuda_device_count(), " available)");
  return device;
}

cuda::TensorArg cuda_arg(const TensorImpl& t) {
  EMBER_CHECK(t.dim() <= cuda::kMaxDims, "ember's CUDA kernels take tensors of at most ", cuda::kMaxDims,
              " dimensions, got ", t.dim());
  cuda::TensorArg a;
  if (t.device().is_cpu()) {
    EMBER_ASSERT(t.dim() == 0);  // check_same_device lets only 0-d CPU tensors join CUDA ones
    a.host_scalar = true;
    dispatch_all(t.dtype(), [&](auto tag) {
      using T = typename decltype(tag)::type;
      const T v = *reinterpret_cast<const T*>(t.raw_data_ptr());
      a.scalar = convert<double>(v);
      a.int_scalar = convert<int64_t>(v);
    });
    a.dtype = (int)t.dtype();
    return a;
  }
  a.data = static_cast<char*>(t.storage()->data) + t.offset() * (int64_t)itemsize(t.dtype());
  a.dtype = (int)t.dtype();
  a.device = t.device().index;
  a.ndim = (int)t.dim();
  for (int d = 0; d < a.ndim; ++d) {
    a.sizes[d] = t.size(d);
    a.strides[d] = t.stride(d);
  }
  return a;
}

void rethrow_cuda_error() {
  try {
    throw;
  } catch (const std::invalid_argument& e) { throw MissingKernel(e.what()); } catch (const std::out_of_range& e) {
    throw Error(ErrorKind::Index, e.what());
  }
}

// Note [Sync debug mode]
static std::atomic<int> g_sync_debug_mode{0};
static std::atomic<void (*)(const char*)> g_sync_warning_handler{nullptr};
void set_sync_debug_mode(int mode) { g_sync_debug_mode.store(mode); }
int sync_debug_mode() { return g_sync_debug_mode.load(std::memory_order_relaxed); }
void set_sync_warning_handler(void (*handler)(const char*)) { g_sync_warning_handler.store(handler); }
void note_synchronizing_op() {
  const int mode = sync_debug_mode();
  if (mode == 0) return;
  static const char* const kWords = "called a synchronizing CUDA operation";
  if (mode == 2) EMBER_FAIL(Runtime, kWords);
  if (auto handler = g_sync_warning_handler.load()) handler(kWords);
}

void refuse_draw_in_capture(Device device) {
  if (device.type != DeviceType::CUDA) return;
  const bool capturing = cuda_call(
      [&] { return cuda_backend().capturing(device.index >= 0 ? device.index : cuda_backend().current_device()); });
  if (!capturing) return;
  EMBER_FAIL(Runtime, "random numbers drawn on the host (with a CPU generator=) for ", device.str(),
             " while a CUDA graph is captured: ember's graph would replay the same numbers every time; draw them "
             "outside the capture, into a tensor the graph reads");
}

void fail_missing_kernel(const TensorImpl& t) {
  throw MissingKernel("ember has no CUDA kernel for it yet (input on " + t.device().str() + ")");
}

[[noreturn]] static void fail_two_devices(const TensorImpl& a, const TensorImpl& b) {
  // PyTorch names the CUDA device first, whichever operand it is
  const Device& first = a.device().is_cpu() ? b.device() : a.device();
  const Device& second = a.device().is_cpu() ? a.device() : b.device();
  EMBER_FAIL(Runtime, "Expected all tensors to be on the same device, but found at least two devices, ", first.str(),
             " and ", second.str(), "!");
}

void check_same_device(const TensorImpl& a, const TensorImpl& b) {
  if (a.device() == b.device()) return;
  if ((a.device().is_cpu() && a.dim() == 0) || (b.device().is_cpu() && b.dim() == 0)) return;
  fail_two_devices(a, b);
}

void check_device_strict(const TensorImpl& a, const TensorImpl& b) {
  if (a.device() != b.device()) fail_two_devices(a, b);
}

void check_operand_device(const TensorImpl& self, const TensorImpl& other) {
  if (self.device() != other.device() && !(other.device().is_cpu() && other.dim() == 0)) fail_two_devices(self, other);
}

}  // namespace ember
