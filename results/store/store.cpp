// Store: opening (identity checks, migrations, journal mode), the connection's statement
// cache and snapshots. The Store's other methods are defined by concern in runs.cpp,
// metrics.cpp, cluster.cpp, shard_merge.cpp and reads.cpp.
#include "results/store/store.h"

#include <fmt/format.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <utility>

#include "results/store/file_check.h"
#include "results/store/schema.h"
#include "results/store/sqlite.h"
#include "results/store/store_impl.h"

namespace stodepth::results {
namespace {

constexpr std::pair<RunState, const char*> kRunStateNames[] = {
    {RunState::kQueued, "queued"},     {RunState::kRunning, "running"},
    {RunState::kDone, "done"},         {RunState::kFailed, "failed"},
    {RunState::kDiverged, "diverged"}, {RunState::kInterrupted, "interrupted"}};

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

}  // namespace

const char* to_string(RunState s) {
  for (const auto& [state, name] : kRunStateNames) {
    if (state == s) return name;
  }
  return "?";
}

std::optional<RunState> parse_run_state(std::string_view s) {
  for (const auto& [state, name] : kRunStateNames) {
    if (s == name) return state;
  }
  return std::nullopt;
}

Status configure_connection(Database& db) {
  constexpr int kBusyTimeoutMs = 10000;
  return db.exec(fmt::format("PRAGMA busy_timeout = {}; PRAGMA foreign_keys = ON", kBusyTimeoutMs));
}

Status Store::Impl::check_file_still_there() const {
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

Result<InUse> Store::Impl::statement(const char* sql) {
  auto found = statements.find(sql);
  if (found == statements.end()) {
    auto prepared = db.prepare(sql);
    if (!prepared) return prepared.error();
    found = statements.emplace(sql, std::move(prepared).value()).first;
  }
  return InUse(&found->second);
}

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
    auto had = migrate(*db, *version);
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
  impl->schema = schema;
  impl->queries = schema_queries(schema);
  if (!in_memory) {
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0) impl->file_id = {st.st_dev, st.st_ino};
  }
  return std::unique_ptr<Store>(new Store(std::move(impl)));
}

Store::Store(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Store::~Store() = default;

Status Store::hold_snapshot() {
  if (impl_->mode != OpenMode::kReadOnly)
    return internal_error(fmt::format("{}: hold_snapshot needs a read-only store", impl_->path));
  if (auto begun = impl_->db.exec("BEGIN"); !begun) return begun;
  // A deferred transaction takes its snapshot at the first read.
  auto read = impl_->db.query_int("SELECT count(*) FROM sqlite_schema");
  if (!read) return read.error();
  return ok_status();
}

}  // namespace stodepth::results
