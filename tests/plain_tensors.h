// Test access to oneDNN memories in plain row-major layouts (nchw, oihw, nc, a), whatever
// layout the primitives chose: what the tests compare with their own reference values.
#pragma once

#include <cstdint>
#include <vector>

#include <catch2/catch.hpp>

#include "model/dnn/tensor.h"

namespace stodepth::testing {

inline int64_t elements(const dnn::memory::desc& d) {
  int64_t count = 1;
  for (int i = 0; i < d.data.ndims; ++i) count *= d.data.dims[i];
  return count;
}

inline dnn::Tag plain_tag(const dnn::memory::desc& d) {
  switch (d.dims().size()) {
    case 1: return dnn::Tag::a;
    case 2: return dnn::Tag::nc;
    case 4: return dnn::Tag::nchw;  // == oihw
    default: FAIL("unexpected rank"); return dnn::Tag::undef;
  }
}

// A new memory of `desc` (any layout) holding `plain` (row-major over the dims).
inline dnn::memory filled(const dnn::memory::desc& desc, const std::vector<float>& plain,
                          dnn::Context& ctx) {
  REQUIRE(int64_t(plain.size()) == elements(desc));
  dnn::memory m = dnn::zeros(desc, ctx.engine);
  dnn::write_from(plain.data(), plain_tag(desc), m, ctx);
  return m;
}

inline std::vector<float> read_plain(const dnn::memory& m, dnn::Context& ctx) {
  std::vector<float> out(elements(m.get_desc()));
  dnn::read_into(m, out.data(), plain_tag(m.get_desc()), ctx);
  return out;
}

inline void set_plain(const dnn::memory& m, const std::vector<float>& plain, dnn::Context& ctx) {
  REQUIRE(int64_t(plain.size()) == elements(m.get_desc()));
  dnn::write_from(plain.data(), plain_tag(m.get_desc()), m, ctx);
}

// A context on the engine that owns `m` (a network's memories are not on ours).
inline dnn::Context context_of(const dnn::memory& m) {
  dnn::Context ctx;
  ctx.engine = m.get_engine();
  ctx.stream = dnnl::stream(ctx.engine);
  return ctx;
}

}  // namespace stodepth::testing
