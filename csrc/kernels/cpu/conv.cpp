#include "kernels/cpu/conv.h"
#include "kernels/cuda_dispatch.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <type_traits>
#include <vector>

#include "kernels/cpu/loops.h"
#include "kernels/cpu/matmul.h"
#include "kernels/cpu/widen.h"

namespace ember {
namespace kernels {

// Note [Patch rows]
// im2col and col2im walk one output row (oh) of one kernel position (ki, kj)
// at a time. The outputs ow whose input column iw = ow*sw - pw + kj*dw falls
// inside the image form one run [first, end), found once per kernel position,
// so the copy (or sum) over it has no bounds test and, for stride 1, is a
// contiguous loop the compiler vectorises. Rows are short (11 elements in a
// digits CNN), so these loops stay loops: GCC would otherwise turn each into a
// memset/memmove call (tree-loop-distribute-patterns), and the calls cost
// more than the copies. With a bounds test per element, the patches of a
// digits CNN's second convolution took as long as half its product.
#if defined(__GNUC__) && !defined(__clang__)
#define EMBER_INLINE_LOOPS __attribute__((optimize("no-tree-loop-distribute-patterns")))
#else
#define EMBER_INLINE_LOOPS
#endif

namespace {
struct Run {
  int64_t first, end;
};
}  // namespace

// The outputs of one row whose input column (ow * stride + offset) lies in [0, size).
static Run inside_run(int64_t outputs, int64_t size, int64_t stride, int64_t offset) {
  const int64_t first = std::min(outputs, offset >= 0 ? 0 : (-offset + stride - 1) / stride);
  const int64_t end = size - 1 - offset < 0 ? 0 : std::min(outputs, (size - 1 - offset) / stride + 1);
  return {first, std::max(first, end)};
}

// One row of the patch matrix: kernel position (ki, kj) of every output, read from one input plane.
template <typename T>
EMBER_INLINE_LOOPS static void copy_patch_row(T* out, const T* plane, const Conv2dGeometry& g, int64_t ki, int64_t kj) {
  const int64_t H = g.height, W = g.width, out_w = g.out_w, sw = g.sw;
  const int64_t column = kj * g.dw - g.pw;  // the input column of output 0
  const Run run = inside_run(out_w, W, sw, column);
  const int64_t length = run.end - run.first;
  for (int64_t oh = 0; oh < g.out_h; ++oh) {
    const int64_t ih = oh * g.sh - g.ph + ki * g.dh;
    T* o = out + oh * out_w;
    if (ih < 0 || ih >= H) {
      for (int64_t ow = 0; ow < out_w; ++ow) o[ow] = T(0);
      continue;
    }
    const T* in = plane + ih * W + column + run.first * sw;  // the run's first input; the next sw on
    for (int64_t ow = 0; ow < run.first; ++ow) o[ow] = T(0);
    T* o_run = o + run.first;
    if (sw == 1)
      for (int64_t i = 0; i < length; ++i) o_run[i] = in[i];
    else
      for (int64_t i = 0; i < length; ++i) o_run[i] = in[i * sw];
    for (int64_t ow = run.end; ow < out_w; ++ow) o[ow] = T(0);
  }
}

// One input plane's gradient: zeroed, then every patch-matrix row of its channel added at its inputs.
template <typename T>
EMBER_INLINE_LOOPS static void sum_patch_rows(T* plane, const T* rows, int64_t row_stride, const Conv2dGeometry& g) {
  const int64_t H = g.height, W = g.width, out_w = g.out_w, sw = g.sw;
  for (int64_t i = 0; i < H * W; ++i) plane[i] = T(0);
  for (int64_t ki = 0; ki < g.kh; ++ki)
    for (int64_t kj = 0; kj < g.kw; ++kj) {
      const T* in = rows + (ki * g.kw + kj) * row_stride;
      const int64_t column = kj * g.dw - g.pw;
      const Run run = inside_run(out_w, W, sw, column);
      const int64_t length = run.end - run.first;
      for (int64_t oh = 0; oh < g.out_h; ++oh) {
        const int64_t ih = oh * g.sh - g.ph + ki * g.dh;
        if (ih < 0 || ih >= H) continue;
        T* o = plane + ih * W + column + run.first * sw;  // the run's first input; the next sw on
        const T* row = in + oh * out_w + run.first;
        if (sw == 1)
          for (int64_t i = 0; i < length; ++i) o[i] += row[i];
        else
          for (int64_t i = 0; i < length; ++i) o[i * sw] += row[i];
      }
    }
}

// Note [Patch tables]
// The deep layers of a ResNet-style network see small images (7x7 down to 1x1
// outputs), where a patch row is a handful of elements and walking it run by
// run (Note [Patch rows]) cost more than the copy: the patches of a 512-channel
// 3x3 convolution on 2x2 images (batch 32) took 0.8 ms beside its 1.3 ms
// product, and take 0.1 ms this way.
// Below kTableBelowWidth outputs per row, im2col and col2im instead look up
// each (kernel position, output) pair's input in a table made once per call,
// the plane offset or -1 for padding, and run plane by plane with no
// divisions in the loop.
constexpr int64_t kTableBelowWidth = 8;

// (kh * kw, out_h * out_w): each pair's input offset in its plane, or -1 (padding); empty where the
// rows are wide enough to walk by runs.
static std::vector<int32_t> patch_table(const Conv2dGeometry& g) {
  if (g.out_w >= kTableBelowWidth || g.height * g.width > std::numeric_limits<int32_t>::max()) return {};
  std::vector<int32_t> table(g.kh * g.kw * g.out_h * g.out_w);
  int32_t* t = table.data();
  for (int64_t ki = 0; ki < g.kh; ++ki)
    for (int64_t kj = 0; kj < g.kw; ++kj)
      for (int64_t oh = 0; oh < g.out_h; ++oh)
        for (int64_t ow = 0; ow < g.out_w; ++ow) {
          const int64_t ih = oh * g.sh - g.ph + ki * g.dh, iw = ow * g.sw - g.pw + kj * g.dw;
          *t++ = ih >= 0 && ih < g.height && iw >= 0 && iw < g.width ? int32_t(ih * g.width + iw) : -1;
        }
  return table;
}

void im2col(const Tensor& cols, const Tensor& x, const Conv2dGeometry& g) {
  if (on_cuda(cols)) return cuda_dispatch::im2col(cols, x, g);
  if (any_storage_only(cols, x)) {
    Widening w;
    im2col(w.out(cols), w.in(x), g);
    return w.finish();
  }
  const int64_t N = x->size(0), C = g.channels, H = g.height, W = g.width;
  const int64_t L = g.out_h * g.out_w, K = C * g.kh * g.kw, kernel = g.kh * g.kw;
  if (cols->numel() == 0) return;  // an empty batch or no channels: an empty view's strides may be anything
  EMBER_ASSERT(cols->stride(2) == 1 || L == 1);
  const bool parallel = N * K * L >= kParallelGrain;
  AllowThreads allow(parallel);
  const std::vector<int32_t> table = patch_table(g);
  dispatch(x->dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* src = x->data<T>();
    T* dst = cols->data<T>();
    const int64_t n_stride = cols->stride(0), row_stride = cols->stride(1);
    if (!table.empty()) {  // Note [Patch tables]
#pragma omp parallel for num_threads(max_threads()) collapse(2) schedule(static) if (parallel)
      for (int64_t n = 0; n < N; ++n)
        for (int64_t c = 0; c < C; ++c) {
          const T* plane = src + (n * C + c) * H * W;
          for (int64_t k = 0; k < kernel; ++k) {
            T* out = dst + n * n_stride + (c * kernel + k) * row_stride;
            const int32_t* at = table.data() + k * L;
            for (int64_t l = 0; l < L; ++l) out[l] = at[l] >= 0 ? plane[at[l]] : T(0);
          }
        }
      return;
    }
#pragma omp parallel for num_threads(max_threads()) collapse(2) schedule(static) if (parallel)
    for (int64_t n = 0; n < N; ++n)
      for (int64_t row = 0; row < K; ++row) {
        const int64_t c = row / kernel, ki = (row / g.kw) % g.kh, kj = row % g.kw;
        copy_patch_row(dst + n * n_stride + row * row_stride, src + (n * C + c) * H * W, g, ki, kj);
      }
  });
}

void col2im(const Tensor& x, const Tensor& cols, const Conv2dGeometry& g) {
  if (on_cuda(x)) return cuda_dispatch::col2im(x, cols, g);
  if (any_storage_only(x, cols)) {
    Widening w;
    col2im(w.inout(x), w.in(cols), g);
    return w.finish();
  }
  const int64_t N = x->size(0), C = g.channels, H = g.height, W = g.width;
  const int64_t L = g.out_h * g.out_w, K = C * g.kh * g.kw;
  if (x->numel() == 0) return;  // an empty batch or no channels: an empty view's strides may be anything
  EMBER_ASSERT(cols->stride(2) == 1 || L == 1);
  const bool parallel = N * K * L >= kParallelGrain;
  AllowThreads allow(parallel);
  const std::vector<int32_t> table = patch_table(g);
  dispatch(x->dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* dst = x->data<T>();
    const T* src = cols->data<T>();
    const int64_t n_stride = cols->stride(0), row_stride = cols->stride(1), kernel = g.kh * g.kw;
    // Each (n, c) plane is written by its own rows only: planes run in parallel.
#pragma omp parallel for num_threads(max_threads()) collapse(2) schedule(static) if (parallel)
    for (int64_t n = 0; n < N; ++n)
      for (int64_t c = 0; c < C; ++c) {
        T* plane = dst + (n * C + c) * H * W;
        const T* rows = src + n * n_stride + c * kernel * row_stride;
        if (table.empty()) {
          sum_patch_rows(plane, rows, row_stride, g);
          continue;
        }
        for (int64_t i = 0; i < H * W; ++i) plane[i] = T(0);  // Note [Patch tables]
        for (int64_t k = 0; k < kernel; ++k) {
          const T* in = rows + k * row_stride;
          const int32_t* at = table.data() + k * L;
          for (int64_t l = 0; l < L; ++l)
            if (at[l] >= 0) plane[at[l]] += in[l];
        }
      }
  });
}

