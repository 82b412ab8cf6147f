#include "kernels/cpu/index.h"

#include <algorithm>
#include "kernels/cuda_dispatch.h"

#include "kernels/cpu/loops.h"

namespace ember {
namespace kernels {

std::vector<int64_t> strided_offsets(const Shape& sizes, const Shape& strides) {
  std::vector<int64_t> offs(shape_numel(sizes));
  const int64_t nd = (int64_t)sizes.size();
  std::vector<int64_t> coord(nd, 0);
  int64_t cur = 0;
  for (size_t e = 0; e < offs.size(); ++e) {
    offs[e] = cur;
    for (int64_t d = nd - 1; d >= 0; --d) {
      if (++coord[d] < sizes[d]) {
        cur += strides[d];
        break;
      }
      cur -= (sizes[d] - 1) * strides[d];
      coord[d] = 0;
    }
  }
  return offs;
}

void index_offsets(const Tensor& offsets, const Tensor& index, const IndexBounds& a) {
  if (on_cuda(offsets)) return cuda_dispatch::index_offsets(offsets, index, a);
  int64_t* o = offsets->data<int64_t>();
  const int64_t* ix = index->data<int64_t>();
  const bool placed =
      !a.add && std::any_of(a.place_strides.begin(), a.place_strides.end(), [](int64_t s) { return s; });
  const std::vector<int64_t> places =
      placed ? strided_offsets(offsets->sizes(), a.place_strides) : std::vector<int64_t>();
  for (int64_t i = 0; i < offsets->numel(); ++i) {
    const int64_t v = ix[i], wrapped = v < 0 && a.kind == cuda::kIndexWrapping ? v + a.size : v;
    if (wrapped < 0 || wrapped >= a.size) {
      const std::string text = cuda::index_error_text(a.kind, v, a.dim, a.size);
      if (a.kind == cuda::kIndexAlongDim) EMBER_FAIL(Runtime, text);
      EMBER_FAIL(Index, text);
    }
    o[i] = (a.add ? o[i] : placed ? places[i] : 0) + wrapped * a.stride;
  }
}

// Whether the offsets within each indexed slice are one run of consecutive elements (not empty).
static bool consecutive(const std::vector<int64_t>& inner) {
  for (size_t r = 1; r < inner.size(); ++r)
    if (inner[r] != inner[0] + int64_t(r)) return false;
  return !inner.empty();
}

void gather_offsets(const Tensor& out, const Tensor& src, const Tensor& outer_t, const std::vector<int64_t>& inner) {
  if (on_cuda(out)) return cuda_dispatch::gather_offsets(out, src, outer_t, inner);
  const int64_t* outer = outer_t->data<int64_t>();
  dispatch_all(src->dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* o = out->data<T>();
    const T* s = src->data<T>();
    const int64_t ni = outer_t->numel(), nr = (int64_t)inner.size();
    const bool runs = consecutive(inner);  // whole rows of a contiguous tensor: one copy per index
#pragma omp parallel for num_threads(max_threads()) schedule(static) if (ni * nr >= kParallelGrain)
    for (int64_t i = 0; i < ni; ++i) {
      if (runs) {
        std::copy(s + outer[i] + inner[0], s + outer[i] + inner[0] + nr, o + i * nr);
        continue;
      }
      for (int64_t r = 0; r < nr; ++r) o[i * nr + r] = s[outer[i] + inner[r]];
    }
  });
}

void scatter_offsets(const Tensor& dst, const Tensor& values, const Tensor& outer_t, const std::vector<int64_t>& inner,
                     bool accumulate) {
  if (on_cuda(dst)) return cuda_dispatch::scatter_offsets(dst, values, outer_t, inner, accumulate);
  const int64_t* outer = outer_t->data<int64_t>();
  dispatch_all(dst->dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* d = dst->data<T>();
    const T* v = values->data<T>();
    const int64_t ni = outer_t->numel(), nr = (int64_t)inner.size();
    auto add = [](T& to, T from) {
      if constexpr (std::is_same_v<T, bool>)
        to = to || from;
      else if constexpr (std::is_class_v<T>)  // a half float adds in float
        to = T(float(to) + float(from));
      else
        to += from;
    };
    // Serial: duplicate indices must add up (or overwrite) deterministically. Where each index writes one
    // run of consecutive elements (whole rows of a contiguous tensor: index_add, x[idx] += v), the run is
    // one tight loop the compiler vectorises.
    if (consecutive(inner)) {
      for (int64_t i = 0; i < ni; ++i) {
        T* to = d + outer[i] + inner[0];
        const T* from = v + i * nr;
        if (accumulate)
          for (int64_t r = 0; r < nr; ++r) add(to[r], from[r]);
        else
          std::copy(from, from + nr, to);
      }
      return;
    }
    for (int64_t i = 0; i < ni; ++i)
      for (int64_t r = 0; r < nr; ++r) {
        if (accumulate) {
          add(d[outer[i] + inner[r]], v[i * nr + r]);
        } else {
          d[outer[i] + inner[r]] = v[i * nr + r];
        }
      }
  });
}

}  // namespace kernels
}  // namespace ember
