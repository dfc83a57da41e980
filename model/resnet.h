// A CIFAR-style ResNet (He et al., 2016) of depth 6n+2 with stochastic depth (Huang et
// al., 2016), built from oneDNN primitives.
//
//   stem:    conv3×3(C→16k) BN ReLU                       (N, 16k, H, W)
//   stage s: n post-activation basic blocks of width 16k·2^s, stride 2 at the first
//            block of stages 2 and 3:  y = relu(BN(conv(relu(BN(conv(x))))) + shortcut(x))
//   head:    global average pool, fully connected           (N, classes)
//
// Training drops residual branches in one of two modes (DropMode, model/config/survival.h):
//  - batch (the paper): each step takes one gate per block. A closed gate skips the
//    residual branch entirely, forward and backward (y = relu(shortcut(x)), no conv/BN/ReLU
//    of the branch runs); its parameters get a zero gradient. Inference runs every block
//    with the residual scaled by its survival probability: y = relu(p_l · residual(x) +
//    shortcut(x)).
//  - sample (timm DropPath): each step takes one keep decision per block and sample. Every
//    branch runs for the whole batch, scaled per sample: y = relu(keep[n]/p_l · residual(x)
//    + shortcut(x)); blocks with p_l = 1 are plain. Inference runs the plain network,
//    unscaled.
#pragma once

#include <map>
#include <memory>
#include <vector>

#include "model/checkpoint.h"
#include "model/config/config.h"
#include "model/dnn/loss.h"
#include "model/dnn/tensor.h"
#include "model/config/flops.h"
#include "model/base/rng.h"

namespace stodepth {

class ResNet {
 public:
  // Builds the training graph for mini-batches of `batch` and initialises the parameters
  // from `init_seed` (He-normal convolutions, unit BN scale, zero shifts). At bf16 the layers
  // compute in bf16 from an f32 master copy of the parameters (mixed precision, layers.h);
  // it needs a CPU with bf16 arithmetic (check_precision, model/engine_info.h).
  ResNet(const ModelConfig& model, std::vector<double> survival, InputShape input, int classes,
         int batch, uint64_t init_seed, DropMode drop = DropMode::kBatch,
         Precision precision = Precision::kF32);
  ~ResNet();

  int blocks() const { return static_cast<int>(survival_.size()); }
  DropMode drop_mode() const { return drop_; }
  Precision precision() const { return precision_; }
  int batch() const { return batch_; }
  const std::vector<double>& survival() const { return survival_; }

  // Host buffers of the training graph that the batcher fills before each step.
  float* train_images();   // (batch, C, H, W)
  int32_t* train_labels(); // (batch)

  // Batch mode: forward, loss and backward with the given gates (gates[l]: block l runs);
  // leaves the gradient of the mean loss in every parameter's `grad`. Dropped blocks'
  // residual parameters get zero gradients.
  dnn::LossValue train_step(const std::vector<bool>& gates);
  // The same in sample mode: keep[l][n] says whether sample n keeps block l's residual
  // (always, where p_l = 1). Every branch runs; a branch's parameters get the gradient of
  // its kept samples' scaled residuals.
  dnn::LossValue train_step_per_sample(const std::vector<std::vector<bool>>& keep);

  // Loss and correct count on `n` examples in inference mode (all blocks, residuals scaled
  // by p_l in batch mode, BN running statistics). Graphs are built once per distinct n and cached.
  dnn::LossValue evaluate(const float* images, const int32_t* labels, int n);
  // Builds the inference graph for batches of n now (evaluate() does so on first use).
  void prepare_evaluation(int n) { inference_graph(n); }

  dnn::ParamStore& params() { return params_; }

  // Every parameter with its momentum and every BN running statistic, in plain layouts, for
  // checkpoints: one field list (model/checkpoint.h) that a ByteWriter saves (which cannot
  // fail) and a ByteReader restores. Restoring accepts only what the same architecture
  // saved; anything else is kDamaged.
  Status transfer_state(ByteWriter& out);
  Status transfer_state(ByteReader& in);

  // Bytes the training graph must hold: its activations and gradients (the batch input
  // included), and the parameters with their gradients and momentum (f32 at any precision).
  struct MemoryUse {
    int64_t activation_bytes = 0, parameter_bytes = 0;
  };
  MemoryUse memory_use();
  // oneDNN primitives of block l's residual branch executed so far (forward + backward).
  int64_t residual_primitive_executions(int block) const;
  // Every primitive of the training graph and of the inference graphs built so far, with
  // the implementation oneDNN dispatched it to.
  std::vector<dnn::PrimitiveInfo> primitives() const;

 private:
  struct Graph;
  class GraphBuilder;  // records a Graph's layers and op lists
  Graph& inference_graph(int n);
  // The layers' data type: f32, or bf16 in mixed precision.
  dnn::Dt compute_type() const;
  void initialize_parameters(uint64_t seed);
  void forward(Graph& g, const std::vector<bool>& gates);
  // Forward, loss and backward of the training graph with the given gates.
  dnn::LossValue step(const std::vector<bool>& gates);
  // The mean loss of g's logits; a training graph also gets its gradient in d_logits.
  dnn::LossValue loss(Graph& g);

  ModelConfig model_;
  std::vector<double> survival_;
  InputShape input_;
  int classes_, batch_;
  DropMode drop_;
  Precision precision_;
  dnn::Context ctx_;
  dnn::ParamStore params_;
  std::unique_ptr<Graph> train_;
  std::map<int, std::unique_ptr<Graph>> inference_;
};

// Batch mode's gates of one step, for ResNet::train_step: gates[l] ~ Bernoulli(survival[l]),
// independent, drawn in block order from `rng` (L draws, blocks with p_l = 1 included).
// Returns how many blocks are kept. `gates` must hold L entries.
int draw_gates(Rng& rng, const std::vector<double>& survival, std::vector<bool>& gates);

// Sample mode's keep decisions of one step, for ResNet::train_step_per_sample: keep[l][n] ~
// Bernoulli(survival[l]), independent, drawn block-major from `rng` (L × N draws, blocks
// with p_l = 1 included). `keep` must hold L vectors of the batch size.
void draw_keep_decisions(Rng& rng, const std::vector<double>& survival,
                         std::vector<std::vector<bool>>& keep);

}  // namespace stodepth
