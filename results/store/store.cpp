#include "results/store/store.h"

#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <unordered_map>
#include <utility>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "model/base/json.h"
#include "model/config/config_codec.h"
#include "results/store/columns.h"
#include "results/store/file_check.h"
#include "results/store/schema.h"
#include "results/store/sqlite.h"

namespace stodepth::results {

const char* to_string(RunState s) {
  switch (s) {
    case RunState::kQueued: return "queued";
    case RunState::kRunning: return "running";
    case RunState::kDone: return "done";
    case RunState::kFailed: return "failed";
    case RunState::kDiverged: return "diverged";
    case RunState::kInterrupted: return "interrupted";
  }
  return "?";
}

std::optional<RunState> parse_run_state(std::string_view s) {
  for (const RunState state : {RunState::kQueued, RunState::kRunning, RunState::kDone,
                               RunState::kFailed, RunState::kDiverged, RunState::kInterrupted}) {
    if (s == to_string(state)) return state;
  }
  return std::nullopt;
}

namespace {

constexpr int kBusyTimeoutMs = 10000;

// Every statement the Store runs, prepared once per connection (see Impl::statement). Column
// lists are explicit so that a schema migration adding columns cannot shift results.

constexpr const char* kSelectSweepHash = "SELECT source_hash FROM sweeps WHERE name = ?1";
constexpr const char* kInsertSweep =
    "INSERT INTO sweeps (name, description, source_text, source_hash, created_at) "
    "VALUES (?1, ?2, ?3, ?4, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))";
constexpr const char* kUpdateSweepText =
    "UPDATE sweeps SET description = ?2, source_text = ?3, source_hash = ?4 WHERE name = ?1";
constexpr const char* kSelectSweeps =
    "SELECT name, description, source_text, source_hash FROM sweeps ORDER BY rowid";

// "dataset, depth, …, seed", each name after `prefix` (e.g. "r.").
std::string parameter_column_list(std::string_view prefix = "") {
  std::string list;
  for (const ParameterColumn& column : parameter_columns())
    list += fmt::format("{}{}{}", list.empty() ? "" : ", ", prefix, column.name);
  return list;
}

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
constexpr const char* kRunOwnedBy =
    "SELECT count(*) FROM runs WHERE key = ?1 AND status = 'running' AND host = ?2";
constexpr const char* kReleaseStaleRuns =
    "UPDATE runs SET status = 'interrupted' WHERE status = 'running' AND host = ?2 "
    "AND key IN (SELECT key FROM sweep_runs WHERE sweep = ?1)";

// OR REPLACE: a batch retried after a failed commit overwrites instead of duplicating.
constexpr const char* kInsertIteration =
    "INSERT OR REPLACE INTO iterations (run, iteration, epoch, lr, loss, train_accuracy, "
    "test_accuracy, test_loss, active_blocks, step_ms) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)";
constexpr const char* kInsertTestEval =
    "INSERT OR REPLACE INTO test_evals (run, epoch, iteration, accuracy, loss, "
    "validation_accuracy, validation_loss) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
constexpr const char* kFinishRun =
    "UPDATE runs SET status = ?2, error = ?3, ended_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now'), "
    "wall_seconds = ?4, mean_step_ms = ?5, images_per_second = ?6, expected_active_blocks = ?7, "
    "mean_active_blocks = ?8, final_test_accuracy = ?9, final_test_loss = ?10, data_ms = ?11, "
    "network_ms = ?12, update_ms = ?13, record_ms = ?14, model_bytes = ?15, "
    "peak_rss_bytes = ?16 WHERE key = ?1";

// The evaluation of best validation accuracy of run r (the earliest on ties): `column` of it.
std::string at_best_validation(std::string_view column) {
  return fmt::format(
      "(SELECT e.{} FROM test_evals AS e WHERE e.run = r.key AND e.validation_accuracy IS NOT "
      "NULL ORDER BY e.validation_accuracy DESC, e.iteration LIMIT 1)",
      column);
}

// The runs of every sweep (of_sweep false) or of sweep ?1, in the column order decode_run
// reads. Databases before schema 3 (read-only) have no machine columns, before schema 5 no
// validation: they read as NULL.
std::string select_runs_sql(bool of_sweep, int64_t schema) {
  const std::string columns = fmt::format(
      "r.key, r.sweep, r.status, r.config_json, {}, r.error, r.host, r.threads, r.started_at, "
      "r.ended_at, r.wall_seconds, r.mean_step_ms, r.images_per_second, "
      "r.expected_active_blocks, r.mean_active_blocks, r.final_test_accuracy, "
      "r.final_test_loss, {}, {}",
      parameter_column_list("r."),
      schema >= 3 ? "r.cpu_model, r.isa, r.cores, r.onednn_version" : "NULL, NULL, NULL, NULL",
      schema >= 5 ? fmt::format("{}, {}, {}", at_best_validation("epoch"),
                                at_best_validation("validation_accuracy"),
                                at_best_validation("accuracy"))
                  : "NULL, NULL, NULL");
  if (of_sweep) {
    return fmt::format(
        "SELECT {} FROM sweep_runs AS l JOIN runs AS r ON r.key = l.key "
        "WHERE l.sweep = ?1 ORDER BY l.rowid",
        columns);
  }
  return fmt::format("SELECT {} FROM runs AS r ORDER BY r.sweep, r.rowid", columns);
}

constexpr const char* kSelectCurve =
    "SELECT iteration, epoch, lr, loss, train_accuracy, test_accuracy, test_loss, "
    "active_blocks, step_ms FROM iterations WHERE run = ?1 ORDER BY iteration";
// Databases before schema 5 (read-only) have no validation columns: they read as NULL.
std::string select_test_evals_sql(int64_t schema) {
  return fmt::format(
      "SELECT epoch, iteration, accuracy, loss, {} FROM test_evals WHERE run = ?1 "
      "ORDER BY iteration",
      schema >= 5 ? "validation_accuracy, validation_loss" : "NULL, NULL");
}

// --- Cluster runs: submissions, stops ---

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
constexpr const char* kSelectSlurmTasks =
    "SELECT t.run, s.sweep, t.job_id, t.array_index FROM slurm_tasks AS t "
    "JOIN slurm_submissions AS s ON s.job_id = t.job_id ORDER BY t.run";
constexpr const char* kSelectSweepSlurmTasks =
    "SELECT t.run, s.sweep, t.job_id, t.array_index FROM slurm_tasks AS t "
    "JOIN slurm_submissions AS s ON s.job_id = t.job_id "
    "WHERE t.run IN (SELECT key FROM sweep_runs WHERE sweep = ?1) ORDER BY t.run";
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

// --- Cluster runs: merging a store shard, attached read-only as "shard" ---

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

// The schema that added the Slurm executor's tables; read-only Stores of older files read them
// as empty.
constexpr int64_t kSlurmSchema = 4;

bool is_final(RunState state) {
  return state == RunState::kDone || state == RunState::kFailed || state == RunState::kDiverged;
}

std::optional<std::string_view> text_or_null(const std::string& s) {
  if (s.empty()) return std::nullopt;
  return s;
}

std::optional<int64_t> count_or_null(int64_t n) {  // 0: not known
  if (n == 0) return std::nullopt;
  return n;
}

// Column `c` as the kind of value `like` is; nullopt for NULL.
std::optional<SqlValue> read_column(const Statement& s, int c, const SqlValue& like) {
  if (s.column_is_null(c)) return std::nullopt;
  return std::visit(
      [&](const auto& kind) -> SqlValue {
        using T = std::decay_t<decltype(kind)>;
        if constexpr (std::is_same_v<T, int64_t>) return s.column_int(c);
        if constexpr (std::is_same_v<T, double>) return s.column_double(c);
        if constexpr (std::is_same_v<T, std::string>) return s.column_text(c);
      },
      like);
}

// "host" of a launcher id "host:pid".
std::string host_name(const std::string& launcher) {
  const size_t colon = launcher.rfind(':');
  const bool has_pid = colon != std::string::npos && colon + 1 < launcher.size() &&
                       launcher.find_first_not_of("0123456789", colon + 1) == std::string::npos;
  return has_pid ? launcher.substr(0, colon) : launcher;
}

// A row of select_runs_sql.
Result<RunRow> decode_run(const Statement& s, const std::string& label) {
  RunRow row;
  int c = 0;
  row.key = s.column_text(c++);
  row.sweep = s.column_text(c++);
  const std::string status = s.column_text(c++);
  row.config_json = s.column_text(c++);
  auto edited = [&](const std::string& what) {
    return bad_input(
        fmt::format("{}: run {}: {} (was the database edited by hand?)", label, row.key, what));
  };
  const auto state = parse_run_state(status);
  if (!state) return edited(fmt::format("unreadable status '{}'", status));
  row.state = *state;
  // The launcher stores the canonical text of a run's whole config: its columns must agree.
  auto config = parse_config_json(row.config_json);
  if (!config) return edited("config_json: " + config.error().message);
  row.config = std::move(config).value();
  for (const ParameterColumn& column : parameter_columns()) {
    const SqlValue expected = column.stored(row.config);
    if (read_column(s, c, expected) != expected) {
      return edited(fmt::format("column {} holds '{}' but config_json says '{}'", column.name,
                                s.column_text(c), column.text(row.config)));
    }
    ++c;
  }
  row.error = s.column_text(c++);
  row.host = s.column_text(c++);
  row.threads = int(s.column_int(c++));
  row.started_at = s.column_text(c++);
  row.ended_at = s.column_text(c++);
  for (auto* field : {&row.wall_seconds, &row.mean_step_ms, &row.images_per_second,
                      &row.expected_active_blocks, &row.mean_active_blocks,
                      &row.final_test_accuracy, &row.final_test_loss}) {
    *field = s.column_optional_double(c++);
  }
  MachineFacts& machine = row.machine;
  machine.host = host_name(row.host);
  machine.threads = row.threads;
  machine.cpu_model = s.column_text(c++);
  machine.isa = s.column_text(c++);
  machine.cores = int(s.column_int(c++));
  machine.onednn_version = s.column_text(c++);
  const std::optional<double> best_epoch = s.column_optional_double(c++);
  const std::optional<double> best_validation = s.column_optional_double(c++);
  const std::optional<double> test_at_best = s.column_optional_double(c++);
  if (best_epoch && best_validation && test_at_best)
    row.best_validation = BestValidation{int64_t(*best_epoch), 0, *best_validation, *test_at_best};
  return row;
}

IterationRecord decode_iteration(const Statement& s) {
  IterationRecord r;
  r.iteration = s.column_int(0);
  r.epoch = s.column_int(1);
  r.learning_rate = s.column_double(2);
  r.loss = s.column_double(3);
  r.train_accuracy = s.column_double(4);
  r.test_accuracy = s.column_optional_double(5);
  r.test_loss = s.column_optional_double(6);
  r.active_blocks = int(s.column_int(7));
  r.step_ms = s.column_double(8);
  return r;
}

TestEvalRecord decode_test_eval(const Statement& s) {
  TestEvalRecord r;
  r.epoch = s.column_int(0);
  r.iteration = s.column_int(1);
  r.accuracy = s.column_double(2);
  r.loss = s.column_double(3);
  r.validation_accuracy = s.column_optional_double(4);
  r.validation_loss = s.column_optional_double(5);
  return r;
}

// A cached statement in use, reset when released: a cursor left mid-way (an early return)
// would otherwise keep a read transaction open, pinning the WAL.
class InUse {
 public:
  explicit InUse(Statement* stmt) : stmt_(stmt) {}
  InUse(InUse&& other) noexcept : stmt_(std::exchange(other.stmt_, nullptr)) {}
  InUse& operator=(InUse&&) = delete;
  ~InUse() {
    if (stmt_) stmt_->reset();
  }
  Statement& operator*() const { return *stmt_; }
  Statement* operator->() const { return stmt_; }

