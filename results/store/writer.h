// Asynchronous writes to the results store: training threads enqueue records and return at
// once; one background thread commits whatever has accumulated in a single transaction per
// wake-up, so per-iteration records cost one transaction per ~256 rows or 200 ms, not one
// each.
#pragma once

#include <chrono>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "model/base/result.h"
#include "model/config/records.h"
#include "results/store/store.h"

namespace stodepth::results {

class AsyncWriter {
 public:
  // The writer thread wakes when this many rows are queued, or after kMaxDelay, or on flush().
  static constexpr size_t kBatchRows = 256;
  static constexpr std::chrono::milliseconds kMaxDelay{200};

  // Opens `path` read-write (see Store::open) and starts the writer thread. With an
  // `owner` (the launcher's host id), records go only into runs that owner still holds
  // (Batch::owner).
  static Result<std::unique_ptr<AsyncWriter>> open(const std::string& path,
                                                   std::string owner = {});
  // Takes a read-write store; from now on only the writer thread uses it.
  explicit AsyncWriter(std::unique_ptr<Store> store, std::string owner = {});
  ~AsyncWriter();  // close()
  AsyncWriter(const AsyncWriter&) = delete;
  AsyncWriter& operator=(const AsyncWriter&) = delete;

  // Thread-safe. Records are committed in the order enqueued. After the first write error
  // (or close()), further records are dropped: flush()/close() report that error.
  void enqueue_iterations(const std::string& key, std::vector<IterationRecord> rows);
  void enqueue_test_evals(const std::string& key, std::vector<TestEvalRecord> rows);
  // As Store::finish_run; the summary (may be null) is copied.
  void enqueue_finish(const std::string& key, RunState state, const RunSummary* summary,
                      std::string error);
  // False once a write has failed: callers stop producing records (lock-free, cheap enough to
  // poll every iteration).
  bool healthy() const { return !failed_.load(std::memory_order_relaxed); }

  // Time the writer thread spent committing, for the launcher's overhead breakdown.
  struct Stats {
    double busy_ms = 0;
    int64_t transactions = 0;
  };
  Stats stats();

  // Blocks until everything enqueued before the call is committed (or has failed); returns
  // the first write error, if any.
  Status flush();
  // Commits what is queued, stops the thread and returns the first write error. Idempotent;
  // called by the owner (not concurrently with itself or the destructor).
  Status close();

 private:
  void enqueue(Batch::Operation op, size_t rows);
  void run();  // the writer thread

  std::unique_ptr<Store> store_;  // used by the writer thread only
  const std::string owner_;

  std::mutex mutex_;
  std::condition_variable wake_;       // the writer thread waits on it
  std::condition_variable committed_;  // flush() waits on it
  Batch pending_;
  size_t pending_rows_ = 0;
  uint64_t enqueued_ = 0, done_ = 0;  // operations enqueued / written (or failed)
  uint64_t flush_target_ = 0;         // a flush() waits for done_ to reach it
  std::optional<Error> error_;        // the first write error
  std::atomic<bool> failed_{false};   // error_ is set, for healthy()
  bool closing_ = false;
  Stats stats_;

  std::thread thread_;  // last: started once the members above exist
};

}  // namespace stodepth::results
