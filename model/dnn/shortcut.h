// The paper's option-A shortcut: parameter-free stride-s subsampling plus zero channel
// padding. oneDNN has no primitive for it; these loops work on any layout whose only
// blocking is on channels (nchw, nhwc, nChw8c, nChw16c), which is what the convolutions pick.
#pragma once

#include "model/dnn/tensor.h"

namespace stodepth::dnn {

// y[n, c, h, w] = c < Ci ? x[n, c, s·h, s·w] : 0.    x (N, Ci, H, W) -> y (N, Co, H', W')
void shortcut_a_forward(const memory& x, const memory& y, int stride);

// dx[n, c, s·h, s·w] (+)= dy[n, c, h, w] for c < Ci; with accumulate = false dx is first
// zeroed.   dy (N, Co, H', W') -> dx (N, Ci, H, W)
void shortcut_a_backward(const memory& dy, const memory& dx, int stride, bool accumulate);

}  // namespace stodepth::dnn
