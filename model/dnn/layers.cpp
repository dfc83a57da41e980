#include "model/dnn/layers.h"

#include "model/base/check.h"

namespace stodepth::dnn {
namespace {

dnnl::prop_kind forward_kind(Mode mode) {
  return mode == Mode::kTrain ? dnnl::prop_kind::forward_training
                              : dnnl::prop_kind::forward_inference;
}

}  // namespace

LayerWeights LayerWeights::for_training(Param& weights, const memory::desc& forward_weights,
                                        const memory::desc& bwd_data_weights,
                                        const memory::desc& diff_weights,
                                        const dnnl::engine& engine) {
  LayerWeights w;
  w.param_ = &weights;
  w.forward_refreshes_copy_ = forward_weights != weights.value.get_desc();
  w.for_forward_ = w.forward_refreshes_copy_ ? memory(forward_weights, engine) : weights.value;
  w.for_bwd_data_ = bwd_data_weights == weights.value.get_desc() ? weights.value
                                                                 : memory(bwd_data_weights, engine);
  w.diff_ = diff_weights == weights.grad.get_desc() ? weights.grad : memory(diff_weights, engine);
  return w;
}

LayerWeights LayerWeights::for_inference(Param& weights, const memory::desc& forward_weights,
                                         OpList* weight_sync, const dnnl::engine& engine) {
  LayerWeights w;
  w.param_ = &weights;
  if (weights.value.get_desc() == forward_weights) {
    w.for_forward_ = weights.value;
  } else {
    STODEPTH_CHECK(weight_sync != nullptr, "a layout-changing parameter copy needs a sync list");
    w.for_forward_ = weight_sync->add_reorder_if_needed(weights.value, forward_weights, engine);
  }
  return w;
}

void LayerWeights::record_refresh(OpList& ops, const memory& copy) const {
  ops.add(dnnl::reorder(param_->value, copy),
          {{DNNL_ARG_FROM, param_->value}, {DNNL_ARG_TO, copy}});
}

memory LayerWeights::for_forward(OpList& ops) const {
  if (forward_refreshes_copy_) record_refresh(ops, for_forward_);
  return for_forward_;
}

memory LayerWeights::for_backward_data(OpList& ops) const {
  if (for_bwd_data_ != param_->value) record_refresh(ops, for_bwd_data_);
  return for_bwd_data_;
}

void LayerWeights::record_gradient(OpList& ops) const {
  if (diff_ != param_->grad)
    ops.add(dnnl::reorder(diff_, param_->grad),
            {{DNNL_ARG_FROM, diff_}, {DNNL_ARG_TO, param_->grad}});
}

// ---------------------------------------------------------------------------- Conv

Conv::Conv(Context& ctx, ParamStore& params, const std::string& name, const memory::desc& src,
           const ConvOptions& options, Mode mode, OpList* weight_sync)
    : ctx_(ctx) {
  const int out_channels = options.out_channels, kernel = options.kernel;
  const int stride = options.stride;
  STODEPTH_CHECK(out_channels > 0 && kernel > 0 && stride > 0,
                 "a convolution needs output channels, a kernel and a stride");
  const Dims in = src.dims();  // (N, Ci, H, W)
  const int pad = kernel / 2;
  const Dims out = {in[0], out_channels, (in[2] + 2 * pad - kernel) / stride + 1,
                    (in[3] + 2 * pad - kernel) / stride + 1};
  const Dims weight_dims = {out_channels, in[1], kernel, kernel};
  const Dims strides = {stride, stride}, padding = {pad, pad};

  const Dt type = src.data_type();
  const memory::desc any_weights(weight_dims, type, Tag::any);
  const memory::desc any_dst(out, type, Tag::any);
  fwd_pd_ = {{forward_kind(mode), dnnl::algorithm::convolution_direct, src, any_weights, any_dst,
              strides, padding, padding},
             ctx.engine};
  dst_desc_ = fwd_pd_.dst_desc();

  if (mode == Mode::kTrain) {
    Param& weights = params.get_or_create(name, with_type(fwd_pd_.weights_desc(), Dt::f32),
                                          options.block, ctx.engine);
    memory::desc bwd_data_weights = weights.value.get_desc();
    if (options.input_gradient == InputGradient::kNeeded) {
      bwd_data_pd_ = {{dnnl::algorithm::convolution_direct, fwd_pd_.src_desc(), any_weights,
                       dst_desc_, strides, padding, padding},
                      ctx.engine,
                      fwd_pd_};
      bwd_data_weights = bwd_data_pd_.weights_desc();
    }
    // The source layout is the primitive's choice: a jit kernel may not accept the one the
    // forward reads (AVX2's backward-weights kernel takes a 1-channel image only as nChw8c,
    // and the plain one would get the reference kernel, hundreds of times slower). Where
    // the layouts agree, as between blocks, no reorder is recorded.
    // The gradient is written in f32, the master weights' type, where the kernel allows.
    bwd_weights_pd_ = {{dnnl::algorithm::convolution_direct, memory::desc(in, type, Tag::any),
                        f32_desc(weight_dims, Tag::any), dst_desc_, strides, padding, padding},
                       ctx.engine,
                       fwd_pd_};
    weights_ = LayerWeights::for_training(weights, fwd_pd_.weights_desc(), bwd_data_weights,
                                          bwd_weights_pd_.diff_weights_desc(), ctx.engine);
  } else {
    Param* weights = params.find(name);
    STODEPTH_CHECK(weights != nullptr, "inference conv needs the training network's weights");
    weights_ =
        LayerWeights::for_inference(*weights, fwd_pd_.weights_desc(), weight_sync, ctx.engine);
  }
}

void Conv::forward(OpList& ops, const memory& src, const memory& dst) const {
  const memory weights = weights_.for_forward(ops);
  ops.add(dnnl::convolution_forward(fwd_pd_),
          {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, weights}, {DNNL_ARG_DST, dst}});
}

