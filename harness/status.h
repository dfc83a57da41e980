// Where each job of a sweep is — in the database, in its store shard, in Slurm's queue — how
// far a running one has come and when it should end: the value `stodepth status` prints, made
// the same way for a local launch and a Slurm one.
//
// The pace of a running job is the mean step time of its last (up to) 50 iterations, from the
// database (a local launch) or its store shard (Slurm); its ETA is its iterations left at that
// pace. A job not running yet is estimated from the pace measured on the sweep's running and
// done runs, scaled by its cost per step (expected convolution FLOPs of a batch). Test
// evaluations and checkpoints are not in step times: ETAs are a little early.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "model/base/result.h"
#include "model/config/settings.h"
#include "results/store/store.h"

namespace stodepth::harness {

// One job (run) of a sweep.
struct JobStatus {
  std::string key, sweep;
  // The settings shown to tell jobs apart: depth, rule, p_L and seed, then any other setting
  // that differs among the jobs listed, by its short name: "d56 linear p_L=0.5 seed 1
  // mode=sample".
  std::string label;
  // Every setting that differs among the jobs listed (column or not), as (dotted key, value
  // text as value_text writes it), in the settings table's order.
  std::vector<std::pair<std::string, std::string>> settings;
  results::RunState state = results::RunState::kQueued;  // in the database
  std::optional<results::RunState> shard_state;          // in its store shard, while it has one
  bool merged = false;  // ended in a store shard, merged into the database
  std::string slurm;    // its array task and squeue state ("12_3 RUNNING"); empty: none
  std::vector<results::RunStop> stops;  // from its shard: why it stopped before, oldest first
  bool ended = false;     // done, failed or diverged: no iteration, total or ETA shown
  int64_t iteration = 0;  // the last one recorded
  int64_t total = 0;      // iterations it trains; 0: unknown (its dataset did not load)
  double step_ms = 0;     // its recent mean step time; 0: unknown
  // Running: seconds until it ends; not running yet: the seconds it should take once started,
  // estimated from other runs; none: unknown.
  std::optional<double> eta_seconds;
  std::string note;  // why it last stopped, its error, or what is wrong with it

  // Training now, at a measured pace.
  bool running() const { return !ended && step_ms > 0; }
  double rate() const { return step_ms > 0 ? 1000 / step_ms : 0; }  // iterations per second
};

// A job's label: depth, rule, p_L and seed, then each other setting of `shown` (what
// settings_to_show gives for the jobs listed) by its short name, e.g. "d56 linear p_L=0.5 seed 1
// mode=sample". `status` and `launch`'s progress lines label jobs with it.
std::string job_label(const TrainConfig& config, const std::vector<const Setting*>& shown);

struct SweepStatus {
  std::vector<JobStatus> jobs;  // the runs in Store::runs order
  // How many jobs are done, failed or diverged (by state), "running" (in the database) or
  // "not running".
  std::map<std::string, int> counts;
  int left = 0;     // jobs not ended
  int running = 0;  // jobs training now at a measured pace: the concurrency of the ETA
  int unknown = 0;  // jobs left whose time cannot be estimated
  // When the last job should end: the time the jobs left need (the running ones' ETAs, the
  // others' estimates) spread over `running` jobs at a time, and no earlier than the longest
  // running ETA; none when no job runs, or one's time is unknown.
  std::optional<double> eta_seconds;
  // The latest Slurm submission, when one sweep was asked for and it has one.
  std::optional<results::SlurmSubmission> last_submission;
};

// The status of `sweep`'s jobs (every sweep's if none) in the database `store`, opened at
// `db_path` (its shards are beside it). Reads only; asks squeue only about runs submitted to
// Slurm. A sweep the database does not hold is kBadInput, with a suggestion.
Result<SweepStatus> sweep_status(results::Store& store, const std::string& db_path,
                                 const std::optional<std::string>& sweep);

}  // namespace stodepth::harness
