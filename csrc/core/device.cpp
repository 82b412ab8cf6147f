#include "core/device.h"

#include "core/cuda.h"

namespace ember {

Device parse_device(const std::string& spec, int index) {
  std::string type = spec;
  auto colon = spec.find(':');
  if (colon != std::string::npos) {
    type = spec.substr(0, colon);
    std::string num = spec.substr(colon + 1);
    EMBER_CHECK(!num.empty() && num.find_first_not_of("0123456789") == std::string::npos, "Invalid device string: '",
                spec, "'");
    EMBER_CHECK(index < 0, "type (string) must not include an index because index was passed explicitly: ", spec);
    index = std::stoi(num);
  }
  Device d;
  if (type == "cpu")
    d.type = DeviceType::CPU;
  else if (type == "cuda")
    d.type = DeviceType::CUDA;
  else if (type == "meta")
    d.type = DeviceType::Meta;
  else {
    d.type = DeviceType::Other;
    while (kOtherDeviceTypes[d.other] && type != kOtherDeviceTypes[d.other]) ++d.other;
    EMBER_CHECK(kOtherDeviceTypes[d.other],
                "Expected one of cpu, cuda, ipu, xpu, mkldnn, opengl, opencl, ideep, hip, ve, fpga, maia, xla, lazy, "
                "vulkan, mps, meta, hpu, mtia, privateuseone device type at start of device string: ",
                spec);
  }
  d.index = index;
  return d;
}

// Note [Other device types]: PyTorch's device types besides cpu, cuda and meta.
const char* const kOtherDeviceTypes[] = {"ipu",    "xpu", "mkldnn", "opengl", "opencl",        "ideep",
                                         "hip",    "ve",  "fpga",   "maia",   "xla",           "lazy",
                                         "vulkan", "mps", "hpu",    "mtia",   "privateuseone", nullptr};

bool cuda_is_available() { return cuda_device_count() > 0; }

void check_device_available(const Device& d) {
  if (d.type == DeviceType::Other)
    EMBER_FAIL(Runtime, "ember has no ", d.type_name(), " backend (device '", d.str(),
               "' requested): ember's tensors live on cpu, cuda or meta");
  if (d.type == DeviceType::Meta)
    EMBER_FAIL(Runtime,
               "this function cannot make tensors on the meta device (they have no data); ember makes meta "
               "tensors with its creation functions (ember.empty(..., device='meta'), ...)");
  if (d.type == DeviceType::CUDA) {
    EMBER_CHECK(cuda_built(), "ember was built without CUDA support (device '", d.str(),
                "' requested): ember.cuda.is_available() is False; use device='cpu'");
    resolve_cuda_device(d);  // raises where no GPU can be used
  }
}

}  // namespace ember
