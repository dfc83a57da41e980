// The paper's option-A shortcut: parameter-free stride-s subsampling plus zero channel
// padding. oneDNN has no primitive for it; these loops work on any layout whose only
// blocking is on channels (nchw, nhwc, nChw8c, nChw16c), which is what the convolutions pick,
// in f32 or bf16 (the gradient's sum rounded to bf16, as a bf16 primitive's would be).
#pragma once

#include "model/dnn/tensor.h"

namespace stodepth::dnn {

// How the backward writes dx: replacing what it holds (the block's residual branch was
// skipped, so the shortcut is dx's only source) or adding to the branch's gradient.
enum class GradientWrite { kAssign, kAccumulate };

// y[n, c, h, w] = c < Ci ? x[n, c, s·h, s·w] : 0.    x (N, Ci, H, W) -> y (N, Co, H', W')
void shortcut_a_forward(const memory& x, const memory& y, int stride);

// dx[n, c, s·h, s·w] (+)= dy[n, c, h, w] for c < Ci; every other dx entry is zeroed by
// kAssign and left by kAccumulate.   dy (N, Co, H', W') -> dx (N, Ci, H, W)
void shortcut_a_backward(const memory& dy, const memory& dx, int stride, GradientWrite write);

}  // namespace stodepth::dnn
