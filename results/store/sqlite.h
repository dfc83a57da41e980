// Thin RAII wrappers over the SQLite C API, in the style of Chromium's sql::Database and
// sql::Statement: handles are owned and closed exactly once, and every failure comes back as
// an Error carrying the database path and SQLite's own message. Used only inside results/.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "model/base/result.h"

struct sqlite3;
struct sqlite3_stmt;

namespace stodepth::results {

class Statement {
 public:
  Statement() = default;
  Statement(sqlite3_stmt* stmt, std::string path) : stmt_(stmt), path_(std::move(path)) {}
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  // Bind errors (SQLITE_RANGE, SQLITE_NOMEM: bugs, not data problems) are kept and returned by
  // the next step()/run(), so a statement's binds read as one block.
  void bind(int index, int64_t value);
  void bind(int index, int value) { bind(index, int64_t{value}); }
  void bind(int index, double value);
  void bind(int index, std::string_view text);
  void bind(int index, const char* text) { bind(index, std::string_view(text)); }
  void bind(int index, const std::string& text) { bind(index, std::string_view(text)); }
  void bind(int index, std::nullopt_t);
  template <typename T>
  void bind(int index, const std::optional<T>& value) {
    if (value) bind(index, *value); else bind(index, std::nullopt);
  }
  // Binds parameters ?1, ?2, … in order.
  template <typename... Args>
  void bind_all(const Args&... args) {
    int index = 0;
    (bind(++index, args), ...);
  }

  // Advances: true when a row is available, false when done.
  Result<bool> step();
  // Steps a statement that returns no rows (INSERT, UPDATE, …) to completion.
  Status run();
  // Back to the start with no bindings, releasing any read transaction the cursor held.
  void reset();

  int column_count() const;
  std::string column_name(int index) const;
  bool column_is_null(int index) const;
  int64_t column_int(int index) const;
  double column_double(int index) const;
  std::string column_text(int index) const;
  std::optional<double> column_optional_double(int index) const;
  // True when the value is a REAL (SQLite's own text of one keeps 15 digits only).
  bool column_is_real(int index) const;

 private:
  Error error(int rc) const;

  sqlite3_stmt* stmt_ = nullptr;
  std::string path_;
  int bind_rc_ = 0;  // first failed bind's result code, 0 when none
};

class Database {
 public:
  // sqlite3_open_v2 with `flags` (SQLITE_OPEN_*); `path` may be ":memory:" or a file: URI
  // when SQLITE_OPEN_URI is among the flags. `label` names the database in error messages.
  static Result<Database> open(const std::string& path, int flags, const std::string& label);
  Database() = default;
  Database(Database&& other) noexcept;
  Database& operator=(Database&& other) noexcept;
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;
  ~Database();

  // Runs one or more statements that return no rows.
  Status exec(const std::string& sql);
  Result<Statement> prepare(std::string_view sql);
  // The first column of the first row of a one-value query, e.g. "PRAGMA user_version".
  Result<int64_t> query_int(const std::string& sql);
  // Rows changed by the last INSERT/UPDATE/DELETE.
  int64_t changes() const;

  // "label: <context>: <SQLite's message for the last failure>".
  Error error(std::string_view context) const;
  const std::string& label() const { return label_; }
  sqlite3* handle() const { return db_; }

 private:
  Database(sqlite3* db, std::string label) : db_(db), label_(std::move(label)) {}

  sqlite3* db_ = nullptr;
  std::string label_;
};

// A write transaction taken with BEGIN IMMEDIATE: the write lock is acquired up front (waiting
// up to the busy timeout) so two connections never deadlock upgrading read locks. Rolled back
// on destruction unless committed.
class Transaction {
 public:
  explicit Transaction(Database& db) : db_(db) {}
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction();

  Status begin();
  Status commit();

 private:
  Database& db_;
  bool active_ = false;
};

}  // namespace stodepth::results