void Conv::backward_data(OpList& ops, const memory& diff_dst, const memory& diff_src) const {
  STODEPTH_CHECK(bwd_data_pd_, "backward_data on a conv built without an input gradient");
  const memory weights = weights_.for_backward_data(ops);
  ops.add(
      dnnl::convolution_backward_data(bwd_data_pd_),
      {{DNNL_ARG_DIFF_DST, diff_dst}, {DNNL_ARG_WEIGHTS, weights}, {DNNL_ARG_DIFF_SRC, diff_src}});
}

void Conv::backward_weights(OpList& ops, const memory& src, const memory& diff_dst) {
  const memory src_for_weights =
      ops.add_reorder_if_needed(src, bwd_weights_pd_.src_desc(), ctx_.engine);
  ops.add(dnnl::convolution_backward_weights(bwd_weights_pd_),
          {{DNNL_ARG_SRC, src_for_weights},
           {DNNL_ARG_DIFF_DST, diff_dst},
           {DNNL_ARG_DIFF_WEIGHTS, weights_.diff()}});
  weights_.record_gradient(ops);
}

// ----------------------------------------------------------------------- BatchNorm

BatchNorm::BatchNorm(Context& ctx, ParamStore& params, const std::string& name,
                     const memory::desc& data, const BatchNormOptions& options, Mode mode)
    : ctx_(ctx), mode_(mode) {
  const Dims dims = data.dims();  // (N, C, H, W)
  const int channels = static_cast<int>(dims[1]);
  reduce_count_ = dims[0] * dims[2] * dims[3];
  const auto channel_desc = f32_desc({channels}, Tag::a);
  scale_ = &params.get_or_create(name + ".scale", channel_desc, options.block, ctx.engine);
  shift_ = &params.get_or_create(name + ".shift", channel_desc, options.block, ctx.engine);
  running_ = &params.running_stats(name, channels);

  using Flags = dnnl::normalization_flags;
  Flags flags = Flags::use_scale | Flags::use_shift;
  if (options.fuse_relu) flags |= Flags::fuse_norm_relu;
  if (mode == Mode::kInfer) flags |= Flags::use_global_stats;
  fwd_pd_ = {{forward_kind(mode), data, kEpsilon, flags}, ctx.engine};
  if (mode == Mode::kTrain) {
    mean_ = memory(fwd_pd_.mean_desc(), ctx.engine);
    variance_ = memory(fwd_pd_.variance_desc(), ctx.engine);
    if (options.fuse_relu) workspace_ = memory(fwd_pd_.workspace_desc(), ctx.engine);
    bwd_pd_ = {{dnnl::prop_kind::backward, data, data, kEpsilon, flags}, ctx.engine, fwd_pd_};
  } else {
    // Inference reads the running statistics in place.
    mean_ = memory(fwd_pd_.mean_desc(), ctx.engine, running_->mean.data());
    variance_ = memory(fwd_pd_.variance_desc(), ctx.engine, running_->variance.data());
  }
}

