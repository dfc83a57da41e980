// Sweep files: one fully specified job (`base`) plus the axes to vary, expanded into jobs.
//
// Format (YAML):
//   name: depth-vs-survival        required, [A-Za-z0-9._-]+, unique in the database
//   description: free text         optional
//   base: {model: {depth: 20}, stochastic_depth: {p_L: 0.5}, ...}
//   grid: {model.depth: [20, 56], train.lr: [{schedule: step}, {schedule: cosine}]}
//   exclude: [{model.depth: 56, train.lr.schedule: cosine}]
//   include: [{model.depth: 110, stochastic_depth.p_L: 0.5}]
//   seeds: [1, 2, 3]               default [1]; non-negative, unique
//
// Keys (the sweep-file names of TrainConfig's fields):
//   dataset.{name,dir,train_subset,test_subset}  model.{depth,width,shortcut}
//   stochastic_depth.{rule,p_L}
//   train.{epochs,iterations,batch,momentum,nesterov,weight_decay,threads}
//   train.lr.{schedule,base,milestones,gamma,floor,warmup}  (warmup in epochs)
//   train.augment.{crop_pad,flip}  eval.{every,batch}
// A mapping may nest sections (`model: {depth: 20}`) or use dotted keys (`model.depth: 20`);
// both mean the same. `train.seed` is not a key: seeds come from `seeds:`. `dataset.dir` and
// `train.threads` may be set in `base` only, since they are not part of the job key.
//
// Grid axes are dotted keys naming a leaf (a list of values) or a section such as `train.lr`
// (a list of mappings). A mapping value overrides only the keys it names; the section's
// other keys keep base's values.
//
// Expansion order (deterministic):
//   1. the grid's cartesian product, axes in the order written, the LAST axis varying
//      fastest, each combination applied on top of base (no grid: base alone);
//   2. minus the combinations matching an exclude entry: every key it names (a leaf, which
//      may lie inside a section axis, e.g. train.lr.schedule) equals the combination's
//      resolved value (1 equals 1.0, `a` equals `A`). Exclusions apply to grid combinations
//      only, as in GitHub Actions matrices: an include is never excluded;
//   3. then each include entry in order, applied on top of base (not crossed with the grid);
//   4. each combination expanded over `seeds` in the order listed, the seed varying fastest;
//   5. jobs with an already seen key dropped, keeping the first occurrence.
//
// Validation happens before anything runs and reports every problem found, one per line,
// as "file:line:col: message" (1-based), naming the dotted key: YAML syntax, non-UTF-8
// text, duplicate keys, unknown keys (with "did you mean"), wrong types, empty axes, NaN and
// infinities, values `validate()` rejects in any expanded config (located at the value that
// produced them), exclude entries matching nothing, a sweep with no jobs, bad seeds, and
// more jobs than ExpandOptions::max_jobs (counted before exclusions and duplicate removal,
// without materialising them).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "model/config/config.h"
#include "model/base/result.h"

namespace stodepth::sweeps {

struct Job {
  std::string key;          // stable hash of the normalised config incl. seed (16 hex chars)
  TrainConfig config;       // fully resolved: base + grid/include values + seed
  std::string config_json;  // canonical JSON of `config` (sorted keys, every key present)
};

struct Sweep {
  std::string name, description;
  std::string source_text;  // the file as read
  std::string source_hash;  // hash of the normalised definition (not of whitespace/comments)
  std::vector<Job> jobs;    // in expansion order
};

struct ExpandOptions {
  size_t max_jobs = 100000;  // larger sweeps are an error (the CLI's --yes lifts the limit)
};

// Parses, validates and expands a sweep. Errors read "file:line:col: message", one per line.
Result<Sweep> load_sweep_file(const std::string& path, const ExpandOptions& options = {});
Result<Sweep> parse_sweep(const std::string& text, const std::string& filename,
                          const ExpandOptions& options = {});

// A config's job key: FNV-1a 64 of its canonical JSON (model/config/config_codec.h), 16 hex digits.
// Equal configs give equal keys whatever the spelling (key order, 1 vs 1.0, defaults written
// out or not), and the machine's settings (data location, threads) are not part of it, so
// the same experiment keeps its key (and its stored results) across machines.
std::string job_key(const TrainConfig& config);

}  // namespace stodepth::sweeps