// Note [Convolution by image blocks]
// A convolution's forward is one product of the (O, K) weight by the patches,
// (K, N*L) for the batch. Written whole, the patches of a digits CNN's second
// convolution are 4.5 MB: im2col streams them out to memory, and BLAS reads
// them back to pack them. Here the batch runs in blocks of images whose
// patches fit in L2 (about 256 KB): per block one thread writes the patches,
// one BLAS product (on that thread) makes the block's (O, images*L) output,
// and a copy adds the bias as it lays the output out by image. The block size
// depends on the shapes only, so results do not depend on the thread count
// (as Note [Deterministic products]). Products of about a thousand columns ran
// faster than the one wide product, which spills its packed panels out of cache.
namespace {
// How Note [Convolution by image blocks] splits a batch of N images (O outputs, K = C*kh*kw, L outputs
// per image): from the shapes alone.
// Batches that cannot make this many blocks (fewer images) would leave threads idle: the one wide
// product of Note [Convolution as one product] (threaded by bmm) runs instead.
constexpr int64_t kMinImageBlocks = 8;
// Nor are blocks of fewer output columns (images * L) worth it: a product that narrow reads the whole
// (O, K) weight for a few columns, once per block, and the weight gradient's partial sums are each
// weight-sized. A deep layer of small images (a ResNet's 512 channels at 1x1: K = 4608, L = 1) made
// 8 blocks of 4 columns, and its backward took 52 ms where the one wide product takes 8.
constexpr int64_t kMinBlockColumns = 128;

struct ImageBlocks {
  int64_t per_block, blocks;
  bool parallel;
  ImageBlocks(int64_t N, int64_t O, int64_t K, int64_t L) {
    constexpr int64_t kPatchBudget = 64 * 1024;      // elements of one block's patches
    constexpr int64_t kConvParallelFlops = 1 << 18;  // as bmm's: below ~64^3 one thread is faster
    // Blocks within the budget, and at least kMinImageBlocks of them where the batch allows.
    per_block = std::max<int64_t>(1, std::min({N / kMinImageBlocks, kPatchBudget / std::max<int64_t>(1, K * L)}));
    blocks = (N + per_block - 1) / per_block;
    parallel = blocks > 1 && N * O * K * L >= kConvParallelFlops;
  }
};
}  // namespace

