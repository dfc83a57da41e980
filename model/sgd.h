// Mini-batch SGD with momentum, optional Nesterov, and L2 weight decay, in PyTorch's
// formulation (dampening 0):  d = g + λ·w;  v = μ·v + d;  w −= η·(nesterov ? d + μ·v : v).
//
// Every parameter is updated every step, BN scale/shift and biases included (as
// fb.resnet.torch, on which the paper's code is built). A dropped block's residual
// parameters have a zero loss gradient that step, so only weight decay and momentum move
// them — the same as the paper's Torch implementation.
#pragma once

#include "model/config/config.h"
#include "model/dnn/tensor.h"

namespace stodepth {

void sgd_step(const OptimizerConfig& config, double learning_rate, dnn::ParamStore& params);

}  // namespace stodepth
