// The JSON API of `stodepth serve` (and the run's curve downloads), as pure functions of a
// read-only Store: every request opens its own Store, calls one of these and sends the text.
// A parameter that names nothing in the database, or is out of range, is a kBadInput Error
// with one line (HTTP 400); a database that fails is kStorage or kDamaged (HTTP 503).
//
// Numbers are written at full precision (the shortest text that reads back, json_number).
// The curves are in series.h.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/base/result.h"
#include "results/store/store.h"

namespace stodepth::serve {

// /api/sweeps: each sweep's description, jobs by state, total, ETA and machines.
Result<std::string> sweeps_json(results::Store& store, const std::string& db_path);

// /api/sweep/<name>/jobs: the live job table.
Result<std::string> jobs_json(results::Store& store, const std::string& db_path,
                              const std::string& sweep);

// The store holding run `key`'s rows: its store shard under `<db_path>.shards/` while it has
// one (a Slurm task writes there until the launcher merges it), else null: the database.
Result<std::unique_ptr<results::Store>> open_shard(const std::string& db_path,
                                                   const std::string& key);

// Run keys: 16 lower-case hex digits, of a run the database holds; else kBadInput.
Result<results::RunRow> find_run(results::Store& store, const std::string& key);
// A sweep the database holds; else kBadInput with a suggestion.
Result<results::SweepRecord> find_sweep(results::Store& store, const std::string& name);
// "k1,k2,...": at most kMaxCompared distinct run keys the database holds.
inline constexpr size_t kMaxCompared = 20;
Result<std::vector<results::RunRow>> find_runs(results::Store& store, std::string_view keys);

}  // namespace stodepth::serve
