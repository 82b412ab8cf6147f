// Convolution (im2col + BLAS matmul) and max pooling, with their backward nodes.
#include "kernels/cpu/conv.h"
#include "ops/binary.h"
#include "ops/op_node.h"

namespace ember {

using kernels::Conv2dGeometry;

static int64_t out_size(int64_t in, int64_t k, int64_t s, int64_t p, int64_t d, bool ceil_mode) {
  int64_t span = in + 2 * p - d * (k - 1) - 1;
  if (span < 0) return 0;  // the window does not fit once: no output (C++ division would round -1/2 up to 0)
  int64_t o = (ceil_mode ? (span + s - 1) / s : span / s) + 1;
  // With ceil_mode the last window must start inside the input or left padding.
  if (ceil_mode && (o - 1) * s >= in + p) --o;
  return o;
}

// An image plane's sliding-window geometry (channels x height x width input).
static Conv2dGeometry geometry(int64_t channels, int64_t height, int64_t width, const Pair& k, const Pair& s,
                               const Pair& p, const Pair& d, bool ceil_mode) {
  Conv2dGeometry g;
  g.channels = channels;
  g.height = height;
  g.width = width;
  g.kh = k[0];
  g.kw = k[1];
  g.sh = s[0];
  g.sw = s[1];
  g.ph = p[0];
  g.pw = p[1];
  g.dh = d[0];
  g.dw = d[1];
  g.out_h = out_size(g.height, g.kh, g.sh, g.ph, g.dh, ceil_mode);
  g.out_w = out_size(g.width, g.kw, g.sw, g.pw, g.dw, ceil_mode);
  return g;
}

// x: (N, C, H, W).
static Conv2dGeometry geometry(const Tensor& x, const Pair& k, const Pair& s, const Pair& p, const Pair& d,
                               bool ceil_mode) {
  return geometry(x->size(1), x->size(2), x->size(3), k, s, p, d, ceil_mode);
}

// The geometry as PyTorch's nodes name it (ConvolutionBackward0, MaxPool2DWithIndicesBackward0).
static void geometry_fields(StateFields& f, const Conv2dGeometry& g) {
  f.add("kernel_size", std::vector<int64_t>{g.kh, g.kw});
  f.add("stride", std::vector<int64_t>{g.sh, g.sw});
  f.add("padding", std::vector<int64_t>{g.ph, g.pw});
  f.add("dilation", std::vector<int64_t>{g.dh, g.dw});
}

namespace {  // a State is private to its op's file (Note [Node state])

struct GeometryState {
  Conv2dGeometry g;
  int64_t batch = 0;    // im2col's input batch size
  bool batched = true;  // F.fold's input had its batch dim (Note [Unfold as im2col])
  void fields(StateFields& f) const { geometry_fields(f, g); }
};

struct MaxPoolState {
  Conv2dGeometry g;
  Shape self_sizes;
  bool ceil_mode = false;
  void fields(StateFields& f) const {
    geometry_fields(f, g);
    f.add("ceil_mode", ceil_mode);
    f.add("self_sym_sizes", self_sizes);
  }
};
}  // namespace

static Tensor im2col_g(const Tensor& x, const Conv2dGeometry& g);

static Tensor col2im_g(const Tensor& cols, int64_t batch, const Conv2dGeometry& g) {
  Tensor x = empty({batch, g.channels, g.height, g.width}, cols->dtype());
  kernels::col2im(x, contiguous(cols), g);
  auto n = make_node<GeometryState>("Col2ImBackward0", {&cols}, [](auto& n, variable_list& gr) -> variable_list {
    return {im2col_g(gr[0], n.state.g)};
  });
  if (n) n->state.g = g;
  return attach(n, x);
}

// (N, C, H, W) -> (N, C*kh*kw, out_h*out_w): the patches a convolution multiplies.
static Tensor im2col_g(const Tensor& x, const Conv2dGeometry& g) {
  Tensor xc = contiguous(x);
  Tensor cols = empty({x->size(0), g.channels * g.kh * g.kw, g.out_h * g.out_w}, x->dtype());
  kernels::im2col(cols, xc, g);
  auto n = make_node<GeometryState>("Im2ColBackward0", {&x}, [](auto& n, variable_list& gr) -> variable_list {
    return {col2im_g(gr[0], n.state.batch, n.state.g)};
  });
  if (n) n->state = {g, x->size(0)};
  return attach(n, cols);
}

// Note [Convolution as one product]
// The whole batch's patches as one (K, N*L) matrix (K = C*kh*kw, L = out_h*out_w):
// a convolution is then one GEMM of the (O, K) weight by it, and its weight
// gradient one GEMM of the (O, N*L) gradient by its transpose. As N products of
// (O, K) by (K, L), OpenBLAS ran small matrices: the second convolution of a
// digits CNN took 5.6 ms against PyTorch's 2.1. No graph: the forward and a
// first-order backward use these; a backward that records a graph
// (create_graph) goes through the differentiable im2col_g/col2im_g.
static Tensor patch_matrix(const Tensor& x, const Conv2dGeometry& g) {
  const int64_t N = x->size(0), K = g.channels * g.kh * g.kw, L = g.out_h * g.out_w;
  Tensor rows = empty({K, N, L}, x->dtype());
  kernels::im2col(permute(rows, {1, 0, 2}), contiguous(x), g);
  return reshape(rows, {K, N * L});
}
// The input gradient from the patches' (K, N*L) gradient: col2im of the same layout.
static Tensor sum_patches(const Tensor& patch_grad, int64_t batch, const Conv2dGeometry& g) {
  const int64_t K = g.channels * g.kh * g.kw, L = g.out_h * g.out_w;
  Tensor x = empty({batch, g.channels, g.height, g.width}, patch_grad->dtype());
  kernels::col2im(x, permute(reshape(contiguous(patch_grad), {K, batch, L}), {1, 0, 2}), g);
  return x;
}

static void check_pairs(const char* op, const Pair& k, const Pair& s, const Pair& p, const Pair& d) {
  for (int i = 0; i < 2; ++i) {
    EMBER_CHECK(k[i] > 0, op, ": kernel size should be greater than zero, but got kernel_size=", k[i]);
    EMBER_CHECK(s[i] > 0, op, ": stride should be greater than zero, but got stride=", s[i]);
    EMBER_CHECK(p[i] >= 0, op, ": negative padding is not supported, got padding=", p[i]);
    EMBER_CHECK(d[i] > 0, op, ": dilation should be greater than zero, but got dilation=", d[i]);
  }
}

namespace {
// F.unfold's node: GeometryState's, and the input's last two sizes as PyTorch's Im2ColBackward0 names them.
struct UnfoldState : GeometryState {
  void fields(StateFields& f) const {
    GeometryState::fields(f);
    f.add("self_sym_argsize_minus_1", g.width);
    f.add("self_sym_argsize_minus_2", g.height);
  }
};
}  // namespace

// Note [Unfold as im2col]
// F.unfold and F.fold are PyTorch's im2col and col2im: one kernel pass each
// (the kernels of the convolution, Note [Patch rows]) and one node each,
// Im2ColBackward0 and Col2ImBackward0, each the other's backward, so a second
// backward differentiates them too. The unbatched forms (C, H, W) and
// (C*kh*kw, L) run as a batch of one, and their nodes take and give the
// unbatched shapes.
Tensor im2col(const Tensor& x, const Pair& kernel, const Pair& dilation, const Pair& padding, const Pair& stride) {
  EMBER_CHECK(x->dim() == 3 || x->dim() == 4, "im2col: expected 3D or 4D input, got ", detail::cat(x->sizes()));
  check_pairs("im2col", kernel, stride, padding, dilation);
  const bool batched = x->dim() == 4;
  Tensor images = batched ? x : unsqueeze(detach(x), 0);
  const Conv2dGeometry g = geometry(images, kernel, stride, padding, dilation, false);
  EMBER_CHECK(g.out_h > 0 && g.out_w > 0, "im2col: the input ", detail::cat(x->sizes()), " has no sliding block");
  Tensor cols = empty({images->size(0), g.channels * g.kh * g.kw, g.out_h * g.out_w}, x->dtype());
  kernels::im2col(cols, contiguous(images), g);
  if (!batched) cols = squeeze(cols, DimList{0});
  auto n = make_node<UnfoldState>("Im2ColBackward0", {&x}, [](auto& n, variable_list& gr) -> variable_list {
    const UnfoldState& s = n.state;
    Tensor grad = col2im_g(s.batched ? gr[0] : unsqueeze(gr[0], 0), s.batch, s.g);
    return {s.batched ? grad : squeeze(grad, DimList{0})};
  });
  if (n) n->state = {{g, images->size(0), batched}};
  return attach(n, cols);
}

Tensor col2im(const Tensor& cols, const Pair& output_size, const Pair& kernel, const Pair& dilation,
              const Pair& padding, const Pair& stride) {
  EMBER_CHECK(cols->dim() == 2 || cols->dim() == 3, "col2im: expected 2D or 3D input, got ",
              detail::cat(cols->sizes()));
  check_pairs("col2im", kernel, stride, padding, dilation);
  EMBER_CHECK(output_size[0] > 0 && output_size[1] > 0, "col2im: output_size should be positive, got ", output_size[0],
              "x", output_size[1]);
  const bool batched = cols->dim() == 3;
  Tensor blocks = batched ? cols : unsqueeze(detach(cols), 0);
  const int64_t per_channel = kernel[0] * kernel[1];
  EMBER_CHECK(per_channel > 0 && blocks->size(1) % per_channel == 0, "col2im: input ", detail::cat(cols->sizes()),
              " does not hold whole channels of ", kernel[0], "x", kernel[1], " blocks");
  // The geometry of the image the blocks came from.
  const Conv2dGeometry g =
      geometry(blocks->size(1) / per_channel, output_size[0], output_size[1], kernel, stride, padding, dilation, false);
  EMBER_CHECK(g.out_h * g.out_w == blocks->size(2), "col2im: input ", detail::cat(cols->sizes()), " has ",
              blocks->size(2), " blocks; output_size ", output_size[0], "x", output_size[1], " gives ",
              g.out_h * g.out_w);
  Tensor images = empty({blocks->size(0), g.channels, g.height, g.width}, cols->dtype());
  kernels::col2im(images, contiguous(blocks), g);
  if (!batched) images = squeeze(images, DimList{0});
  auto n = make_node<GeometryState>("Col2ImBackward0", {&cols}, [](auto& n, variable_list& gr) -> variable_list {
    const bool batched = n.state.batched;
    Tensor grad = im2col_g(batched ? gr[0] : unsqueeze(gr[0], 0), n.state.g);
    return {batched ? grad : squeeze(grad, DimList{0})};
  });
  if (n) n->state = {g, blocks->size(0), batched};
  return attach(n, images);
}

Tensor conv2d(const Tensor& x_in, const Tensor& w, const Tensor& b, const Pair& stride, const Pair& padding,
              const Pair& dilation, int64_t groups) {
  EMBER_CHECK(
      x_in->dim() == 3 || x_in->dim() == 4,
      "Expected 3D (unbatched) or 4D (batched) input to conv2d, but got input of size: ", detail::cat(x_in->sizes()));
  if (x_in->dim() == 3) return squeeze(conv2d(unsqueeze(x_in, 0), w, b, stride, padding, dilation, groups), DimList{0});
  Tensor x = x_in;
  EMBER_CHECK(w->dim() == 4, "conv2d: expected a 4D weight (out_channels, in_channels/groups, kh, kw), got ",
              detail::cat(w->sizes()));
  EMBER_CHECK(groups > 0, "non-positive groups is not supported");
  EMBER_CHECK(x->dtype() == w->dtype() && (!b || b->dtype() == w->dtype()), "conv2d: input type (",
              dtype_name(x->dtype()), ") and weight type (", dtype_name(w->dtype()), ") should be the same");
  EMBER_CHECK(is_floating(x->dtype()), "conv2d: expected a floating point input, got ", dtype_name(x->dtype()));
  // PyTorch's checks and words, in its order: the weight's groups, then the input's channels
  EMBER_CHECK(w->size(0) >= groups, "Given groups=", groups, ", expected weight to be at least ", groups,
              " at dimension 0, but got weight of size ", detail::cat(w->sizes()), " instead");
  EMBER_CHECK(w->size(0) % groups == 0, "Given groups=", groups, ", expected weight to be divisible by ", groups,
              " at dimension 0, but got weight of size ", detail::cat(w->sizes()), " instead");
  EMBER_CHECK(x->size(1) == w->size(1) * groups, "Given groups=", groups, ", weight of size ", detail::cat(w->sizes()),
              ", expected input", detail::cat(x->sizes()), " to have ", w->size(1) * groups, " channels, but got ",
              x->size(1), " channels instead");
  EMBER_CHECK(!b || (b->dim() == 1 && b->size(0) == w->size(0)), "conv2d: expected bias of shape [", w->size(0),
              "], got ", detail::cat(b->sizes()));
  check_pairs("conv2d", {w->size(2), w->size(3)}, stride, padding, dilation);
  if (groups > 1) {
    // Each group is an independent convolution over its slice of channels.
    int64_t cg = w->size(1), og = w->size(0) / groups;
    TensorList outs;
    for (int64_t gi = 0; gi < groups; ++gi)
      outs.push_back(conv2d(narrow(x, 1, gi * cg, cg), narrow(w, 0, gi * og, og),
                            b ? narrow(b, 0, gi * og, og) : Tensor(), stride, padding, dilation, 1));
    return cat(outs, 1);
  }
  const int64_t padded_h = x->size(2) + 2 * padding[0], padded_w = x->size(3) + 2 * padding[1];
  const int64_t kernel_h = dilation[0] * (w->size(2) - 1) + 1, kernel_w = dilation[1] * (w->size(3) - 1) + 1;
  EMBER_CHECK(kernel_h <= padded_h && kernel_w <= padded_w, "Calculated padded input size per channel: (", padded_h,
              " x ", padded_w, "). Kernel size: (", kernel_h, " x ", kernel_w,
              "). Kernel size can't be greater than actual input size");
  Conv2dGeometry g = geometry(x, {w->size(2), w->size(3)}, stride, padding, dilation, false);
  const int64_t N = x->size(0), O = w->size(0), K = g.channels * g.kh * g.kw, L = g.out_h * g.out_w;
  Tensor out;
  {
    NoGradGuard ng;
    if (kernels::conv2d_by_image_blocks(x, g)) {  // Note [Convolution by image blocks]
      out = empty({N, O, g.out_h, g.out_w}, x->dtype());
      kernels::conv2d_forward(out, contiguous(x), contiguous(w), b ? contiguous(b) : Tensor(), g);
    } else {  // one wide product (Note [Convolution as one product]); half and bfloat16 widened by mm
      // With a bias, half floats are widened here so the product and the bias add round once, as PyTorch's
      // (a product rounded before the bias add differed from it in a third of the elements).
      const bool widen = b && is_half_float(x->dtype());
      Tensor weights = reshape(contiguous(w), {O, K}), patches = patch_matrix(x, g);
      if (widen) {
        weights = widened_half(weights);
        patches = widened_half(patches);
      }
      Tensor product = reshape(mm(weights, patches), {O, N, L});
      Tensor by_image = permute(product, {1, 0, 2});  // (N, O, L): the bias add or a copy lays it out
      out = b ? add(by_image, reshape(widen ? widened_half(b) : b, {1, O, 1})) : contiguous(by_image);
      if (widen) out = to_dtype(out, x->dtype());
      out = reshape(out, {N, O, g.out_h, g.out_w});
    }
  }
  auto n =
      make_node<GeometryState>("ConvolutionBackward0", {&x, &w, &b}, [](auto& n, variable_list& gr) -> variable_list {
        const Conv2dGeometry& g = n.state.g;
        Tensor x = n.saved_at(0), w = n.saved_at(1);
        const int64_t N = x->size(0), O = w->size(0), K = g.channels * g.kh * g.kw, L = g.out_h * g.out_w;
        Tensor gx, gw, gb;
        if (n.needs(2)) gb = sum(gr[0], {0, 2, 3}, false);
        if (!GradMode::is_enabled() && kernels::conv2d_by_image_blocks(x, g)) {
          if (n.needs(0)) gx = empty(x->sizes(), x->dtype());
          if (n.needs(1)) gw = empty(w->sizes(), w->dtype());
          if (gx || gw) kernels::conv2d_backward(gx, gw, contiguous(gr[0]), contiguous(x), contiguous(w), g);
          return {gx, gw, gb};
        }
        Tensor g3 = reshape(gr[0], {N, O, L});
        if (!GradMode::is_enabled()) {  // Note [Convolution as one product]
          Tensor g2 = reshape(contiguous(transpose(g3, 0, 1)), {O, N * L});
          if (n.needs(0)) gx = sum_patches(mm(t_(reshape(contiguous(w), {O, K})), g2), N, g);
          if (n.needs(1)) gw = reshape(mm(g2, t_(patch_matrix(x, g))), w->sizes());
          return {gx, gw, gb};
        }
        if (n.needs(0)) gx = col2im_g(matmul(t_(reshape(w, {O, K})), g3), N, g);
        if (n.needs(1)) {
          // One big GEMM over the whole batch: (O, N*L) @ (N*L, K).
          Tensor cols = im2col_g(x, g);
          gw = reshape(mm(reshape(transpose(g3, 0, 1), {O, N * L}), reshape(transpose(cols, 1, 2), {N * L, K})),
                       w->sizes());
        }
        return {gx, gw, gb};
      });
  if (n) {
    n->state.g = g;
    n->save("input", x);
    n->save("weight", w);
  }
  return attach(n, out);
}

Tensor max_pool2d(const Tensor& x_in, const Pair& kernel, const Pair& stride, const Pair& padding, const Pair& dilation,
                  bool ceil_mode) {
  EMBER_CHECK(x_in->dim() == 3 || x_in->dim() == 4, "max_pool2d: Expected 3D or 4D tensor, but got ",
              detail::cat(x_in->sizes()));
  if (x_in->dim() == 3)
    return squeeze(max_pool2d(unsqueeze(x_in, 0), kernel, stride, padding, dilation, ceil_mode), DimList{0});
  check_pairs("max_pool2d", kernel, stride, padding, dilation);
  for (int i = 0; i < 2; ++i)
    EMBER_CHECK(padding[i] * 2 <= dilation[i] * (kernel[i] - 1) + 1,
                "pad should be at most half of effective kernel size, but got pad=", padding[i],
                ", kernel_size=", kernel[i], " and dilation=", dilation[i]);
  Tensor x = contiguous(x_in);
  Conv2dGeometry g = geometry(x, kernel, stride, padding, dilation, ceil_mode);
  EMBER_CHECK(g.out_h > 0 && g.out_w > 0, "Given input size: (", g.channels, "x", g.height, "x", g.width,
              "). Calculated output size: (", g.channels, "x", g.out_h, "x", g.out_w, "). Output size is too small");
  Shape os{x->size(0), g.channels, g.out_h, g.out_w};
  Tensor values = empty(os, x->dtype()), indices = empty(os, DType::Int64);
  kernels::max_pool2d(values, indices, x, g);
  auto n = make_node<MaxPoolState>(
      "MaxPool2DWithIndicesBackward0", {&x_in}, [](auto& n, variable_list& gr) -> variable_list {
        const Shape& s = n.state.self_sizes;
        if (!GradMode::is_enabled()) {  // a first-order backward: one pass, no graph
          Tensor grad_in = empty(s, gr[0]->dtype());
          kernels::max_pool2d_backward(grad_in, contiguous(gr[0]), n.saved_at(0));
          return {grad_in};
        }
        Tensor idx = reshape(n.saved_at(0), {s[0], s[1], -1});
        Tensor flat =
            scatter_add(zeros({s[0], s[1], s[2] * s[3]}, gr[0]->dtype()), 2, idx, reshape(gr[0], {s[0], s[1], -1}));
        return {reshape(flat, s)};
      });
  if (n) {
    n->state = {g, x->sizes(), ceil_mode};
    n->save("result1", indices);
  }
  return attach(n, values);
}

}  // namespace ember
