#include "results/report/comparison.h"

namespace stodepth::results {

std::vector<const RunRow*> Arm::done() const {
  std::vector<const RunRow*> out;
  for (const auto& r : runs)
    if (r.state == RunState::kDone) out.push_back(&r);
  return out;
}

}  // namespace stodepth::results
