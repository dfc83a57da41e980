#include "model/dnn/shortcut.h"

#include <cstring>

#include "model/base/check.h"

namespace stodepth::dnn {
namespace {

// Offsets of a 4-D tensor whose only inner block (if any) is on channels.
struct Layout {
  int64_t n, c_block, h, w;  // strides of the outer dimensions
  int64_t block;             // channels per inner block (1 for plain layouts)

  explicit Layout(const memory::desc& desc) {
    const auto& blocking = desc.data.format_desc.blocking;
    STODEPTH_CHECK(desc.data.ndims == 4 && desc.data.format_kind == dnnl_blocked,
                   "shortcut A needs a 4-D blocked tensor");
    STODEPTH_CHECK(blocking.inner_nblks == 0 ||
                       (blocking.inner_nblks == 1 && blocking.inner_idxs[0] == 1),
                   "shortcut A supports channel blocking only");
    block = blocking.inner_nblks ? blocking.inner_blks[0] : 1;
    n = blocking.strides[0], c_block = blocking.strides[1];
    h = blocking.strides[2], w = blocking.strides[3];
  }
  int64_t at(int64_t in, int64_t ic, int64_t ih, int64_t iw) const {
    return in * n + (ic / block) * c_block + ih * h + iw * w + ic % block;
  }
};

}  // namespace

void shortcut_a_forward(const memory& x, const memory& y, int stride) {
  const auto xd = x.get_desc(), yd = y.get_desc();
  const Dims xs = xd.dims(), ys = yd.dims();
  STODEPTH_CHECK(xs[0] == ys[0] && xs[1] <= ys[1], "shortcut A shapes");
  STODEPTH_CHECK((xs[2] - 1) / stride + 1 == ys[2] && (xs[3] - 1) / stride + 1 == ys[3],
                 "shortcut A spatial size");
  const Layout lx(xd), ly(yd);
  const float* src = ptr(x);
  float* dst = ptr(y);
  std::memset(dst, 0, yd.get_size());  // padded channels (and blocking padding) are zero
#pragma omp parallel for collapse(2)
  for (int64_t n = 0; n < ys[0]; ++n)
    for (int64_t c = 0; c < xs[1]; ++c)
      for (int64_t h = 0; h < ys[2]; ++h)
        for (int64_t w = 0; w < ys[3]; ++w)
          dst[ly.at(n, c, h, w)] = src[lx.at(n, c, h * stride, w * stride)];
}

void shortcut_a_backward(const memory& dy, const memory& dx, int stride, bool accumulate) {
  const auto dyd = dy.get_desc(), dxd = dx.get_desc();
  const Dims ys = dyd.dims(), xs = dxd.dims();
  STODEPTH_CHECK(xs[0] == ys[0] && xs[1] <= ys[1], "shortcut A shapes");
  STODEPTH_CHECK((xs[2] - 1) / stride + 1 == ys[2] && (xs[3] - 1) / stride + 1 == ys[3],
                 "shortcut A spatial size");
  const Layout ly(dyd), lx(dxd);
  const float* src = ptr(dy);
  float* dst = ptr(dx);
  if (!accumulate) std::memset(dst, 0, dxd.get_size());
#pragma omp parallel for collapse(2)
  for (int64_t n = 0; n < ys[0]; ++n)
    for (int64_t c = 0; c < xs[1]; ++c)
      for (int64_t h = 0; h < ys[2]; ++h)
        for (int64_t w = 0; w < ys[3]; ++w)
          dst[lx.at(n, c, h * stride, w * stride)] += src[ly.at(n, c, h, w)];
}

}  // namespace stodepth::dnn
