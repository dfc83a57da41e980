// How a sweep file's jobs differ from the jobs a database holds under its name. A file that
// only adds jobs (values in an axis, seeds, includes) extends the stored sweep: its new jobs
// run and the stored ones stay. A file that changes or removes a stored job describes
// another experiment under the same name; the comparison names those jobs for the refusal.
#pragma once

#include <string>
#include <vector>

#include "sweeps/sweep.h"

namespace stodepth::sweeps {

// A job as the database holds it: its key and canonical config JSON.
struct StoredJob {
  std::string key, config_json;
};

struct JobChanges {
  std::vector<const Job*> added;   // the file's jobs with a key not stored, in file order
  std::vector<StoredJob> removed;  // stored jobs the file no longer has, in stored order (a
                                   // job whose settings changed has another key: it is
                                   // removed, and the changed job added)
  // What is new in the added jobs: the values no stored job has, by setting, e.g.
  // "seeds 3–4; model.depth 56". Empty when nothing is added, or only new combinations of
  // stored values (an include).
  std::string new_values;
  // The removed jobs on one line, for the refusal: those the file changes (an added job of
  // the same seed differing in some settings) with what changed, then those it drops; named
  // by their seeds and the settings that tell their arm apart from the other stored ones, a
  // few named and the rest counted, e.g. "changes 6 jobs (stochastic_depth.p_L 0.5 → 0.2 in
  // seeds 1–3 of model.depth=8, seeds 1–3 of model.depth=14) and removes 1 job (seed 4 of
  // model.depth=8)". Empty when nothing is removed.
  std::string lost;

  bool only_adds() const { return removed.empty(); }
};

// Compares `sweep`'s jobs with `stored` by key (the hash of the canonical config: equal
// settings, equal key), whatever their order.
JobChanges compare_jobs(const std::vector<StoredJob>& stored, const Sweep& sweep);

// Sorted integers as ranges, e.g. {1, 2, 3, 5} → "1–3, 5" (en dash).
std::string integer_ranges(std::vector<long long> numbers);

}  // namespace stodepth::sweeps
