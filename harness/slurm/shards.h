// Store shards: on a cluster each job trains into a SQLite file of its own, written by one
// host only (the task's), `<db>.shards/<key>.db`, with its checkpoint beside it
// (`<key>.ckpt`). The launcher creates a shard before submitting its job, and merges it into
// the main database once the job has ended; no SQLite file is ever written from two hosts.
#pragma once

#include <string>
#include <vector>

#include "model/base/result.h"
#include "results/store/store.h"
#include "sweeps/sweep.h"

namespace stodepth::harness {

// "<db_path>.shards".
std::string shard_dir(const std::string& db_path);
// The shard of run `key` in `dir`: "<dir>/<key>.db".
std::string shard_path(const std::string& dir, const std::string& key);

// Creates the shard of `job` — the sweep registered and the job queued, with a rollback
// journal (read from other hosts over a network filesystem) — unless it exists. True if
// this call created it.
Result<bool> create_shard(const std::string& dir, const sweeps::Sweep& sweep,
                          const sweeps::Job& job);
// Deletes a shard and what lies beside it (journal, checkpoint).
void retire_shard(const std::string& dir, const std::string& key);
// The run keys of the shards in `dir` (none if it does not exist), sorted.
std::vector<std::string> shard_keys(const std::string& dir);

// What the shard of a run holds, read without writing (the task may be writing it).
struct ShardProgress {
  results::RunState state = results::RunState::kQueued;
  int64_t iteration = 0;       // the last iteration recorded
  double recent_step_ms = 0;   // while running: Store::run_progress's pace; 0 unknown
  std::vector<results::RunStop> stops;
};
Result<ShardProgress> read_shard(const std::string& dir, const std::string& key);

// What merge_shards did.
struct MergeReport {
  std::vector<results::ShardMerge> merged;  // merged now or earlier (retired now)
  std::vector<Error> refused;               // shards kept, with the reason
  int unfinished = 0;                       // shards whose job has not ended
};
// Folds every ended shard in `dir` into `store` (one transaction each) and retires it. A
// shard that conflicts with the stored rows is refused and kept; an Error means the store
// failed (kStorage) and merging stopped.
Result<MergeReport> merge_shards(results::Store& store, const std::string& dir);

}  // namespace stodepth::harness
