// Store: the queries (runs, curves, evaluations, sweeps, progress) and `query sql`'s
// read-only select.
#include <fmt/format.h>
#include <sqlite3.h>

#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "model/config/config_codec.h"
#include "results/store/columns.h"
#include "results/store/store.h"
#include "results/store/store_impl.h"

namespace stodepth::results {
namespace {

constexpr const char* kSelectSweeps =
    "SELECT name, description, source_text, source_hash FROM sweeps ORDER BY rowid";
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
      schema >= 5
          ? fmt::format("{}, {}, {}", at_best_validation("epoch"),
                        at_best_validation("validation_accuracy"), at_best_validation("accuracy"))
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

// Each running or interrupted run (of sweep ?1, or every one when ?1 is NULL): its last
// iteration and the mean step time of its last 50; both NULL (read as 0) before its first.
// The iterations' key (run, iteration) serves both subqueries.
constexpr const char* kSelectRunProgress =
    "SELECT r.key, (SELECT max(i.iteration) FROM iterations AS i WHERE i.run = r.key), "
    "(SELECT avg(step_ms) FROM (SELECT i.step_ms FROM iterations AS i WHERE i.run = r.key "
    "ORDER BY i.iteration DESC LIMIT 50)) "
    "FROM runs AS r WHERE r.status IN ('running', 'interrupted') "
    "AND (?1 IS NULL OR r.key IN (SELECT key FROM sweep_runs WHERE sweep = ?1)) ORDER BY r.key";

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
  for (auto* field :
       {&row.wall_seconds, &row.mean_step_ms, &row.images_per_second, &row.expected_active_blocks,
        &row.mean_active_blocks, &row.final_test_accuracy, &row.final_test_loss}) {
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
  return read_row(
      s, &IterationRecord::iteration, &IterationRecord::epoch, &IterationRecord::learning_rate,
      &IterationRecord::loss, &IterationRecord::train_accuracy, &IterationRecord::test_accuracy,
      &IterationRecord::test_loss, &IterationRecord::active_blocks, &IterationRecord::step_ms);
}

TestEvalRecord decode_test_eval(const Statement& s) {
  return read_row(s, &TestEvalRecord::epoch, &TestEvalRecord::iteration, &TestEvalRecord::accuracy,
                  &TestEvalRecord::loss, &TestEvalRecord::validation_accuracy,
                  &TestEvalRecord::validation_loss);
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

SchemaQueries schema_queries(int64_t schema) {
  return {select_runs_sql(false, schema), select_runs_sql(true, schema),
          select_test_evals_sql(schema)};
}

// select() runs on a read-only connection; ":memory:" has no file to open twice, and a
// read-only Store's own connection already is one.
Result<Database*> Store::Impl::query_connection() {
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

Result<std::vector<RunRow>> Store::runs(const std::optional<std::string>& sweep) {
  auto stmt = impl_->statement(sweep ? impl_->queries.select_sweep_runs.c_str()
                                     : impl_->queries.select_all_runs.c_str());
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
  return impl_->query(impl_->queries.select_test_evals.c_str(), decode_test_eval, key);
}

Result<std::vector<SweepRecord>> Store::sweeps() {
  return impl_->query(kSelectSweeps, [](const Statement& s) {
    return read_row(s, &SweepRecord::name, &SweepRecord::description, &SweepRecord::source_text,
                    &SweepRecord::source_hash);
  });
}

Result<std::vector<RunProgress>> Store::run_progress(const std::optional<std::string>& sweep) {
  return impl_->query(
      kSelectRunProgress,
      [](const Statement& s) {
        return read_row(s, &RunProgress::key, &RunProgress::iteration,
                        &RunProgress::recent_step_ms);
      },
      sweep);
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
      if (s.column_is_null(i))
        row.push_back(std::nullopt);
      else if (s.column_is_real(i))  // shortest round-trip text, as fmt "{}" writes it
        row.push_back(fmt::format("{}", s.column_double(i)));
      else
        row.push_back(s.column_text(i));
    }
    return row;
  });
  if (!rows) return rows.error();
  table.rows = std::move(rows).value();
  return table;
}

}  // namespace stodepth::results

// --- The latest records of a run (the live job table of `stodepth serve`) -------------------

namespace stodepth::results {
namespace {

// Each a backward range scan of the key (run, iteration) that stops at its first row.
constexpr const char* kSelectLastIteration =
    "SELECT iteration, epoch, lr, loss, train_accuracy, test_accuracy, test_loss, "
    "active_blocks, step_ms FROM iterations WHERE run = ?1 ORDER BY iteration DESC LIMIT 1";
constexpr const char* kSelectLastTestBatch =
    "SELECT test_accuracy FROM iterations WHERE run = ?1 AND test_accuracy IS NOT NULL "
    "ORDER BY iteration DESC LIMIT 1";
constexpr const char* kSelectLastTestEval =
    "SELECT epoch, iteration, accuracy, loss, NULL, NULL FROM test_evals WHERE run = ?1 "
    "ORDER BY iteration DESC LIMIT 1";

// The rows after ?2: a range scan of the key (run, iteration) that starts there.
constexpr const char* kSelectCurveAfter =
    "SELECT iteration, epoch, lr, loss, train_accuracy, test_accuracy, test_loss, "
    "active_blocks, step_ms FROM iterations WHERE run = ?1 AND iteration > ?2 ORDER BY iteration";

}  // namespace

Result<std::vector<IterationRecord>> Store::curve_after(const std::string& key,
                                                        int64_t after_iteration) {
  return impl_->query(kSelectCurveAfter, decode_iteration, key, after_iteration);
}

Result<RunLatest> Store::latest(const std::string& key) {
  RunLatest latest;
  auto last = impl_->query(kSelectLastIteration, decode_iteration, key);
  if (!last) return last.error();
  if (!last->empty()) latest.iteration = last->front();
  auto batch = impl_->query(
      kSelectLastTestBatch, [](const Statement& s) { return s.column_double(0); }, key);
  if (!batch) return batch.error();
  if (!batch->empty()) latest.test_batch_accuracy = batch->front();
  auto eval = impl_->query(kSelectLastTestEval, decode_test_eval, key);
  if (!eval) return eval.error();
  if (!eval->empty()) latest.test_eval = eval->front();
  return latest;
}

}  // namespace stodepth::results