bool conv2d_by_image_blocks(const Tensor& x, const Conv2dGeometry& g) {
  if (on_cuda(x)) return false;  // CUDA: im2col and one cuBLAS product
  if (x->dtype() != DType::Float32 && x->dtype() != DType::Float64) return false;
  const ImageBlocks split(x->size(0), 1, g.channels * g.kh * g.kw, g.out_h * g.out_w);
  return split.blocks >= kMinImageBlocks && split.per_block * g.out_h * g.out_w >= kMinBlockColumns;
}

// A block's patches, (K, count * L): row (c, ki, kj), then image, then output position.
template <typename T>
static void block_patches(T* patches, const T* images, int64_t count, const Conv2dGeometry& g) {
  const int64_t K = g.channels * g.kh * g.kw, L = g.out_h * g.out_w, width = count * L;
  const int64_t image_size = g.channels * g.height * g.width, plane = g.height * g.width;
  for (int64_t row = 0; row < K; ++row) {
    const int64_t c = row / (g.kh * g.kw), ki = (row / g.kw) % g.kh, kj = row % g.kw;
    for (int64_t i = 0; i < count; ++i)
      copy_patch_row(patches + row * width + i * L, images + i * image_size + c * plane, g, ki, kj);
  }
}

void conv2d_forward(const Tensor& out, const Tensor& x, const Tensor& weight, const Tensor& bias,
                    const Conv2dGeometry& g) {
  const int64_t N = x->size(0), C = g.channels, HW = g.height * g.width, O = weight->size(0);
  const int64_t K = C * g.kh * g.kw, L = g.out_h * g.out_w;
  const ImageBlocks split(N, O, K, L);
  const int64_t per_block = split.per_block, blocks = split.blocks;
  const bool parallel = split.parallel;
  AllowThreads allow(parallel);
  dispatch_floating(x->dtype(), "conv2d", [&](auto tag) {
    using T = typename decltype(tag)::type;
    if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>) {
      const T* src = x->data<T>();
      const T* w = weight->data<T>();
      const T* b = bias ? bias->data<T>() : nullptr;
      T* dst = out->data<T>();
      const int64_t patch_size = K * per_block * L, each = patch_size + O * per_block * L;
      const int threads = parallel ? max_threads() : 1;
      ThreadScratch<T> scratch(threads, each);
#pragma omp parallel num_threads(threads)
      {
        T* patches = scratch.mine();
        T* product = patches + patch_size;
#pragma omp for schedule(static)
        for (int64_t block = 0; block < blocks; ++block) {
          const int64_t n0 = block * per_block, images = std::min(per_block, N - n0), width = images * L;
          block_patches(patches, src + n0 * C * HW, images, g);
          gemm_on_thread(false, false, O, width, K, w, K, patches, width, T(0), product, width);
          for (int64_t i = 0; i < images; ++i)
            for (int64_t o = 0; o < O; ++o) {
              const T* from = product + o * width + i * L;
              T* to = dst + ((n0 + i) * O + o) * L;
              const T shift = b ? b[o] : T(0);
              for (int64_t l = 0; l < L; ++l) to[l] = from[l] + shift;
            }
        }
      }
    } else {
      EMBER_FAIL(NotImplemented, "conv2d_forward: float32 and float64 only, got ", scalar_type_name(x->dtype()));
    }
  });
}

