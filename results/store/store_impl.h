// Inside the Store: its one connection and the prepared statements cached on it, shared by the
// units that implement the Store's methods by concern (store.cpp: opening and snapshots;
// runs.cpp: sweeps, jobs and claims; metrics.cpp; cluster.cpp: Slurm submissions and stops;
// shard_merge.cpp; reads.cpp: queries). Used only inside results/store/.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include "results/store/sqlite.h"
#include "results/store/store.h"

namespace stodepth::results {

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

// Column `c` as a T (NULL reads as 0, "" or nullopt).
template <typename T>
T column_as(const Statement& s, int c) {
  if constexpr (std::is_same_v<T, bool>) {
    return s.column_int(c) != 0;
  } else if constexpr (std::is_same_v<T, int>) {
    return int(s.column_int(c));
  } else if constexpr (std::is_same_v<T, int64_t>) {
    return s.column_int(c);
  } else if constexpr (std::is_same_v<T, double>) {
    return s.column_double(c);
  } else if constexpr (std::is_same_v<T, std::optional<double>>) {
    return s.column_optional_double(c);
  } else {
    static_assert(std::is_same_v<T, std::string>, "a column type the Store does not read");
    return s.column_text(c);
  }
}

// A row read into a Record: column i into the i-th of `members`.
template <typename Record, typename... Members>
Record read_row(const Statement& s, Members Record::*... members) {
  Record record;
  int c = 0;
  ((record.*members = column_as<Members>(s, c++)), ...);
  return record;
}

inline std::optional<std::string_view> text_or_null(const std::string& s) {
  if (s.empty()) return std::nullopt;
  return s;
}

inline std::optional<int64_t> count_or_null(int64_t n) {  // 0: not known
  if (n == 0) return std::nullopt;
  return n;
}

// "dataset, depth, …, seed": the parameter columns, each name after `prefix` (e.g. "r.").
std::string parameter_column_list(std::string_view prefix = "");  // runs.cpp

// busy_timeout and foreign keys, on every connection the Store opens.
Status configure_connection(Database& db);

// The queries whose text depends on the file's schema version (read-only Stores read older
// files): built once at open, so that their statements can be cached like the constants.
struct SchemaQueries {
  std::string select_all_runs, select_sweep_runs, select_test_evals;
};
SchemaQueries schema_queries(int64_t schema);  // reads.cpp

struct Store::Impl {
  Database db;
  std::string path;
  OpenMode mode = OpenMode::kReadWrite;
  int64_t schema = 0;  // the file's schema version (older ones only read-only)
  SchemaQueries queries;
  std::unordered_map<const char*, Statement> statements;  // keyed by the SQL texts' addresses
  std::optional<Database> query_db;  // select()'s read-only connection, opened on first use
  // The file opened (device, inode): SQLite keeps writing to a file that was deleted or
  // replaced underneath it, so writes check first that the path still names it.
  std::optional<std::pair<dev_t, ino_t>> file_id;

  Status check_file_still_there() const;

  // The cached statement for `sql` (a k* constant or a string that lives as long as the
  // Store), ready to bind.
  Result<InUse> statement(const char* sql);

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

  // In one write transaction: all of `write` or nothing.
  template <typename Write>
  Status in_transaction(Write write) {
    Transaction transaction(db);
    if (auto begun = transaction.begin(); !begun) return begun;
    if (auto written = write(); !written) return written;
    return transaction.commit();
  }

  // The writes shared by single calls and batches, inside the caller's transaction.
  Status insert_iterations(const std::string& key,
                           const std::vector<IterationRecord>& rows);  // metrics.cpp
  Status insert_test_evals(const std::string& key,
                           const std::vector<TestEvalRecord>& rows);  // metrics.cpp
  Status finish(const std::string& key, RunState state, const RunSummary* summary,
                const std::string& error);  // runs.cpp

  // Why run `key` cannot be submitted (a submission's update changed nothing): missing,
  // running or done.
  Error not_submittable(const std::string& key);  // cluster.cpp
  // merge_shard's checks and copies, in one transaction, with the shard attached as "shard".
  Result<ShardMerge> merge_attached_shard(const std::string& shard);  // shard_merge.cpp
  // The connection select() reads on.
  Result<Database*> query_connection();  // reads.cpp
};

}  // namespace stodepth::results
