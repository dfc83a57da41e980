#include "results/store/file_check.h"

#include <sqlite3.h>
#include <sys/stat.h>

#include <array>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <span>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "results/store/schema.h"
#include "results/store/sqlite.h"

namespace stodepth::results {
namespace {

namespace fs = std::filesystem;

// The fields of the database header (https://sqlite.org/fileformat.html#the_database_header)
// that the checks need.
struct Header {
  uint32_t page_size = 0;
  uint32_t page_count = 0;  // "in-header database size", 0 when not trustworthy
  int64_t user_version = 0;
  uint32_t application_id = 0;
};

constexpr size_t kHeaderSize = 100;
constexpr char kMagic[] = "SQLite format 3";  // 16 bytes with its NUL

uint32_t big_endian32(const unsigned char* p) {
  return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | uint32_t(p[3]);
}

std::optional<Header> parse_header(const std::array<unsigned char, kHeaderSize>& bytes) {
  if (std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0) return std::nullopt;
  Header header;
  const uint32_t raw_page_size = uint32_t(bytes[16]) << 8 | bytes[17];
  header.page_size = raw_page_size == 1 ? 65536 : raw_page_size;
  // The size field is valid only when the change counter matches "version-valid-for".
  if (big_endian32(&bytes[24]) == big_endian32(&bytes[92])) {
    header.page_count = big_endian32(&bytes[28]);
  }
  header.user_version = int32_t(big_endian32(&bytes[60]));
  header.application_id = big_endian32(&bytes[68]);
  return header;
}

Error not_sqlite_error(const std::string& path) {
  return bad_input(fmt::format(
      "{}: not an SQLite database, so not a stodepth results database (pass another --db, or "
      "move the file away)",
      path));
}

Error corrupt_error(const std::string& path, const std::string& what) {
  return bad_input(fmt::format(
      "{}: truncated or corrupt SQLite database: {} (restore it from a backup, or pass another "
      "--db)",
      path, what));
}

// A file cut short is whole pages shorter than its header says, or not whole pages at all.
// Skipped while a -wal or -journal file exists: the file is then legitimately mid-write, and
// SQLite itself completes or rolls back those changes.
Status check_size(const std::string& path, const Header& header, uintmax_t size) {
  if (fs::exists(path + "-wal") || fs::exists(path + "-journal")) return ok_status();
  const uint32_t ps = header.page_size;
  if (ps < 512 || ps > 65536 || (ps & (ps - 1)) != 0) {
    return corrupt_error(path, fmt::format("invalid page size {}", ps));
  }
  if (size % ps != 0 || size < uintmax_t(header.page_count) * ps) {
    return corrupt_error(path, fmt::format("{} bytes, the header says {} pages of {} bytes", size,
                                           header.page_count, ps));
  }
  return ok_status();
}

// Tables of a database whose header has application_id 0: none means the file is free to
// take (e.g. created by `sqlite3 x.db VACUUM`), some mean it belongs to another program.
Result<FileState> probe_unclaimed(const std::string& path) {
  auto db = Database::open(file_uri(path) + "?mode=ro&immutable=1",
                           SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, path);
  if (!db) return db.error();
  auto stmt = db->prepare(
      "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
      "ORDER BY name");
  if (!stmt) return corrupt_error(path, stmt.error().message);
  std::vector<std::string> tables;
  for (;;) {
    auto row = stmt->step();
    if (!row) return corrupt_error(path, row.error().message);
    if (!*row) break;
    tables.push_back(stmt->column_text(0));
  }
  if (!tables.empty()) {
    return foreign_database_error(
        path, fmt::format("application_id 0 and its own tables: {}", fmt::join(tables, ", ")));
  }
  return FileState::kNoSchema;
}

}  // namespace

std::string file_uri(const std::string& path) {
  // An absolute path gets an empty authority: "file:" + "//x/y" would name host "x".
  std::string uri = path.starts_with('/') ? "file://" : "file:";
  for (const unsigned char c : path) {
    if (c == '%' || c == '?' || c == '#' || c < 0x20 || c >= 0x7f)
      uri += fmt::format("%{:02X}", c);
    else
      uri += char(c);
  }
  return uri;
}

Error foreign_database_error(const std::string& path, const std::string& what) {
  return bad_input(
      fmt::format("{}: an SQLite database of another application ({}; stodepth's application_id is "
                  "0x{:08X}), not a stodepth results database (pass another --db)",
                  path, what, uint32_t(kApplicationId)));
}

Error newer_schema_error(const std::string& path, int64_t version) {
  return bad_input(fmt::format(
      "{}: created by a newer stodepth (schema version {}, this build knows up to {}) (upgrade "
      "stodepth, or pass another --db)",
      path, version, schema_version()));
}

namespace {

// Reads the first bytes of `path` through SQLite's own file layer, not a descriptor of our
// own: closing any descriptor of a file drops every POSIX lock the process holds on it, so a
// plain read while this process has the database open (a launcher opens its writer after its
// store) would drop the connections' shared lock. Another process's closing connection then
// believes itself the last one and checkpoints and deletes the WAL under the launcher, which
// goes on writing into the unlinked file: readers see no progress and a crash loses it. The
// unix VFS defers the close while the process holds locks on the file. Returns the bytes read.
Result<size_t> read_prefix(const std::string& path, std::span<unsigned char> bytes) {
  sqlite3_vfs* vfs = sqlite3_vfs_find(nullptr);
  std::vector<char> storage(size_t(vfs->szOsFile));
  auto* file = reinterpret_cast<sqlite3_file*>(storage.data());
  int flags_out = 0;
  if (vfs->xOpen(vfs, path.c_str(), file, SQLITE_OPEN_READONLY | SQLITE_OPEN_MAIN_DB,
                 &flags_out) != SQLITE_OK) {
    if (file->pMethods) file->pMethods->xClose(file);
    return storage_error(fmt::format("{}: cannot open for reading", path));
  }
  sqlite3_int64 size = 0;
  int rc = file->pMethods->xFileSize(file, &size);
  const size_t wanted = std::min(bytes.size(), size_t(std::max<sqlite3_int64>(size, 0)));
  if (rc == SQLITE_OK) rc = file->pMethods->xRead(file, bytes.data(), int(wanted), 0);
  file->pMethods->xClose(file);
  if (rc != SQLITE_OK)
    return storage_error(fmt::format("{}: cannot read (SQLite error {})", path, rc));
  return wanted;
}

Result<FileState> inspect_once(const std::string& path) {
  std::error_code ec;
  const auto status = fs::status(path, ec);
  if (!fs::exists(status)) return FileState::kMissing;
  if (!fs::is_regular_file(status)) {
    return bad_input(fmt::format("{}: not a regular file (pass a database file as --db)", path));
  }
  const uintmax_t size = fs::file_size(path, ec);
  if (ec) return storage_error(fmt::format("{}: cannot read: {}", path, ec.message()));
  if (size == 0) return FileState::kEmpty;

  std::array<unsigned char, kHeaderSize> bytes{};
  auto read = read_prefix(path, bytes);
  if (!read) return read.error();
  if (*read < kHeaderSize) return not_sqlite_error(path);
  const auto header = parse_header(bytes);
  if (!header) return not_sqlite_error(path);

  if (auto sized = check_size(path, *header, size); !sized) return sized.error();
  if (header->application_id == 0) return probe_unclaimed(path);
  if (header->application_id != uint32_t(kApplicationId)) {
    return foreign_database_error(path,
                                  fmt::format("application_id 0x{:08X}", header->application_id));
  }
  if (header->user_version > schema_version()) {
    return newer_schema_error(path, header->user_version);
  }
  return FileState::kStodepth;
}

// Size and modification time, to tell whether a file changed while it was inspected.
std::pair<off_t, int64_t> stamp(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return {-1, 0};
  return {st.st_size, int64_t(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec};
}

}  // namespace

Result<FileState> inspect_database_file(const std::string& path) {
  // Another launcher may be creating the database at this moment: its header read before
  // that commit and its tables after it would look like another application's file. A
  // refusal of a file that changed while it was inspected is taken again.
  for (int attempt = 1;; ++attempt) {
    const auto before = stamp(path);
    auto state = inspect_once(path);
    if (state || attempt == 5 || stamp(path) == before) return state;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

}  // namespace stodepth::results
