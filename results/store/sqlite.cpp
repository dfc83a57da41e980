#include "results/store/sqlite.h"

#include <sqlite3.h>

#include <utility>

#include <fmt/format.h>

namespace stodepth::results {

// --- Statement ------------------------------------------------------------------------------

Statement::Statement(Statement&& other) noexcept
    : stmt_(std::exchange(other.stmt_, nullptr)),
      path_(std::move(other.path_)),
      bind_rc_(other.bind_rc_) {}

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    sqlite3_finalize(stmt_);
    stmt_ = std::exchange(other.stmt_, nullptr);
    path_ = std::move(other.path_);
    bind_rc_ = other.bind_rc_;
  }
  return *this;
}

Statement::~Statement() { sqlite3_finalize(stmt_); }

namespace {
// Keeps the first failure only: later binds of a failed block add nothing useful.
void keep_first(int& kept, int rc) {
  if (kept == 0 && rc != SQLITE_OK) kept = rc;
}
}  // namespace

void Statement::bind(int index, int64_t value) {
  keep_first(bind_rc_, sqlite3_bind_int64(stmt_, index, value));
}
void Statement::bind(int index, double value) {
  keep_first(bind_rc_, sqlite3_bind_double(stmt_, index, value));
}
void Statement::bind(int index, std::string_view text) {
  keep_first(bind_rc_, sqlite3_bind_text64(stmt_, index, text.data(), text.size(),
                                           SQLITE_TRANSIENT, SQLITE_UTF8));
}
void Statement::bind(int index, std::nullopt_t) {
  keep_first(bind_rc_, sqlite3_bind_null(stmt_, index));
}

Result<bool> Statement::step() {
  if (bind_rc_ != 0) return error(bind_rc_);
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return error(rc);
}

Status Statement::run() {
  auto stepped = step();
  if (!stepped) return stepped.error();
  return ok_status();
}

void Statement::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  bind_rc_ = 0;
}

int Statement::column_count() const { return sqlite3_column_count(stmt_); }
std::string Statement::column_name(int index) const {
  const char* name = sqlite3_column_name(stmt_, index);
  return name ? name : "";
}
bool Statement::column_is_null(int index) const {
  return sqlite3_column_type(stmt_, index) == SQLITE_NULL;
}
int64_t Statement::column_int(int index) const { return sqlite3_column_int64(stmt_, index); }
double Statement::column_double(int index) const { return sqlite3_column_double(stmt_, index); }
std::string Statement::column_text(int index) const {
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, index));
  return text ? std::string(text, size_t(sqlite3_column_bytes(stmt_, index))) : std::string();
}
std::optional<double> Statement::column_optional_double(int index) const {
  if (column_is_null(index)) return std::nullopt;
  return column_double(index);
}
bool Statement::column_is_real(int index) const {
  return sqlite3_column_type(stmt_, index) == SQLITE_FLOAT;
}

namespace {

// What to do about storage failures, whose SQLite messages do not say.
std::string_view storage_hint(int rc) {
  switch (rc & 0xff) {
    case SQLITE_FULL:
    case SQLITE_IOERR: return " (check free disk space and the file system; committed data is kept)";
    case SQLITE_READONLY: return " (make the database and its directory writable)";
    default: return "";
  }
}

}  // namespace

Error Statement::error(int rc) const {
  // The connection's message describes the last failure only when it matches this code.
  sqlite3* db = sqlite3_db_handle(stmt_);
  const bool current = db && (sqlite3_errcode(db) & 0xff) == (rc & 0xff);
  const char* message = current ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  const char* sql = sqlite3_sql(stmt_);
  return storage_error(
      fmt::format("{}: {}{} (in: {})", path_, message, storage_hint(rc), sql ? sql : "?"));
}

// --- Database -------------------------------------------------------------------------------

Result<Database> Database::open(const std::string& path, int flags, const std::string& label) {
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    // On most failures SQLite still allocates a handle, which carries the message.
    std::string message = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close_v2(db);
    return bad_input(fmt::format("{}: cannot open: {}", label, message));
  }
  sqlite3_extended_result_codes(db, 1);
  return Database(db, label);
}

Database::Database(Database&& other) noexcept
    : db_(std::exchange(other.db_, nullptr)), label_(std::move(other.label_)) {}

Database& Database::operator=(Database&& other) noexcept {
  if (this != &other) {
    sqlite3_close_v2(db_);
    db_ = std::exchange(other.db_, nullptr);
    label_ = std::move(other.label_);
  }
  return *this;
}

// close_v2 defers the close until the last statement is finalized, so member destruction
// order between a Database and its cached Statements does not matter.
Database::~Database() { sqlite3_close_v2(db_); }

Status Database::exec(const std::string& sql) {
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) {
    return error(sql);
  }
  return ok_status();
}

Result<Statement> Database::prepare(std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  const int rc = sqlite3_prepare_v2(db_, sql.data(), int(sql.size()), &stmt, nullptr);
  if (rc != SQLITE_OK) return error(fmt::format("cannot prepare \"{}\"", sql));
  return Statement(stmt, label_);
}

Result<int64_t> Database::query_int(const std::string& sql) {
  auto stmt = prepare(sql);
  if (!stmt) return stmt.error();
  auto row = stmt->step();
  if (!row) return row.error();
  if (!*row) return error(fmt::format("{}: no row", sql));
  return stmt->column_int(0);
}

int64_t Database::changes() const { return sqlite3_changes64(db_); }

Error Database::error(std::string_view context) const {
  return storage_error(fmt::format("{}: {}: {}{}", label_, context, sqlite3_errmsg(db_),
                                   storage_hint(sqlite3_errcode(db_))));
}

// --- Transaction ----------------------------------------------------------------------------

Transaction::~Transaction() {
  // A failed statement may already have rolled back; ROLLBACK then fails harmlessly.
  if (active_) sqlite3_exec(db_.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
}

Status Transaction::begin() {
  auto begun = db_.exec("BEGIN IMMEDIATE");
  active_ = begun.ok();
  return begun;
}

Status Transaction::commit() {
  auto committed = db_.exec("COMMIT");
  // A failed COMMIT (e.g. SQLITE_BUSY) leaves the transaction open: the destructor rolls back.
  if (committed) active_ = false;
  return committed;
}

}  // namespace stodepth::results
