#include "model/trainer.h"

#include <omp.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <tuple>

#include <fmt/format.h>

#include "model/checkpoint.h"
#include "model/data/batcher.h"
#include "model/engine_errors.h"
#include "model/engine_info.h"
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

// What train() refuses before it builds anything: a config that did not pass validate(), a
// precision this CPU cannot train at, or a config that does not fit the dataset.
Status check_fits(const TrainConfig& config, const data::Dataset& dataset) {
  if (auto status = validate(config); !status) return status.error();
  if (auto status = check_precision(config.train.precision); !status) return status.error();
  if (config.train.batch > dataset.train.size())
    return bad_input(fmt::format("train.batch: {} is larger than the training set ({} examples)",
                                 config.train.batch, dataset.train.size()));
  if (dataset.test.size() == 0) return bad_input("dataset: the test split is empty");
  return ok_status();
}

// One run being trained: the network, its data and random streams, the state a checkpoint
// saves, and the steps of the loop.
class TrainingRun {
 public:
  TrainingRun(const TrainConfig& config, const data::Dataset& dataset, MetricsSink& sink,
              const Checkpointing& checkpointing)
      : config_(config), dataset_(dataset), sink_(sink), checkpointing_(checkpointing),
        start_(Clock::now()), threads_(use_openmp_threads(config.train.threads)),
        norm_(data::compute_normalization(dataset)),
        batcher_(dataset, norm_, config.train.batch, config.train.augment,
                 Rng::derive(config.train.seed, kDataStream)),
        blocks_(config.model.blocks()),
        survival_(survival_probabilities(config.sd.rule, config.sd.p_L, blocks_)),
        per_sample_(config.sd.mode == DropMode::kSample),
        net_(config.model, survival_, {dataset.channels, dataset.height, dataset.width},
             dataset.classes, config.train.batch, Rng::derive(config.train.seed, kInitStream),
             config.sd.mode, config.train.precision),
        test_(dataset, norm_, config.eval.batch),
        gate_rng_(Rng::derive(config.train.seed, kGateStream)),
        plan_(make_plan()),
        fit_{dataset.train.size(), plan_.batches_per_epoch},
        gates_(blocks_),
        keep_(per_sample_ ? blocks_ : 0, std::vector<bool>(config.train.batch)) {}

  // Resumes from the checkpoint, if there is one, and announces the plan to the sink.
  Status start() {
    auto resumed = resume(checkpointing_, plan_.total_iterations, fit_, state_, net_);
    if (!resumed) return resumed.error();
    if (const std::optional<int64_t> resumed_after = *resumed) {
      gate_rng_.set_state(state_.gates);
      batcher_.restore(state_.batcher);
      test_.set_cursor(state_.test_cursor);
      plan_.resumed_after = *resumed_after;
    }
    elapsed_before_ms_ = state_.elapsed_ms;
    summary().iterations = plan_.resumed_after;
    summary().expected_active_blocks = plan_.expected_active_blocks;
    saved_at_ = plan_.resumed_after;
    sink_.on_start(plan_);
    return ok_status();
  }

  // Trains from the iteration after the resumed one to the end, a stop or divergence.
  Result<RunSummary> run() {
    for (int64_t it = plan_.resumed_after + 1; it <= plan_.total_iterations; ++it) {
      if (sink_.should_stop()) {
        summary().status = RunStatus::kInterrupted;
        summary().message = fmt::format("interrupted after iteration {}", it - 1);
        if (checkpoints() && it - 1 > saved_at_) save_checkpoint(it - 1);
        break;
      }
      std::optional<IterationRecord> record = train_step(it);
      if (!record) break;  // diverged
      if (it % config_.eval.every == 0) evaluate_test_batch(*record);
      report_iteration(*record);
      if (it % plan_.batches_per_epoch == 0 || it == plan_.total_iterations)
        evaluate_epoch(*record);
      if (checkpoints() && checkpointing_.every > 0 && it % checkpointing_.every == 0 &&
          it < plan_.total_iterations && !save_checkpoint(it))
        break;
    }
    // The run resumes from its last good checkpoint once the storage is fixed.
    if (storage_failure_) return *storage_failure_;
    finish_summary();
    return summary();
  }

 private:
  RunPlan make_plan() const {
    RunPlan plan;
    plan.batches_per_epoch = batcher_.batches_per_epoch();
    plan.total_iterations = total_iterations(config_, plan.batches_per_epoch);
    plan.blocks = blocks_;
    // Blocks whose residual branch computes: sample mode runs every one.
    plan.expected_active_blocks =
        per_sample_ ? blocks_ : expected_active_blocks(config_.sd.rule, config_.sd.p_L, blocks_);
    plan.threads = threads_;
    return plan;
  }

  RunSummary& summary() { return state_.summary; }
  bool checkpoints() const { return !checkpointing_.path.empty(); }

  // The gate stream: L draws a step in batch mode, L × N (block-major) in sample mode.
  // Returns the blocks whose residual branch computes.
  int draw_gates() {
    if (per_sample_) {
      draw_keep_decisions(gate_rng_, survival_, keep_);
      return blocks_;
    }
    return stodepth::draw_gates(gate_rng_, survival_, gates_);
  }

