#pragma once
#include <string>

#include "core/error.h"

namespace ember {

// Meta: tensors with a shape and no data; only ember's Python layer makes them (python/ember/_meta.py).
enum class DeviceType : uint8_t { CPU = 0, CUDA = 1, Meta = 2, Other = 3 };

// Note [Other device types]
// PyTorch's device types ember has no backend for (mps, xpu, hip, xla, ...)
// still parse, print and compare as PyTorch's: libraries write
// torch.device("mps") unguarded (peft compares a device with it). A Device of
// one names its type by an index into kOtherDeviceTypes; no tensor is ever made
// on one (check_device_available refuses, and TensorImpl's constructor calls it).
extern const char* const kOtherDeviceTypes[];

struct Device {
  DeviceType type = DeviceType::CPU;
  int index = -1;     // -1: the current device of that type
  uint8_t other = 0;  // for DeviceType::Other: which of kOtherDeviceTypes

  bool is_cpu() const { return type == DeviceType::CPU; }
  bool operator==(const Device& o) const { return type == o.type && index == o.index && other == o.other; }
  bool operator!=(const Device& o) const { return !(*this == o); }
  std::string type_name() const {
    switch (type) {
      case DeviceType::CPU: return "cpu";
      case DeviceType::CUDA: return "cuda";
      case DeviceType::Meta: return "meta";
      default: return kOtherDeviceTypes[other];
    }
  }
  std::string str() const { return index < 0 ? type_name() : type_name() + ":" + std::to_string(index); }
};

// Parses "cpu", "cuda", "cuda:1", "meta" (and PyTorch's other types) as torch.device does.
Device parse_device(const std::string& spec, int index = -1);
// Raises unless tensors can be made on `d` (meta never here; CUDA: a CUDA build with a GPU).
void check_device_available(const Device& d);
bool cuda_is_available();

}  // namespace ember
