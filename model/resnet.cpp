#include "model/resnet.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <optional>

#include "model/base/check.h"
#include "model/base/rng.h"
#include "model/dnn/layers.h"
#include "model/dnn/shortcut.h"

namespace stodepth {

using namespace dnn;

namespace {

// Buffers of one graph. A training graph keeps every tensor its backward pass reads under
// a name of its own; an inference graph shares scratch buffers between layers of equal
// shape, so evaluating a large batch costs a few activations, not the whole network's.
class Buffers {
 public:
  explicit Buffers(const dnnl::engine& engine) : engine_(engine) {}
  memory get(const memory::desc& desc, const std::string& slot) {
    for (auto& [name, m] : buffers_)
      if (name == slot && m.get_desc() == desc) return m;
    buffers_.emplace_back(slot, zeros(desc, engine_));
    bytes_ += int64_t(desc.get_size());
    return buffers_.back().second;
  }
  int64_t bytes() const { return bytes_; }

 private:
  int64_t bytes_ = 0;
  dnnl::engine engine_;
  std::vector<std::pair<std::string, memory>> buffers_;
};

std::string block_name(int l) { return fmt::format("block{}", l); }

// One block's ops in one direction of a step: `always`, then `branch` and `kept` when its gate
// is open, `dropped` when it is closed.
void execute_gated(dnnl::stream& stream, bool open, const OpList& always, const OpList& branch,
                   const OpList& kept, const OpList& dropped) {
  always.execute(stream);
  if (open) {
    branch.execute(stream);
    kept.execute(stream);
  } else {
    dropped.execute(stream);
  }
}

}  // namespace

// One residual block's layers, memories and recorded op lists.
struct Block {
  std::optional<Conv> conv1, conv2, proj_conv;
  std::optional<BatchNorm> bn1, bn2, proj_bn;
  std::optional<AddRelu> merge;  // y = relu(p·b2 + sc)   (p = 1 in training)
  // Sample mode, p_l < 1, training: y = relu(scale[n]·b2 + sc) and d(b2) = scale[n]·ds.
  std::optional<SampleScale> sample_merge, sample_gradient;
  std::optional<Relu> relu;           // y = relu(sc) when dropped; its backward in both cases
  std::optional<AddRelu> accumulate;  // dx += d(shortcut input)
  int stride = 1;

  // Forward tensors, (N, C, H, W) each: x the input, sc the shortcut, y the output.
  memory x, c1, r1, c2, b2, sc, pc, y;
  // Backward tensors: dy arrives, dx leaves; the rest are scratch.
  memory dx, dy, ds, dc2, dr1, dc1, dpc, dxp;
  // Sample mode, p_l < 1: keep[n]/p_l (1, N, 1), filled before each step; the residual's
  // share of ds.
  memory keep_scale, d_residual;

  OpList residual_fwd;             // conv1 bn1+relu conv2 bn2           -> b2
  OpList shortcut_fwd;             // identity: nothing; A: subsample+pad; B/C: conv1×1 bn -> sc
  OpList kept_fwd;                 // merge (sample mode: scaled merge)  -> y
  OpList dropped_fwd;              // relu(sc)                           -> y
  OpList relu_bwd;                 // dy -> ds
  OpList residual_bwd;             // (sample mode: scale) ds -> dx, weight grads of the branch
  OpList shortcut_bwd;             // ds -> dx (assign) when dropped
  OpList shortcut_accumulate_bwd;  // ds -> dx (+=) when kept
};

struct ResNet::Graph {
  Mode mode = Mode::kTrain;
  int batch = 0;
  std::vector<float> images;  // (N, C, H, W) plain, wrapped by `input`
  std::vector<int32_t> labels;
  memory input;        // the images, f32
  memory stem_source;  // the images in the compute type: `input` itself at f32
  std::optional<Conv> stem_conv;
  std::optional<BatchNorm> stem_bn;
  memory stem_c, stem_dc;
  std::vector<Block> blocks;
  std::optional<GlobalAvgPool> pool;
  std::optional<InnerProduct> fc;
  memory pooled, logits, d_logits, d_pooled;  // logits and d_logits (N, K) plain f32
  memory d_logits_for_fc;                     // d_logits in the compute type
  OpList weight_sync, stem_fwd, head_fwd, head_bwd, stem_bwd;
  int64_t activation_bytes = 0;  // the graph's tensors (BN statistics and workspaces aside)
};

// Records one graph's layers and op lists: the stem, each block's forward (residual branch,
// shortcut, merge) and the head; a training graph then gets its backward pass, recorded in
// reverse.
class ResNet::GraphBuilder {
 public:
  GraphBuilder(ResNet& net, Graph& g)
      : net_(net),
        g_(g),
        buffers_(net.ctx_.engine),
        train_(g.mode == Mode::kTrain),
        sync_(train_ ? nullptr : &g.weight_sync) {}

