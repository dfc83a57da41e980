#include "harness/slurm/shards.h"

#include <algorithm>
#include <filesystem>

#include <fmt/format.h>

#include "harness/job_runner.h"
#include "harness/plan.h"

namespace stodepth::harness {

namespace fs = std::filesystem;

std::string shard_dir(const std::string& db_path) { return db_path + ".shards"; }

std::string shard_path(const std::string& dir, const std::string& key) {
  return dir + "/" + key + ".db";
}

Result<bool> create_shard(const std::string& dir, const sweeps::Sweep& sweep,
                          const sweeps::Job& job) {
  const std::string path = shard_path(dir, job.key);
  std::error_code ec;
  if (fs::exists(path, ec)) return false;
  // Built beside and renamed into place: a shard is complete or absent.
  const std::string building = path + ".new";
  fs::remove(building, ec);
  fs::remove(building + "-journal", ec);
  {
    results::OpenOptions options;
    options.journal = results::Journal::kRollback;
    auto store = results::Store::open(building, results::OpenMode::kReadWrite, options);
    if (!store) return store.error();
    if (auto s = (*store)->register_sweep(sweep_record(sweep)); !s) return s.error();
    if (auto s = (*store)->add_jobs({job_record(sweep, job)}); !s) return s.error();
  }
  fs::rename(building, path, ec);
  if (ec)
    return storage_error(fmt::format("{}: cannot create the store shard: {}", path,
                                     ec.message()));
  return true;
}

void retire_shard(const std::string& dir, const std::string& key) {
  std::error_code ec;
  const std::string path = shard_path(dir, key);
  fs::remove(path, ec);
  fs::remove(path + "-journal", ec);
  remove_checkpoint(checkpoint_path(dir, key));
}

std::vector<std::string> shard_keys(const std::string& dir) {
  std::vector<std::string> keys;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const fs::path& p = entry.path();
    if (p.extension() == ".db" && entry.is_regular_file(ec)) keys.push_back(p.stem().string());
  }
  std::sort(keys.begin(), keys.end());
  return keys;
}

namespace {

// A rollback journal beside a shard: its task is committing, or died while committing (a
// read-only open cannot roll that back; the next task to open the shard does).
bool mid_write(const std::string& dir, const std::string& key) {
  std::error_code ec;
  const auto size = fs::file_size(shard_path(dir, key) + "-journal", ec);
  return !ec && size > 0;
}

}  // namespace

Result<ShardProgress> read_shard(const std::string& dir, const std::string& key) {
  if (mid_write(dir, key))
    return storage_error(fmt::format("{}: being written, or its task died mid-write (the next "
                                     "task to run it recovers it)",
                                     shard_path(dir, key)));
  auto store = results::Store::open(shard_path(dir, key), results::OpenMode::kReadOnly);
  if (!store) return store.error();
  auto runs = (*store)->runs(std::nullopt);
  if (!runs) return runs.error();
  const auto run = std::find_if(runs->begin(), runs->end(),
                                [&](const results::RunRow& r) { return r.key == key; });
  if (run == runs->end())
    return damaged_file(fmt::format("{}: the store shard holds no run {} (delete it to rerun "
                                    "the job)",
                                    shard_path(dir, key), key));
  ShardProgress progress;
  progress.state = run->state;
  auto curve = (*store)->curve(key);
  if (!curve) return curve.error();
  if (!curve->empty()) progress.iteration = curve->back().iteration;
  auto pace = (*store)->run_progress(std::nullopt);
  if (!pace) return pace.error();
  for (const auto& running : *pace)
    if (running.key == key) progress.recent_step_ms = running.recent_step_ms;
  auto stops = (*store)->stops(key);
  if (!stops) return stops.error();
  progress.stops = std::move(*stops);
  return progress;
}

Result<MergeReport> merge_shards(results::Store& store, const std::string& dir) {
  MergeReport report;
  for (const auto& key : shard_keys(dir)) {
    if (mid_write(dir, key)) {  // not ended: the journal goes with the commit that ends it
      ++report.unfinished;
      continue;
    }
    std::error_code ec;
    if (!fs::exists(shard_path(dir, key), ec)) continue;  // retired by another merge meanwhile
    auto merged = store.merge_shard(shard_path(dir, key));
    if (!merged) {
      // Storage errors come from the shard being written or locked right now as much as from
      // this database: the shard waits for the next merge (a failing database fails the
      // caller's next write anyway).
      if (merged.error().kind == ErrorKind::kStorage)
        ++report.unfinished;
      else
        report.refused.push_back(merged.error());
      continue;
    }
    if (merged->result == results::MergeResult::kNotFinished) {
      ++report.unfinished;
      continue;
    }
    retire_shard(dir, key);
    report.merged.push_back(*merged);
  }
  return report;
}

}  // namespace stodepth::harness
