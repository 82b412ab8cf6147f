#pragma once
#include <cstdint>
#include <mutex>
#include <random>

#include "core/device.h"

namespace ember {

// The default CPU generator: one deterministic stream per seed, as
// torch.manual_seed gives (the numbers differ from PyTorch's).
struct Generator {
  std::mt19937_64 engine{67280421310721ull};
  uint64_t seed = 67280421310721ull;
  std::mutex mutex;
  // Generator(device="cuda") reports its device; its numbers come from this engine on either device
  // (drawn on the host and copied), so a seeded one repeats its draws wherever the tensors go.
  Device device;
  static Generator& default_cpu();
};

}  // namespace ember