 private:
  Statement* stmt_;
};

// Steps `stmt` to completion, decoding each row.
template <typename Decode>
auto collect(Statement& stmt, Decode decode)
    -> Result<std::vector<std::decay_t<decltype(decode(stmt))>>> {
  std::vector<std::decay_t<decltype(decode(stmt))>> rows;
  for (;;) {
    auto row = stmt.step();
    if (!row) return row.error();
    if (!*row) return rows;
    rows.push_back(decode(stmt));
  }
}

// --- Opening --------------------------------------------------------------------------------

Status configure_connection(Database& db) {
  return db.exec(fmt::format("PRAGMA busy_timeout = {}; PRAGMA foreign_keys = ON",
                             kBusyTimeoutMs));
}

// The checks of inspect_database_file, repeated on the open connection where they are
// authoritative (the header can lag behind an uncheckpointed WAL) and where ":memory:" and a
// file created since the inspection are covered. Returns the schema version.
Result<int64_t> check_identity(Database& db) {
  auto application_id = db.query_int("PRAGMA application_id");
  if (!application_id) return application_id.error();
  auto version = db.query_int("PRAGMA user_version");
  if (!version) return version.error();
  if (*application_id == kApplicationId) {
    if (*version > schema_version()) return newer_schema_error(db.label(), *version);
    return *version;
  }
  if (*application_id != 0) {
    return foreign_database_error(
        db.label(), fmt::format("application_id 0x{:08X}", uint32_t(*application_id)));
  }
  auto tables = db.query_int("SELECT count(*) FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%'");
  if (!tables) return tables.error();
  if (*tables > 0 || *version != 0) {
    return foreign_database_error(db.label(), "application_id 0 and its own tables");
  }
  return int64_t{0};
}

// Applies the pending migrations, application_id and user_version in one transaction: a
// reader sees the file as it was or at this build's version, never at an intermediate one
// (which a read-only open refuses as too old). The version is re-read under the write lock:
// another process may have migrated the file in the meantime. Returns the version the file
// had under that lock (0: this connection created the database).
Result<int64_t> migrate(Database& db, int64_t version,
                        const std::function<void(int64_t)>& after_migration_step) {
  if (version >= schema_version()) return version;
  Transaction transaction(db);
  if (auto begun = transaction.begin(); !begun) return begun.error();
  auto current = check_identity(db);
  if (!current) return current.error();
  if (*current >= schema_version()) return *current;  // another process migrated it
  version = *current;
  if (version == 0) {
    if (auto set = db.exec(fmt::format("PRAGMA application_id = {}", kApplicationId)); !set) {
      return set.error();
    }
  }
  for (int64_t v = version; v < schema_version(); ++v) {
    if (auto applied = db.exec(migrations()[size_t(v)]); !applied) return applied.error();
    if (auto set = db.exec(fmt::format("PRAGMA user_version = {}", v + 1)); !set)
      return set.error();
    if (after_migration_step) after_migration_step(v + 1);
  }
  if (auto committed = transaction.commit(); !committed) return committed.error();
  return version;
}

// WAL: readers do not block the writer nor the writer the readers. The mode is kept in the
// file: later connections use it without asking.
Status enable_wal(Database& db, bool in_memory) {
  auto stmt = db.prepare("PRAGMA journal_mode = WAL");
  if (!stmt) return stmt.error();
  auto row = stmt->step();
  if (!row) return row.error();
  const std::string mode = *row ? stmt->column_text(0) : "";
  if (mode != "wal" && !in_memory) {
    return bad_input(fmt::format(
        "{}: cannot use WAL journal mode (got '{}') (put the database on a local filesystem)",
        db.label(), mode));
  }
  return ok_status();
}

// True when no one (root aside) can write beside `path`: its directory has no write
// permission for anyone, so no -wal or journal can be created, and no -wal file exists.
bool nobody_can_write_beside(const std::string& path) {
  std::filesystem::path dir = std::filesystem::path(path).parent_path();
  if (dir.empty()) dir = ".";
  struct stat st {};
  return ::stat(dir.c_str(), &st) == 0 && (st.st_mode & 0222) == 0 &&
         ::access((path + "-wal").c_str(), F_OK) != 0;
}

Error not_created_error(const std::string& path) {
  return bad_input(fmt::format(
      "{}: no results database there yet (check --db, or run a sweep to create it)", path));
}

// --- select() -------------------------------------------------------------------------------

int allow_reads_only(void*, int action, const char*, const char*, const char*, const char*) {
  switch (action) {
    case SQLITE_SELECT:
    case SQLITE_READ:
    case SQLITE_FUNCTION:
    case SQLITE_RECURSIVE:  // WITH RECURSIVE
      return SQLITE_OK;
    default:  // writes, DDL, ATTACH/DETACH, PRAGMA, transactions, …
      return SQLITE_DENY;
  }
}

// Installs the read-only authorizer for the lifetime of the guard (it applies when
// statements are prepared).
class ReadOnlyAuthorizer {
 public:
  explicit ReadOnlyAuthorizer(Database& db) : db_(db) {
    sqlite3_set_authorizer(db_.handle(), allow_reads_only, nullptr);
  }
  ~ReadOnlyAuthorizer() { sqlite3_set_authorizer(db_.handle(), nullptr, nullptr); }
  ReadOnlyAuthorizer(const ReadOnlyAuthorizer&) = delete;
  ReadOnlyAuthorizer& operator=(const ReadOnlyAuthorizer&) = delete;

