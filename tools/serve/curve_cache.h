// The runs' curves kept in memory between requests, so that a page polling a long run every
// second reads only the rows recorded since its last poll: a curve request stays as fast at
// a million iterations as at a thousand. Shared by the server's threads.
//
// An entry is a run of one database file (path, device and inode: a file replaced under the
// same name starts over) and one claim (started_at: a run claimed again may have rewritten
// rows after its checkpoint); rows that went backwards (a restart) also start it over. The
// least recently used entries are dropped once more than `max_rows` iterations are held.
#pragma once

#include <cstddef>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "model/base/result.h"
#include "results/store/store.h"

namespace stodepth::serve {

// A series drawn from a run's curves (series.cpp: smoothed, thinned, its points as JSON).
struct DrawnSeries {
  std::string smoothing, thinning, points;
};

struct RunCurves {
  std::vector<IterationRecord> iterations;
  std::vector<double> train_s;  // the sum of step times through each iteration, seconds
  std::vector<TestEvalRecord> evaluations;
  // The series drawn from these rows, by request, until rows are added: the clients polling
  // an unchanged run, or polling one run together, share them. At most kMaxDrawn are kept.
  mutable std::map<std::string, DrawnSeries> drawn;
  static constexpr size_t kMaxDrawn = 64;
};

class CurveCache {
 public:
  explicit CurveCache(size_t max_rows = 3'000'000) : max_rows_(max_rows) {}

  // Calls `use` with the curves of run `run` as `rows` (the store at `path` holding its rows)
  // has them now, holding that run's entry while it runs.
  Status with_curves(results::Store& rows, const std::string& path, const results::RunRow& run,
                     const std::function<void(const RunCurves&)>& use);

 private:
  struct Entry {
    std::mutex mutex;
    std::string claim;  // the run's started_at when cached
    RunCurves curves;
  };
  std::shared_ptr<Entry> entry(const std::string& id);
  void account(const std::string& id, size_t rows);

  size_t max_rows_;
  std::mutex mutex_;
  std::map<std::string, std::shared_ptr<Entry>> entries_;
  std::map<std::string, size_t> rows_of_;
  std::list<std::string> recent_;  // most recently used first
};

}  // namespace stodepth::serve
