// Registry entries (Note [Op registry]) of the ops behind ember.nn, and the
// fused optimizer steps behind ember.optim.
#include "python/registry.h"

namespace ember {
namespace bind {

static Pair pair_arg(py::handle h, const char* name) {
  if (PyLong_Check(h.ptr())) {
    int64_t v = h.cast<int64_t>();
    return {v, v};
  }
  auto v = h.cast<std::vector<int64_t>>();
  if (v.size() == 1) return {v[0], v[0]};
  if (v.size() != 2) throw py::value_error(std::string(name) + " must be an int or a pair of ints");
  return {v[0], v[1]};
}

static int64_t reduction_arg(const std::string& r) {
  if (r == "none") return 0;
  if (r == "mean") return 1;
  if (r == "sum") return 2;
  throw py::value_error(r + " is not a valid value for reduction");
}

void register_nn_ops(OpRegistry& r) {
  py::module_& m = r.module();
  r.family("neural networks");
  // Private: PyTorch has it only as nn.functional.nll_loss, which calls this.
  def_private(
      m, "_nll_loss",
      [](const Tensor& input, const Tensor& target, std::optional<Tensor> weight, int64_t ignore_index,
         const std::string& reduction) {
        return nll_loss(input, target, weight.value_or(Tensor()), reduction_arg(reduction), ignore_index);
      },
      "The negative log likelihood loss of log-probabilities input (N, C) or (C) for class indices target.",
      py::arg("input"), py::arg("target"), py::arg("weight") = py::none(), py::arg("ignore_index") = -100,
      py::arg("reduction") = "mean");
  // Note [Fused nodes]: what nn.functional calls (private, as PyTorch's torch._C._nn).
  def_private(
      m, "_gelu",
      [](const Tensor& x, const std::string& approximate) {
        if (approximate != "none" && approximate != "tanh")
          throw py::value_error("approximate argument must be either none or tanh.");
        return gelu(x, approximate == "tanh");
      },
      "gelu as one node.", py::arg("input"), py::arg("approximate") = "none");
  def_private(m, "_silu", &silu, "silu as one node.", py::arg("input"));
  def_private(m, "_embedding", &embedding, "F.embedding's lookup as one node, EmbeddingBackward0.", py::arg("weight"),
              py::arg("indices"), py::arg("padding_idx") = -1);
  def_private(m, "_constant_pad_nd", &constant_pad_nd, "F.pad's constant mode as one node, ConstantPadNdBackward0.",
              py::arg("input"), py::arg("pad"), py::arg("value") = 0.0);
  // F.unfold / F.fold's kernels (Note [Unfold as im2col]), named and profiled as PyTorch's.
  def_private(
      m, "_im2col",
      [](const Tensor& x, const Pair& kernel_size, const Pair& dilation, const Pair& padding, const Pair& stride) {
        profiler::Scope event(profiler::Kind::Op, "im2col");
        return im2col(x, kernel_size, dilation, padding, stride);
      },
      "F.unfold's patches as one node, Im2ColBackward0.", py::arg("input"), py::arg("kernel_size"), py::arg("dilation"),
      py::arg("padding"), py::arg("stride"));
  def_private(
      m, "_col2im",
      [](const Tensor& x, const Pair& output_size, const Pair& kernel_size, const Pair& dilation, const Pair& padding,
         const Pair& stride) {
        profiler::Scope event(profiler::Kind::Op, "col2im");
        return col2im(x, output_size, kernel_size, dilation, padding, stride);
      },
      "F.fold's sum of blocks as one node, Col2ImBackward0.", py::arg("input"), py::arg("output_size"),
      py::arg("kernel_size"), py::arg("dilation"), py::arg("padding"), py::arg("stride"));
  def_private(
      m, "_native_group_norm",
      [](const Tensor& x, std::optional<Tensor> weight, std::optional<Tensor> bias, int64_t N, int64_t C, int64_t HxW,
         int64_t group, double eps) {
        profiler::Scope event(profiler::Kind::Op, "native_group_norm");
        auto [out, mean, rstd] =
            native_group_norm(x, weight ? *weight : Tensor(), bias ? *bias : Tensor(), N, C, HxW, group, eps);
        return py::make_tuple(out, mean, rstd);
      },
      "Group normalisation as one node, NativeGroupNormBackward0 (Note [Fused layer norm]): (output, mean, rstd).",
      py::arg("input"), py::arg("weight"), py::arg("bias"), py::arg("N"), py::arg("C"), py::arg("HxW"),
      py::arg("group"), py::arg("eps"));
  def_private(
      m, "_native_batch_norm",
      [](const Tensor& x, std::optional<Tensor> weight, std::optional<Tensor> bias, double eps) {
        profiler::Scope event(profiler::Kind::Op, "native_batch_norm");
        auto [out, mean, var, invstd] =
            native_batch_norm_train(x, weight ? *weight : Tensor(), bias ? *bias : Tensor(), eps);
        return py::make_tuple(out, mean, var, invstd);
      },
      "Batch norm with the batch's statistics as one node, NativeBatchNormBackward0 "
      "(Note [Fused batch norm]): (output, mean, biased variance, invstd).",
      py::arg("input"), py::arg("weight") = py::none(), py::arg("bias") = py::none(), py::arg("eps") = 1e-5);
  def_private(
      m, "_native_layer_norm",
      [](const Tensor& x, const std::vector<int64_t>& normalized_shape, std::optional<Tensor> weight,
         std::optional<Tensor> bias, double eps) {
        // An event of its own (registry ops get theirs from the registry), named as PyTorch's kernel.
        profiler::Scope event(profiler::Kind::Op, "native_layer_norm");
        auto [out, mean, rstd] =
            native_layer_norm(x, normalized_shape, weight ? *weight : Tensor(), bias ? *bias : Tensor(), eps);
        return py::make_tuple(out, mean, rstd);
      },
      "Layer normalisation as one node, NativeLayerNormBackward0 (Note [Fused layer norm]): (output, mean, rstd).",
      py::arg("input"), py::arg("normalized_shape"), py::arg("weight") = py::none(), py::arg("bias") = py::none(),
      py::arg("eps") = 1e-5);
  def_private(
      m, "_lstm_cell",
      [](const Tensor& gates, const Tensor& c_prev) {
        auto [h, c] = lstm_cell(gates, c_prev);
        return py::make_tuple(h, c);
      },
      "One LSTM step after the gate pre-activations (B, 4H): (h, c), as one node.", py::arg("gates"),
      py::arg("c_prev"));
  def_private(
      m, "_lstm_layer",
      [](const Tensor& xw, const Tensor& h0, const Tensor& c0, const Tensor& w_hh, bool reverse,
         const std::vector<int64_t>& batch_sizes) {
        profiler::Scope event(profiler::Kind::Op, "lstm_layer");
        auto r = lstm_layer(xw, h0, c0, w_hh, reverse, batch_sizes);
        return py::make_tuple(r[0], r[1], r[2]);
      },
      "One LSTM layer and direction over a padded sequence, or a packed one with batch_sizes (Note [LSTM layer]):"
      " (output, h_n, c_n), one node.",
      py::arg("xw"), py::arg("h0"), py::arg("c0"), py::arg("w_hh"), py::arg("reverse") = false,
      py::arg("batch_sizes") = std::vector<int64_t>{});
  def_private(
      m, "_rnn_layer",
      [](const Tensor& xw, const Tensor& h0, const Tensor& w_hh, bool relu, bool reverse,
         const std::vector<int64_t>& batch_sizes) {
        profiler::Scope event(profiler::Kind::Op, "rnn_layer");
        auto r = rnn_layer(xw, h0, w_hh, relu, reverse, batch_sizes);
        return py::make_tuple(r[0], r[1]);
      },
      "One Elman RNN layer and direction over a padded sequence, or a packed one with batch_sizes"
      " (Note [GRU layer]): (output, h_n), one node.",
      py::arg("xw"), py::arg("h0"), py::arg("w_hh"), py::arg("relu") = false, py::arg("reverse") = false,
      py::arg("batch_sizes") = std::vector<int64_t>{});
  def_private(
      m, "_gru_layer",
      [](const Tensor& xw, const Tensor& h0, const Tensor& w_hh, std::optional<Tensor> b_hh, bool reverse,
         const std::vector<int64_t>& batch_sizes) {
        profiler::Scope event(profiler::Kind::Op, "gru_layer");
        auto r = gru_layer(xw, h0, w_hh, b_hh ? *b_hh : Tensor(), reverse, batch_sizes);
        return py::make_tuple(r[0], r[1]);
      },
      "One GRU layer and direction over a padded sequence, or a packed one with batch_sizes (Note [GRU layer]):"
      " (output, h_n), one node.",
      py::arg("xw"), py::arg("h0"), py::arg("w_hh"), py::arg("b_hh") = py::none(), py::arg("reverse") = false,
      py::arg("batch_sizes") = std::vector<int64_t>{});
  def_private(m, "_softplus", &softplus, "softplus as one node.", py::arg("input"), py::arg("beta") = 1.0,
              py::arg("threshold") = 20.0);
  def_private(
      m, "_elu",
      [](const Tensor& x, double alpha, double scale, double input_scale, bool celu) {
        return elu(x, alpha, scale, input_scale, celu ? "CeluBackward0" : "EluBackward0");
      },
      "elu/selu/celu as one node.", py::arg("input"), py::arg("alpha"), py::arg("scale") = 1.0,
      py::arg("input_scale") = 1.0, py::arg("celu") = false);
  def_private(m, "_leaky_relu", &leaky_relu, "leaky_relu as one node.", py::arg("input"), py::arg("negative_slope"));
  def_private(m, "_hardtanh", &hardtanh, "hardtanh as one node.", py::arg("input"), py::arg("min_val"),
              py::arg("max_val"));
  def_private(m, "_logsigmoid", &logsigmoid, "logsigmoid as one node.", py::arg("input"));
  def_private(
      m, "_mse_loss",
      [](const Tensor& x, const Tensor& t, const std::string& reduction) {
        return mse_loss(x, t, reduction_arg(reduction));
      },
      "mse_loss as one node.", py::arg("input"), py::arg("target"), py::arg("reduction"));
  def_private(
      m, "_smooth_l1_loss",
      [](const Tensor& x, const Tensor& t, const std::string& reduction, double beta, bool huber) {
        return smooth_l1_loss(x, t, reduction_arg(reduction), beta, huber);
      },
      "smooth_l1_loss / huber_loss as one node.", py::arg("input"), py::arg("target"), py::arg("reduction"),
      py::arg("beta"), py::arg("huber"));
  def_private(
      m, "_binary_cross_entropy",
      [](const Tensor& x, const Tensor& t, std::optional<Tensor> w, const std::string& reduction) {
        return binary_cross_entropy(x, t, w.value_or(Tensor()), reduction_arg(reduction));
      },
      "binary_cross_entropy as one node.", py::arg("input"), py::arg("target"), py::arg("weight"),
      py::arg("reduction"));
  def_private(
      m, "_binary_cross_entropy_with_logits",
      [](const Tensor& x, const Tensor& t, std::optional<Tensor> w, std::optional<Tensor> pw,
         const std::string& reduction) {
        return binary_cross_entropy_with_logits(x, t, w.value_or(Tensor()), pw.value_or(Tensor()),
                                                reduction_arg(reduction));
      },
      "binary_cross_entropy_with_logits as one node.", py::arg("input"), py::arg("target"), py::arg("weight"),
      py::arg("pos_weight"), py::arg("reduction"));
  r.function(
      "conv2d", 0, "A 2-D convolution of input (N, C, H, W) or (C, H, W) with weight (O, C/groups, kh, kw).",
      [](const Tensor& x, const Tensor& w, std::optional<Tensor> b, py::handle stride, py::handle padding,
         py::handle dilation, int64_t groups) {
        return conv2d(x, w, b.value_or(Tensor()), pair_arg(stride, "stride"), pair_arg(padding, "padding"),
                      pair_arg(dilation, "dilation"), groups);
      },
      py::arg("input"), py::arg("weight"), py::arg("bias") = py::none(), py::arg("stride") = 1, py::arg("padding") = 0,
      py::arg("dilation") = 1, py::arg("groups") = 1);
  r.function(
      "max_pool2d", 0, "2-D max pooling of input (N, C, H, W) or (C, H, W); stride defaults to kernel_size.",
      [](const Tensor& x, py::handle k, py::handle stride, py::handle padding, py::handle dilation, bool ceil_mode) {
        Pair kp = pair_arg(k, "kernel_size");
        bool no_stride = stride.is_none() || (py::isinstance<py::sequence>(stride) && py::len(stride) == 0);
        Pair sp = no_stride ? kp : pair_arg(stride, "stride");
        return max_pool2d(x, kp, sp, pair_arg(padding, "padding"), pair_arg(dilation, "dilation"), ceil_mode);
      },
      py::arg("input"), py::arg("kernel_size"), py::arg("stride") = py::none(), py::arg("padding") = 0,
      py::arg("dilation") = 1, py::arg("ceil_mode") = false);
  def_private(
      m, "_sgd_step_",
      [](const TensorList& params, const TensorList& grads, py::list bufs, double lr, double momentum, double dampening,
         double weight_decay, bool nesterov, bool maximize) {
        TensorList b;
        for (auto h : bufs) b.push_back(h.is_none() ? Tensor() : h.cast<Tensor>());
        TensorList out = sgd_step_(params, grads, b, lr, momentum, dampening, weight_decay, nesterov, maximize);
        py::list r;
        for (auto& t : out) r.append(t ? py::cast(t) : py::none());
        return r;
      },
      "One fused SGD update of a parameter group, in place; returns the momentum buffers.", py::arg("params"),
      py::arg("grads"), py::arg("momentum_buffers"), py::arg("lr"), py::arg("momentum"), py::arg("dampening"),
      py::arg("weight_decay"), py::arg("nesterov"), py::arg("maximize"));
  def_private(
      m, "_adam_step_",
      [](const TensorList& params, const TensorList& grads, const TensorList& exp_avgs, const TensorList& exp_avg_sqs,
         const TensorList& max_exp_avg_sqs, const std::vector<int64_t>& steps, double lr, double beta1, double beta2,
         double eps, double weight_decay, bool amsgrad, bool maximize, bool decoupled_weight_decay,
         py::list device_steps, std::optional<Tensor> device_lr) {
        TensorList on_device;
        for (auto h : device_steps) on_device.push_back(h.is_none() ? Tensor() : h.cast<Tensor>());
        adam_step_(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, steps, on_device,
                   AdamOptions{lr, beta1, beta2, eps, weight_decay, amsgrad, maximize, decoupled_weight_decay},
                   device_lr.value_or(Tensor()));
      },
      "One fused Adam/AdamW update of a parameter group, in place. steps: the counts, counted on the host; "
      "device_steps (empty, or one per param): a CUDA parameter's count on its device, or None "
      "(Note [Capturable steps]); device_lr: a learning rate tensor on the parameters' GPU, read there.",
      py::arg("params"), py::arg("grads"), py::arg("exp_avgs"), py::arg("exp_avg_sqs"), py::arg("max_exp_avg_sqs"),
      py::arg("steps"), py::arg("lr"), py::arg("beta1"), py::arg("beta2"), py::arg("eps"), py::arg("weight_decay"),
      py::arg("amsgrad"), py::arg("maximize"), py::arg("decoupled_weight_decay"), py::arg("device_steps") = py::list(),
      py::arg("device_lr") = py::none());
}

}  // namespace bind
}  // namespace ember