 private:
  Database& db_;
};

Error query_error(sqlite3* db, int rc) {
  if ((rc & 0xff) == SQLITE_AUTH) {
    return bad_input(fmt::format("query refused: {} (query sql is read-only)", sqlite3_errmsg(db)));
  }
  return bad_input(fmt::format("query: {}", sqlite3_errmsg(db)));
}

Error more_than_one_error() {
  return bad_input("query refused: more than one statement (query sql runs a single SELECT)");
}

// True when `rest` holds only whitespace, comments and semicolons.
bool nothing_after(sqlite3* db, const char* rest, const char* end) {
  while (rest < end) {
    sqlite3_stmt* next = nullptr;
    const char* tail = nullptr;
    const int rc = sqlite3_prepare_v2(db, rest, int(end - rest), &next, &tail);
    sqlite3_finalize(next);
    if (rc != SQLITE_OK || next != nullptr || tail == rest) return false;
    rest = tail;
  }
  return true;
}

// Prepares exactly one read-only statement (the authorizer must be installed).
Result<Statement> prepare_query(Database& db, const std::string& sql) {
  sqlite3_stmt* raw = nullptr;
  const char* tail = nullptr;
  const int rc = sqlite3_prepare_v2(db.handle(), sql.data(), int(sql.size()), &raw, &tail);
  Statement stmt(raw, db.label());
  if (rc != SQLITE_OK) return query_error(db.handle(), rc);
  if (raw == nullptr) return bad_input("query: empty (give one SELECT statement)");
  if (!nothing_after(db.handle(), tail, sql.data() + sql.size())) return more_than_one_error();
  if (!sqlite3_stmt_readonly(raw)) {
    return bad_input("query refused: statement writes (query sql is read-only)");
  }
  return stmt;
}

}  // namespace

// --- Store ----------------------------------------------------------------------------------

struct Store::Impl {
  Database db;
  std::string path;
  OpenMode mode = OpenMode::kReadWrite;
  int64_t schema = 0;  // the file's schema version (older ones only read-only)
  std::string select_all_runs, select_sweep_runs;         // select_runs_sql for the file's schema
  std::string select_test_evals;                          // select_test_evals_sql, likewise
  std::unordered_map<const char*, Statement> statements;  // keyed by the SQL texts' addresses
  std::optional<Database> query_db;  // select()'s read-only connection, opened on first use
  // The file opened (device, inode): SQLite keeps writing to a file that was deleted or
  // replaced underneath it, so writes check first that the path still names it.
  std::optional<std::pair<dev_t, ino_t>> file_id;

