// Note [Random fills]
// rand and randn fill a tensor straight from the generator's 64-bit words, as
// PyTorch's CPU kernels do: a float32 takes 24 bits (two values per word), a
// float64 53 bits of one word, so every value is a multiple of 2^-24 (2^-53)
// in [0, 1). Normals are Box-Muller pairs over blocks of those uniforms, the
// block's log, sin and cos computed together with the vector math of
// Note [Vector math]. std::uniform_real_distribution and
// std::normal_distribution per element took 5-8x PyTorch's time (randn of 1M
// floats: 18 ms against 2.3 ms). The fill runs on one thread, so a seed gives
// the same numbers whatever the thread count.
#pragma once
#include <cstdint>
#include <random>

namespace ember {
namespace kernels {

void uniform_fill(std::mt19937_64& engine, float* out, int64_t n);
void uniform_fill(std::mt19937_64& engine, double* out, int64_t n);
void normal_fill(std::mt19937_64& engine, float* out, int64_t n);
void normal_fill(std::mt19937_64& engine, double* out, int64_t n);

}  // namespace kernels
}  // namespace ember