void BatchNorm::forward(OpList& ops, const memory& src, const memory& dst) const {
  std::unordered_map<int, memory> args = {{DNNL_ARG_SRC, src},
                                          {DNNL_ARG_DST, dst},
                                          {DNNL_ARG_SCALE, scale_->value},
                                          {DNNL_ARG_SHIFT, shift_->value},
                                          {DNNL_ARG_MEAN, mean_},
                                          {DNNL_ARG_VARIANCE, variance_}};
  if (workspace_) args[DNNL_ARG_WORKSPACE] = workspace_;
  ops.add(dnnl::batch_normalization_forward(fwd_pd_), std::move(args));
  if (mode_ == Mode::kInfer) return;
  ops.add_host([this] {
    const float m = kRunningMomentum;
    const float unbias = reduce_count_ > 1 ? float(reduce_count_) / float(reduce_count_ - 1) : 1.f;
    const float* batch_mean = ptr(mean_);
    const float* batch_var = ptr(variance_);
    for (size_t c = 0; c < running_->mean.size(); ++c) {
      running_->mean[c] = (1 - m) * running_->mean[c] + m * batch_mean[c];
      running_->variance[c] = (1 - m) * running_->variance[c] + m * batch_var[c] * unbias;
    }
  });
}

void BatchNorm::backward(OpList& ops, const memory& src, const memory& diff_dst,
                         const memory& diff_src) const {
  STODEPTH_CHECK(mode_ == Mode::kTrain, "backward on an inference batch norm");
  std::unordered_map<int, memory> args = {{DNNL_ARG_SRC, src},
                                          {DNNL_ARG_DIFF_DST, diff_dst},
                                          {DNNL_ARG_DIFF_SRC, diff_src},
                                          {DNNL_ARG_MEAN, mean_},
                                          {DNNL_ARG_VARIANCE, variance_},
                                          {DNNL_ARG_SCALE, scale_->value},
                                          {DNNL_ARG_SHIFT, shift_->value},
                                          {DNNL_ARG_DIFF_SCALE, scale_->grad},
                                          {DNNL_ARG_DIFF_SHIFT, shift_->grad}};
  if (workspace_) args[DNNL_ARG_WORKSPACE] = workspace_;
  ops.add(dnnl::batch_normalization_backward(bwd_pd_), std::move(args));
}

// ---------------------------------------------------------------------------- Relu

Relu::Relu(Context& ctx, const memory::desc& data, Mode mode) {
  // relu_use_dst_for_bwd: the backward reads the output, which the next layer keeps anyway.
  const auto algo = dnnl::algorithm::eltwise_relu_use_dst_for_bwd;
  fwd_pd_ = {{forward_kind(mode), algo, data, 0.f, 0.f}, ctx.engine};
  if (mode == Mode::kTrain) bwd_pd_ = {{algo, data, data, 0.f, 0.f}, ctx.engine, fwd_pd_};
}

void Relu::forward(OpList& ops, const memory& src, const memory& dst) const {
  ops.add(dnnl::eltwise_forward(fwd_pd_), {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst}});
}

void Relu::backward(OpList& ops, const memory& dst, const memory& diff_dst,
                    const memory& diff_src) const {
  ops.add(dnnl::eltwise_backward(bwd_pd_),
          {{DNNL_ARG_DST, dst}, {DNNL_ARG_DIFF_DST, diff_dst}, {DNNL_ARG_DIFF_SRC, diff_src}});
}

// ------------------------------------------------------------------------- AddRelu

