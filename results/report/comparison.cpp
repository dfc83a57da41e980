#include "results/report/comparison.h"

#include <cstdint>
#include <set>

namespace stodepth::results {

std::vector<const RunRow*> Arm::done() const {
  std::vector<const RunRow*> out;
  std::set<uint64_t> seeds;
  for (const auto& r : runs)
    if (r.state == RunState::kDone && seeds.insert(r.config.train.seed).second) out.push_back(&r);
  return out;
}

}  // namespace stodepth::results