  Status check_file_still_there() const {
    if (!file_id) return ok_status();
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0 || std::pair(st.st_dev, st.st_ino) != *file_id)
      return storage_error(
          fmt::format("{}: the database file was deleted or replaced while in use; "
                      "stopping so that nothing more is written to a file nobody can "
                      "read (restore it, or launch again to start a new one)",
                      path));
    return ok_status();
  }

  // The cached statement for `sql` (a k* constant or a string that lives as long as the
  // Store), ready to bind.
  Result<InUse> statement(const char* sql) {
    auto found = statements.find(sql);
    if (found == statements.end()) {
      auto prepared = db.prepare(sql);
      if (!prepared) return prepared.error();
      found = statements.emplace(sql, std::move(prepared).value()).first;
    }
    return InUse(&found->second);
  }

  // Runs a cached statement that returns no rows.
  template <typename... Args>
  Status run(const char* sql, const Args&... args) {
    auto stmt = statement(sql);
    if (!stmt) return stmt.error();
    (*stmt)->bind_all(args...);
    return (*stmt)->run();
  }

  // Runs a cached statement that returns one integer (a count).
  template <typename... Args>
  Result<int64_t> count(const char* sql, const Args&... args) {
    auto stmt = statement(sql);
    if (!stmt) return stmt.error();
    (*stmt)->bind_all(args...);
    auto has_row = (*stmt)->step();
    if (!has_row) return has_row.error();
    return *has_row ? (*stmt)->column_int(0) : 0;
  }

