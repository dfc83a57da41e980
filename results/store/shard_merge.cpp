// Store::merge_shard: folding the run of a Slurm task's store shard into the main database.
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <sys/stat.h>

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "results/store/file_check.h"
#include "results/store/schema.h"
#include "results/store/store.h"
#include "results/store/store_impl.h"

namespace stodepth::results {
namespace {

// The shard is attached read-only as "shard".
constexpr const char* kAttachShard = "ATTACH ?1 AS shard";
constexpr const char* kDetachShard = "DETACH shard";
constexpr const char* kSelectShardRuns = "SELECT key, status, config_json FROM shard.runs";
// Run ?1 here: its state, its config, and whether the shard's attempt (its started_at and
// ended_at) is the one merged last.
constexpr const char* kSelectMergeTarget =
    "SELECT r.status, r.config_json, EXISTS (SELECT 1 FROM main.merged_shards AS m "
    "JOIN shard.runs AS s ON s.key = m.run WHERE m.run = ?1 AND m.started_at IS s.started_at "
    "AND m.ended_at IS s.ended_at) FROM main.runs AS r WHERE r.key = ?1";
constexpr const char* kRecordMerge =
    "INSERT INTO main.merged_shards (run, started_at, ended_at, merged_at) "
    "SELECT key, started_at, ended_at, strftime('%Y-%m-%dT%H:%M:%SZ', 'now') FROM shard.runs "
    "WHERE key = ?1 ON CONFLICT (run) DO UPDATE SET started_at = excluded.started_at, "
    "ended_at = excluded.ended_at, merged_at = excluded.merged_at";

// What a run's attempt produces, which a merge copies from its shard and, for a run merged
// before, compares: the columns of its runs row that a run gets while it runs (claim,
// record_machine, finish), and its rows in the tables of its records. The parameter columns
// and config_json are the job's, checked equal instead.
struct RunPart {
  const char* table;
  const char* key_column;
  const char* columns;
  const char* order;  // of the record tables: the order their rows are read in
  const char* what;   // in messages
};
constexpr RunPart kRunRow = {
    "runs", "key",
    "status, error, host, threads, started_at, ended_at, wall_seconds, mean_step_ms, "
    "images_per_second, expected_active_blocks, mean_active_blocks, final_test_accuracy, "
    "final_test_loss, data_ms, network_ms, update_ms, record_ms, model_bytes, peak_rss_bytes, "
    "cpu_model, isa, cores, onednn_version",
    "", "run row"};
constexpr RunPart kRunRecords[] = {
    {"iterations", "run",
     "iteration, epoch, lr, loss, train_accuracy, test_accuracy, test_loss, active_blocks, "
     "step_ms",
     "iteration", "iterations"},
    {"test_evals", "run", "epoch, iteration, accuracy, loss, validation_accuracy, validation_loss",
     "iteration", "test evaluations"},
    {"run_stops", "run", "at, iteration, cause, slurm_job, requeued", "rowid", "stops"},
};

// The statements of one RunPart for run ?1. Values go from table to table inside SQLite,
// never through text or a double in between: REALs arrive bit-identical.
struct RunPartSql {
  const RunPart* part;
  // One row: 1 when this database's rows differ from the shard's. EXCEPT compares values as
  // stored (NULLs alike, REALs exactly); the counts catch a row one side has twice.
  std::string differs;
  std::vector<std::string> copy;  // makes this database's rows the shard's
};

const std::vector<RunPartSql>& run_part_sql() {
  static const std::vector<RunPartSql> all = [] {
    std::vector<RunPartSql> parts;
    auto add = [&](const RunPart& p, std::vector<std::string> copy) {
      auto rows = [&](const char* db) {
        return fmt::format("SELECT {} FROM {}.{} WHERE {} = ?1", p.columns, db, p.table,
                           p.key_column);
      };
      parts.push_back({&p,
                       fmt::format("SELECT (SELECT count(*) FROM main.{0} WHERE {1} = ?1) != "
                                   "(SELECT count(*) FROM shard.{0} WHERE {1} = ?1) "
                                   "OR EXISTS ({2} EXCEPT {3}) OR EXISTS ({3} EXCEPT {2})",
                                   p.table, p.key_column, rows("main"), rows("shard")),
                       std::move(copy)});
    };
    add(kRunRow, {fmt::format("UPDATE main.runs SET ({0}) = (SELECT {0} FROM shard.runs WHERE "
                              "key = ?1) WHERE key = ?1",
                              kRunRow.columns)});
    for (const RunPart& p : kRunRecords) {
      add(p, {fmt::format("DELETE FROM main.{} WHERE run = ?1", p.table),
              fmt::format("INSERT INTO main.{0} (run, {1}) SELECT run, {1} FROM shard.{0} "
                          "WHERE run = ?1 ORDER BY {2}",
                          p.table, p.columns, p.order)});
    }
    return parts;
  }();
  return all;
}

bool is_final(RunState state) {
  return state == RunState::kDone || state == RunState::kFailed || state == RunState::kDiverged;
}

}  // namespace

Result<ShardMerge> Store::merge_shard(const std::string& shard_path) {
  // A merge into a file deleted or replaced since it was opened would be lost, and its
  // caller would delete the shard.
  if (auto there = impl_->check_file_still_there(); !there) return there.error();
  std::error_code ec;
  if (!std::filesystem::exists(shard_path, ec))
    return bad_input(fmt::format("{}: no store shard there (check the path)", shard_path));
  struct stat st {};
  if (impl_->file_id && ::stat(shard_path.c_str(), &st) == 0 &&
      std::pair(st.st_dev, st.st_ino) == *impl_->file_id) {
    return bad_input(
        fmt::format("{}: this is the results database itself, not a store shard", shard_path));
  }
  {
    // Opened as any read-only Store first: a file that is not ours is refused untouched.
    auto shard = Store::open(shard_path, OpenMode::kReadOnly);
    if (!shard) {
      if (shard.error().kind != ErrorKind::kBadInput) return shard.error();
      return damaged_file(fmt::format("{}: not a store shard (delete it to rerun its job): {}",
                                      shard_path, shard.error().message));
    }
    if ((*shard)->impl_->schema != schema_version()) {
      return damaged_file(fmt::format(
          "{}: a store shard of schema {}, this build writes {} (merge it with the build that "
          "wrote it, or delete it to rerun the job)",
          shard_path, (*shard)->impl_->schema, schema_version()));
    }
  }
  // Read-only: nothing in the merge can write to the shard (nor roll back a journal left in
  // it: that is its task's to do).
  if (auto attached = impl_->run(kAttachShard, file_uri(shard_path) + "?mode=ro"); !attached)
    return attached.error();
  auto merged = impl_->merge_attached_shard(shard_path);
  // Also after an error: the transaction has ended by now, committed or rolled back.
  auto detached = impl_->run(kDetachShard);
  if (!merged) return merged;
  if (!detached) return detached.error();
  return merged;
}

Result<ShardMerge> Store::Impl::merge_attached_shard(const std::string& shard) {
  ShardMerge merge;
  auto written = in_transaction([&]() -> Status {
    struct ShardRun {
      std::string key, status, config_json;
    };
    auto shard_runs = query(kSelectShardRuns, [](const Statement& s) {
      return ShardRun{s.column_text(0), s.column_text(1), s.column_text(2)};
    });
    if (!shard_runs) return shard_runs.error();
    // None yet: its task has created the shard but not added its job. Not finished.
    if (shard_runs->empty()) return ok_status();
    if (shard_runs->size() > 1) {
      return damaged_file(fmt::format(
          "{}: holds {} runs, a store shard holds one (not a shard: move it out of the shards "
          "directory)",
          shard, shard_runs->size()));
    }
    const ShardRun& shard_run = shard_runs->front();
    const std::string& key = shard_run.key;
    merge.key = key;
    const auto state = parse_run_state(shard_run.status);
    if (!state) {
      return damaged_file(
          fmt::format("{}: run {}: unreadable status '{}' (delete the shard to "
                      "rerun its job)",
                      shard, key, shard_run.status));
    }
    merge.state = *state;

    struct Target {
      std::string status, config_json;
      bool attempt_merged;
    };
    auto targets = query(
        kSelectMergeTarget,
        [](const Statement& s) {
          return Target{s.column_text(0), s.column_text(1), s.column_int(2) != 0};
        },
        key);
    if (!targets) return targets.error();
    if (targets->empty()) {
      return damaged_file(
          fmt::format("{}: the shard's run {} is not in {} (merge the shard into the database that "
                      "submitted it, or delete it)",
                      shard, key, path));
    }
    const Target& target = targets->front();
    if (target.config_json != shard_run.config_json) {
      return damaged_file(fmt::format(
          "{}: run {} has another config in {} than in the shard (merge the shard into the "
          "database that submitted it, or delete it)",
          shard, key, path));
    }
    if (!is_final(merge.state)) return ok_status();  // kNotFinished

    // Final results here already: from this shard (a merge whose shard was not retired) or
    // from another attempt. Only the first is no conflict.
    const auto here = parse_run_state(target.status);
    if ((here && is_final(*here)) || target.attempt_merged) {
      std::vector<std::string> differing;
      for (const RunPartSql& part : run_part_sql()) {
        auto differs = count(part.differs.c_str(), key);
        if (!differs) return differs.error();
        if (*differs != 0) differing.emplace_back(part.part->what);
      }
      if (differing.empty()) {
        merge.result = MergeResult::kAlreadyMerged;
        return ok_status();
      }
      return damaged_file(fmt::format(
          "{}: run {} already holds other results in {} (its {} differ from the shard's); "
          "delete the shard to keep the stored results",
          shard, key, path, fmt::join(differing, ", ")));
    }
    for (const RunPartSql& part : run_part_sql()) {
      for (const std::string& sql : part.copy) {
        if (auto copied = run(sql.c_str(), key); !copied) return copied;
      }
    }
    if (auto recorded = run(kRecordMerge, key); !recorded) return recorded;
    merge.result = MergeResult::kMerged;
    return ok_status();
  });
  if (!written) return written.error();
  return merge;
}

}  // namespace stodepth::results