  void build() {
    const int blocks = net_.model_.blocks();
    memory x = stem_forward();
    g_.blocks.resize(blocks);
    for (int l = 0; l < blocks; ++l) x = block_forward(l, x);
    head_forward(x);
    if (!train_) return;
    memory dy = head_backward(x.get_desc());
    for (int l = blocks - 1; l >= 0; --l) dy = block_backward(l, dy);
    stem_backward(dy);
    g_.activation_bytes = buffers_.bytes() + int64_t(g_.images.size() * sizeof(float));
    if (g_.stem_source != g_.input)
      g_.activation_bytes += int64_t(g_.stem_source.get_desc().get_size());
  }

 private:
  Context& ctx() { return net_.ctx_; }
  ParamStore& params() { return net_.params_; }

  // Training keeps each tensor under its own name; inference reuses `shared` slots.
  memory kept(const memory::desc& d, const std::string& name, const std::string& shared) {
    return buffers_.get(d, train_ ? name : shared);
  }

  // stem: (N, C, H, W) -> (N, 16k, H, W). Returns its output.
  memory stem_forward() {
    const int n = g_.batch;
    const InputShape& in = net_.input_;
    g_.images.assign(size_t(n) * in.channels * in.height * in.width, 0.f);
    g_.labels.assign(n, 0);
    const Dims image_dims = {n, in.channels, in.height, in.width};
    g_.input = memory(f32_desc(image_dims, Tag::nchw), ctx().engine, g_.images.data());
    // f32 kernels read the images as they are; the images are converted anyway at bf16, so
    // into the layout the bf16 kernel prefers (it may have none for a 1-channel nchw image).
    const bool f32 = net_.compute_type() == Dt::f32;
    g_.stem_conv.emplace(ctx(), params(), "stem.conv",
                         f32 ? g_.input.get_desc() : memory::desc(image_dims, Dt::bf16, Tag::any),
                         ConvOptions{.out_channels = 16 * net_.model_.width,
                                     .kernel = 3,
                                     .input_gradient = InputGradient::kNotNeeded},
                         g_.mode, sync_);
    g_.stem_source =
        g_.stem_fwd.add_reorder_if_needed(g_.input, g_.stem_conv->src_desc(), ctx().engine);
    const auto stem_desc = g_.stem_conv->dst_desc();
    g_.stem_bn.emplace(ctx(), params(), "stem.bn", stem_desc, BatchNormOptions{.fuse_relu = true},
                       g_.mode);
    g_.stem_c = kept(stem_desc, "stem.c", "c1");
    memory x = kept(stem_desc, "stem.out", "act0");
    g_.stem_conv->forward(g_.stem_fwd, g_.stem_source, g_.stem_c);
    g_.stem_bn->forward(g_.stem_fwd, g_.stem_c, x);
    return x;
  }

  // Block l on input x, of width 16k·2^stage, stride 2 at the first block of stages 2 and 3.
  // Returns its output.
  memory block_forward(int l, const memory& x) {
    Block& b = g_.blocks[l];
    const std::string name = block_name(l);
    const int per_stage = (net_.model_.depth - 2) / 6;
    const int stage = l / per_stage;
    const int width = (16 * net_.model_.width) << stage;
    b.x = x;
    b.stride = stage > 0 && l % per_stage == 0 ? 2 : 1;
    const memory::desc out = residual_forward(b, name, l, width);
    shortcut_forward(b, name, out, width);
    merge_forward(b, name, l, out);
    return b.y;
  }