  template <typename Decode, typename... Args>
  auto query(const char* sql, Decode decode, const Args&... args)
      -> decltype(collect(std::declval<Statement&>(), decode)) {
    auto stmt = statement(sql);
    if (!stmt) return stmt.error();
    (*stmt)->bind_all(args...);
    return collect(**stmt, decode);
  }

  Status insert_iterations(const std::string& key, const std::vector<IterationRecord>& rows) {
    for (const auto& r : rows) {
      auto inserted = run(kInsertIteration, key, r.iteration, r.epoch, r.learning_rate, r.loss,
                          r.train_accuracy, r.test_accuracy, r.test_loss, r.active_blocks,
                          r.step_ms);
      if (!inserted) return inserted;
    }
    return ok_status();
  }

  Status insert_test_evals(const std::string& key, const std::vector<TestEvalRecord>& rows) {
    for (const auto& r : rows) {
      auto inserted = run(kInsertTestEval, key, r.epoch, r.iteration, r.accuracy, r.loss,
                          r.validation_accuracy, r.validation_loss);
      if (!inserted) return inserted;
    }
    return ok_status();
  }

  Status finish(const std::string& key, RunState state, const RunSummary* s,
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
    auto updated = run(kFinishRun, key, to_string(state), text_or_null(message),
                       value(&RunSummary::wall_seconds), value(&RunSummary::mean_step_ms),
                       value(&RunSummary::images_per_second),
                       value(&RunSummary::expected_active_blocks),
                       value(&RunSummary::mean_active_blocks),
                       optional(&RunSummary::final_test_accuracy),
                       optional(&RunSummary::final_test_loss), time(&RunSummary::Time::data_ms),
                       time(&RunSummary::Time::network_ms), time(&RunSummary::Time::update_ms),
                       time(&RunSummary::Time::record_ms), bytes(&RunSummary::model_bytes),
                       bytes(&RunSummary::peak_rss));
    if (!updated) return updated;
    if (db.changes() == 0)
      return internal_error(fmt::format("{}: finish_run: no run {}", path, key));
    return ok_status();
  }

