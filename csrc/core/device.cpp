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
  else
    EMBER_FAIL(Runtime, "Expected one of cpu, cuda, meta device type at start of device string: ", spec);
  d.index = index;
  return d;
}

bool cuda_is_available() { return cuda_device_count() > 0; }

void check_device_available(const Device& d) {
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