  // Iteration `it`: a batch, the gates, forward and backward, the SGD update. nullopt when
  // the loss is not finite (the summary then says the run diverged).
  std::optional<IterationRecord> train_step(int64_t it) {
    const TrainSettings& t = config_.train;
    const auto step_start = Clock::now();
    IterationRecord r;
    r.iteration = it;
    r.epoch = (it - 1) / plan_.batches_per_epoch + 1;
    r.learning_rate =
        learning_rate(t.lr, it - 1, plan_.batches_per_epoch, plan_.total_iterations);
    batcher_.next(net_.train_images(), net_.train_labels());
    r.active_blocks = draw_gates();
    const auto network_start = Clock::now();
    summary().time.data_ms += ms_since(step_start);
    const auto value = per_sample_ ? net_.train_step_per_sample(keep_) : net_.train_step(gates_);
    summary().time.network_ms += ms_since(network_start);
    const auto update_start = Clock::now();
    if (!std::isfinite(value.mean_loss)) {
      summary().status = RunStatus::kDiverged;
      summary().message =
          fmt::format("diverged at iteration {} (loss {})", it, value.mean_loss);
      return std::nullopt;
    }
    sgd_step(t.optimizer, r.learning_rate, net_.params());
    summary().time.update_ms += ms_since(update_start);
    r.step_ms = ms_since(step_start);
    r.loss = value.mean_loss;
    r.train_accuracy = double(value.correct) / t.batch;
    return r;
  }

  // The next test mini-batch, into the iteration's record.
  void evaluate_test_batch(IterationRecord& r) {
    const auto v = test_.next_batch(net_);
    r.test_loss = v.mean_loss;
    r.test_accuracy =
        double(v.correct) / std::min<int64_t>(config_.eval.batch, dataset_.test.size());
  }

  // Counts the iteration into the summary and hands its record to the sink.
  void report_iteration(const IterationRecord& r) {
    summary().iterations = r.iteration;
    summary().train_seconds += r.step_ms / 1000;
    if (r.iteration == 1) state_.first_step_ms = r.step_ms;
    state_.active_total += r.active_blocks;
    const auto record_start = Clock::now();
    sink_.on_iteration(r);
    summary().time.record_ms += ms_since(record_start);
  }

  // At the end of an epoch (and of the run): the whole test set, and the validation set if any.
  void evaluate_epoch(const IterationRecord& r) {
    const auto [accuracy, loss] = test_.full(net_, dataset_.test);
    summary().final_test_accuracy = accuracy;
    summary().final_test_loss = loss;
    TestEvalRecord eval{r.epoch, r.iteration, accuracy, loss};
    if (dataset_.validation.size() > 0)
      std::tie(eval.validation_accuracy, eval.validation_loss) =
          test_.full(net_, dataset_.validation);
    sink_.on_test_eval(eval);
    if (summary().rss_after_first_epoch == 0) summary().rss_after_first_epoch = resident_bytes();
  }

  // Saves the state after iteration `it`; false (with the failure kept) if it could not.
  bool save_checkpoint(int64_t it) {
    if (!sink_.before_checkpoint(it)) return true;  // records not durable: keep the last one
    state_.gates = gate_rng_.state();
    state_.batcher = batcher_.state();
    state_.test_cursor = test_.cursor();
    state_.elapsed_ms = elapsed_before_ms_ + ms_since(start_);
    auto written = write_checkpoint(checkpointing_.path,
                                    {checkpointing_.identity, it,
                                     encode_training_state(state_, fit_, net_)});
    if (!written) {
      storage_failure_ = written.error();
      return false;
    }
    saved_at_ = it;
    return true;
  }

  // Wall time, memory and the speed figures of the run so far.
  void finish_summary() {
    RunSummary& s = summary();
    s.wall_seconds = (elapsed_before_ms_ + ms_since(start_)) / 1000;
    s.rss_at_end = resident_bytes();
    s.peak_rss = peak_resident_bytes();
    const auto memory = net_.memory_use();
    s.model_bytes = memory.activation_bytes + memory.parameter_bytes;
    if (s.iterations == 0) return;
    // The first step pays one-off costs (first touch of every buffer, thread start-up), so
    // the speed figures leave it out when there are others.
    const bool skip_first = s.iterations > 1;
    const double steady_ms = s.train_seconds * 1000 - (skip_first ? state_.first_step_ms : 0);
    const double steady_steps = double(s.iterations - (skip_first ? 1 : 0));
    s.mean_step_ms = steady_ms / steady_steps;
    s.images_per_second = steady_steps * config_.train.batch * 1000 / std::max(steady_ms, 1e-9);
    s.mean_active_blocks = double(state_.active_total) / double(s.iterations);
  }

  const TrainConfig& config_;
  const data::Dataset& dataset_;
  MetricsSink& sink_;
  const Checkpointing& checkpointing_;
  const Clock::time_point start_;
  const int threads_;
  const data::Normalization norm_;
  data::TrainBatcher batcher_;
  const int blocks_;
  const std::vector<double> survival_;
  const bool per_sample_;
  ResNet net_;
  TestSet test_;
  Rng gate_rng_;
  RunPlan plan_;
  const DataFit fit_;
  std::vector<bool> gates_;
  std::vector<std::vector<bool>> keep_;
  TrainingState state_;
  double elapsed_before_ms_ = 0;  // the run's processes before this one
  int64_t saved_at_ = 0;          // the iteration of the last checkpoint
  std::optional<Error> storage_failure_;
};

Result<RunSummary> train_unguarded(const TrainConfig& config, const data::Dataset& dataset,
                                   MetricsSink& sink, const Checkpointing& checkpointing) {
  if (auto fits = check_fits(config, dataset); !fits) return fits.error();
  TrainingRun run(config, dataset, sink, checkpointing);
  if (auto started = run.start(); !started) return started.error();
  return run.run();
}

}  // namespace

// What oneDNN or the allocator throws becomes an Error of this run only.
Result<RunSummary> train(const TrainConfig& config, const data::Dataset& dataset,
                         MetricsSink& sink, const Checkpointing& checkpointing) {
  return engine_errors_as_values(
      [&] { return train_unguarded(config, dataset, sink, checkpointing); });
}

}  // namespace stodepth
