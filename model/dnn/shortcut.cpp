#include "model/dnn/shortcut.h"

#include <cstring>

#include "model/base/check.h"
#include "model/dnn/bf16.h"

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
    STODEPTH_CHECK(
        blocking.inner_nblks == 0 || (blocking.inner_nblks == 1 && blocking.inner_idxs[0] == 1),
        "shortcut A supports channel blocking only");
    block = blocking.inner_nblks ? blocking.inner_blks[0] : 1;
    n = blocking.strides[0], c_block = blocking.strides[1];
    h = blocking.strides[2], w = blocking.strides[3];
  }
  int64_t at(int64_t in, int64_t ic, int64_t ih, int64_t iw) const {
    return in * n + (ic / block) * c_block + ih * h + iw * w + ic % block;
  }
};

// Calls visit(offset in x, offset in y) for every value the shortcut carries over:
// x[n, c, s·h, s·w] and y[n, c, h, w] for c < Ci.   x (N, Ci, H, W), y (N, Co, H', W')
template <typename Visit>
void for_each_carried(const memory::desc& xd, const memory::desc& yd, int stride, Visit visit) {
  const Dims xs = xd.dims(), ys = yd.dims();
  STODEPTH_CHECK(xs[0] == ys[0] && xs[1] <= ys[1], "shortcut A shapes");
  STODEPTH_CHECK((xs[2] - 1) / stride + 1 == ys[2] && (xs[3] - 1) / stride + 1 == ys[3],
                 "shortcut A spatial size");
  const Layout lx(xd), ly(yd);
#pragma omp parallel for collapse(2)
  for (int64_t n = 0; n < ys[0]; ++n)
    for (int64_t c = 0; c < xs[1]; ++c)
      for (int64_t h = 0; h < ys[2]; ++h)
        for (int64_t w = 0; w < ys[3]; ++w)
          visit(lx.at(n, c, h * stride, w * stride), ly.at(n, c, h, w));
}

}  // namespace

void shortcut_a_forward(const memory& x, const memory& y, int stride) {
  STODEPTH_CHECK(x.get_desc().data_type() == y.get_desc().data_type(), "shortcut A types");
  std::memset(y.get_data_handle(), 0, y.get_desc().get_size());  // padded channels are zero
  const auto copy = [&](auto* src, auto* dst) {
    for_each_carried(x.get_desc(), y.get_desc(), stride,
                     [=](int64_t at_x, int64_t at_y) { dst[at_y] = src[at_x]; });
  };
  if (x.get_desc().data_type() == Dt::bf16)
    copy(static_cast<const uint16_t*>(x.get_data_handle()),
         static_cast<uint16_t*>(y.get_data_handle()));
  else
    copy(ptr(x), ptr(y));
}

void shortcut_a_backward(const memory& dy, const memory& dx, int stride, GradientWrite write) {
  STODEPTH_CHECK(dx.get_desc().data_type() == dy.get_desc().data_type(), "shortcut A types");
  if (write == GradientWrite::kAssign)
    std::memset(dx.get_data_handle(), 0, dx.get_desc().get_size());
  if (dx.get_desc().data_type() == Dt::bf16) {
    const auto* src = static_cast<const uint16_t*>(dy.get_data_handle());
    auto* dst = static_cast<uint16_t*>(dx.get_data_handle());
    for_each_carried(dx.get_desc(), dy.get_desc(), stride, [=](int64_t at_x, int64_t at_y) {
      dst[at_x] = f32_to_bf16(bf16_to_f32(dst[at_x]) + bf16_to_f32(src[at_y]));
    });
    return;
  }
  const float* src = ptr(dy);
  float* dst = ptr(dx);
  for_each_carried(dx.get_desc(), dy.get_desc(), stride,
                   [=](int64_t at_x, int64_t at_y) { dst[at_x] += src[at_y]; });
}

}  // namespace stodepth::dnn
