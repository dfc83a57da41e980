// The checkpoint state of a run: its bytes are the layout checkpoints have always had (spelled
// out here field by field, so that a checkpoint written by an older build still resumes), a
// decode restores every field and the network, and bytes that do not fit are refused.
#include <catch2/catch.hpp>

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "model/config/config.h"
#include "model/resnet.h"
#include "model/sgd.h"
#include "model/training_state.h"
#include "tests/plain_tensors.h"

using namespace stodepth;
using stodepth::testing::context_of;
using stodepth::testing::read_plain;

namespace {

// Appends values as checkpoints lay them out: each value's bytes as in memory; a string as
// its u64 length and its characters; a float array as its i64 count and its values.
class Layout {
 public:
  template <typename T>
  void add(const T& value) {
    const char* p = reinterpret_cast<const char*>(&value);
    bytes_.insert(bytes_.end(), p, p + sizeof(T));
  }
  void add_string(const std::string& s) {
    add<uint64_t>(s.size());
    bytes_.insert(bytes_.end(), s.begin(), s.end());
  }
  void add_floats(const std::vector<float>& values) {
    add<int64_t>(int64_t(values.size()));
    for (float v : values) add(v);
  }
  const std::vector<char>& bytes() const { return bytes_; }

 private:
  std::vector<char> bytes_;
};

constexpr int kBatch = 4, kClasses = 3;

// A depth-8 network with projection shortcuts (so that it has parameters outside the blocks
// too), 1×8×8 inputs.
ResNet network(uint64_t init_seed) {
  ModelConfig model{8, 1, Shortcut::kB};
  return ResNet(model, {1.0, 0.75, 0.5}, InputShape{1, 8, 8}, kClasses, kBatch, init_seed);
}

// After an SGD step, so that momentum and running statistics are not their initial values.
void train_one_step(ResNet& net) {
  for (int i = 0; i < kBatch * 64; ++i) net.train_images()[i] = float(i % 17) / 17.f - 0.4f;
  for (int i = 0; i < kBatch; ++i) net.train_labels()[i] = i % kClasses;
  net.train_step({true, false, true});
  sgd_step(OptimizerConfig{}, 0.1, net.params());
}

// Every field a value of its own, so that two fields swapped or one left out shows.
TrainingState distinct_state() {
  TrainingState s;
  s.gates = {0x1111, 0x2222, 0x3333, 0x4444};
  s.batcher.epoch = 3;
  s.batcher.batch_in_epoch = 7;
  s.batcher.rng = {0x5555, 0x6666, 0x7777, 0x8888};
  s.test_cursor = 250;
  s.active_total = 61;
  s.first_step_ms = 12.5;
  s.elapsed_ms = 4321.25;
  s.summary.train_seconds = 3.75;
  s.summary.time = {1.5, 2.25, 0.125, 0.0625};
  s.summary.rss_after_first_epoch = 123456789;
  s.summary.final_test_accuracy = 0.875;
  s.summary.final_test_loss = 0.4375;
  return s;
}

// The bytes a checkpoint holds for `s` and `net` (see model/training_state.h).
std::vector<char> expected_bytes(const TrainingState& s, const DataFit& fit, ResNet& net) {
  Layout out;
  out.add<int64_t>(fit.train_examples);
  out.add<int64_t>(fit.batches_per_epoch);
  for (uint64_t word : s.gates) out.add(word);
  out.add<int64_t>(s.batcher.epoch);
  out.add<int64_t>(s.batcher.batch_in_epoch);
  for (uint64_t word : s.batcher.rng) out.add(word);
  out.add<int64_t>(s.test_cursor);
  out.add<int64_t>(s.active_total);
  out.add<double>(s.first_step_ms);
  out.add<double>(s.elapsed_ms);
  out.add<double>(s.summary.train_seconds);
  for (double ms : {s.summary.time.data_ms, s.summary.time.network_ms, s.summary.time.update_ms,
                    s.summary.time.record_ms})
    out.add(ms);
  out.add<int64_t>(s.summary.rss_after_first_epoch);
  out.add<uint8_t>(s.summary.final_test_accuracy.has_value());
  out.add<double>(s.summary.final_test_accuracy.value_or(0));
  out.add<double>(s.summary.final_test_loss.value_or(0));

  // The network: each parameter's name, value and momentum, then each batch norm's running
  // statistics; tensors in plain layouts.
  const auto params = net.params().all();
  dnn::Context ctx = context_of(params.front()->value);
  out.add<int64_t>(int64_t(params.size()));
  for (dnn::Param* p : params) {
    out.add_string(p->name);
    out.add_floats(read_plain(p->value, ctx));
    out.add_floats(read_plain(dnn::memory(p->value.get_desc(), ctx.engine, p->velocity.data()), ctx));
  }
  const auto stats = net.params().all_running_stats();
  out.add<int64_t>(int64_t(stats.size()));
  for (const auto& [name, running] : stats) {
    out.add_string(name);
    out.add_floats(running->mean);
    out.add_floats(running->variance);
  }
  return out.bytes();
}

void check_same_loop_state(const TrainingState& a, const TrainingState& b) {
  CHECK(a.gates == b.gates);
  CHECK(a.batcher.epoch == b.batcher.epoch);
  CHECK(a.batcher.batch_in_epoch == b.batcher.batch_in_epoch);
  CHECK(a.batcher.rng == b.batcher.rng);
  CHECK(a.test_cursor == b.test_cursor);
  CHECK(a.active_total == b.active_total);
  CHECK(a.first_step_ms == b.first_step_ms);
  CHECK(a.elapsed_ms == b.elapsed_ms);
  CHECK(a.summary.train_seconds == b.summary.train_seconds);
  CHECK(a.summary.time.data_ms == b.summary.time.data_ms);
  CHECK(a.summary.time.network_ms == b.summary.time.network_ms);
  CHECK(a.summary.time.update_ms == b.summary.time.update_ms);
  CHECK(a.summary.time.record_ms == b.summary.time.record_ms);
  CHECK(a.summary.rss_after_first_epoch == b.summary.rss_after_first_epoch);
  CHECK(a.summary.final_test_accuracy == b.summary.final_test_accuracy);
  CHECK(a.summary.final_test_loss == b.summary.final_test_loss);
}

}  // namespace

