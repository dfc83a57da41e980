#include "tools/serve/curve_cache.h"

#include <fmt/format.h>
#include <sys/stat.h>

#include <algorithm>

namespace stodepth::serve {
namespace {

// Brings `curves` up to date with `rows`: the iterations after the last one held, and the
// evaluations (one per epoch: read whole). False if the held rows are no longer the run's.
Result<bool> extend(results::Store& rows, const std::string& key, RunCurves& curves) {
  const int64_t last = curves.iterations.empty() ? 0 : curves.iterations.back().iteration;
  auto latest = rows.latest(key);
  if (!latest) return latest.error();
  if (latest->iteration.value_or(IterationRecord{}).iteration < last) return false;
  auto added = rows.curve_after(key, last);
  if (!added) return added.error();
  double seconds = curves.train_s.empty() ? 0 : curves.train_s.back();
  for (auto& r : *added) {
    seconds += r.step_ms / 1000;
    curves.train_s.push_back(seconds);
    curves.iterations.push_back(std::move(r));
  }
  auto evaluations = rows.test_evals(key);
  if (!evaluations) return evaluations.error();
  if (!added->empty() || evaluations->size() != curves.evaluations.size() ||
      curves.drawn.size() > RunCurves::kMaxDrawn)
    curves.drawn.clear();
  curves.evaluations = std::move(evaluations).value();
  return true;
}

}  // namespace

std::shared_ptr<CurveCache::Entry> CurveCache::entry(const std::string& id) {
  std::lock_guard lock(mutex_);
  recent_.remove(id);
  recent_.push_front(id);
  auto& e = entries_[id];
  if (!e) e = std::make_shared<Entry>();
  return e;
}

void CurveCache::account(const std::string& id, size_t rows) {
  std::lock_guard lock(mutex_);
  rows_of_[id] = rows;
  size_t total = 0;
  for (const auto& [_, n] : rows_of_) total += n;
  // Readers still using a dropped entry keep it alive through their shared_ptr.
  while (total > max_rows_ && recent_.size() > 1) {
    const std::string victim = recent_.back();
    recent_.pop_back();
    total -= rows_of_[victim];
    rows_of_.erase(victim);
    entries_.erase(victim);
  }
}

Status CurveCache::with_curves(results::Store& rows, const std::string& path,
                               const results::RunRow& run,
                               const std::function<void(const RunCurves&)>& use) {
  struct stat file {};
  if (::stat(path.c_str(), &file) != 0)
    return storage_error(fmt::format("{}: cannot read it (deleted?)", path));
  const std::string id = fmt::format("{}:{}:{}\n{}", file.st_dev, file.st_ino, path, run.key);
  auto e = entry(id);
  std::lock_guard lock(e->mutex);
  if (e->claim != run.started_at) {
    e->curves = {};
    e->claim = run.started_at;
  }
  auto extended = extend(rows, run.key, e->curves);
  if (!extended) return extended.error();
  if (!*extended) {
    e->curves = {};
    extended = extend(rows, run.key, e->curves);
    if (!extended) return extended.error();
  }
  account(id, e->curves.iterations.size());
  use(e->curves);
  return ok_status();
}

}  // namespace stodepth::serve
