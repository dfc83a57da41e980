#include "results/report/read_sweep.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "model/base/did_you_mean.h"

namespace stodepth::results {
namespace {

Result<SweepRecord> find_sweep(Store& store, const std::optional<std::string>& name) {
  auto sweeps = store.sweeps();
  if (!sweeps) return sweeps.error();
  if (sweeps->empty())
    return bad_input("the database holds no sweep (run 'stodepth launch' first)");
  if (!name) return sweeps->back();
  auto it = std::find_if(sweeps->begin(), sweeps->end(),
                         [&](const SweepRecord& s) { return s.name == *name; });
  if (it != sweeps->end()) return *it;
  std::vector<std::string> names;
  for (const auto& s : *sweeps) names.push_back(s.name);
  const auto hint = closest_match(*name, names);
  return bad_input(fmt::format("--sweep: no sweep '{}' in the database{} (have: {})", *name,
                               hint.empty() ? "" : fmt::format(", did you mean '{}'?", hint),
                               fmt::join(names, ", ")));
}

}  // namespace

RunSeries series_of(const std::vector<IterationRecord>& curve) {
  RunSeries s;
  for (const auto& r : curve) {
    s.iterations.push_back(double(r.iteration));
    s.learning_rate.push_back(r.learning_rate);
    s.steps_per_epoch += r.epoch == 1;
    if (!r.test_accuracy) continue;
    s.eval_iterations.push_back(double(r.iteration));
    s.test_accuracy.push_back(*r.test_accuracy);
    s.test_loss.push_back(r.test_loss.value_or(NAN));
  }
  return s;
}

Result<SweepData> read_sweep(Store& store, const std::optional<std::string>& name) {
  SweepData data;
  auto sweep = find_sweep(store, name);
  if (!sweep) return sweep.error();
  data.sweep = std::move(*sweep);
  auto runs = store.runs(data.sweep.name);
  if (!runs) return runs.error();
  data.runs = std::move(*runs);
  for (const RunRow& r : data.runs) {
    auto curve = store.curve(r.key);
    if (!curve) return curve.error();
    data.series[r.key] = series_of(*curve);
  }
  return data;
}

}  // namespace stodepth::results
