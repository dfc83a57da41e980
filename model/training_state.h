// The state of a run that a checkpoint holds (the payload's "state" in model/checkpoint.h):
// what the training loop needs to resume bit-identical, and the network's parameters,
// momentum and batch-norm statistics. Its fields are one list (a field list, see
// model/checkpoint.h) that encoding writes and decoding reads, so nothing is saved without
// being restored.
//
// Layout (native byte order, each value's bytes as in memory):
//   i64 training examples, i64 batches per epoch     the data the state fits (DataFit)
//   gate stream state, batcher epoch, batch in epoch, data stream state, test cursor,
//   active-block total, first step ms, elapsed ms, summary: train seconds, time breakdown,
//   RSS after the first epoch; u8 has a final test evaluation, f64 its accuracy, f64 its
//   loss (0 when absent); then the network's state (ResNet::transfer_state).
#pragma once

#include <cstdint>
#include <vector>

#include "model/base/result.h"
#include "model/data/batcher.h"
#include "model/config/records.h"
#include "model/base/rng.h"

namespace stodepth {

class ResNet;

// The training data a state was written for: the data order and cursors mean nothing for
// another training set size or batch count.
struct DataFit {
  int64_t train_examples = 0, batches_per_epoch = 0;
  bool operator==(const DataFit&) const = default;
};

// The training loop's part: the random streams, the positions in the training and test
// data, and the summary accumulated so far.
struct TrainingState {
  Rng::State gates{};
  data::TrainBatcher::State batcher;
  int64_t test_cursor = 0;
  int64_t active_total = 0;
  double first_step_ms = 0;
  double elapsed_ms = 0;  // wall time of the run up to the checkpoint, over all its processes
  RunSummary summary;
};

// The checkpoint state of `state` and `net`, for training data `fit`.
std::vector<char> encode_training_state(const TrainingState& state, const DataFit& fit,
                                        ResNet& net);

// Restores `state` and `net` from what encode_training_state wrote. Bytes written for other
// training data (`fit`), for another network, truncated or followed by more are kDamaged.
Status decode_training_state(const std::vector<char>& bytes, const DataFit& fit,
                             TrainingState& state, ResNet& net);

}  // namespace stodepth