AddRelu::AddRelu(Context& ctx, const memory::desc& data, const AddReluOptions& options) {
  dnnl::primitive_attr attr;
  if (options.scale_a != 1.f) attr.set_scales(DNNL_ARG_SRC_0, 0, {options.scale_a});
  if (options.relu) {
    dnnl::post_ops post;
    post.append_eltwise(1.f, dnnl::algorithm::eltwise_relu, 0.f, 0.f);
    attr.set_post_ops(post);
  }
  pd_ = {{dnnl::algorithm::binary_add, data, data, data}, attr, ctx.engine};
}

void AddRelu::forward(OpList& ops, const memory& a, const memory& b, const memory& dst) const {
  ops.add(dnnl::binary(pd_), {{DNNL_ARG_SRC_0, a}, {DNNL_ARG_SRC_1, b}, {DNNL_ARG_DST, dst}});
}

// --------------------------------------------------------------------- SampleScale

SampleScale::SampleScale(Context& ctx, const memory::desc& data, const SampleScaleOptions& options)
    : engine_(ctx.engine), data_desc_(data), add_relu_(options.add_relu) {
  const Dims dims = data.dims();  // (N, C, H, W)
  const auto& blocking = data.data.format_desc.blocking;
  bool batch_blocked = false;
  for (int i = 0; i < blocking.inner_nblks; ++i) batch_blocked |= blocking.inner_idxs[i] == 0;
  const int64_t per_sample =
      int64_t(data.get_size() / memory::data_type_size(data.data_type())) / dims[0];
  STODEPTH_CHECK(
      data.data.format_kind == dnnl_blocked && !batch_blocked && blocking.strides[0] == per_sample,
      "a per-sample scale needs a layout that keeps each sample's values together");
  view_desc_ = memory::desc({1, dims[0], per_sample}, data.data_type(), Tag::abc);
  scale_desc_ = f32_desc({1, dims[0], 1}, Tag::abc);  // f32 whatever the data: 1/p_l exactly
  dnnl::primitive_attr attr;
  if (add_relu_) {
    dnnl::post_ops post;
    post.append_binary(dnnl::algorithm::binary_add, view_desc_);
    post.append_eltwise(1.f, dnnl::algorithm::eltwise_relu, 0.f, 0.f);
    attr.set_post_ops(post);
  }
  pd_ = {{dnnl::algorithm::binary_mul, view_desc_, scale_desc_, view_desc_}, attr, ctx.engine};
}

memory SampleScale::view(const memory& m) const {
  STODEPTH_CHECK(m.get_desc() == data_desc_, "a per-sample scale's tensors share its layout");
  return memory(view_desc_, engine_, m.get_data_handle());
}

void SampleScale::forward(OpList& ops, const memory& a, const memory& scale, const memory& dst,
                          const memory& b) const {
  STODEPTH_CHECK(scale.get_desc() == scale_desc_, "the scale is (1, N, 1) plain");
  std::unordered_map<int, memory> args = {
      {DNNL_ARG_SRC_0, view(a)}, {DNNL_ARG_SRC_1, scale}, {DNNL_ARG_DST, view(dst)}};
  STODEPTH_CHECK(add_relu_ == bool(b), "the addend b is given exactly when add_relu is set");
  if (add_relu_) args[DNNL_ARG_ATTR_MULTIPLE_POST_OP(0) | DNNL_ARG_SRC_1] = view(b);
  ops.add(dnnl::binary(pd_), std::move(args));
}

// ------------------------------------------------------------------- GlobalAvgPool

GlobalAvgPool::GlobalAvgPool(Context& ctx, const memory::desc& src, Mode mode) {
  const Dims in = src.dims();  // (N, C, H, W)
  const Dims kernel = {in[2], in[3]}, strides = {1, 1}, padding = {0, 0};
  const auto algo = dnnl::algorithm::pooling_avg_exclude_padding;
  const memory::desc any_dst({in[0], in[1], 1, 1}, src.data_type(), Tag::any);
  fwd_pd_ = {{forward_kind(mode), algo, src, any_dst, strides, kernel, padding, padding},
             ctx.engine};
  dst_desc_ = fwd_pd_.dst_desc();
  if (mode == Mode::kTrain)
    bwd_pd_ = {{algo, src, dst_desc_, strides, kernel, padding, padding}, ctx.engine, fwd_pd_};
}

