#include "tools/serve/api.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <memory>
#include <set>

#include "harness/slurm/shards.h"
#include "harness/status.h"
#include "model/base/did_you_mean.h"
#include "model/base/json.h"
#include "model/config/distinguishing.h"
#include "tools/serve/thinning.h"

namespace stodepth::serve {
namespace {

using results::RunRow;
using results::Store;

OrderedJson optional_number(const std::optional<double>& x) {
  if (!x || !std::isfinite(*x)) return nullptr;
  return *x;
}

template <typename Read>
auto read_rows(Store& store, const std::string& db_path, const std::string& key, Read read)
    -> decltype(read(store)) {
  auto shard = open_shard(db_path, key);
  if (shard && *shard) return read(**shard);
  return read(store);
}

// "host (cpu)" of every machine the runs were claimed on, in first-seen order (the CPU as
// the launcher recorded it; a claim without it names the host alone).
std::vector<std::string> machines_of(const std::vector<RunRow>& runs) {
  std::vector<std::string> hosts;
  std::map<std::string, std::string> cpu_of;
  for (const auto& run : runs) {
    const auto& m = run.machine;
    if (m.host.empty()) continue;
    if (!cpu_of.count(m.host)) hosts.push_back(m.host);
    if (cpu_of[m.host].empty()) cpu_of[m.host] = m.cpu_model;
  }
  std::vector<std::string> machines;
  for (const auto& host : hosts)
    machines.push_back(cpu_of[host].empty() ? host : fmt::format("{} ({})", host, cpu_of[host]));
  return machines;
}

OrderedJson settings_of(const std::string& config_json) {
  OrderedJson settings = OrderedJson::object();
  for (const auto& [path, value] : flatten_json(config_json))
    settings[path] = OrderedJson::parse(value, nullptr, false);
  return settings;
}

}  // namespace

Result<std::unique_ptr<Store>> open_shard(const std::string& db_path, const std::string& key) {
  const std::string path = harness::shard_path(harness::shard_dir(db_path), key);
  std::error_code error;
  if (!std::filesystem::exists(path, error)) return std::unique_ptr<Store>();
  return Store::open(path, results::OpenMode::kReadOnly);
}

Result<results::SweepRecord> find_sweep(Store& store, const std::string& name) {
  auto sweeps = store.sweeps();
  if (!sweeps) return sweeps.error();
  std::vector<std::string> names;
  for (const auto& s : *sweeps) {
    if (s.name == name) return s;
    names.push_back(s.name);
  }
  const std::string hint = closest_match(name, names);
  return bad_input(fmt::format("no sweep '{}' in the database{}", name,
                               hint.empty() ? "" : fmt::format(", did you mean '{}'?", hint)));
}

Result<RunRow> find_run(Store& store, const std::string& key) {
  const bool hex = key.size() == 16 && std::all_of(key.begin(), key.end(), [](char c) {
                     return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
                   });
  if (!hex)
    return bad_input("a run key is 16 lower-case hex digits (stodepth query runs lists them)");
  auto runs = store.runs(std::nullopt);
  if (!runs) return runs.error();
  for (auto& run : *runs)
    if (run.key == key) return std::move(run);
  return bad_input(fmt::format("no run {} in the database", key));
}

Result<std::vector<RunRow>> find_runs(Store& store, std::string_view keys) {
  std::vector<RunRow> runs;
  std::set<std::string> seen;
  while (!keys.empty()) {
    const size_t comma = keys.find(',');
    const std::string key(keys.substr(0, comma));
    keys = comma == std::string_view::npos ? std::string_view() : keys.substr(comma + 1);
    if (key.empty() || !seen.insert(key).second) continue;
    if (seen.size() > kMaxCompared)
      return bad_input(fmt::format("runs: at most {} runs at a time", kMaxCompared));
    auto run = find_run(store, key);
    if (!run) return run.error();
    runs.push_back(std::move(run).value());
  }
  return runs;
}

Result<std::string> sweeps_json(Store& store, const std::string& db_path) {
  auto sweeps = store.sweeps();
  if (!sweeps) return sweeps.error();
  OrderedJson out = OrderedJson::array();
  for (const auto& sweep : *sweeps) {
    auto status = harness::sweep_status(store, db_path, sweep.name);
    if (!status) return status.error();
    auto runs = store.runs(sweep.name);
    if (!runs) return runs.error();
    OrderedJson counts = OrderedJson::object();
    for (const auto& [state, n] : status->counts) counts[state] = n;
    out.push_back({{"name", sweep.name},
                   {"description", sweep.description},
                   {"counts", counts},
                   {"total", status->jobs.size()},
                   {"left", status->left},
                   {"eta_seconds", optional_number(status->eta_seconds)},
                   {"machines", machines_of(*runs)}});
  }
  return compact_json(out);
}

Result<std::string> jobs_json(Store& store, const std::string& db_path, const std::string& sweep) {
  if (auto found = find_sweep(store, sweep); !found) return found.error();
  auto status = harness::sweep_status(store, db_path, sweep);
  if (!status) return status.error();
  auto runs = store.runs(sweep);
  if (!runs) return runs.error();
  OrderedJson jobs = OrderedJson::array();
  std::map<std::string, const RunRow*> run_of;
  for (const auto& run : *runs) run_of[run.key] = &run;
  for (const auto& job : status->jobs) {
    if (!run_of.count(job.key)) continue;
    const RunRow& run = *run_of[job.key];
    auto latest = read_rows(store, db_path, job.key, [&](Store& s) { return s.latest(job.key); });
    if (!latest) return latest.error();
    std::optional<double> loss, batch_acc = latest->test_batch_accuracy, test_acc,
                                images_per_second = run.images_per_second;
    if (latest->iteration) loss = latest->iteration->loss;
    if (latest->test_eval) test_acc = latest->test_eval->accuracy;
    if (job.running()) images_per_second = run.config.train.batch * 1000.0 / job.step_ms;
    // status leaves an ended job's iteration at 0: its last recorded one is what was reached.
    const int64_t iteration =
        job.ended && latest->iteration ? latest->iteration->iteration : job.iteration;
    jobs.push_back({{"key", job.key},
                    {"label", job.label},
                    {"settings", settings_of(run.config_json)},
                    {"state", to_string(job.shard_state.value_or(job.state))},
                    {"ended", job.ended},
                    {"iteration", iteration},
                    {"total", job.total},
                    {"loss", optional_number(loss)},
                    {"test_batch_acc", optional_number(batch_acc)},
                    {"test_acc", optional_number(test_acc)},
                    {"images_per_second", optional_number(images_per_second)},
                    {"eta_seconds", optional_number(job.eta_seconds)},
                    {"note", job.note}});
  }
  OrderedJson out = {
      {"sweep", sweep}, {"eta_seconds", optional_number(status->eta_seconds)}, {"jobs", jobs}};
  return compact_json(out);
}

}  // namespace stodepth::serve
