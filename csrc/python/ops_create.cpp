// Creation and random-number bindings. The public creation functions
// (ember.zeros, ember.tensor, ...) parse their arguments in Python
// (ember/_creation.py) and call the private ones here.
#include <cstring>
#include <sstream>
#include "kernels/cuda_dispatch.h"

#include "core/rng.h"
#include "kernels/cpu/packed_gemm.h"
#include "kernels/cpu/vec_math.h"
#include "python/registry.h"

namespace ember {
namespace bind {

static bool on_cuda(const Generator& g) { return g.device.type == DeviceType::CUDA; }

// A generator's state as a tensor (torch.Generator.get_state's form): a CUDA generator's 16 uint8
// bytes, its Philox seed then offset (as ember.cuda.get_rng_state); otherwise the seed, then the
// engine's state in the standard library's text form.
static Tensor generator_state(Generator& g) {
  std::lock_guard<std::mutex> lock(g.mutex);
  if (on_cuda(g)) {
    Tensor t = empty({16}, DType::UInt8);
    const uint64_t words[2] = {g.seed, g.philox_offset};
    std::memcpy(t->data<uint8_t>(), words, sizeof words);
    return t;
  }
  std::ostringstream s;
  s << g.seed << ' ' << g.engine;
  std::string text = s.str();
  Tensor t = empty({(int64_t)text.size()}, DType::Int64);
  for (size_t i = 0; i < text.size(); ++i) t->data<int64_t>()[i] = (unsigned char)text[i];
  return to_dtype(t, DType::Int64);
}

static void set_generator_state(Generator& g, const Tensor& state) {
  if (on_cuda(g)) {
    EMBER_CHECK(state->dim() == 1 && state->numel() == 16 && state->dtype() == DType::UInt8,
                "set_state: a CUDA generator's state is the 16 uint8 bytes get_state() returns, got a ",
                dtype_name(state->dtype()), " tensor of shape ", detail::cat(state->sizes()));
    Tensor c = contiguous(state->device().is_cpu() ? state : to_device(state, Device{}, state->dtype()));
    uint64_t words[2];
    std::memcpy(words, c->data<uint8_t>(), sizeof words);
    std::lock_guard<std::mutex> lock(g.mutex);
    g.seed = words[0];
    g.philox_offset = words[1];
    return;
  }
  EMBER_CHECK(state->dim() == 1 && is_integral(state->dtype(), false),
              "set_state: expected the 1-D integer tensor get_state() returned, got a ", dtype_name(state->dtype()),
              " tensor of shape ", detail::cat(state->sizes()));
  Tensor c = contiguous(to_dtype(state, DType::Int64));
  std::string text;
  for (int64_t i = 0; i < c->numel(); ++i) text += (char)c->data<int64_t>()[i];
  std::istringstream s(text);
  uint64_t seed = 0;
  std::mt19937_64 engine;
  s >> seed >> engine;
  EMBER_CHECK(!s.fail(), "set_state: the tensor is not a generator state (get_state() makes one)");
  std::lock_guard<std::mutex> lock(g.mutex);
  g.seed = seed;
  g.engine = engine;
}

void register_creation_ops(OpRegistry& r) {
  py::module_& m = r.module();
  m.def(
      "_full",
      [](const Shape& s, py::handle v, DType d) {
        Tensor value = require_operand(v, "full", "fill_value"), t = empty(s, d);
        NoGradGuard no_grad;
        return fill_(t, value);  // checked and exact (Note [Scalar overflow])
      },
      "A tensor of shape size filled with fill_value.", py::arg("size"), py::arg("fill_value"), py::arg("dtype"));
  m.def(
      "_zeros", [](const Shape& s, DType d) { return zeros(s, d); }, "A tensor of zeros.", py::arg("size"),
      py::arg("dtype"));
  m.def(
      "_ones", [](const Shape& s, DType d) { return ones(s, d); }, "A tensor of ones.", py::arg("size"),
      py::arg("dtype"));
  m.def(
      "_empty", [](const Shape& s, DType d) { return empty(s, d); }, "An uninitialised tensor.", py::arg("size"),
      py::arg("dtype"));
  m.def(
      "_arange", [](double a, double b, double s, DType d) { return arange(a, b, s, d); },
      "Values from start to end (exclusive) by step.", py::arg("start"), py::arg("end"), py::arg("step"),
      py::arg("dtype"));
  m.def(
      "_linspace", [](double a, double b, int64_t n, DType d) { return linspace(a, b, n, d); },
      "steps values evenly spaced from start to end.", py::arg("start"), py::arg("end"), py::arg("steps"),
      py::arg("dtype"));
  m.def(
      "_eye", [](int64_t n, int64_t k, DType d) { return eye(n, k, d); }, "An n x m identity matrix.", py::arg("n"),
      py::arg("m"), py::arg("dtype"));
  py::class_<Generator>(m, "Generator", "A random number generator, passed as generator= to the random functions.")
      .def(py::init([](py::object device) {
             auto g = std::make_unique<Generator>();
             if (!device.is_none()) {
               g->device = py::isinstance<Device>(device) ? device.cast<Device>() : parse_device(py::str(device));
               check_device_available(g->device);
               if (g->device.type == DeviceType::CUDA && g->device.index < 0)  // as PyTorch: the current device
                 g->device.index = py::module_::import("ember.cuda").attr("current_device")().cast<int>();
             }
             return g.release();
           }),
           py::arg("device") = py::none())
      .def(
          "manual_seed",
          [](py::object self, uint64_t seed) {
            auto& g = self.cast<Generator&>();
            std::lock_guard<std::mutex> lock(g.mutex);
            g.seed = seed;
            g.engine.seed(seed);
            g.philox_offset = 0;
            return self;
          },
          "Seeds the generator; returns it.", py::arg("seed"))
      .def(
          "initial_seed", [](Generator& g) { return g.seed; }, "The seed the generator was last seeded with.")
      .def("get_state", &generator_state, "The generator's state, a 1-D integer tensor for set_state().")
      .def(
          "set_state",
          [](py::object self, const Tensor& s) {
            set_generator_state(self.cast<Generator&>(), s);
            return self;
          },
          "Restores a state get_state() returned; returns the generator.", py::arg("new_state"))
      .def_property_readonly(
          "device", [](Generator& g) { return g.device; }, "The device the generator was made for (cpu by default).")
      .def(
          "get_offset",
          [](Generator& g) {
            EMBER_CHECK(on_cuda(g), "CPU Generator does not use offset");
            std::lock_guard<std::mutex> lock(g.mutex);
            return g.philox_offset;
          },
          "A CUDA generator's Philox offset: the counters its draws have taken.")
      .def(
          "set_offset",
          [](py::object self, uint64_t offset) {
            auto& g = self.cast<Generator&>();
            EMBER_CHECK(on_cuda(g), "CPU Generator does not use offset");
            std::lock_guard<std::mutex> lock(g.mutex);
            g.philox_offset = offset;
            return self;
          },
          "Sets a CUDA generator's Philox offset; returns the generator.", py::arg("offset"))
      .def(py::pickle([](Generator& g) { return py::make_tuple(generator_state(g), g.device); },
                      [](py::tuple t) {
                        auto g = std::make_unique<Generator>();
                        if (t.size() > 1) g->device = t[1].cast<Device>();  // (older pickles: the state alone)
                        set_generator_state(*g, t[0].cast<Tensor>());
                        return g;
                      }));

  m.def(
      "_rand", [](const Shape& s, DType d, Generator* g) { return rand(s, d, g); }, "Uniform samples in [0, 1).",
      py::arg("size"), py::arg("dtype"), py::arg("generator") = nullptr);
  m.def(
      "_randn", [](const Shape& s, DType d, Generator* g) { return randn(s, d, g); }, "Standard normal samples.",
      py::arg("size"), py::arg("dtype"), py::arg("generator") = nullptr);
  m.def(
      "_randint",
      [](int64_t lo, int64_t hi, const Shape& s, DType d, Generator* g) { return randint(lo, hi, s, d, g); },
      "Uniform integers in [low, high).", py::arg("low"), py::arg("high"), py::arg("size"), py::arg("dtype"),
      py::arg("generator") = nullptr);
  m.def(
      "_randperm", [](int64_t n, DType d, Generator* g) { return randperm(n, d, g); },
      "A random permutation of 0..n-1.", py::arg("n"), py::arg("dtype"), py::arg("generator") = nullptr);

  m.def(
      "_write_out",
      [](py::handle out, const Tensor& result, const std::string& op) { return write_out(out, result, op.c_str()); },
      "out=: result written into out (the registry's semantics), for functions written in Python.", py::arg("out"),
      py::arg("result"), py::arg("op"));

  r.family("random numbers");
  // An object, as torch.default_generator: the generator used when none is given.
  m.attr("default_generator") = py::cast(&Generator::default_cpu(), py::return_value_policy::reference);
  r.function(
      "manual_seed", kNoGrad, "Seeds the default generator; returns it, as PyTorch's.",
      [](uint64_t seed) {
        manual_seed(seed);
        kernels::cuda_dispatch::manual_seed(seed);  // as torch.manual_seed: every device's generator
        return py::cast(&Generator::default_cpu(), py::return_value_policy::reference);  // default_generator
      },
      py::arg("seed"));
  r.function("initial_seed", kNoGrad, "The seed of the default generator.", [] { return initial_seed(); });
  r.function("get_rng_state", kNoGrad, "The default generator's state (for set_rng_state).",
             [] { return generator_state(Generator::default_cpu()); });
  r.function(
      "set_rng_state", kNoGrad, "Restores the default generator's state from get_rng_state().",
      [](const Tensor& s) { set_generator_state(Generator::default_cpu(), s); }, py::arg("new_state"));

  r.family("utilities");
  r.function(
      "result_type", kNoGrad, "The dtype an op on tensor1 and tensor2 computes in (PyTorch's promotion).",
      [](py::handle a, py::handle b) {
        return result_type(require_operand(a, "result_type"), require_operand(b, "result_type"));
      },
      py::arg("tensor1"), py::arg("tensor2"));
  // Note [Vector math] switches, for tests and benchmarks.
  m.def("_vec_math_isa", &kernels::vec_math_isa,
        "The SIMD variant of libmvec in use ('avx512', 'avx2', 'sse' or 'none').");
  m.def("_set_vec_math_enabled", &kernels::set_vec_math_enabled, "Switches the libmvec kernels on or off.",
        py::arg("enabled"));
  m.def("_packed_gemm_isa", &kernels::packed_gemm_isa,
        "The kernels of Note [Packed recurrent products] in use ('avx512', 'avx2' or 'off': BLAS).");
}

}  // namespace bind
}  // namespace ember