TEST_CASE("a training state's bytes are the checkpoint layout, and decode restores them",
          "[checkpoint]") {
  ResNet net = network(5);
  train_one_step(net);
  const DataFit fit{640, 10};
  TrainingState state = distinct_state();
  SECTION("with a final test evaluation") {}
  SECTION("without one: a zero presence byte and zero values") {
    state.summary.final_test_accuracy.reset();
    state.summary.final_test_loss.reset();
  }
  const std::vector<char> bytes = encode_training_state(state, fit, net);
  CHECK(bytes == expected_bytes(state, fit, net));

  // Into another network of the same architecture, initialised differently, and a state
  // whose optionals are the other way round.
  ResNet restored_net = network(6);
  TrainingState restored;
  restored.summary.final_test_accuracy = state.summary.final_test_accuracy ? std::nullopt
                                                                           : std::optional(1.0);
  REQUIRE(decode_training_state(bytes, fit, restored, restored_net).ok());
  check_same_loop_state(restored, state);
  // Encoding reads the network afresh: equal bytes mean every parameter, momentum and
  // running statistic was restored.
  CHECK(encode_training_state(restored, fit, restored_net) == bytes);
}

TEST_CASE("a training state that does not fit is refused as damaged", "[checkpoint]") {
  ResNet net = network(5);
  const DataFit fit{640, 10};
  const std::vector<char> bytes = encode_training_state(distinct_state(), fit, net);
  const auto refusal = [&](const std::vector<char>& damaged, const DataFit& expected) {
    ResNet other = network(6);
    TrainingState state;
    const Status decoded = decode_training_state(damaged, expected, state, other);
    REQUIRE_FALSE(decoded.ok());
    CHECK(decoded.error().kind == ErrorKind::kDamaged);
    return decoded.error().message;
  };
  const size_t loop_bytes = 2 * 8 + 32 + 2 * 8 + 32 + 2 * 8 + 3 * 8 + 4 * 8 + 8 + 1 + 2 * 8;
  CHECK(refusal(bytes, {960, 15}) ==
        "checkpoint: written for 640 training examples in 10 batches per epoch, this dataset "
        "has 960 in 15");
  CHECK(refusal({bytes.begin(), bytes.begin() + 12}, fit) ==
        "checkpoint: truncated training state");
  CHECK(refusal({bytes.begin(), bytes.begin() + loop_bytes - 1}, fit) ==
        "checkpoint: truncated training state");
  CHECK_THAT(refusal({bytes.begin(), bytes.end() - 1}, fit),
             Catch::StartsWith("checkpoint does not fit this network (size of statistics"));
  std::vector<char> longer = bytes;
  longer.push_back('\0');
  CHECK(refusal(longer, fit) == "checkpoint: unexpected bytes after the training state");
  // The network's part starts right after the loop's: its parameter count.
  int64_t parameters = 0;
  std::memcpy(&parameters, bytes.data() + loop_bytes, sizeof parameters);
  CHECK(parameters == int64_t(net.params().all().size()));
}