// The backward of conv2d_forward, by the same image blocks: per block, the output gradient laid out as
// (O, images*L); the weight gradient's share, that by the block's patches (transposed); the input
// gradient, col2im of the weight (transposed) by it. The weight gradient sums the blocks' shares in a
// fixed number of partial sums, each over a fixed set of blocks, added in order at the end: the same
// bits whatever the thread count.
void conv2d_backward(const Tensor& grad_x, const Tensor& grad_w, const Tensor& grad_out, const Tensor& x,
                     const Tensor& weight, const Conv2dGeometry& g) {
  const int64_t N = x->size(0), C = g.channels, HW = g.height * g.width, O = weight->size(0);
  const int64_t K = C * g.kh * g.kw, L = g.out_h * g.out_w;
  const ImageBlocks split(N, O, K, L);
  const int64_t per_block = split.per_block, blocks = split.blocks;
  constexpr int64_t kWeightPartials = 8;  // partial sums of the weight gradient, each over every 8th block
  const int64_t partials = std::min(blocks, kWeightPartials);
  AllowThreads allow(split.parallel);
  dispatch_floating(x->dtype(), "conv2d_backward", [&](auto tag) {
    using T = typename decltype(tag)::type;
    if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>) {
      const T* src = x->data<T>();
      const T* w = weight->data<T>();
      const T* go = grad_out->data<T>();
      T* gx = grad_x ? grad_x->data<T>() : nullptr;
      std::vector<T> sums(grad_w ? partials * O * K : 0, T(0));
      const int64_t grad_size = O * per_block * L, each = grad_size + K * per_block * L;
      const int threads = split.parallel ? max_threads() : 1;
      ThreadScratch<T> scratch(threads, each);
#pragma omp parallel num_threads(threads)
      {
        T* grad_block = scratch.mine();
        T* patches = grad_block + grad_size;
#pragma omp for schedule(static)
        for (int64_t part = 0; part < partials; ++part)
          for (int64_t block = part; block < blocks; block += partials) {
            const int64_t n0 = block * per_block, images = std::min(per_block, N - n0), width = images * L;
            for (int64_t o = 0; o < O; ++o)
              for (int64_t i = 0; i < images; ++i)
                std::copy_n(go + ((n0 + i) * O + o) * L, L, grad_block + o * width + i * L);
            if (grad_w) {
              block_patches(patches, src + n0 * C * HW, images, g);
              gemm_on_thread(false, true, O, K, width, grad_block, width, patches, width, T(1),
                             sums.data() + part * O * K, K);
            }
            if (gx) {  // the patches' gradient (K, width), in the patch buffer, then summed into place
              gemm_on_thread(true, false, K, width, O, w, K, grad_block, width, T(0), patches, width);
              for (int64_t i = 0; i < images; ++i)
                for (int64_t c = 0; c < C; ++c)
                  sum_patch_rows(gx + ((n0 + i) * C + c) * HW, patches + c * g.kh * g.kw * width + i * L, width, g);
            }
          }
      }
      if (grad_w) {
        T* gw = grad_w->data<T>();
        std::copy_n(sums.data(), O * K, gw);
        for (int64_t part = 1; part < partials; ++part)
          for (int64_t i = 0; i < O * K; ++i) gw[i] += sums[part * O * K + i];
      }
    } else {
      EMBER_FAIL(NotImplemented, "conv2d_backward: float32 and float64 only, got ", scalar_type_name(x->dtype()));
    }
  });
}

