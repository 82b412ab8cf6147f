#pragma once
#include <string>

#include "core/error.h"

namespace ember {

// Meta: tensors with a shape and no data; only ember's Python layer makes them (python/ember/_meta.py).
enum class DeviceType : uint8_t { CPU = 0, CUDA = 1, Meta = 2 };

struct Device {
  DeviceType type = DeviceType::CPU;
  int index = -1;  // -1: the current device of that type

  bool is_cpu() const { return type == DeviceType::CPU; }
  bool operator==(const Device& o) const { return type == o.type && index == o.index; }
  bool operator!=(const Device& o) const { return !(*this == o); }
  std::string type_name() const { return type == DeviceType::CPU ? "cpu" : type == DeviceType::CUDA ? "cuda" : "meta"; }
  std::string str() const { return index < 0 ? type_name() : type_name() + ":" + std::to_string(index); }
};

// Parses "cpu", "cuda", "cuda:1", "meta" as torch.device does.
Device parse_device(const std::string& spec, int index = -1);
// Raises unless tensors can be made on `d` (meta never here; CUDA: a CUDA build with a GPU).
void check_device_available(const Device& d);
bool cuda_is_available();

}  // namespace ember
