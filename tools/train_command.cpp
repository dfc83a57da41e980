// `stodepth train`: one run from flags, with progress and a one-screen summary.
#include <cstdio>

#include <fmt/format.h>

#include "model/engine_info.h"
#include "model/trainer.h"
#include "tools/commands.h"
#include "tools/parse.h"
#include "tools/progress.h"
#include "tools/train_flags.h"

namespace stodepth::cli {
namespace {

// Shows training progress: running loss/accuracy, last test accuracy, images/s.
class ConsoleSink : public MetricsSink {
 public:
  explicit ConsoleSink(int batch) : progress_(stderr), batch_(batch) {}

  void on_start(const RunPlan& plan) override {
    plan_ = plan;
    progress_.note(fmt::format(
        "training {} iterations ({} per epoch), {} blocks, expected active {:.1f}, {} threads, "
        "ISA {}",
        plan.total_iterations, plan.batches_per_epoch, plan.blocks,
        plan.expected_active_blocks, plan.threads, onednn_isa()));
  }

  void on_iteration(const IterationRecord& r) override {
    // Exponential moving averages keep the display steady without a window buffer.
    const double a = r.iteration == 1 ? 1.0 : 0.05;
    loss_ = (1 - a) * loss_ + a * r.loss;
    accuracy_ = (1 - a) * accuracy_ + a * r.train_accuracy;
    step_ms_ = (1 - a) * step_ms_ + a * r.step_ms;
    if (r.test_accuracy) test_accuracy_ = *r.test_accuracy;
    progress_.update(
        r.iteration, plan_.total_iterations,
        fmt::format("it {}/{} ep {} lr {:.3g} loss {:.4f} acc {:.1f}% test {} {:.0f} img/s",
                    r.iteration, plan_.total_iterations, r.epoch, r.learning_rate, loss_,
                    100 * accuracy_,
                    test_accuracy_ < 0 ? "-" : fmt::format("{:.1f}%", 100 * test_accuracy_),
                    batch_ * 1000.0 / step_ms_));
  }

  void on_test_eval(const TestEvalRecord& r) override {
    best_validation_.add(r);
    progress_.note(fmt::format(
        "epoch {} (iteration {}): test accuracy {:.2f}%, loss {:.4f}{}", r.epoch, r.iteration,
        100 * r.accuracy, r.loss,
        r.validation_accuracy ? fmt::format("; validation accuracy {:.2f}%", 100 * *r.validation_accuracy)
                              : ""));
  }
  // The test accuracy at the evaluation of best validation accuracy (the paper's measure);
  // none without a validation set.
  const std::optional<BestValidation>& best_validation() const { return best_validation_.best(); }

  void finish() { progress_.finish(); }

 private:
  Progress progress_;
  int batch_;
  RunPlan plan_;
  double loss_ = 0, accuracy_ = 0, step_ms_ = 0, test_accuracy_ = -1;
  BestValidationTracker best_validation_;
};

void print_summary(const TrainConfig& c, const RunSummary& s,
                   const std::optional<BestValidation>& best) {
  fmt::print("\n{} ResNet-{} (shortcut {}, {} p_L={}, {} mode) on {}: {}\n",
             c.sd.p_L < 1 ? "Stochastic-depth" : "Plain", c.model.depth,
             to_string(c.model.shortcut), to_string(c.sd.rule), c.sd.p_L, to_string(c.sd.mode),
             c.data.name,
             s.message.empty() ? to_string(s.status) : s.message);
  if (s.final_test_accuracy)
    fmt::print("  final test accuracy  {:.2f}%  (error {:.2f}%, loss {:.4f})\n",
               100 * *s.final_test_accuracy, 100 * (1 - *s.final_test_accuracy),
               *s.final_test_loss);
  if (best)
    fmt::print("  at best validation   {:.2f}% test accuracy (error {:.2f}%) at epoch {}, "
               "validation accuracy {:.2f}%: the paper's measure\n",
               100 * best->test_accuracy, 100 * (1 - best->test_accuracy), best->epoch,
               100 * best->validation_accuracy);
  fmt::print("  iterations           {}\n", s.iterations);
  fmt::print("  wall time            {:.1f} s (training steps {:.1f} s)\n", s.wall_seconds,
             s.train_seconds);
  fmt::print("  throughput           {:.0f} images/s, {:.1f} ms/step\n", s.images_per_second,
             s.mean_step_ms);
  fmt::print("  active blocks        {:.2f} mean vs {:.2f} expected (of {})\n",
             s.mean_active_blocks, s.expected_active_blocks, c.model.blocks());
  const double total = s.time.data_ms + s.time.network_ms + s.time.update_ms + s.time.record_ms;
  const auto share = [&](double ms) { return total > 0 ? 100 * ms / total : 0.0; };
  fmt::print("  time per step        network {:.1f}%, data+gates {:.1f}%, SGD update {:.1f}%, "
             "recording {:.1f}%\n",
             share(s.time.network_ms), share(s.time.data_ms), share(s.time.update_ms),
             share(s.time.record_ms));
  constexpr double kMiB = 1024.0 * 1024.0;
  fmt::print("  memory               training graph {:.0f} MiB; resident {:.0f} MiB after the "
             "first epoch, {:.0f} MiB at the end, {:.0f} MiB at the peak\n",
             s.model_bytes / kMiB, s.rss_after_first_epoch / kMiB, s.rss_at_end / kMiB,
             s.peak_rss / kMiB);
}

}  // namespace

CommandResult run_train(int argc, char** argv) {
  CLI::App app{"Train one ResNet, with or without stochastic depth.", "stodepth train"};
  TrainFlags flags;
  add_train_flags(app, flags);
  if (auto exit = parse_flags(app, argc, argv)) return *exit;
  auto config = resolve(flags);
  if (!config) return config.error();
  auto dataset = data::load_dataset(config->data);
  if (!dataset) return dataset.error();
  ConsoleSink sink(config->train.batch);
  auto summary = train(*config, *dataset, sink);
  sink.finish();
  if (!summary) return summary.error();
  print_summary(*config, *summary, sink.best_validation());
  // `train` asks no run to stop (Ctrl-C ends the process), so it ends done or diverged.
  return summary->status == RunStatus::kDiverged ? kExitDiverged : kExitOk;
}

}  // namespace stodepth::cli
