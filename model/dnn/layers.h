// The network's layers, each a thin owner of its oneDNN primitives: built once for one
// batch shape and mode, then recorded into OpLists (forward, backward) that are replayed
// every step. Activations keep the layout the convolutions choose (format_tag::any);
// other primitives take that layout as given, so no reorder runs inside a step.
#pragma once

#include <string>

#include "model/dnn/tensor.h"

namespace stodepth::dnn {

enum class Mode { kTrain, kInfer };

// Whether a trained layer passes a gradient to its input: the stem's input, the images, needs
// none, and its backward-data primitive is then neither built nor run.
enum class InputGradient { kNeeded, kNotNeeded };

// A trained layer's weights as each of its primitives reads them. The parameter is the f32
// master copy, in the layout the forward primitive chose. In training the forward reads it
// itself, or in mixed precision a bf16 copy that a reorder refreshes just before the forward
// (so a dropped block converts nothing); the backward-data primitive may want the weights in
// another layout or type (a reorder per step, e.g. OIhw16i16o vs OIhw16o16i), and the
// backward-weights primitive may write the gradient in another layout than the parameter's (a
// reorder after it). At inference the forward reads the training network's parameter, or a
// copy in the forward primitive's layout and type that a reorder in `weight_sync` refreshes
// before each evaluation. Without a difference no reorder is recorded.
class LayerWeights {
 public:
  LayerWeights() = default;
  static LayerWeights for_training(Param& weights, const memory::desc& forward_weights,
                                   const memory::desc& bwd_data_weights,
                                   const memory::desc& diff_weights, const dnnl::engine& engine);
  static LayerWeights for_inference(Param& weights, const memory::desc& forward_weights,
                                    OpList* weight_sync, const dnnl::engine& engine);

  Param& param() const { return *param_; }
  // The weights the forward reads, after recording a refresh if they are a training copy.
  memory for_forward(OpList& ops) const;
  // The weights in the backward-data layout, after recording a refresh if it is a copy.
  memory for_backward_data(OpList& ops) const;
  // Where the backward-weights primitive writes; then `record_gradient` brings it to grad.
  const memory& diff() const { return diff_; }
  void record_gradient(OpList& ops) const;

 private:
  // Records the reorder that brings `copy` up to date with the parameter.
  void record_refresh(OpList& ops, const memory& copy) const;

  Param* param_ = nullptr;
  memory for_forward_, for_bwd_data_, diff_;
  bool forward_refreshes_copy_ = false;  // training with a copy for the forward
};

// A convolution's shape, and the residual block whose gate drops its weights.
struct ConvOptions {
  int out_channels = 0, kernel = 0, stride = 1;
  int block = kNoBlock;
  InputGradient input_gradient = InputGradient::kNeeded;
};

// Every layer computes in its input's data type (f32, or bf16 in mixed precision), and its
// output, gradients and weight copies are of that type; parameters, their gradients, batch-norm
// scale, shift and statistics, and the classifier's bias and logits stay f32.

// 2-D convolution, no bias, padding kernel/2.   src (N, Ci, H, W) -> dst (N, Co, H', W')
class Conv {
 public:
  // In kInfer mode the weights come from `params` (created by the training network); when
  // the inference primitive wants another layout, a reorder is added to `weight_sync`.
  Conv(Context& ctx, ParamStore& params, const std::string& name, const memory::desc& src,
       const ConvOptions& options, Mode mode, OpList* weight_sync = nullptr);
  // The source layout the forward reads: the one given, or the primitive's choice for `any`.
  memory::desc src_desc() const { return fwd_pd_.src_desc(); }
  const memory::desc& dst_desc() const { return dst_desc_; }
  Param& weights() { return weights_.param(); }

  void forward(OpList& ops, const memory& src, const memory& dst) const;
  void backward_data(OpList& ops, const memory& diff_dst, const memory& diff_src) const;
  // Writes the weight gradient into weights().grad. `src` is reordered first when the
  // backward-weights primitive chose another layout for it (see the constructor).
  void backward_weights(OpList& ops, const memory& src, const memory& diff_dst);

 private:
  Context& ctx_;
  LayerWeights weights_;
  memory::desc dst_desc_;
  dnnl::convolution_forward::primitive_desc fwd_pd_;
  dnnl::convolution_backward_data::primitive_desc bwd_data_pd_;
  dnnl::convolution_backward_weights::primitive_desc bwd_weights_pd_;
};

// The residual block whose gate drops a batch norm's scale and shift, and whether the
// ReLU that follows it runs fused into it.
struct BatchNormOptions {
  int block = kNoBlock;
  bool fuse_relu = false;
};

// Batch normalisation with learned scale/shift, optionally fused with a following ReLU.
// Training uses batch statistics and updates the running ones (momentum 0.1, unbiased
// variance, as PyTorch); inference uses the running statistics.   data (N, C, H, W)
class BatchNorm {
 public:
  static constexpr float kEpsilon = 1e-5f;
  static constexpr float kRunningMomentum = 0.1f;

