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

// Uniform integers in [0, range), range >= 1, by Lemire's multiply-and-shift
// with its rejection step, so every value is exactly equally likely; a range
// below 2^32 takes 32 bits a value (two per word). randint took 3x PyTorch's
// time through std::uniform_int_distribution.
class UniformIndex {
 public:
  explicit UniformIndex(uint64_t range)
      : range_(range),
        narrow_(range <= 0xFFFFFFFFull),
        threshold_(narrow_ ? (uint32_t)(-(uint32_t)range) % (uint32_t)range : (0 - range) % range) {}
  uint64_t operator()(std::mt19937_64& engine) {
    if (!narrow_) {
      for (;;) {
        const unsigned __int128 m = (unsigned __int128)engine() * range_;
        if ((uint64_t)m >= threshold_) return (uint64_t)(m >> 64);
      }
    }
    for (;;) {
      const uint64_t m = (uint64_t)next32(engine) * range_;
      if ((uint32_t)m >= threshold_) return m >> 32;
    }
  }

 private:
  uint32_t next32(std::mt19937_64& engine) {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    const uint64_t word = engine();
    spare_ = (uint32_t)word, has_spare_ = true;
    return (uint32_t)(word >> 32);
  }
  uint64_t range_;
  bool narrow_;
  uint64_t threshold_;  // the draws below it are rejected: (2^bits - range) mod range of them
  bool has_spare_ = false;
  uint32_t spare_ = 0;
};

void uniform_fill(std::mt19937_64& engine, float* out, int64_t n);
void uniform_fill(std::mt19937_64& engine, double* out, int64_t n);
void normal_fill(std::mt19937_64& engine, float* out, int64_t n);
void normal_fill(std::mt19937_64& engine, double* out, int64_t n);

}  // namespace kernels
}  // namespace ember