// a when take, else b, by bit masks rather than a branch or a select the compiler may turn into one.
template <typename T>
static inline T pick_bits(bool take, T a, T b) {
  using Bits = std::conditional_t<sizeof(T) == 8, uint64_t, uint32_t>;
  static_assert(sizeof(T) == sizeof(Bits), "pick_bits: 4- or 8-byte values");
  Bits x, y;
  std::memcpy(&x, &a, sizeof x);
  std::memcpy(&y, &b, sizeof y);
  const Bits mask = Bits(0) - Bits(take);
  const Bits picked = (x & mask) | (y & ~mask);
  T out;
  std::memcpy(&out, &picked, sizeof out);
  return out;
}

void max_pool2d(const Tensor& values, const Tensor& indices, const Tensor& x, const Conv2dGeometry& g) {
  if (on_cuda(values)) return cuda_dispatch::max_pool2d(values, indices, x, g);
  if (any_storage_only(values, x)) {
    Widening w;
    max_pool2d(w.out(values), indices, w.in(x), g);
    return w.finish();
  }
  const int64_t planes = x->size(0) * g.channels, H = g.height, W = g.width;
  AllowThreads allow(values->numel() * g.kh * g.kw >= kParallelGrain);
  dispatch_floating(x->dtype(), "max_pool2d", [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* src = x->data<T>();
    T* vo = values->data<T>();
    int64_t* io = indices->data<int64_t>();
    const bool two_by_two = g.kh == 2 && g.kw == 2 && g.sh == 2 && g.sw == 2 && g.ph == 0 && g.pw == 0 && g.dh == 1 &&
                            g.dw == 1 && 2 * g.out_h <= H && 2 * g.out_w <= W;
#pragma omp parallel for num_threads(max_threads()) \
    schedule(static) if (values->numel() * g.kh * g.kw >= kParallelGrain)
    for (int64_t p = 0; p < planes; ++p) {
      const T* plane = src + p * H * W;
      if (two_by_two) {  // the common 2x2 window, stride 2, all inside: no bounds to check
        // The first maximum in scan order, or the last NaN (as PyTorch). Which value wins is
        // data, so a branch mispredicts half the time: GCC compiled `wins ? v : best` to
        // branches, and the pass took 24 ns an output; picked with bit masks, it takes a few.
        const int64_t width = W, out_w = g.out_w;
        for (int64_t oh = 0; oh < g.out_h; ++oh) {
          T* vrow = vo + (p * g.out_h + oh) * out_w;
          int64_t* irow = io + (p * g.out_h + oh) * out_w;
          const T* top_row = plane + 2 * oh * width;
          for (int64_t ow = 0; ow < out_w; ++ow) {
            const int64_t top = 2 * oh * width + 2 * ow;
            T best = top_row[2 * ow];
            int64_t at = top;
            const T others[3] = {top_row[2 * ow + 1], top_row[width + 2 * ow], top_row[width + 2 * ow + 1]};
            const int64_t places[3] = {top + 1, top + width, top + width + 1};
            for (int k = 0; k < 3; ++k) {
              const bool wins = (others[k] > best) | (others[k] != others[k]);
              best = pick_bits(wins, others[k], best);
              at = pick_bits(wins, places[k], at);
            }
            vrow[ow] = best;
            irow[ow] = at;
          }
        }
        continue;
      }
      for (int64_t oh = 0; oh < g.out_h; ++oh)
        for (int64_t ow = 0; ow < g.out_w; ++ow) {
          T best = -std::numeric_limits<T>::infinity();
          int64_t bi = -1;
          for (int64_t ki = 0; ki < g.kh; ++ki) {
            const int64_t ih = oh * g.sh - g.ph + ki * g.dh;
            if (ih < 0 || ih >= H) continue;
            for (int64_t kj = 0; kj < g.kw; ++kj) {
              const int64_t iw = ow * g.sw - g.pw + kj * g.dw;
              if (iw < 0 || iw >= W) continue;
              const T v = plane[ih * W + iw];
              if (bi < 0 || v > best || std::isnan(v)) {  // ties: the first; NaN: the last (as PyTorch)
                best = v;
                bi = ih * W + iw;
              }
            }
          }
          const int64_t o = (p * g.out_h + oh) * g.out_w + ow;
          vo[o] = best;
          io[o] = bi;
        }
    }
  });
}

