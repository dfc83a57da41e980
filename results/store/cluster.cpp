// Store: the Slurm executor's records: submitted job arrays, each run's latest array task,
// and why runs stopped before their end.
#include <fmt/format.h>

#include <string>
#include <utility>
#include <vector>

#include "results/store/store.h"
#include "results/store/store_impl.h"

namespace stodepth::results {
namespace {

// The schema that added the Slurm executor's tables; read-only Stores of older files read them
// as empty.
constexpr int64_t kSlurmSchema = 4;

constexpr const char* kInsertSubmission =
    "INSERT INTO slurm_submissions (job_id, sweep, options_json, script, threads, submitted_at) "
    "VALUES (?1, ?2, ?3, ?4, ?5, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))";
// ?2 the holder "slurm:<job>_<index>". A running run has a holder already, a done one is over.
constexpr const char* kSubmitRun =
    "UPDATE runs SET status = 'running', host = ?2, threads = ?3 "
    "WHERE key = ?1 AND status NOT IN ('running', 'done')";
constexpr const char* kSelectRunHolder = "SELECT status, host FROM runs WHERE key = ?1";
constexpr const char* kUpsertSlurmTask =
    "INSERT INTO slurm_tasks (run, job_id, array_index) VALUES (?1, ?2, ?3) "
    "ON CONFLICT (run) DO UPDATE SET job_id = excluded.job_id, "
    "array_index = excluded.array_index";
// A task's sweep is its submission's (a run shared by sweeps is listed under each).
// Of sweep ?1, or of every sweep when ?1 is NULL.
constexpr const char* kSelectSlurmTasks =
    "SELECT t.run, s.sweep, t.job_id, t.array_index FROM slurm_tasks AS t "
    "JOIN slurm_submissions AS s ON s.job_id = t.job_id "
    "WHERE ?1 IS NULL OR t.run IN (SELECT key FROM sweep_runs WHERE sweep = ?1) ORDER BY t.run";
// A submission's keys are the tasks that still point at it, in array order: a run
// resubmitted since belongs to its later submission (slurm_tasks keeps the latest only).
constexpr const char* kSelectSubmissions =
    "SELECT s.job_id, s.sweep, s.options_json, s.script, s.threads, s.submitted_at, t.run "
    "FROM slurm_submissions AS s LEFT JOIN slurm_tasks AS t ON t.job_id = s.job_id "
    "WHERE s.sweep = ?1 ORDER BY s.rowid, t.array_index";
constexpr const char* kInsertStop =
    "INSERT INTO run_stops (run, at, iteration, cause, slurm_job, requeued) "
    "VALUES (?1, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'), ?2, ?3, ?4, ?5)";
constexpr const char* kSelectStops =
    "SELECT at, iteration, cause, slurm_job, requeued FROM run_stops WHERE run = ?1 "
    "ORDER BY rowid";

}  // namespace

Error Store::Impl::not_submittable(const std::string& key) {
  auto holders = query(
      kSelectRunHolder,
      [](const Statement& s) { return std::pair(s.column_text(0), s.column_text(1)); }, key);
  if (!holders) return holders.error();
  const std::string what = fmt::format("{}: run {} cannot be submitted", path, key);
  if (holders->empty())
    return bad_input(what + ": there is no such run (add the sweep's jobs first)");
  const auto& [status, host] = holders->front();
  if (status == "running")
    return bad_input(
        fmt::format("{}: it is running, held by {} (leave it out of the submission "
                    "until it ends)",
                    what, host));
  return bad_input(fmt::format("{}: it is {} (leave it out of the submission: a done run is kept)",
                               what, status));
}

Status Store::record_submission(const SlurmSubmission& submission) {
  return impl_->in_transaction([&]() -> Status {
    if (auto inserted = impl_->run(kInsertSubmission, submission.job_id, submission.sweep,
                                   submission.options_json, submission.script, submission.threads);
        !inserted)
      return inserted;
    for (size_t i = 0; i < submission.keys.size(); ++i) {
      const std::string& key = submission.keys[i];
      const std::string holder = fmt::format("slurm:{}_{}", submission.job_id, i);
      if (auto submitted = impl_->run(kSubmitRun, key, holder, submission.threads); !submitted)
        return submitted;
      if (impl_->db.changes() == 0) return impl_->not_submittable(key);
      if (auto task = impl_->run(kUpsertSlurmTask, key, submission.job_id, int64_t(i)); !task)
        return task;
    }
    return ok_status();
  });
}

Result<std::vector<SlurmTask>> Store::slurm_tasks(const std::optional<std::string>& sweep) {
  if (impl_->schema < kSlurmSchema) return std::vector<SlurmTask>{};
  auto decode = [](const Statement& s) {
    return read_row(s, &SlurmTask::key, &SlurmTask::sweep, &SlurmTask::job_id,
                    &SlurmTask::array_index);
  };
  return impl_->query(kSelectSlurmTasks, decode, sweep);
}

Result<std::vector<SlurmSubmission>> Store::submissions(const std::string& sweep) {
  std::vector<SlurmSubmission> submissions;
  if (impl_->schema < kSlurmSchema) return submissions;
  auto stmt = impl_->statement(kSelectSubmissions);
  if (!stmt) return stmt.error();
  (*stmt)->bind(1, sweep);
  for (;;) {
    auto has_row = (*stmt)->step();
    if (!has_row) return has_row.error();
    if (!*has_row) return submissions;
    const Statement& s = **stmt;
    if (submissions.empty() || submissions.back().job_id != s.column_text(0)) {
      SlurmSubmission& added = submissions.emplace_back();
      added.job_id = s.column_text(0);
      added.sweep = s.column_text(1);
      added.options_json = s.column_text(2);
      added.script = s.column_text(3);
      added.threads = int(s.column_int(4));
      added.submitted_at = s.column_text(5);
    }
    if (!s.column_is_null(6)) submissions.back().keys.push_back(s.column_text(6));
  }
}

Status Store::record_stop(const std::string& key, const RunStop& stop) {
  return impl_->in_transaction([&] {
    return impl_->run(kInsertStop, key, stop.iteration, stop.cause, text_or_null(stop.slurm_job),
                      stop.requeued ? 1 : 0);
  });
}

Result<std::vector<RunStop>> Store::stops(const std::string& key) {
  if (impl_->schema < kSlurmSchema) return std::vector<RunStop>{};
  return impl_->query(
      kSelectStops,
      [](const Statement& s) {
        return read_row(s, &RunStop::at, &RunStop::iteration, &RunStop::cause, &RunStop::slurm_job,
                        &RunStop::requeued);
      },
      key);
}

}  // namespace stodepth::results
