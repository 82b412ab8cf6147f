#pragma once
// CPU kernels of the fused LSTM cell: the elementwise part of one step, after
// the gate pre-activations (x W_ih^T + h W_hh^T + biases) are summed by BLAS.
#include "core/tensor.h"

namespace ember {
namespace kernels {

// gates: (B, 4H) contiguous pre-activations in PyTorch's order (input, forget, cell, output);
// c_prev: (B, H) contiguous -> h, c: (B, H); act: (B, 4H) the activated gates (sigmoid, sigmoid,
// tanh, sigmoid) and tanh_c: (B, H) tanh(c), kept for the backward; all contiguous.
void lstm_cell(const Tensor& h, const Tensor& c, const Tensor& act, const Tensor& tanh_c, const Tensor& gates,
               const Tensor& c_prev);
// The backward of lstm_cell from its saved act, tanh_c and c_prev: gh, gc (B, H) contiguous, either
// undefined when zero -> d_gates (B, 4H), d_c_prev (B, H), contiguous.
void lstm_cell_backward(const Tensor& d_gates, const Tensor& d_c_prev, const Tensor& gh, const Tensor& gc,
                        const Tensor& act, const Tensor& tanh_c, const Tensor& c_prev);

}  // namespace kernels
}  // namespace ember