void max_pool2d_backward(const Tensor& grad_in, const Tensor& grad_out, const Tensor& indices) {
  if (on_cuda(grad_in)) return cuda_dispatch::max_pool2d_backward(grad_in, grad_out, indices);
  if (any_storage_only(grad_in, grad_out)) {
    Widening w;
    max_pool2d_backward(w.inout(grad_in), w.in(grad_out), indices);
    return w.finish();
  }
  const int64_t planes = grad_in->size(0) * grad_in->size(1), HW = grad_in->size(2) * grad_in->size(3);
  const int64_t L = grad_out->size(2) * grad_out->size(3);
  AllowThreads allow(planes * (HW + L) >= kParallelGrain);
  dispatch_floating(grad_in->dtype(), "max_pool2d_backward", [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* gi = grad_in->data<T>();
    const T* go = grad_out->data<T>();
    const int64_t* idx = indices->data<int64_t>();
    // Each plane's gradient comes from its own outputs only: planes run in parallel.
#pragma omp parallel for num_threads(max_threads()) schedule(static) if (planes * (HW + L) >= kParallelGrain)
    for (int64_t p = 0; p < planes; ++p) {
      T* plane = gi + p * HW;
      for (int64_t i = 0; i < HW; ++i) plane[i] = T(0);
      for (int64_t l = 0; l < L; ++l) plane[idx[p * L + l]] += go[p * L + l];
    }
  });
}

}  // namespace kernels
}  // namespace ember