  // conv1 bn1+relu conv2 bn2 -> b2. Returns the block's output layout.
  memory::desc residual_forward(Block& b, const std::string& name, int l, int width) {
    b.conv1.emplace(ctx(), params(), name + ".conv1", b.x.get_desc(),
                    ConvOptions{.out_channels = width, .kernel = 3, .stride = b.stride, .block = l},
                    g_.mode, sync_);
    const auto out = b.conv1->dst_desc();
    b.bn1.emplace(ctx(), params(), name + ".bn1", out,
                  BatchNormOptions{.block = l, .fuse_relu = true}, g_.mode);
    b.conv2.emplace(ctx(), params(), name + ".conv2", out,
                    ConvOptions{.out_channels = width, .kernel = 3, .block = l}, g_.mode, sync_);
    STODEPTH_CHECK(b.conv2->dst_desc() == out, "both convs of a block share one layout");
    b.bn2.emplace(ctx(), params(), name + ".bn2", out, BatchNormOptions{.block = l}, g_.mode);
    b.c1 = kept(out, name + ".c1", "c1");
    b.r1 = kept(out, name + ".r1", "r1");
    b.c2 = kept(out, name + ".c2", "c2");
    b.b2 = buffers_.get(out, "b2");
    b.conv1->forward(b.residual_fwd, b.x, b.c1);
    b.bn1->forward(b.residual_fwd, b.c1, b.r1);
    b.conv2->forward(b.residual_fwd, b.r1, b.c2);
    b.bn2->forward(b.residual_fwd, b.c2, b.b2);
    return out;
  }

  // x -> sc. Projection parameters belong to the shortcut path (kNoBlock): they are trained
  // whether or not the residual branch runs.
  void shortcut_forward(Block& b, const std::string& name, const memory::desc& out, int width) {
    const Shortcut kind = net_.model_.shortcut;
    const bool shape_changes = b.stride != 1 || int(b.x.get_desc().dims()[1]) != width;
    if (kind == Shortcut::kC || (kind == Shortcut::kB && shape_changes)) {
      b.proj_conv.emplace(ctx(), params(), name + ".proj", b.x.get_desc(),
                          ConvOptions{.out_channels = width, .kernel = 1, .stride = b.stride},
                          g_.mode, sync_);
      STODEPTH_CHECK(b.proj_conv->dst_desc() == out, "projection matches the block layout");
      b.proj_bn.emplace(ctx(), params(), name + ".proj_bn", out, BatchNormOptions{}, g_.mode);
      b.pc = kept(out, name + ".pc", "pc");
      b.sc = buffers_.get(out, "sc");
      b.proj_conv->forward(b.shortcut_fwd, b.x, b.pc);
      b.proj_bn->forward(b.shortcut_fwd, b.pc, b.sc);
    } else if (kind == Shortcut::kA && shape_changes) {
      b.sc = buffers_.get(out, "sc");
      b.shortcut_fwd.add_host(
          [x = b.x, sc = b.sc, stride = b.stride] { shortcut_a_forward(x, sc, stride); });
    } else {
      b.sc = b.x;  // identity
    }
  }

  // b2, sc -> y. Batch mode: y = relu(p·b2 + sc) at inference, relu(b2 + sc) or relu(sc) in
  // training. Sample mode: y = relu(b2 + sc) at inference and where p_l = 1, else
  // relu(scale[n]·b2 + sc) in training.
  void merge_forward(Block& b, const std::string& name, int l, const memory::desc& out) {
    const bool per_sample = net_.drop_ == DropMode::kSample;
    const double survival = net_.survival_[l];
    b.y = kept(out, name + ".y", fmt::format("act{}", (l + 1) % 2));
    if (train_ && per_sample && survival < 1) {
      b.sample_merge.emplace(ctx(), out, SampleScaleOptions{.add_relu = true});
      b.keep_scale = buffers_.get(b.sample_merge->scale_desc(), name + ".keep_scale");
      b.sample_merge->forward(b.kept_fwd, b.b2, b.keep_scale, b.y, b.sc);
    } else {
      const bool scaled = !train_ && !per_sample;
      b.merge.emplace(ctx(), out,
                      AddReluOptions{.scale_a = scaled ? float(survival) : 1.f, .relu = true});
      b.merge->forward(b.kept_fwd, b.b2, b.sc, b.y);
    }
    if (train_) {
      b.relu.emplace(ctx(), out, Mode::kTrain);
      b.relu->forward(b.dropped_fwd, b.sc, b.y);
    }
  }

