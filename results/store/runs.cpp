// Store: sweeps, their jobs, and each run's life (claim, machine, release, finish).
#include <fmt/format.h>

#include <algorithm>
#include <variant>

#include "results/store/columns.h"
#include "results/store/store.h"
#include "results/store/store_impl.h"

namespace stodepth::results {
namespace {

constexpr const char* kSelectSweepHash = "SELECT source_hash FROM sweeps WHERE name = ?1";
constexpr const char* kInsertSweep =
    "INSERT INTO sweeps (name, description, source_text, source_hash, created_at) "
    "VALUES (?1, ?2, ?3, ?4, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))";
constexpr const char* kUpdateSweepText =
    "UPDATE sweeps SET description = ?2, source_text = ?3, source_hash = ?4 WHERE name = ?1";

// ?1 key, ?2 sweep, then the parameter columns, then config_json. ON CONFLICT(key) DO NOTHING
// rather than INSERT OR IGNORE: only an existing key is skipped, any other constraint
// violation is still an error.
const std::string& insert_run_sql() {
  static const std::string sql = [] {
    std::string placeholders;
    for (size_t i = 1; i <= parameter_columns().size() + 3; ++i)
      placeholders += fmt::format("{}?{}", i > 1 ? ", " : "", i);
    return fmt::format(
        "INSERT INTO runs (key, sweep, {}, config_json, status) VALUES ({}, 'queued') "
        "ON CONFLICT (key) DO NOTHING",
        parameter_column_list(), placeholders);
  }();
  return sql;
}
constexpr const char* kLinkRun =
    "INSERT INTO sweep_runs (sweep, key) VALUES (?1, ?2) ON CONFLICT (sweep, key) DO NOTHING";

// ?4: retry failed and diverged runs too.
constexpr const char* kClaimRun =
    "UPDATE runs SET status = 'running', host = ?2, threads = ?3, "
    "started_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now'), ended_at = NULL, error = NULL, "
    "wall_seconds = NULL, mean_step_ms = NULL, images_per_second = NULL, "
    "expected_active_blocks = NULL, mean_active_blocks = NULL, final_test_accuracy = NULL, "
    "final_test_loss = NULL, data_ms = NULL, network_ms = NULL, update_ms = NULL, "
    "record_ms = NULL, model_bytes = NULL, peak_rss_bytes = NULL, cpu_model = NULL, isa = NULL, "
    "cores = NULL, onednn_version = NULL "
    "WHERE key = ?1 AND (status IN ('queued', 'interrupted') "
    "OR (?4 AND status IN ('failed', 'diverged')))";
constexpr const char* kRecordMachine =
    "UPDATE runs SET cpu_model = ?2, isa = ?3, cores = ?4, onednn_version = ?5 "
    "WHERE key = ?1 AND status = 'running'";
constexpr const char* kDeleteIterationsAfter =
    "DELETE FROM iterations WHERE run = ?1 AND iteration > ?2";
constexpr const char* kDeleteTestEvalsAfter =
    "DELETE FROM test_evals WHERE run = ?1 AND iteration > ?2";
constexpr const char* kCountIterations = "SELECT count(*) FROM iterations WHERE run = ?1";
constexpr const char* kReleaseStaleRuns =
    "UPDATE runs SET status = 'interrupted' WHERE status = 'running' AND host = ?2 "
    "AND key IN (SELECT key FROM sweep_runs WHERE sweep = ?1)";

constexpr const char* kFinishRun =
    "UPDATE runs SET status = ?2, error = ?3, ended_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now'), "
    "wall_seconds = ?4, mean_step_ms = ?5, images_per_second = ?6, expected_active_blocks = ?7, "
    "mean_active_blocks = ?8, final_test_accuracy = ?9, final_test_loss = ?10, data_ms = ?11, "
    "network_ms = ?12, update_ms = ?13, record_ms = ?14, model_bytes = ?15, "
    "peak_rss_bytes = ?16 WHERE key = ?1";

}  // namespace

std::string parameter_column_list(std::string_view prefix) {
  std::string list;
  for (const ParameterColumn& column : parameter_columns())
    list += fmt::format("{}{}{}", list.empty() ? "" : ", ", prefix, column.name);
  return list;
}

Error redefined_sweep_error(const std::string& path, const std::string& sweep,
                            const std::string& lost) {
  if (lost.empty())
    return bad_input(fmt::format(
        "{}: sweep '{}' already exists in DB with a different definition (rename the sweep or "
        "use another --db)",
        path, sweep));
  return bad_input(fmt::format(
      "{}: sweep '{}' already exists in DB with a different definition: the file {}; a sweep "
      "file may add jobs to a stored sweep but not change or remove any (undo that, or rename "
      "the sweep or use another --db)",
      path, sweep, lost));
}

Status Store::register_sweep(const SweepRecord& sweep) {
  return impl_->in_transaction([&]() -> Status {
    auto text = [](const Statement& s) { return s.column_text(0); };
    auto hashes = impl_->query(kSelectSweepHash, text, sweep.name);
    if (!hashes) return hashes.error();
    if (hashes->empty()) {
      return impl_->run(kInsertSweep, sweep.name, sweep.description, sweep.source_text,
                        sweep.source_hash);
    }
    if (hashes->front() != sweep.source_hash) {
      return redefined_sweep_error(impl_->path, sweep.name);
    }
    return ok_status();
  });
}

Status Store::update_sweep_text(const SweepRecord& sweep) {
  return impl_->in_transaction([&]() -> Status {
    return impl_->run(kUpdateSweepText, sweep.name, sweep.description, sweep.source_text,
                      sweep.source_hash);
  });
}

Status Store::add_jobs(const std::vector<JobRecord>& jobs) {
  return impl_->in_transaction([&]() -> Status {
    for (const auto& job : jobs) {
      auto insert = impl_->statement(insert_run_sql().c_str());
      if (!insert) return insert.error();
      Statement& stmt = **insert;
      int index = 0;
      stmt.bind(++index, job.key);
      stmt.bind(++index, job.sweep);
      for (const ParameterColumn& column : parameter_columns())
        std::visit([&](const auto& value) { stmt.bind(++index, value); },
                   column.stored(job.config));
      stmt.bind(++index, job.config_json);
      if (auto inserted = stmt.run(); !inserted) return inserted;
      if (auto linked = impl_->run(kLinkRun, job.sweep, job.key); !linked) return linked;
    }
    return ok_status();
  });
}

Result<Store::Claim> Store::claim_run(const std::string& key, bool retry_failed,
                                      const std::string& host, int threads,
                                      const std::function<Result<int64_t>()>& resume_point) {
  Claim claim;
  auto written = impl_->in_transaction([&]() -> Status {
    auto updated = impl_->run(kClaimRun, key, host, threads, retry_failed ? 1 : 0);
    if (!updated) return updated;
    claim.claimed = impl_->db.changes() == 1;
    if (!claim.claimed) return ok_status();
    if (resume_point) {
      auto point = resume_point();
      if (!point) return point.error();
      claim.resume_after = std::max<int64_t>(*point, 0);
    }
    // Keeps the rows through the resume point if they are all there, else deletes them all.
    for (int pass = 0; pass < 2; ++pass) {
      if (auto deleted = impl_->run(kDeleteIterationsAfter, key, claim.resume_after); !deleted)
        return deleted;
      if (auto deleted = impl_->run(kDeleteTestEvalsAfter, key, claim.resume_after); !deleted)
        return deleted;
      auto kept = impl_->count(kCountIterations, key);
      if (!kept) return kept.error();
      if (*kept == claim.resume_after) return ok_status();
      claim.resume_after = 0;
    }
    return ok_status();
  });
  if (!written) return written.error();
  return claim;
}

Status Store::record_machine(const std::string& key, const MachineFacts& facts) {
  return impl_->in_transaction([&]() -> Status {
    auto updated =
        impl_->run(kRecordMachine, key, text_or_null(facts.cpu_model), text_or_null(facts.isa),
                   count_or_null(facts.cores), text_or_null(facts.onednn_version));
    if (!updated) return updated;
    if (impl_->db.changes() == 0) {
      return internal_error(fmt::format(
          "{}: record_machine: run {} is not running (claim it first)", impl_->path, key));
    }
    return ok_status();
  });
}

Status Store::release_stale_runs(const std::string& sweep, const std::string& host) {
  return impl_->in_transaction([&] { return impl_->run(kReleaseStaleRuns, sweep, host); });
}

Status Store::finish_run(const std::string& key, RunState state, const RunSummary* summary,
                         const std::string& error) {
  return impl_->in_transaction([&] { return impl_->finish(key, state, summary, error); });
}

Status Store::Impl::finish(const std::string& key, RunState state, const RunSummary* s,
                           const std::string& error) {
  if (state == RunState::kQueued || state == RunState::kRunning) {
    return internal_error(fmt::format("{}: run {}: finish_run needs a final state, not {}", path,
                                      key, to_string(state)));
  }
  auto value = [s](double RunSummary::*m) -> std::optional<double> {
    if (!s) return std::nullopt;
    return s->*m;
  };
  auto optional = [s](std::optional<double> RunSummary::*m) -> std::optional<double> {
    return s ? s->*m : std::nullopt;
  };
  auto time = [s](double RunSummary::Time::*m) -> std::optional<double> {
    if (!s) return std::nullopt;
    return s->time.*m;
  };
  auto bytes = [s](int64_t RunSummary::*m) -> std::optional<int64_t> {
    if (!s || s->*m == 0) return std::nullopt;  // 0: not measured
    return s->*m;
  };
  const std::string& message = !error.empty() || !s ? error : s->message;
  auto updated = run(
      kFinishRun, key, to_string(state), text_or_null(message), value(&RunSummary::wall_seconds),
      value(&RunSummary::mean_step_ms), value(&RunSummary::images_per_second),
      value(&RunSummary::expected_active_blocks), value(&RunSummary::mean_active_blocks),
      optional(&RunSummary::final_test_accuracy), optional(&RunSummary::final_test_loss),
      time(&RunSummary::Time::data_ms), time(&RunSummary::Time::network_ms),
      time(&RunSummary::Time::update_ms), time(&RunSummary::Time::record_ms),
      bytes(&RunSummary::model_bytes), bytes(&RunSummary::peak_rss));
  if (!updated) return updated;
  if (db.changes() == 0) return internal_error(fmt::format("{}: finish_run: no run {}", path, key));
  return ok_status();
}

}  // namespace stodepth::results
