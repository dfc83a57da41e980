// oneDNN plumbing shared by the layers: the engine/stream context, parameters, and
// OpList — a recorded list of primitive executions (plus the few hand-written host
// ops) that is built once and replayed every step.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include <oneapi/dnnl/dnnl.hpp>

namespace stodepth::dnn {

using dnnl::memory;
using Tag = memory::format_tag;
using Dt = memory::data_type;
using Dims = memory::dims;

struct Context {
  dnnl::engine engine{dnnl::engine::kind::cpu, 0};
  dnnl::stream stream{engine};
};

// f32 descriptor in a given layout.
inline memory::desc f32_desc(const Dims& dims, Tag tag) { return {dims, Dt::f32, tag}; }
// `desc`'s layout holding another data type: a blocked layout's strides count elements, so
// the layout a bf16 primitive chose also holds its f32 master copy, and the reverse.
memory::desc with_type(const memory::desc& desc, Dt type);
// Allocates a zero-filled memory object for `desc` (padding included).
memory zeros(const memory::desc& desc, const dnnl::engine& engine);
// Number of f32 values in the buffer of `desc`, blocking padding included.
int64_t buffer_floats(const memory::desc& desc);
inline float* ptr(const memory& m) { return static_cast<float*>(m.get_data_handle()); }

// Copies between a plain host array in layout `tag` and a memory in any layout.
void write_from(const float* src, Tag tag, const memory& dst, Context& ctx);
void read_into(const memory& src, float* dst, Tag tag, Context& ctx);

// Param::block of a parameter that trains at every step, whatever the gates: the stem's, the
// head's and the projection shortcuts'.
inline constexpr int kNoBlock = -1;

// A trainable tensor in the layout its forward primitive prefers; `grad` has the same
// descriptor so the optimiser works elementwise on raw buffers.
struct Param {
  std::string name;
  int block = kNoBlock;  // the residual block (0-based) whose closed gate zeroes its gradient
  memory value, grad;
  std::vector<float> velocity;  // momentum buffer, same length as the buffer
};

// Running statistics of one batch-norm layer, updated by training steps and used at inference.
struct RunningStats {
  std::vector<float> mean, variance;  // (C)
};

// Parameters and BN running statistics by name; inference networks look up the training
// network's tensors.
class ParamStore {
 public:
  // Returns the parameter `name`, creating it in layout `desc` (zeroed) if new.
  Param& get_or_create(const std::string& name, const memory::desc& desc, int block,
                       const dnnl::engine& engine);
  Param* find(const std::string& name);
  std::vector<Param*> all();  // creation order
  // The running statistics `name`, created as mean 0, variance 1 if new.
  RunningStats& running_stats(const std::string& name, int channels);
  std::vector<std::pair<std::string, RunningStats*>> all_running_stats();

 private:
  std::vector<std::pair<std::string, std::unique_ptr<RunningStats>>> stats_;
  std::vector<std::unique_ptr<Param>> params_;
  std::unordered_map<std::string, Param*> by_name_;
};

// What oneDNN dispatched one primitive to: its kind ("convolution backward_weights") and its
// implementation ("jit:avx2", "brgemm:avx512_core", or "ref:any" for the reference kernels).
struct PrimitiveInfo {
  std::string kind, implementation;
};

// A list of operations recorded once and executed many times.
class OpList {
 public:
  void add(dnnl::primitive primitive, std::unordered_map<int, memory> args);
  void add_host(std::function<void()> op);
  // Reorders `src` into a fresh memory of `desc` when the descriptors differ; returns the
  // memory holding the data in `desc`.
  memory add_reorder_if_needed(const memory& src, const memory::desc& desc,
                               const dnnl::engine& engine);
  void execute(dnnl::stream& stream) const;
  // Executions of oneDNN primitives performed by this list so far.
  int64_t executed_primitives() const { return executed_; }
  // The recorded primitives, in order (host ops aside).
  std::vector<PrimitiveInfo> primitives() const;

 private:
  struct Op {
    dnnl::primitive primitive;  // empty for host ops
    std::unordered_map<int, memory> args;
    std::function<void()> host;
  };
  std::vector<Op> ops_;
  mutable int64_t executed_ = 0;
};

}  // namespace stodepth::dnn
