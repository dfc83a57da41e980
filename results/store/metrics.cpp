// Store: the records of running runs (iterations, test evaluations) and the batches of the
// AsyncWriter, which carry them and runs' ends in one transaction.
#include <fmt/format.h>

#include <string>
#include <type_traits>
#include <variant>
#include <vector>

#include "results/store/store.h"
#include "results/store/store_impl.h"

namespace stodepth::results {
namespace {

// OR REPLACE: a batch retried after a failed commit overwrites instead of duplicating.
constexpr const char* kInsertIteration =
    "INSERT OR REPLACE INTO iterations (run, iteration, epoch, lr, loss, train_accuracy, "
    "test_accuracy, test_loss, active_blocks, step_ms) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)";
constexpr const char* kInsertTestEval =
    "INSERT OR REPLACE INTO test_evals (run, epoch, iteration, accuracy, loss, "
    "validation_accuracy, validation_loss) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
constexpr const char* kRunOwnedBy =
    "SELECT count(*) FROM runs WHERE key = ?1 AND status = 'running' AND host = ?2";

}  // namespace

Status Store::Impl::insert_iterations(const std::string& key,
                                      const std::vector<IterationRecord>& rows) {
  for (const auto& r : rows) {
    auto inserted = run(kInsertIteration, key, r.iteration, r.epoch, r.learning_rate, r.loss,
                        r.train_accuracy, r.test_accuracy, r.test_loss, r.active_blocks, r.step_ms);
    if (!inserted) return inserted;
  }
  return ok_status();
}

Status Store::Impl::insert_test_evals(const std::string& key,
                                      const std::vector<TestEvalRecord>& rows) {
  for (const auto& r : rows) {
    auto inserted = run(kInsertTestEval, key, r.epoch, r.iteration, r.accuracy, r.loss,
                        r.validation_accuracy, r.validation_loss);
    if (!inserted) return inserted;
  }
  return ok_status();
}

Status Store::append_iterations(const std::string& key, const std::vector<IterationRecord>& rows) {
  return impl_->in_transaction([&] { return impl_->insert_iterations(key, rows); });
}

Status Store::append_test_evals(const std::string& key, const std::vector<TestEvalRecord>& rows) {
  return impl_->in_transaction([&] { return impl_->insert_test_evals(key, rows); });
}

Status Store::write_batch(const Batch& batch) {
  if (auto there = impl_->check_file_still_there(); !there) return there;
  auto apply = [&](const auto& op) -> Status {
    using Op = std::decay_t<decltype(op)>;
    if constexpr (std::is_same_v<Op, Batch::Iterations>) {
      return impl_->insert_iterations(op.key, op.rows);
    } else if constexpr (std::is_same_v<Op, Batch::TestEvals>) {
      return impl_->insert_test_evals(op.key, op.rows);
    } else {
      return impl_->finish(op.key, op.state, op.summary ? &*op.summary : nullptr, op.error);
    }
  };
  return impl_->in_transaction([&]() -> Status {
    for (const auto& op : batch.ops) {
      if (!batch.owner.empty()) {
        const std::string& key =
            std::visit([](const auto& o) -> const std::string& { return o.key; }, op);
        auto owned = impl_->count(kRunOwnedBy, key, batch.owner);
        if (!owned) return owned.error();
        if (*owned == 0)
          return storage_error(
              fmt::format("{}: run {} is no longer held by this launcher ({}); another "
                          "launcher released it, so this one stops writing",
                          impl_->path, key, batch.owner));
      }
      auto applied = std::visit(apply, op);
      if (!applied) return applied;
    }
    return ok_status();
  });
}

}  // namespace stodepth::results