  Status apply(const Batch::Iterations& op) { return insert_iterations(op.key, op.rows); }
  Status apply(const Batch::TestEvals& op) { return insert_test_evals(op.key, op.rows); }
  Status apply(const Batch::Finish& op) {
    return finish(op.key, op.state, op.summary ? &*op.summary : nullptr, op.error);
  }

  // In one write transaction: all of `write` or nothing.
  template <typename Write>
  Status in_transaction(Write write) {
    Transaction transaction(db);
    if (auto begun = transaction.begin(); !begun) return begun;
    if (auto written = write(); !written) return written;
    return transaction.commit();
  }

  // Why run `key` cannot be submitted (kSubmitRun changed nothing): missing, running or done.
  Error not_submittable(const std::string& key) {
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
    return bad_input(fmt::format(
        "{}: it is {} (leave it out of the submission: a done run is kept)", what, status));
  }

  // merge_shard's checks and copies, in one transaction, with the shard attached as "shard".
  Result<ShardMerge> merge_attached_shard(const std::string& shard) {
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
        return damaged_file(fmt::format(
            "{}: the shard's run {} is not in {} (merge the shard into the database that "
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

  // select() runs on a read-only connection; ":memory:" has no file to open twice, and a
  // read-only Store's own connection already is one.
  Result<Database*> query_connection() {
    if (mode == OpenMode::kReadOnly || path == ":memory:") return &db;
    if (!query_db) {
      auto opened = Database::open(path, SQLITE_OPEN_READONLY, path);
      if (!opened) return opened.error();
      if (auto configured = configure_connection(*opened); !configured) {
        return configured.error();
      }
      query_db = std::move(opened).value();
    }
    return &*query_db;
  }
};

Result<std::unique_ptr<Store>> Store::open(const std::string& path, OpenMode mode,
                                           const OpenOptions& options) {
  const bool in_memory = path == ":memory:";
  const bool read_only = mode == OpenMode::kReadOnly;
  if (!in_memory) {
    auto state = inspect_database_file(path);
    if (!state) return state.error();
    if (read_only && *state != FileState::kStodepth) return not_created_error(path);
  }
  // By URI: merge_shard attaches a shard read-only by one ("?mode=ro"), which SQLite reads as a
  // URI only on a connection opened with SQLITE_OPEN_URI.
  int flags = (read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) |
              SQLITE_OPEN_URI;
  std::string target = in_memory ? path : file_uri(path);
  if (read_only && !in_memory && nobody_can_write_beside(path)) {
    // Reading a WAL database needs its -shm file, which cannot be created in a read-only
    // directory; with no -wal there and no one able to create one, the file cannot change.
    target += "?immutable=1";
  }
  auto db = Database::open(target, flags, path);
  if (!db) return db.error();
  // SQLite silently opens a write-protected file read-only; refuse before anything is written.
  if (!read_only && sqlite3_db_readonly(db->handle(), "main") == 1)
    return bad_input(
        fmt::format("{}: the database is read-only (make the file and its directory "
                    "writable, or pass another --db)",
                    path));
  if (auto configured = configure_connection(*db); !configured) return configured.error();
  // One read transaction: another launcher creating the file commits the application_id,
  // the version and the tables together, and they must be read together.
  if (auto begun = db->exec("BEGIN"); !begun) return begun.error();
  auto version = check_identity(*db);
  if (auto ended = db->exec("COMMIT"); !ended) return ended.error();
  if (!version) return version.error();

  if (!read_only) {
    // Migrations run before WAL is enabled so that a new file's header (application_id,
    // user_version) is in the main file, where inspect_database_file reads it.
    auto had = migrate(*db, *version, options.after_migration_step);
    if (!had) return had.error();
    // The journal mode is chosen once, by the open that creates the database: an existing
    // file keeps its own (a rollback-journal shard stays one when its task's writer reopens it).
    if (*had == 0 && options.journal == Journal::kWal) {
      if (auto wal = enable_wal(*db, in_memory); !wal) return wal.error();
    }
    // Every commit durable across power loss too (per connection); the writer commits a few
    // times a second at most.
    if (auto synced = db->exec("PRAGMA synchronous = FULL"); !synced) return synced.error();
  }

  auto impl = std::make_unique<Impl>();
  impl->db = std::move(db).value();
  impl->path = path;
  impl->mode = mode;
  const int64_t schema = read_only ? *version : schema_version();
  impl->select_all_runs = select_runs_sql(false, schema);
  impl->select_sweep_runs = select_runs_sql(true, schema);
  impl->select_test_evals = select_test_evals_sql(schema);
  impl->schema = schema;
  if (!in_memory) {
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0) impl->file_id = {st.st_dev, st.st_ino};
  }
  return std::unique_ptr<Store>(new Store(std::move(impl)));
}

Store::Store(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Store::~Store() = default;

Error redefined_sweep_error(const std::string& path, const std::string& sweep) {
  return bad_input(fmt::format(
      "{}: sweep '{}' already exists in DB with a different definition (rename the sweep or "
      "use another --db)",
      path, sweep));
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

Status Store::append_iterations(const std::string& key, const std::vector<IterationRecord>& rows) {
  return impl_->in_transaction([&] { return impl_->insert_iterations(key, rows); });
}

Status Store::append_test_evals(const std::string& key, const std::vector<TestEvalRecord>& rows) {
  return impl_->in_transaction([&] { return impl_->insert_test_evals(key, rows); });
}

Status Store::finish_run(const std::string& key, RunState state, const RunSummary* summary,
                         const std::string& error) {
  return impl_->in_transaction([&] { return impl_->finish(key, state, summary, error); });
}

Status Store::write_batch(const Batch& batch) {
  if (auto there = impl_->check_file_still_there(); !there) return there;
  return impl_->in_transaction([&]() -> Status {
    for (const auto& op : batch.ops) {
      if (!batch.owner.empty()) {
        const std::string& key = std::visit([](const auto& o) -> const std::string& { return o.key; }, op);
        auto owned = impl_->count(kRunOwnedBy, key, batch.owner);
        if (!owned) return owned.error();
        if (*owned == 0)
          return storage_error(
              fmt::format("{}: run {} is no longer held by this launcher ({}); another "
                          "launcher released it, so this one stops writing",
                          impl_->path, key, batch.owner));
      }
      auto applied = std::visit([&](const auto& o) { return impl_->apply(o); }, op);
      if (!applied) return applied;
    }
    return ok_status();
  });
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
    return SlurmTask{s.column_text(0), s.column_text(1), s.column_text(2), int(s.column_int(3))};
  };
  if (sweep) return impl_->query(kSelectSweepSlurmTasks, decode, *sweep);
  return impl_->query(kSelectSlurmTasks, decode);
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
        return RunStop{s.column_text(0), s.column_int(1), s.column_text(2), s.column_text(3),
                       s.column_int(4) != 0};
      },
      key);
}

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

Status Store::hold_snapshot() {
  if (impl_->mode != OpenMode::kReadOnly)
    return internal_error(fmt::format("{}: hold_snapshot needs a read-only store", impl_->path));
  if (auto begun = impl_->db.exec("BEGIN"); !begun) return begun;
  // A deferred transaction takes its snapshot at the first read.
  auto read = impl_->db.query_int("SELECT count(*) FROM sqlite_schema");
  if (!read) return read.error();
  return ok_status();
}

Result<std::vector<RunRow>> Store::runs(const std::optional<std::string>& sweep) {
  auto stmt =
      impl_->statement(sweep ? impl_->select_sweep_runs.c_str() : impl_->select_all_runs.c_str());
  if (!stmt) return stmt.error();
  if (sweep) (*stmt)->bind(1, *sweep);
  std::vector<RunRow> rows;
  for (;;) {
    auto has_row = (*stmt)->step();
    if (!has_row) return has_row.error();
    if (!*has_row) return rows;
    auto row = decode_run(**stmt, impl_->path);
    if (!row) return row.error();
    rows.push_back(std::move(row).value());
  }
}

Result<std::vector<IterationRecord>> Store::curve(const std::string& key) {
  return impl_->query(kSelectCurve, decode_iteration, key);
}

Result<std::vector<TestEvalRecord>> Store::test_evals(const std::string& key) {
  return impl_->query(impl_->select_test_evals.c_str(), decode_test_eval, key);
}

Result<std::vector<SweepRecord>> Store::sweeps() {
  return impl_->query(kSelectSweeps, [](const Statement& s) {
    return SweepRecord{s.column_text(0), s.column_text(1), s.column_text(2), s.column_text(3)};
  });
}

Result<Store::Table> Store::select(const std::string& sql) {
  auto db = impl_->query_connection();
  if (!db) return db.error();
  ReadOnlyAuthorizer authorizer(**db);
  auto stmt = prepare_query(**db, sql);
  if (!stmt) return stmt.error();
  Table table;
  for (int i = 0; i < stmt->column_count(); ++i) table.columns.push_back(stmt->column_name(i));
  auto rows = collect(*stmt, [&](const Statement& s) {
    std::vector<std::optional<std::string>> row;
    for (int i = 0; i < s.column_count(); ++i) {
      row.push_back(s.column_is_null(i) ? std::nullopt : std::optional(s.column_text(i)));
    }
    return row;
  });
  if (!rows) return rows.error();
  table.rows = std::move(rows).value();
  return table;
}

// ?1: the sweep, or NULL for every sweep. A run without iteration rows yet is at
// iteration 0, its pace unknown (0).
constexpr const char* kSelectRunProgress =
    "SELECT r.key, COALESCE((SELECT max(iteration) FROM iterations WHERE run = r.key), 0), "
    "COALESCE((SELECT avg(step_ms) FROM (SELECT step_ms FROM iterations WHERE run = r.key "
    "ORDER BY iteration DESC LIMIT 50)), 0) FROM runs AS r WHERE r.status = 'running' "
    "AND (?1 IS NULL OR r.key IN (SELECT key FROM sweep_runs WHERE sweep = ?1)) ORDER BY r.key";

Result<std::vector<RunProgress>> Store::run_progress(const std::optional<std::string>& sweep) {
  return impl_->query(kSelectRunProgress, [](const Statement& s) {
    return RunProgress{s.column_text(0), s.column_int(1), s.column_double(2)};
  }, sweep);
}

}  // namespace stodepth::results