void GlobalAvgPool::forward(OpList& ops, const memory& src, const memory& dst) const {
  ops.add(dnnl::pooling_forward(fwd_pd_), {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst}});
}

void GlobalAvgPool::backward(OpList& ops, const memory& diff_dst, const memory& diff_src) const {
  ops.add(dnnl::pooling_backward(bwd_pd_),
          {{DNNL_ARG_DIFF_DST, diff_dst}, {DNNL_ARG_DIFF_SRC, diff_src}});
}

// -------------------------------------------------------------------- InnerProduct

InnerProduct::InnerProduct(Context& ctx, ParamStore& params, const std::string& name,
                           const memory::desc& src, int outputs, Mode mode, OpList* weight_sync) {
  const Dims in = src.dims();  // (N, C, 1, 1)
  const Dt type = src.data_type();
  const Dims weight_dims = {outputs, in[1], in[2], in[3]};
  const memory::desc any_weights(weight_dims, type, Tag::any);
  const auto bias_desc = f32_desc({outputs}, Tag::a);
  dst_desc_ = f32_desc({in[0], outputs}, Tag::nc);  // the loss reads f32 logits
  diff_dst_desc_ = memory::desc({in[0], outputs}, type, Tag::nc);
  fwd_pd_ = {{forward_kind(mode), src, any_weights, bias_desc, dst_desc_}, ctx.engine};
  if (mode == Mode::kTrain) {
    Param& weights = params.get_or_create(
        name + ".weight", with_type(fwd_pd_.weights_desc(), Dt::f32), kNoBlock, ctx.engine);
    bias_ = &params.get_or_create(name + ".bias", bias_desc, kNoBlock, ctx.engine);
    bwd_data_pd_ = {{src, any_weights, diff_dst_desc_}, ctx.engine, fwd_pd_};
    bwd_weights_pd_ = {
        {src, f32_desc(weight_dims, Tag::any), bias_desc, diff_dst_desc_}, ctx.engine, fwd_pd_};
    weights_ =
        LayerWeights::for_training(weights, fwd_pd_.weights_desc(), bwd_data_pd_.weights_desc(),
                                   bwd_weights_pd_.diff_weights_desc(), ctx.engine);
  } else {
    Param* weights = params.find(name + ".weight");
    bias_ = params.find(name + ".bias");
    STODEPTH_CHECK(weights && bias_, "inference fc needs the training network's weights");
    weights_ =
        LayerWeights::for_inference(*weights, fwd_pd_.weights_desc(), weight_sync, ctx.engine);
  }
}

void InnerProduct::forward(OpList& ops, const memory& src, const memory& dst) const {
  const memory weights = weights_.for_forward(ops);
  ops.add(dnnl::inner_product_forward(fwd_pd_), {{DNNL_ARG_SRC, src},
                                                 {DNNL_ARG_WEIGHTS, weights},
                                                 {DNNL_ARG_BIAS, bias_->value},
                                                 {DNNL_ARG_DST, dst}});
}

void InnerProduct::backward_data(OpList& ops, const memory& diff_dst,
                                 const memory& diff_src) const {
  const memory weights = weights_.for_backward_data(ops);
  ops.add(
      dnnl::inner_product_backward_data(bwd_data_pd_),
      {{DNNL_ARG_DIFF_DST, diff_dst}, {DNNL_ARG_WEIGHTS, weights}, {DNNL_ARG_DIFF_SRC, diff_src}});
}

void InnerProduct::backward_weights(OpList& ops, const memory& src, const memory& diff_dst) {
  ops.add(dnnl::inner_product_backward_weights(bwd_weights_pd_),
          {{DNNL_ARG_SRC, src},
           {DNNL_ARG_DIFF_DST, diff_dst},
           {DNNL_ARG_DIFF_WEIGHTS, weights_.diff()},
           {DNNL_ARG_DIFF_BIAS, bias_->grad}});
  weights_.record_gradient(ops);
}

}  // namespace stodepth::dnn