  // head: (N, 64k, h, w) -> (N, 64k, 1, 1) -> (N, K)
  void head_forward(const memory& x) {
    g_.pool.emplace(ctx(), x.get_desc(), g_.mode);
    g_.pooled = buffers_.get(g_.pool->dst_desc(), "pooled");
    g_.fc.emplace(ctx(), params(), "fc", g_.pool->dst_desc(), net_.classes_, g_.mode, sync_);
    g_.logits = buffers_.get(g_.fc->dst_desc(), "logits");
    g_.pool->forward(g_.head_fwd, x, g_.pooled);
    g_.fc->forward(g_.head_fwd, g_.pooled, g_.logits);
  }

  // Gradients of block outputs alternate between two buffers per shape, since block l reads
  // dy and writes dx of the same shape.
  memory d_act(int i, const memory::desc& d) {
    return buffers_.get(d, fmt::format("d_act{}", i % 2));
  }

  // d_logits -> the gradient of the last block's output, which it returns.
  memory head_backward(const memory::desc& last_block_out) {
    g_.d_logits = buffers_.get(g_.fc->dst_desc(), "d_logits");
    g_.d_pooled = buffers_.get(g_.pool->dst_desc(), "d_pooled");
    memory dy = d_act(net_.model_.blocks(), last_block_out);
    g_.d_logits_for_fc =
        g_.head_bwd.add_reorder_if_needed(g_.d_logits, g_.fc->diff_dst_desc(), ctx().engine);
    g_.fc->backward_data(g_.head_bwd, g_.d_logits_for_fc, g_.d_pooled);
    g_.fc->backward_weights(g_.head_bwd, g_.pooled, g_.d_logits_for_fc);
    g_.pool->backward(g_.head_bwd, g_.d_pooled, dy);
    return dy;
  }

  // Block l's dy -> dx, which it returns.
  memory block_backward(int l, const memory& dy) {
    Block& b = g_.blocks[l];
    const auto out = b.y.get_desc(), in = b.x.get_desc();
    b.dy = dy;
    b.dx = d_act(l, in);
    b.ds = buffers_.get(out, "ds");
    b.dc2 = buffers_.get(out, "dc2");
    b.dr1 = buffers_.get(out, "dr1");
    b.dc1 = buffers_.get(out, "dc1");
    b.relu->backward(b.relu_bwd, b.y, b.dy, b.ds);
    residual_backward(b, out);
    shortcut_backward(b, out, in);
    return b.dx;
  }

  // Residual branch: ds (sample mode: scale[n]·ds) -> dx.
  void residual_backward(Block& b, const memory::desc& out) {
    memory d_b2 = b.ds;
    if (b.sample_merge) {
      b.sample_gradient.emplace(ctx(), out, SampleScaleOptions{});
      b.d_residual = buffers_.get(out, "d_residual");
      b.sample_gradient->forward(b.residual_bwd, b.ds, b.keep_scale, b.d_residual);
      d_b2 = b.d_residual;
    }
    b.bn2->backward(b.residual_bwd, b.c2, d_b2, b.dc2);
    b.conv2->backward_data(b.residual_bwd, b.dc2, b.dr1);
    b.conv2->backward_weights(b.residual_bwd, b.r1, b.dc2);
    b.bn1->backward(b.residual_bwd, b.c1, b.dr1, b.dc1);
    b.conv1->backward_data(b.residual_bwd, b.dc1, b.dx);
    b.conv1->backward_weights(b.residual_bwd, b.x, b.dc1);
  }

  // Shortcut: ds -> dx, assigned when the branch was skipped, added when it ran.
  void shortcut_backward(Block& b, const memory::desc& out, const memory::desc& in) {
    if (b.proj_conv) {
      b.dpc = buffers_.get(out, "dpc");
      b.dxp = buffers_.get(in, "dxp");
      for (OpList* ops : {&b.shortcut_bwd, &b.shortcut_accumulate_bwd}) {
        const memory target = ops == &b.shortcut_bwd ? b.dx : b.dxp;
        b.proj_bn->backward(*ops, b.pc, b.ds, b.dpc);
        b.proj_conv->backward_data(*ops, b.dpc, target);
        b.proj_conv->backward_weights(*ops, b.x, b.dpc);
      }
    } else if (b.sc != b.x) {
      const int stride = b.stride;
      b.shortcut_bwd.add_host([ds = b.ds, dx = b.dx, stride] {
        shortcut_a_backward(ds, dx, stride, GradientWrite::kAssign);
      });
      b.shortcut_accumulate_bwd.add_host([ds = b.ds, dx = b.dx, stride] {
        shortcut_a_backward(ds, dx, stride, GradientWrite::kAccumulate);
      });
    } else {
      b.shortcut_bwd.add(dnnl::reorder(b.ds, b.dx), {{DNNL_ARG_FROM, b.ds}, {DNNL_ARG_TO, b.dx}});
    }
    if (b.proj_conv || b.sc == b.x) {
      const memory addend = b.proj_conv ? b.dxp : b.ds;
      b.accumulate.emplace(ctx(), in, AddReluOptions{.relu = false});
      b.accumulate->forward(b.shortcut_accumulate_bwd, b.dx, addend, b.dx);
    }
  }

