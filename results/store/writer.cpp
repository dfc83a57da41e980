#include "results/store/writer.h"

#include <algorithm>
#include <utility>

namespace stodepth::results {

Result<std::unique_ptr<AsyncWriter>> AsyncWriter::open(const std::string& path,
                                                       std::string owner) {
  auto store = Store::open(path, OpenMode::kReadWrite);
  if (!store) return store.error();
  return std::make_unique<AsyncWriter>(std::move(store).value(), std::move(owner));
}

AsyncWriter::AsyncWriter(std::unique_ptr<Store> store, std::string owner)
    : store_(std::move(store)), owner_(std::move(owner)), thread_([this] { run(); }) {}

AsyncWriter::~AsyncWriter() { (void)close(); }

void AsyncWriter::enqueue_iterations(const std::string& key, std::vector<IterationRecord> rows) {
  const size_t count = rows.size();
  if (count > 0) enqueue(Batch::Iterations{key, std::move(rows)}, count);
}

void AsyncWriter::enqueue_test_evals(const std::string& key, std::vector<TestEvalRecord> rows) {
  const size_t count = rows.size();
  if (count > 0) enqueue(Batch::TestEvals{key, std::move(rows)}, count);
}

void AsyncWriter::enqueue_finish(const std::string& key, RunState state,
                                 const RunSummary* summary, std::string error) {
  std::optional<RunSummary> copy;
  if (summary) copy = *summary;
  enqueue(Batch::Finish{key, state, std::move(copy), std::move(error)}, 1);
}

void AsyncWriter::enqueue(Batch::Operation op, size_t rows) {
  std::lock_guard lock(mutex_);
  if (error_ || closing_) return;
  pending_.ops.push_back(std::move(op));
  pending_rows_ += rows;
  ++enqueued_;
  if (pending_rows_ >= kBatchRows) wake_.notify_one();
}

AsyncWriter::Stats AsyncWriter::stats() {
  std::lock_guard lock(mutex_);
  return stats_;
}

Status AsyncWriter::flush() {
  std::unique_lock lock(mutex_);
  const uint64_t target = enqueued_;
  flush_target_ = std::max(flush_target_, target);
  wake_.notify_one();
  committed_.wait(lock, [&] { return done_ >= target; });
  if (error_) return *error_;
  return ok_status();
}

Status AsyncWriter::close() {
  {
    std::lock_guard lock(mutex_);
    closing_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
  std::lock_guard lock(mutex_);
  if (error_) return *error_;
  return ok_status();
}

void AsyncWriter::run() {
  std::unique_lock lock(mutex_);
  for (;;) {
    // Woken early by a full batch, a flush or close; otherwise writes what came in kMaxDelay.
    wake_.wait_for(lock, kMaxDelay, [&] {
      return closing_ || pending_rows_ >= kBatchRows || flush_target_ > done_;
    });
    if (pending_.ops.empty()) {
      if (closing_) return;
      continue;
    }
    Batch batch = std::exchange(pending_, Batch{});
    batch.owner = owner_;
    pending_rows_ = 0;
    const uint64_t through = enqueued_;
    const bool failed = error_.has_value();  // then the batch is dropped, not written

    lock.unlock();  // enqueuers and flushers proceed while the transaction runs
    const auto start = std::chrono::steady_clock::now();
    Status written = failed ? ok_status() : store_->write_batch(batch);
    const std::chrono::duration<double, std::milli> busy =
        std::chrono::steady_clock::now() - start;
    lock.lock();

    stats_.busy_ms += busy.count();
    ++stats_.transactions;

    if (!written && !error_) {
      error_ = written.error();
      failed_ = true;
    }
    done_ = through;
    committed_.notify_all();
  }
}

}  // namespace stodepth::results
