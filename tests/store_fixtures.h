// What the results store's tests share: files read whole, stores opened (or the test stops
// there), runs looked up by key.
#pragma once

#include <catch2/catch.hpp>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <utility>

#include "model/base/result.h"
#include "results/store/store.h"
#include "tests/result_checks.h"

namespace stodepth::testing {

inline std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

inline void require_ok(const Status& status) {
  INFO((status ? "" : status.error().message));
  REQUIRE(status.ok());
}

inline std::unique_ptr<results::Store> open_store(
    const std::string& path, results::OpenMode mode = results::OpenMode::kReadWrite,
    const results::OpenOptions& options = {}) {
  auto store = results::Store::open(path, mode, options);
  INFO((store ? "" : store.error().message));
  REQUIRE(store.ok());
  return std::move(store).value();
}

// The options a Slurm task's store shard is created with.
inline results::OpenOptions rollback_journal() {
  results::OpenOptions options;
  options.journal = results::Journal::kRollback;
  return options;
}

inline results::RunRow run_row(results::Store& store, const std::string& key) {
  auto rows = store.runs(std::nullopt);
  INFO((rows ? "" : rows.error().message));
  REQUIRE(rows.ok());
  for (const auto& row : *rows) {
    if (row.key == key) return row;
  }
  FAIL("no run " << key);
  return {};
}

}  // namespace stodepth::testing
