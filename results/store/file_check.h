// Checks of a database path made before SQLite opens it, so that a file that is not ours is
// refused without being modified (opening a WAL-mode file, even read-only, can create its
// -wal and -shm files; opening read-write and setting pragmas would write to it).
#pragma once

#include <string>

#include "model/base/result.h"

namespace stodepth::results {

enum class FileState {
  kMissing,    // nothing at the path
  kEmpty,      // a zero-byte file: SQLite treats it as an empty database
  kStodepth,   // an SQLite file with stodepth's application_id and a known schema version
  kNoSchema,   // an SQLite file with application_id 0 and no tables: free to take
};

// Reads the 100-byte SQLite header and, for a file with application_id 0, looks at its tables
// through an immutable read-only connection (no locks, no journal, no -wal/-shm created).
// Errors, each naming the path and the fix: not a regular file, not an SQLite file (e.g. a
// text file), truncated (shorter than its header says), unreadable schema (corrupt), another
// application's database (other application_id, or application_id 0 with tables of its
// own), a schema version newer than this build's.
Result<FileState> inspect_database_file(const std::string& path);

// The "file:" URI of `path`, with the characters URIs reserve percent-encoded, for opening
// with SQLITE_OPEN_URI and query parameters such as "?mode=ro".
std::string file_uri(const std::string& path);

// The errors shared with the checks made after opening.
Error foreign_database_error(const std::string& path, const std::string& what);
Error newer_schema_error(const std::string& path, int64_t version);

}  // namespace stodepth::results
