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
  // Generator(device="cuda") draws on its GPU from a Philox stream of its own, (seed, philox_offset), as
  // the default CUDA generator does (Note [CUDA random numbers]); the engine serves CPU generators.
  Device device;
  uint64_t philox_offset = 0;
  static Generator& default_cpu();
};

}  // namespace ember
