#include "model/trainer.h"

#include <omp.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <new>
#include <tuple>

#include <fmt/format.h>
#include <oneapi/dnnl/dnnl.hpp>

#include "model/checkpoint.h"
#include "model/data/batcher.h"
#include "model/resnet.h"
#include "model/base/rng.h"
#include "model/sgd.h"
#include "model/training_state.h"

namespace stodepth {

namespace {

// Independent random streams of a run, derived from its seed.
enum Stream : uint64_t { kInitStream = 0, kGateStream = 1, kDataStream = 2 };

using Clock = std::chrono::steady_clock;

// The process's resident set size in bytes (0 if /proc is unavailable).
int64_t resident_bytes() {
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  if (!f) return 0;
  long pages = 0, resident = 0;
  const int read = std::fscanf(f, "%ld %ld", &pages, &resident);
  std::fclose(f);
  return read == 2 ? int64_t(resident) * sysconf(_SC_PAGESIZE) : 0;
}
// The process's peak resident set size in bytes.
int64_t peak_resident_bytes() {
  rusage usage{};
  return getrusage(RUSAGE_SELF, &usage) == 0 ? int64_t(usage.ru_maxrss) * 1024 : 0;
}
double ms_since(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

// Evaluates the test set in chunks of `batch` (the last chunk may be smaller).
class TestSet {
 public:
  TestSet(const data::Dataset& d, const data::Normalization& norm, int batch)
      : dataset_(d), norm_(norm), batch_(int(std::min<int64_t>(batch, d.test.size()))),
        images_(size_t(batch_) * d.image_elems()), labels_(batch_) {}

  // The next mini-batch of the cycle through the test set.
  int64_t cursor() const { return cursor_; }
  void set_cursor(int64_t cursor) { cursor_ = cursor % dataset_.test.size(); }

  dnn::LossValue next_batch(ResNet& net) {
    for (int filled = 0; filled < batch_;) {
      const int64_t take = std::min<int64_t>(batch_ - filled, dataset_.test.size() - cursor_);
      data::fill_examples(dataset_, dataset_.test, norm_, cursor_, take,
                          images_.data() + filled * dataset_.image_elems(),
                          labels_.data() + filled);
      filled += int(take);
      cursor_ = (cursor_ + take) % dataset_.test.size();
    }
    return net.evaluate(images_.data(), labels_.data(), batch_);
  }

  // Mean accuracy and loss over a whole split (the test set, or the validation set).
  std::pair<double, double> full(ResNet& net, const data::Split& split) {
    double loss = 0;
    int64_t correct = 0;
    const int64_t total = split.size();
    for (int64_t first = 0; first < total; first += batch_) {
      const int n = int(std::min<int64_t>(batch_, total - first));
      data::fill_examples(dataset_, split, norm_, first, n, images_.data(), labels_.data());
      const auto v = net.evaluate(images_.data(), labels_.data(), n);
      loss += v.mean_loss * n;
      correct += v.correct;
    }
    return {double(correct) / double(total), loss / double(total)};
  }

 private:
  const data::Dataset& dataset_;
  const data::Normalization& norm_;
  int batch_;
  std::vector<float> images_;
  std::vector<int32_t> labels_;
  int64_t cursor_ = 0;
};

// Resumes the run from its checkpoint, if it has one: restores `state` and `net` from the
// file at checkpointing.path and returns the iteration the run resumes after; nullopt when
// there is no file (or no checkpointing) and the run starts from its beginning. Refused, as
// an Error naming the file: a checkpoint of another run (another identity, or an iteration
// past `total_iterations`), one at another iteration than the caller expects
// (checkpointing.resume_from), an expected one that is gone, and one that does not decode
// for this training data (`fit`) and network.
Result<std::optional<int64_t>> resume(const Checkpointing& checkpointing,
                                      int64_t total_iterations, const DataFit& fit,
                                      TrainingState& state, ResNet& net) {
  const std::string& path = checkpointing.path;
  if (path.empty()) return std::optional<int64_t>();
  if (!std::filesystem::exists(path)) {
    if (checkpointing.resume_from > 0)
      return bad_input(fmt::format("{}: the checkpoint to resume from (iteration {}) is gone", path,
                                   checkpointing.resume_from));
    return std::optional<int64_t>();
  }
  auto checkpoint = read_checkpoint(path);
  if (!checkpoint) return checkpoint.error();
  if (checkpoint->identity != checkpointing.identity || checkpoint->iteration > total_iterations)
    return bad_input(
        fmt::format("{}: a checkpoint of another run ({}, iteration {}); delete "
                    "it to restart this run from its beginning",
                    path, checkpoint->identity, checkpoint->iteration));
  if (checkpointing.resume_from >= 0 && checkpoint->iteration != checkpointing.resume_from)
    return bad_input(
        fmt::format("{}: holds iteration {}, expected {} (changed by another "
                    "process?)",
                    path, checkpoint->iteration, checkpointing.resume_from));
  if (auto decoded = decode_training_state(checkpoint->state, fit, state, net); !decoded)
    return damaged_file(fmt::format("{}: {}", path, decoded.error().message));
  return std::optional<int64_t>(checkpoint->iteration);
}

}  // namespace

int use_openmp_threads(int requested) {
  const int threads = std::min(requested > 0 ? requested : omp_get_num_procs(),
                               std::max(omp_get_thread_limit(), 1));
  omp_set_dynamic(0);
  omp_set_num_threads(threads);
  return threads;
}

namespace {

Result<RunSummary> train_unguarded(const TrainConfig& config, const data::Dataset& dataset,
                                   MetricsSink& sink, const Checkpointing& checkpointing) {
  if (auto status = validate(config); !status) return status.error();
  const auto& t = config.train;
  if (t.batch > dataset.train.size())
    return bad_input(fmt::format("train.batch: {} is larger than the training set ({} examples)",
                                 t.batch, dataset.train.size()));
  if (dataset.test.size() == 0) return bad_input("dataset: the test split is empty");

  const auto start = Clock::now();
  const int threads = use_openmp_threads(t.threads);

  const auto norm = data::compute_normalization(dataset);
  data::TrainBatcher batcher(dataset, norm, t.batch, t.augment,
                             Rng::derive(t.seed, kDataStream));
  const int blocks = config.model.blocks();
  const auto survival = survival_probabilities(config.sd.rule, config.sd.p_L, blocks);
  const bool per_sample = config.sd.mode == DropMode::kSample;
  ResNet net(config.model, survival,
             {dataset.channels, dataset.height, dataset.width}, dataset.classes, t.batch,
             Rng::derive(t.seed, kInitStream), config.sd.mode);
  TestSet test(dataset, norm, config.eval.batch);
  Rng gate_rng(Rng::derive(t.seed, kGateStream));

  RunPlan plan;
  plan.batches_per_epoch = batcher.batches_per_epoch();
  plan.total_iterations = total_iterations(config, plan.batches_per_epoch);
  plan.blocks = blocks;
  // Blocks whose residual branch computes: sample mode runs every one.
  plan.expected_active_blocks =
      per_sample ? blocks : expected_active_blocks(config.sd.rule, config.sd.p_L, blocks);
  plan.threads = threads;

  TrainingState state;
  const DataFit fit{dataset.train.size(), plan.batches_per_epoch};
  auto resumed = resume(checkpointing, plan.total_iterations, fit, state, net);
  if (!resumed) return resumed.error();
  if (const std::optional<int64_t> resumed_after = *resumed) {
    gate_rng.set_state(state.gates);
    batcher.restore(state.batcher);
    test.set_cursor(state.test_cursor);
    plan.resumed_after = *resumed_after;
  }
  const double elapsed_before_ms = state.elapsed_ms;  // the run's processes before this one
  RunSummary& summary = state.summary;
  summary.iterations = plan.resumed_after;
  summary.expected_active_blocks = plan.expected_active_blocks;
  sink.on_start(plan);

  const bool checkpoints = !checkpointing.path.empty();
  int64_t saved_at = plan.resumed_after;
  std::optional<Error> storage_failure;
  // Saves the state after iteration `it`; false (with the failure kept) if it could not.
  auto save_checkpoint = [&](int64_t it) {
    if (!sink.before_checkpoint(it)) return true;  // records not durable: keep the last one
    state.gates = gate_rng.state();
    state.batcher = batcher.state();
    state.test_cursor = test.cursor();
    state.elapsed_ms = elapsed_before_ms + ms_since(start);
    auto written = write_checkpoint(
        checkpointing.path, {checkpointing.identity, it, encode_training_state(state, fit, net)});
    if (!written) {
      storage_failure = written.error();
      return false;
    }
    saved_at = it;
    return true;
  };

  std::vector<bool> gates(blocks);
  std::vector<std::vector<bool>> keep(per_sample ? blocks : 0, std::vector<bool>(t.batch));
  for (int64_t it = plan.resumed_after + 1; it <= plan.total_iterations; ++it) {
    if (sink.should_stop()) {
      summary.status = RunStatus::kInterrupted;
      summary.message = fmt::format("interrupted after iteration {}", it - 1);
      if (checkpoints && it - 1 > saved_at) save_checkpoint(it - 1);
      break;
    }
    const auto step_start = Clock::now();
    IterationRecord r;
    r.iteration = it;
    r.epoch = (it - 1) / plan.batches_per_epoch + 1;
    r.learning_rate =
        learning_rate(t.lr, it - 1, plan.batches_per_epoch, plan.total_iterations);
    batcher.next(net.train_images(), net.train_labels());
    // The gate stream: L draws a step in batch mode, L × N (block-major) in sample mode.
    if (per_sample) {
      draw_keep_decisions(gate_rng, survival, keep);
      r.active_blocks = blocks;
    } else {
      for (int l = 0; l < blocks; ++l) {
        gates[l] = gate_rng.bernoulli(survival[l]);
        r.active_blocks += gates[l];
      }
    }
    const auto network_start = Clock::now();
    summary.time.data_ms += ms_since(step_start);
    const auto value = per_sample ? net.train_step_per_sample(keep) : net.train_step(gates);
    summary.time.network_ms += ms_since(network_start);
    const auto update_start = Clock::now();
    if (!std::isfinite(value.mean_loss)) {
      summary.status = RunStatus::kDiverged;
      summary.message = fmt::format("diverged at iteration {} (loss {})", it, value.mean_loss);
      break;
    }
    sgd_step(t.optimizer, r.learning_rate, net.params());
    summary.time.update_ms += ms_since(update_start);
    r.step_ms = ms_since(step_start);
    r.loss = value.mean_loss;
    r.train_accuracy = double(value.correct) / t.batch;

    if (it % config.eval.every == 0) {
      const auto v = test.next_batch(net);
      r.test_loss = v.mean_loss;
      r.test_accuracy = double(v.correct) / std::min<int64_t>(config.eval.batch, dataset.test.size());
    }
    summary.iterations = it;
    summary.train_seconds += r.step_ms / 1000;
    if (it == 1) state.first_step_ms = r.step_ms;
    state.active_total += r.active_blocks;
    const auto record_start = Clock::now();
    sink.on_iteration(r);
    summary.time.record_ms += ms_since(record_start);

    if (it % plan.batches_per_epoch == 0 || it == plan.total_iterations) {
      const auto [accuracy, loss] = test.full(net, dataset.test);
      summary.final_test_accuracy = accuracy;
      summary.final_test_loss = loss;
      TestEvalRecord eval{r.epoch, it, accuracy, loss};
      if (dataset.validation.size() > 0)
        std::tie(eval.validation_accuracy, eval.validation_loss) =
            test.full(net, dataset.validation);
      sink.on_test_eval(eval);
      if (summary.rss_after_first_epoch == 0) summary.rss_after_first_epoch = resident_bytes();
    }
    if (checkpoints && checkpointing.every > 0 && it % checkpointing.every == 0 &&
        it < plan.total_iterations && !save_checkpoint(it))
      break;
  }
  // The run resumes from its last good checkpoint once the storage is fixed.
  if (storage_failure) return *storage_failure;
  summary.wall_seconds = (elapsed_before_ms + ms_since(start)) / 1000;
  summary.rss_at_end = resident_bytes();
  summary.peak_rss = peak_resident_bytes();
  const auto memory = net.memory_use();
  summary.model_bytes = memory.activation_bytes + memory.parameter_bytes;
  if (summary.iterations > 0) {
    // The first step pays one-off costs (first touch of every buffer, thread start-up), so
    // the speed figures leave it out when there are others.
    const bool skip_first = summary.iterations > 1;
    const double steady_ms =
        summary.train_seconds * 1000 - (skip_first ? state.first_step_ms : 0);
    const double steady_steps = double(summary.iterations - (skip_first ? 1 : 0));
    summary.mean_step_ms = steady_ms / steady_steps;
    summary.images_per_second = steady_steps * t.batch * 1000 / std::max(steady_ms, 1e-9);
    summary.mean_active_blocks = double(state.active_total) / double(summary.iterations);
  }
  return summary;
}

}  // namespace

// The model's edge: what oneDNN or the allocator throws becomes an Error of this run only.
Result<RunSummary> train(const TrainConfig& config, const data::Dataset& dataset,
                         MetricsSink& sink, const Checkpointing& checkpointing) {
  try {
    return train_unguarded(config, dataset, sink, checkpointing);
  } catch (const dnnl::error& e) {
    return internal_error(
        fmt::format("internal error in oneDNN: {} (status {})", e.what(), int(e.status)));
  } catch (const std::bad_alloc&) {
    return internal_error("internal error: out of memory");
  } catch (const std::exception& e) {
    return internal_error(fmt::format("internal error: {}", e.what()));
  }
}

}  // namespace stodepth
