#include "model/training_state.h"

#include <fmt/format.h>

#include "model/base/check.h"
#include "model/checkpoint.h"
#include "model/resnet.h"

namespace stodepth {
namespace {

// The state's fields in file order (see the header), for a ByteWriter (`State` is then
// const TrainingState) or a ByteReader.
template <typename Io, typename State>
Status transfer_fields(Io& io, const DataFit& fit, State& s, ResNet& net) {
  DataFit saved = fit;  // a reader overwrites it with the fit the bytes were written for
  if (!io.field(saved.train_examples) || !io.field(saved.batches_per_epoch))
    return damaged_file("checkpoint: truncated training state");
  if (saved != fit)
    return damaged_file(fmt::format(
        "checkpoint: written for {} training examples in {} batches per epoch, this dataset "
        "has {} in {}",
        saved.train_examples, saved.batches_per_epoch, fit.train_examples, fit.batches_per_epoch));
  const bool loop_fields =
      io.field(s.gates) && io.field(s.batcher.epoch) && io.field(s.batcher.batch_in_epoch) &&
      io.field(s.batcher.rng) && io.field(s.test_cursor) && io.field(s.active_total) &&
      io.field(s.first_step_ms) && io.field(s.elapsed_ms) &&
      io.field(s.summary.train_seconds) && io.field(s.summary.time) &&
      io.field(s.summary.rss_after_first_epoch) &&
      io.paired_optionals(s.summary.final_test_accuracy, s.summary.final_test_loss);
  if (!loop_fields) return damaged_file("checkpoint: truncated training state");
  return net.transfer_state(io);
}

}  // namespace

std::vector<char> encode_training_state(const TrainingState& state, const DataFit& fit,
                                        ResNet& net) {
  ByteWriter out;
  const Status written = transfer_fields(out, fit, state, net);
  STODEPTH_CHECK(written.ok(), "writing a training state cannot fail");
  return out.take();
}

Status decode_training_state(const std::vector<char>& bytes, const DataFit& fit,
                             TrainingState& state, ResNet& net) {
  ByteReader in(bytes);
  if (auto read = transfer_fields(in, fit, state, net); !read) return read;
  if (!in.at_end()) return damaged_file("checkpoint: unexpected bytes after the training state");
  return ok_status();
}

}  // namespace stodepth
