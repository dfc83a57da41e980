#include "model/dnn/tensor.h"

#include <oneapi/dnnl/dnnl_debug.h>

#include <cstring>

namespace stodepth::dnn {

memory zeros(const memory::desc& desc, const dnnl::engine& engine) {
  memory m(desc, engine);
  std::memset(m.get_data_handle(), 0, desc.get_size());
  return m;
}

memory::desc with_type(const memory::desc& desc, Dt type) {
  memory::desc out = desc;
  out.data.data_type = memory::convert_to_c(type);
  return out;
}

int64_t buffer_floats(const memory::desc& desc) {
  return static_cast<int64_t>(desc.get_size() / sizeof(float));
}

void write_from(const float* src, Tag tag, const memory& dst, Context& ctx) {
  const memory::desc plain(dst.get_desc().dims(), Dt::f32, tag);
  memory staging(plain, ctx.engine, const_cast<float*>(src));
  memory target = dst;
  dnnl::reorder(staging, target).execute(ctx.stream, staging, target);
  ctx.stream.wait();
}

void read_into(const memory& src, float* dst, Tag tag, Context& ctx) {
  const memory::desc plain(src.get_desc().dims(), Dt::f32, tag);
  memory staging(plain, ctx.engine, dst);
  memory source = src;
  dnnl::reorder(source, staging).execute(ctx.stream, source, staging);
  ctx.stream.wait();
}

Param& ParamStore::get_or_create(const std::string& name, const memory::desc& desc, int block,
                                 const dnnl::engine& engine) {
  if (auto* existing = find(name)) return *existing;
  auto param = std::make_unique<Param>();
  param->name = name;
  param->block = block;
  param->value = zeros(desc, engine);
  param->grad = zeros(desc, engine);
  param->velocity.assign(buffer_floats(desc), 0.0f);
  Param* raw = param.get();
  params_.push_back(std::move(param));
  by_name_[name] = raw;
  return *raw;
}

Param* ParamStore::find(const std::string& name) {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : it->second;
}

std::vector<Param*> ParamStore::all() {
  std::vector<Param*> out;
  for (auto& p : params_) out.push_back(p.get());
  return out;
}

RunningStats& ParamStore::running_stats(const std::string& name, int channels) {
  for (auto& [existing, stats] : stats_)
    if (existing == name) return *stats;
  auto stats = std::make_unique<RunningStats>();
  stats->mean.assign(channels, 0.0f);
  stats->variance.assign(channels, 1.0f);
  stats_.emplace_back(name, std::move(stats));
  return *stats_.back().second;
}

std::vector<std::pair<std::string, RunningStats*>> ParamStore::all_running_stats() {
  std::vector<std::pair<std::string, RunningStats*>> out;
  for (auto& [name, stats] : stats_) out.emplace_back(name, stats.get());
  return out;
}

void OpList::add(dnnl::primitive primitive, std::unordered_map<int, memory> args) {
  ops_.push_back({std::move(primitive), std::move(args), {}});
}

void OpList::add_host(std::function<void()> op) { ops_.push_back({{}, {}, std::move(op)}); }

memory OpList::add_reorder_if_needed(const memory& src, const memory::desc& desc,
                                     const dnnl::engine& engine) {
  if (src.get_desc() == desc) return src;
  memory dst(desc, engine);
  add(dnnl::reorder(src, dst), {{DNNL_ARG_FROM, src}, {DNNL_ARG_TO, dst}});
  return dst;
}

std::vector<PrimitiveInfo> OpList::primitives() const {
  const auto query_string = [](const_dnnl_primitive_desc_t pd, dnnl_query_t what) {
    const char* text = nullptr;
    dnnl_primitive_desc_query(pd, what, 0, &text);
    return std::string(text ? text : "?");
  };
  std::vector<PrimitiveInfo> out;
  for (const Op& op : ops_) {
    if (op.host) continue;
    const const_dnnl_primitive_desc_t pd = op.primitive.get_primitive_desc();
    dnnl_primitive_kind_t kind = dnnl_undefined_primitive;
    dnnl_prop_kind_t prop = dnnl_prop_kind_undef;
    dnnl_primitive_desc_query(pd, dnnl_query_primitive_kind, 0, &kind);
    dnnl_primitive_desc_query(pd, dnnl_query_prop_kind, 0, &prop);
    std::string name = dnnl_prim_kind2str(kind);
    if (prop != dnnl_prop_kind_undef) name += std::string(" ") + dnnl_prop_kind2str(prop);
    out.push_back({std::move(name), query_string(pd, dnnl_query_impl_info_str)});
  }
  return out;
}

void OpList::execute(dnnl::stream& stream) const {
  for (const Op& op : ops_) {
    if (op.host) {
      stream.wait();  // host code reads what the primitives before it wrote
      op.host();
    } else {
      op.primitive.execute(stream, op.args);
      ++executed_;
    }
  }
  stream.wait();
}

}  // namespace stodepth::dnn