  BatchNorm(Context& ctx, ParamStore& params, const std::string& name,
            const memory::desc& data, const BatchNormOptions& options, Mode mode);
  void forward(OpList& ops, const memory& src, const memory& dst) const;
  // Needs the forward's src; writes scale/shift gradients into their params.
  void backward(OpList& ops, const memory& src, const memory& diff_dst,
                const memory& diff_src) const;
  RunningStats& running() { return *running_; }

 private:
  Context& ctx_;
  Mode mode_;
  Param *scale_, *shift_;
  RunningStats* running_;
  memory mean_, variance_, workspace_;
  dnnl::batch_normalization_forward::primitive_desc fwd_pd_;
  dnnl::batch_normalization_backward::primitive_desc bwd_pd_;
  int64_t reduce_count_;  // N·H·W: values per channel in a batch
};

// ReLU; its backward uses the forward output, so the input need not be kept.
class Relu {
 public:
  Relu(Context& ctx, const memory::desc& data, Mode mode);
  void forward(OpList& ops, const memory& src, const memory& dst) const;
  void backward(OpList& ops, const memory& dst, const memory& diff_dst,
                const memory& diff_src) const;

 private:
  dnnl::eltwise_forward::primitive_desc fwd_pd_;
  dnnl::eltwise_backward::primitive_desc bwd_pd_;
};

// dst = relu(scale_a·a + b), or scale_a·a + b without the ReLU (the backward's gradient
// accumulation).
struct AddReluOptions {
  float scale_a = 1.f;  // the survival probability at inference, 1 in training
  bool relu = true;
};

// dst = relu(scale·a + b): the residual add with the block's final ReLU fused; scale is
// the survival probability at inference and 1 in training.   a, b, dst (N, C, H, W)
class AddRelu {
 public:
  AddRelu(Context& ctx, const memory::desc& data, const AddReluOptions& options);
  void forward(OpList& ops, const memory& a, const memory& b, const memory& dst) const;

 private:
  dnnl::binary::primitive_desc pd_;
};

// The per-sample residual scale of sample-mode stochastic depth, scale[n] = keep[n] / p_l:
// with add_relu the block's merge dst = relu(scale[n]·a + b), without it dst = scale[n]·a
// (the gradient the residual branch gets). oneDNN's fast kernels do not broadcast over the
// batch dimension, so every tensor is viewed as (1, N, values per sample) and the scale
// broadcasts over that view's channel axis instead; the data layout must keep each sample's
// values together (nchw, nhwc, nChw16c, …: every layout the convolutions choose).
//   a, b, dst (N, C, H, W); scale (1, N, 1) plain
struct SampleScaleOptions {
  bool add_relu = false;
};

class SampleScale {
 public:
  SampleScale(Context& ctx, const memory::desc& data, const SampleScaleOptions& options);
  // The scale tensor's descriptor: the caller fills its N floats before each step.
  const memory::desc& scale_desc() const { return scale_desc_; }
  // dst = scale[n]·a, or relu(scale[n]·a + b) when built with add_relu (b required then).
  void forward(OpList& ops, const memory& a, const memory& scale, const memory& dst,
               const memory& b = memory()) const;

 private:
  memory view(const memory& m) const;  // m's buffer as (1, N, values per sample)

  dnnl::engine engine_;
  memory::desc data_desc_, view_desc_, scale_desc_;
  bool add_relu_;
  dnnl::binary::primitive_desc pd_;
};

// Global average pooling.   src (N, C, H, W) -> dst (N, C, 1, 1)
class GlobalAvgPool {
 public:
  GlobalAvgPool(Context& ctx, const memory::desc& src, Mode mode);
  const memory::desc& dst_desc() const { return dst_desc_; }
  void forward(OpList& ops, const memory& src, const memory& dst) const;
  void backward(OpList& ops, const memory& diff_dst, const memory& diff_src) const;

 private:
  memory::desc dst_desc_;
  dnnl::pooling_forward::primitive_desc fwd_pd_;
  dnnl::pooling_backward::primitive_desc bwd_pd_;
};

// Fully connected layer with bias.   src (N, C, 1, 1) -> dst (N, K) f32 plain row-major; its
// backward takes diff_dst in the compute type (diff_dst_desc).
class InnerProduct {
 public:
  InnerProduct(Context& ctx, ParamStore& params, const std::string& name,
               const memory::desc& src, int outputs, Mode mode, OpList* weight_sync = nullptr);
  const memory::desc& dst_desc() const { return dst_desc_; }
  const memory::desc& diff_dst_desc() const { return diff_dst_desc_; }
  Param& weights() { return weights_.param(); }
  Param& bias() { return *bias_; }
  void forward(OpList& ops, const memory& src, const memory& dst) const;
  void backward_data(OpList& ops, const memory& diff_dst, const memory& diff_src) const;
  void backward_weights(OpList& ops, const memory& src, const memory& diff_dst);

 private:
  LayerWeights weights_;
  Param* bias_;
  memory::desc dst_desc_, diff_dst_desc_;
  dnnl::inner_product_forward::primitive_desc fwd_pd_;
  dnnl::inner_product_backward_data::primitive_desc bwd_data_pd_;
  dnnl::inner_product_backward_weights::primitive_desc bwd_weights_pd_;
};

}  // namespace stodepth::dnn