  // stem: its input needs no gradient.
  void stem_backward(const memory& dy) {
    g_.stem_dc = buffers_.get(g_.stem_conv->dst_desc(), "stem.dc");
    g_.stem_bn->backward(g_.stem_bwd, g_.stem_c, dy, g_.stem_dc);
    g_.stem_conv->backward_weights(g_.stem_bwd, g_.stem_source, g_.stem_dc);
  }

  ResNet& net_;
  Graph& g_;
  Buffers buffers_;
  const bool train_;
  OpList* const sync_;  // inference: the reorders that refresh its copies of the weights
};

ResNet::ResNet(const ModelConfig& model, std::vector<double> survival, InputShape input,
               int classes, int batch, uint64_t init_seed, DropMode drop, Precision precision)
    : model_(model),
      survival_(std::move(survival)),
      input_(input),
      classes_(classes),
      batch_(batch),
      drop_(drop),
      precision_(precision) {
  STODEPTH_CHECK(int(survival_.size()) == model.blocks(), "one survival probability per block");
  STODEPTH_CHECK(batch > 0 && classes > 1, "positive batch and at least two classes");
  train_ = std::make_unique<Graph>();
  train_->mode = Mode::kTrain;
  train_->batch = batch;
  GraphBuilder(*this, *train_).build();
  initialize_parameters(init_seed);
}

ResNet::~ResNet() = default;

dnn::Dt ResNet::compute_type() const { return precision_ == Precision::kBf16 ? Dt::bf16 : Dt::f32; }

void ResNet::initialize_parameters(uint64_t seed) {
  Rng rng(seed);
  for (Param* p : params_.all()) {
    const Dims dims = p->value.get_desc().dims();
    int64_t count = 1;
    for (auto d : dims) count *= d;
    std::vector<float> values(count);
    const bool is_fc = p->name.rfind("fc.", 0) == 0;
    if (dims.size() == 4 && !is_fc) {
      // He et al. (2015), as fb.resnet.torch: N(0, 2 / (k·k·out_channels)).
      const double stddev = std::sqrt(2.0 / double(dims[2] * dims[3] * dims[0]));
      for (auto& v : values) v = float(rng.normal() * stddev);
    } else if (is_fc && dims.size() == 4) {
      const double bound = 1.0 / std::sqrt(double(dims[1]));  // PyTorch's Linear default
      for (auto& v : values) v = float((2 * rng.uniform() - 1) * bound);
    } else {
      const bool is_scale = p->name.size() > 6 && p->name.substr(p->name.size() - 6) == ".scale";
      std::fill(values.begin(), values.end(), is_scale ? 1.f : 0.f);
    }
    write_from(values.data(), dims.size() == 4 ? Tag::oihw : Tag::a, p->value, ctx_);
  }
}

float* ResNet::train_images() { return train_->images.data(); }
int32_t* ResNet::train_labels() { return train_->labels.data(); }

void ResNet::forward(Graph& g, const std::vector<bool>& gates) {
  g.stem_fwd.execute(ctx_.stream);
  for (size_t l = 0; l < g.blocks.size(); ++l) {
    const Block& b = g.blocks[l];
    execute_gated(ctx_.stream, gates[l], b.shortcut_fwd, b.residual_fwd, b.kept_fwd, b.dropped_fwd);
  }
  g.head_fwd.execute(ctx_.stream);
}

LossValue ResNet::loss(Graph& g) {
  return softmax_cross_entropy(ptr(g.logits), g.labels.data(), g.batch, classes_,
                               g.mode == Mode::kTrain ? ptr(g.d_logits) : nullptr);
}

LossValue ResNet::train_step(const std::vector<bool>& gates) {
  STODEPTH_CHECK(drop_ == DropMode::kBatch, "gates per block are batch mode's");
  STODEPTH_CHECK(int(gates.size()) == blocks(), "one gate per block");
  return step(gates);
}

LossValue ResNet::train_step_per_sample(const std::vector<std::vector<bool>>& keep) {
  STODEPTH_CHECK(drop_ == DropMode::kSample, "keep decisions per sample are sample mode's");
  STODEPTH_CHECK(int(keep.size()) == blocks(), "one keep vector per block");
  for (int l = 0; l < blocks(); ++l) {
    STODEPTH_CHECK(int(keep[l].size()) == batch_, "one keep decision per sample");
    Block& b = train_->blocks[l];
    if (!b.sample_merge) {
      STODEPTH_CHECK(std::all_of(keep[l].begin(), keep[l].end(), [](bool k) { return k; }),
                     "a block with p_l = 1 keeps every sample");
      continue;
    }
    const float kept_scale = float(1.0 / survival_[l]);
    float* scale = ptr(b.keep_scale);  // (1, N, 1)
    for (int n = 0; n < batch_; ++n) scale[n] = keep[l][n] ? kept_scale : 0.f;
  }
  return step(std::vector<bool>(blocks(), true));  // every branch runs
}

int draw_gates(Rng& rng, const std::vector<double>& survival, std::vector<bool>& gates) {
  STODEPTH_CHECK(gates.size() == survival.size(), "one gate per block");
  int kept = 0;
  for (size_t l = 0; l < gates.size(); ++l) {
    gates[l] = rng.bernoulli(survival[l]);
    kept += gates[l];
  }
  return kept;
}

void draw_keep_decisions(Rng& rng, const std::vector<double>& survival,
                         std::vector<std::vector<bool>>& keep) {
  STODEPTH_CHECK(keep.size() == survival.size(), "one keep vector per block");
  for (size_t l = 0; l < keep.size(); ++l)
    for (size_t n = 0; n < keep[l].size(); ++n) keep[l][n] = rng.bernoulli(survival[l]);
}

LossValue ResNet::step(const std::vector<bool>& gates) {
  Graph& g = *train_;
  forward(g, gates);
  const LossValue value = loss(g);
  g.head_bwd.execute(ctx_.stream);
  for (int l = blocks() - 1; l >= 0; --l) {
    const Block& b = g.blocks[l];
    execute_gated(ctx_.stream, gates[l], b.relu_bwd, b.residual_bwd, b.shortcut_accumulate_bwd,
                  b.shortcut_bwd);
  }
  g.stem_bwd.execute(ctx_.stream);
  // A skipped branch contributed nothing to the loss: its gradient is zero.
  for (Param* p : params_.all())
    if (p->block >= 0 && !gates[p->block])
      std::memset(p->grad.get_data_handle(), 0, p->grad.get_desc().get_size());
  return value;
}

ResNet::Graph& ResNet::inference_graph(int n) {
  auto& slot = inference_[n];
  if (!slot) {
    slot = std::make_unique<Graph>();
    slot->mode = Mode::kInfer;
    slot->batch = n;
    GraphBuilder(*this, *slot).build();
  }
  return *slot;
}

LossValue ResNet::evaluate(const float* images, const int32_t* labels, int n) {
  STODEPTH_CHECK(n > 0, "evaluate needs examples");
  Graph& g = inference_graph(n);
  std::memcpy(g.images.data(), images, g.images.size() * sizeof(float));
  std::memcpy(g.labels.data(), labels, size_t(n) * sizeof(int32_t));
  g.weight_sync.execute(ctx_.stream);
  forward(g, std::vector<bool>(g.blocks.size(), true));  // inference runs every block
  return loss(g);
}

namespace {

// The plain layout of a parameter with `ndims` dimensions (conv weights OIHW, fc weights OI,
// vectors), so that checkpoints do not depend on the blocked layout oneDNN chose.
dnn::Tag plain_tag(int ndims) {
  switch (ndims) {
    case 1:
      return dnn::Tag::a;
    case 2:
      return dnn::Tag::ab;
    case 4:
      return dnn::Tag::abcd;
  }
  STODEPTH_CHECK(false, "a parameter has 1, 2 or 4 dimensions");
  return dnn::Tag::undef;
}

int64_t plain_floats(const dnn::memory::desc& desc) {
  int64_t n = 1;
  for (auto d : desc.dims()) n *= d;
  return n;
}

// Moves one tensor between the network and `io` in its plain layout: read out of the
// network before it is written, written into the network after it is read.
template <typename Io>
bool transfer_tensor(Io& io, const dnn::memory& tensor, std::vector<float>& plain,
                     dnn::Context& ctx) {
  const auto desc = tensor.get_desc();
  const dnn::Tag tag = plain_tag(desc.data.ndims);
  plain.resize(size_t(plain_floats(desc)));
  if constexpr (!Io::kReads) dnn::read_into(tensor, plain.data(), tag, ctx);
  if (!io.floats(plain)) return false;
  if constexpr (Io::kReads) dnn::write_from(plain.data(), tag, tensor, ctx);
  return true;
}

// The network's checkpoint fields, in file order: the parameter count, then each parameter's
// name, value and momentum; the batch-norm count, then each one's name, running mean and
// running variance.
template <typename Io>
Status transfer_fields(Io& io, dnn::ParamStore& params, dnn::Context& ctx) {
  const auto mismatch = [](const std::string& what) {
    return damaged_file(fmt::format("checkpoint does not fit this network ({})", what));
  };
  const auto all = params.all();
  if (!io.expect(int64_t(all.size()))) return mismatch("parameter count");
  std::vector<float> plain;
  for (dnn::Param* p : all) {
    const dnn::memory momentum(p->value.get_desc(), ctx.engine, p->velocity.data());
    if (!io.expect(p->name)) return mismatch("parameter " + p->name);
    if (!transfer_tensor(io, p->value, plain, ctx)) return mismatch("size of " + p->name);
    if (!transfer_tensor(io, momentum, plain, ctx)) return mismatch("momentum of " + p->name);
  }
  const auto stats = params.all_running_stats();
  if (!io.expect(int64_t(stats.size()))) return mismatch("batch-norm count");
  for (const auto& [name, s] : stats) {
    if (!io.expect(name)) return mismatch("statistics " + name);
    if (!io.floats(s->mean) || !io.floats(s->variance))
      return mismatch("size of statistics " + name);
  }
  return ok_status();
}

}  // namespace

Status ResNet::transfer_state(ByteWriter& out) { return transfer_fields(out, params_, ctx_); }
Status ResNet::transfer_state(ByteReader& in) { return transfer_fields(in, params_, ctx_); }

ResNet::MemoryUse ResNet::memory_use() {
  MemoryUse use;
  use.activation_bytes = train_->activation_bytes;
  for (const Param* p : params_.all())
    use.parameter_bytes +=
        int64_t(p->value.get_desc().get_size() * 2 + p->velocity.size() * sizeof(float));
  return use;
}

std::vector<dnn::PrimitiveInfo> ResNet::primitives() const {
  std::vector<dnn::PrimitiveInfo> out;
  const auto collect = [&out](const OpList& ops) {
    for (auto& info : ops.primitives()) out.push_back(std::move(info));
  };
  const auto collect_graph = [&](const Graph& g) {
    for (const OpList* ops : {&g.weight_sync, &g.stem_fwd, &g.head_fwd, &g.head_bwd, &g.stem_bwd})
      collect(*ops);
    for (const Block& b : g.blocks)
      for (const OpList* ops :
           {&b.residual_fwd, &b.shortcut_fwd, &b.kept_fwd, &b.dropped_fwd, &b.relu_bwd,
            &b.residual_bwd, &b.shortcut_bwd, &b.shortcut_accumulate_bwd})
        collect(*ops);
  };
  collect_graph(*train_);
  for (const auto& [n, g] : inference_) collect_graph(*g);
  return out;
}

int64_t ResNet::residual_primitive_executions(int block) const {
  const Block& b = train_->blocks.at(block);
  int64_t total = b.residual_fwd.executed_primitives() + b.residual_bwd.executed_primitives();
  for (const auto& [n, g] : inference_)
    total += g->blocks.at(block).residual_fwd.executed_primitives();
  return total;
}

}  // namespace stodepth
