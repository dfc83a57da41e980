// Tests for model/data: file readers (valid and corrupt inputs), load_dataset, the synthetic
// set, normalisation and the training batcher.
#include <zlib.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "model/data/batcher.h"
#include "model/data/dataset.h"
#include "model/data/validation_split.h"
#include "model/base/rng.h"
#include "tests/result_checks.h"
#include "tests/temp_dir.h"

namespace fs = std::filesystem;
using namespace stodepth;
using stodepth::testing::TempDir;
using namespace stodepth::data;
using Bytes = std::vector<uint8_t>;

namespace {

void write_raw(const std::string& path, const Bytes& bytes) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  REQUIRE(out.good());
}

void write_gz(const std::string& path, const Bytes& bytes) {
  gzFile file = gzopen(path.c_str(), "wb");
  REQUIRE(file != nullptr);
  REQUIRE(gzwrite(file, bytes.data(), static_cast<unsigned>(bytes.size())) ==
          static_cast<int>(bytes.size()));
  REQUIRE(gzclose(file) == Z_OK);
}

Bytes read_raw(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), {});
}

void put_be32(Bytes& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<uint8_t>(v >> shift));
}

Bytes pattern_bytes(size_t n, uint64_t seed) {
  Rng rng(seed);
  Bytes bytes(n);
  for (auto& b : bytes) b = static_cast<uint8_t>(rng.below(256));
  return bytes;
}

Bytes idx_images(uint32_t count, uint32_t h, uint32_t w, const Bytes& pixels,
                 uint32_t magic = 0x803) {
  Bytes out;
  put_be32(out, magic);
  put_be32(out, count);
  put_be32(out, h);
  put_be32(out, w);
  out.insert(out.end(), pixels.begin(), pixels.end());
  return out;
}

Bytes idx_labels(const Bytes& labels, uint32_t magic = 0x801) {
  Bytes out;
  put_be32(out, magic);
  put_be32(out, static_cast<uint32_t>(labels.size()));
  out.insert(out.end(), labels.begin(), labels.end());
  return out;
}

// n examples of 28x28 with labels i % 10.
struct IdxFixture {
  Bytes pixels, labels;
  explicit IdxFixture(uint32_t n, uint64_t seed = 1) : pixels(pattern_bytes(n * 784, seed)) {
    for (uint32_t i = 0; i < n; ++i) labels.push_back(static_cast<uint8_t>(i % 10));
  }
  Bytes images_file() const {
    return idx_images(static_cast<uint32_t>(labels.size()), 28, 28, pixels);
  }
  Bytes labels_file() const { return idx_labels(labels); }
};

// CIFAR records: {label} or {coarse, fine} then 3072 pixel bytes.
Bytes cifar_records(const Bytes& labels, const Bytes& pixels, bool cifar100) {
  Bytes out;
  for (size_t i = 0; i < labels.size(); ++i) {
    if (cifar100) out.push_back(static_cast<uint8_t>(labels[i] / 5));  // a coarse label
    out.push_back(labels[i]);
    out.insert(out.end(), pixels.begin() + i * 3072, pixels.begin() + (i + 1) * 3072);
  }
  return out;
}

void write_mnist_dir(const fs::path& dir, const IdxFixture& train, const IdxFixture& test) {
  fs::create_directories(dir);
  write_gz((dir / "train-images-idx3-ubyte.gz").string(), train.images_file());
  write_gz((dir / "train-labels-idx1-ubyte.gz").string(), train.labels_file());
  write_raw((dir / "t10k-images-idx3-ubyte").string(), test.images_file());
  write_raw((dir / "t10k-labels-idx1-ubyte").string(), test.labels_file());
}

using stodepth::testing::contains;
using stodepth::testing::require_error;

DataOptions options(const std::string& name, const std::string& dir = "",
                    int64_t train_subset = 0, int64_t test_subset = 0) {
  DataOptions o;
  o.name = name;
  o.dir = dir;
  o.train_subset = train_subset;
  o.test_subset = test_subset;
  return o;
}

Normalization identity_norm(int channels) {
  return {std::vector<float>(channels, 0.0f), std::vector<float>(channels, 1.0f)};
}

// n images (1, 4, 4) whose first pixel is the example index; labels i % 10.
Dataset indexed_dataset(int n) {
  Dataset d{"test", 1, 4, 4, 10, {}, {}};
  d.train.images = pattern_bytes(static_cast<size_t>(n) * 16, 7);
  for (int i = 0; i < n; ++i) {
    d.train.images[static_cast<size_t>(i) * 16] = static_cast<uint8_t>(i);
    d.train.labels.push_back(static_cast<uint8_t>(i % 10));
  }
  return d;
}

struct Batch {
  std::vector<float> images;
  std::vector<int32_t> labels;
  bool operator==(const Batch&) const = default;
};

Batch draw(TrainBatcher& batcher, const Dataset& d, int batch) {
  Batch b{std::vector<float>(static_cast<size_t>(batch * d.image_elems())),
          std::vector<int32_t>(static_cast<size_t>(batch))};
  batcher.next(b.images.data(), b.labels.data());
  return b;
}

// Example indices of an unaugmented batch from indexed_dataset with identity_norm.
std::vector<int> indices_of(const Batch& b, int64_t elems) {
  std::vector<int> out;
  for (size_t i = 0; i < b.labels.size(); ++i)
    out.push_back(static_cast<int>(std::lround(b.images[i * elems] * 255)));
  return out;
}

}  // namespace

TEST_CASE("dataset_names lists the six datasets", "[data]") {
  CHECK(dataset_names() == std::vector<std::string>{"fashion-mnist", "mnist", "cifar10", "cifar100",
                                                    "svhn", "synthetic"});
}

TEST_CASE("an unknown dataset name lists valid names and suggests the closest", "[data]") {
  auto r = load_dataset(options("minst"));
  require_error(r, "minst", "did you mean 'mnist'");
  CHECK(contains(r.error().message, "cifar100"));
  auto far = load_dataset(options("imagenet-21k-full"));
  require_error(far, "imagenet-21k-full", "valid: fashion-mnist");
  CHECK_FALSE(contains(far.error().message, "did you mean"));
}

TEST_CASE("IDX files read back exactly, raw or gzip", "[data][idx]") {
  TempDir tmp;
  const IdxFixture fx(5);
  const bool gz = GENERATE(false, true);
  const std::string images = tmp.file(gz ? "img.gz" : "img"), labels = tmp.file(gz ? "lab.gz" : "lab");
  (gz ? write_gz : write_raw)(images, fx.images_file());
  (gz ? write_gz : write_raw)(labels, fx.labels_file());
  auto split = read_idx_pair(images, labels, 28, 28, 10);
  REQUIRE(split.ok());
  CHECK(split->size() == 5);
  CHECK(split->images == fx.pixels);
  CHECK(split->labels == fx.labels);
}

TEST_CASE("corrupt IDX files are errors naming the file", "[data][idx]") {
  TempDir tmp;
  const IdxFixture fx(3);
  const std::string images = tmp.file("images-idx3"), labels = tmp.file("labels-idx1");
  write_raw(images, fx.images_file());
  write_raw(labels, fx.labels_file());
  auto read = [&] { return read_idx_pair(images, labels, 28, 28, 10); };
  REQUIRE(read().ok());

  SECTION("missing file") {
    fs::remove(images);
    require_error(read(), images, "file not found");
  }
  SECTION("empty file") {
    write_raw(labels, {});
    require_error(read(), labels, "truncated header");
  }
  SECTION("short header") {
    Bytes b = fx.images_file();
    b.resize(10);
    write_raw(images, b);
    require_error(read(), images, "truncated header");
  }
  SECTION("short image data") {
    Bytes b = fx.images_file();
    b.pop_back();
    write_raw(images, b);
    require_error(read(), images, "truncated");
  }
  SECTION("short label data") {
    Bytes b = fx.labels_file();
    b.pop_back();
    write_raw(labels, b);
    require_error(read(), labels, "truncated");
  }
  SECTION("huge declared count is rejected without allocating it") {
    write_raw(images, idx_images(0xFFFFFFFFu, 28, 28, fx.pixels));
    require_error(read(), images, "truncated");
    write_raw(images, idx_images(0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu, fx.pixels));
    require_error(read_idx_pair(images, labels, -1, -1, 10), images, "truncated");
  }
  SECTION("trailing bytes") {
    Bytes b = fx.images_file();
    b.push_back(0);
    write_raw(images, b);
    require_error(read(), images, "unexpected bytes");
  }
  SECTION("bad image magic") {
    write_raw(images, idx_images(3, 28, 28, fx.pixels, 0x801));
    require_error(read(), images, "bad magic 0x00000801, expected 0x00000803");
  }
  SECTION("bad label magic") {
    write_raw(labels, idx_labels(fx.labels, 0x803));
    require_error(read(), labels, "bad magic");
  }
  SECTION("labels and images swapped") {
    require_error(read_idx_pair(labels, images, 28, 28, 10), labels, "bad magic");
  }
  SECTION("wrong dims") {
    write_raw(images, idx_images(3, 784, 1, fx.pixels));
    require_error(read(), images, "expected 28x28");
  }
  SECTION("image and label counts differ") {
    write_raw(labels, idx_labels({1, 2}));
    require_error(read(), labels, "2 labels but");
  }
  SECTION("label out of range") {
    write_raw(labels, idx_labels({1, 10, 2}));
    require_error(read(), labels, "label 10 of example 1");
  }
  SECTION("truncated gzip stream") {
    write_gz(images, fx.images_file());
    Bytes gz = read_raw(images);
    gz.resize(gz.size() / 2);
    write_raw(images, gz);
    require_error(read(), images, "truncated gzip");
  }
  SECTION("gzip stream missing only its trailer") {
    write_gz(labels, fx.labels_file());
    Bytes gz = read_raw(labels);
    gz.resize(gz.size() - 4);
    write_raw(labels, gz);
    require_error(read(), labels, "truncated gzip");
  }
  SECTION("corrupt gzip data") {
    write_gz(images, fx.images_file());
    Bytes gz = read_raw(images);
    for (size_t i = 12; i < gz.size() - 8; ++i) gz[i] = 0xFF;
    write_raw(images, gz);
    REQUIRE_FALSE(read().ok());
    CHECK(contains(read().error().message, images));
  }
  SECTION("a directory instead of a file") {
    require_error(read_idx_pair(tmp.path().string(), labels, 28, 28, 10), tmp.path().string(),
                  "not a regular file");
  }
}

TEST_CASE("CIFAR-10 and CIFAR-100 records read back exactly", "[data][cifar]") {
  TempDir tmp;
  const Bytes pixels = pattern_bytes(5 * 3072, 3);
  SECTION("CIFAR-10 over two files, appended in order") {
    const Bytes labels = {0, 9, 4, 1, 3};
    write_raw(tmp.file("a.bin"), cifar_records({0, 9}, Bytes(pixels.begin(), pixels.begin() + 2 * 3072), false));
    write_raw(tmp.file("b.bin"), cifar_records({4, 1, 3}, Bytes(pixels.begin() + 2 * 3072, pixels.end()), false));
    auto split = read_cifar_files({tmp.file("a.bin"), tmp.file("b.bin")}, false);
    REQUIRE(split.ok());
    CHECK(split->labels == labels);
    CHECK(split->images == pixels);
  }
  SECTION("CIFAR-100 uses the fine label") {
    const Bytes fine = {99, 0, 57, 12, 5};
    write_raw(tmp.file("train.bin"), cifar_records(fine, pixels, true));
    auto split = read_cifar_files({tmp.file("train.bin")}, true);
    REQUIRE(split.ok());
    CHECK(split->labels == fine);
    CHECK(split->images == pixels);
  }
}

TEST_CASE("corrupt CIFAR files are errors naming the file", "[data][cifar]") {
  TempDir tmp;
  const std::string path = tmp.file("data_batch_1.bin");
  const Bytes pixels = pattern_bytes(2 * 3072, 4);
  SECTION("missing") { require_error(read_cifar_files({path}, false), path, "file not found"); }
  SECTION("empty") {
    write_raw(path, {});
    require_error(read_cifar_files({path}, false), path, "empty file");
  }
  SECTION("size not a multiple of the record") {
    Bytes b = cifar_records({1, 2}, pixels, false);
    b.pop_back();
    write_raw(path, b);
    require_error(read_cifar_files({path}, false), path, "not a multiple of the 3073-byte");
  }
  SECTION("CIFAR-10 file read as CIFAR-100") {
    write_raw(path, cifar_records({1, 2}, pixels, false));
    require_error(read_cifar_files({path}, true), path, "3074-byte CIFAR-100");
  }
  SECTION("label out of range") {
    write_raw(path, cifar_records({1, 10}, pixels, false));
    require_error(read_cifar_files({path}, false), path, "record 1 has label 10");
    write_raw(path, cifar_records({100, 1}, pixels, true));
    require_error(read_cifar_files({path}, true), path, "record 0 has label 100");
  }
}

TEST_CASE("load_dataset reads an MNIST directory with raw and gzip files", "[data][load]") {
  TempDir tmp;
  const IdxFixture train(12, 10), test(4, 11);
  write_mnist_dir(tmp.path(), train, test);
  auto d = load_dataset(options("mnist", tmp.path().string()));
  REQUIRE(d.ok());
  CHECK(d->name == "mnist");
  CHECK((d->channels == 1 && d->height == 28 && d->width == 28 && d->classes == 10));
  CHECK(d->train.images == train.pixels);
  CHECK(d->test.labels == test.labels);

  SECTION("subsets keep the first examples") {
    auto sub = load_dataset(options("mnist", tmp.path().string(), 5, 4));
    REQUIRE(sub.ok());
    CHECK(sub->train.size() == 5);
    CHECK(sub->train.images == Bytes(train.pixels.begin(), train.pixels.begin() + 5 * 784));
    CHECK(sub->test.size() == 4);
  }
  SECTION("subset errors name the key") {
    require_error(load_dataset(options("mnist", tmp.path().string(), 13)),
                  "train_subset", "exceeds the 12 examples");
    require_error(load_dataset(options("mnist", tmp.path().string(), 0, -1)),
                  "test_subset", ">= 0");
  }
  SECTION("a missing file is named with both spellings") {
    fs::remove(tmp.path() / "t10k-labels-idx1-ubyte");
    require_error(load_dataset(options("mnist", tmp.path().string())),
                  "t10k-labels-idx1-ubyte[.gz]", "file not found");
  }
}

TEST_CASE("load_dataset finds CIFAR files in the archive's subdirectory", "[data][load]") {
  TempDir tmp;
  const Bytes pixels = pattern_bytes(2 * 3072, 5);
  SECTION("cifar10") {
    const fs::path dir = tmp.path() / "cifar-10-batches-bin";
    for (int i = 1; i <= 5; ++i)
      write_raw((dir / ("data_batch_" + std::to_string(i) + ".bin")).string(),
                cifar_records({static_cast<uint8_t>(i), 0}, pixels, false));
    write_raw((dir / "test_batch.bin").string(), cifar_records({9, 8}, pixels, false));
    auto d = load_dataset(options("cifar10", tmp.path().string()));
    REQUIRE(d.ok());
    CHECK((d->channels == 3 && d->height == 32 && d->width == 32 && d->classes == 10));
    CHECK(d->train.labels == Bytes{1, 0, 2, 0, 3, 0, 4, 0, 5, 0});
    CHECK(d->test.labels == Bytes{9, 8});
    CHECK(Bytes(d->train.images.begin(), d->train.images.begin() + 2 * 3072) == pixels);

    fs::remove(dir / "data_batch_4.bin");
    require_error(load_dataset(options("cifar10", tmp.path().string())),
                  "data_batch_4.bin", "file not found");
  }
  SECTION("cifar100") {
    const fs::path dir = tmp.path() / "cifar-100-binary";
    write_raw((dir / "train.bin").string(), cifar_records({42, 99}, pixels, true));
    write_raw((dir / "test.bin").string(), cifar_records({0, 1}, pixels, true));
    auto d = load_dataset(options("cifar100", tmp.path().string()));
    REQUIRE(d.ok());
    CHECK(d->classes == 100);
    CHECK(d->train.labels == Bytes{42, 99});
    CHECK(d->test.images == pixels);
  }
}

TEST_CASE("load_dataset directory errors say how to fix them", "[data][load]") {
  TempDir tmp;
  const std::string missing = (tmp.path() / "nope").string();
  require_error(load_dataset(options("fashion-mnist", missing)), missing,
                "apt-get install dataset-fashion-mnist");
  require_error(load_dataset(options("mnist", missing)), missing, "--data-dir");
  require_error(load_dataset(options("cifar10")), "cifar10", "--data-dir");
  require_error(load_dataset(options("cifar100", tmp.path().string())), "train.bin",
                "file not found");
}

TEST_CASE("the installed Fashion-MNIST loads", "[data][load][fashion]") {
  // tools/setup installs it: the default dataset missing is a broken set-up, not a skip.
  INFO(kFashionMnistDir << " must exist (apt-get install dataset-fashion-mnist)");
  REQUIRE(fs::is_directory(kFashionMnistDir));
  auto d = load_dataset({});
  REQUIRE(d.ok());
  CHECK(d->train.size() == 60000);
  CHECK(d->test.size() == 10000);
  CHECK((d->channels == 1 && d->height == 28 && d->width == 28 && d->classes == 10));
  CHECK(d->train.images.size() == size_t{60000} * 784);
  std::set<int> classes(d->train.labels.begin(), d->train.labels.end());
  CHECK(classes.size() == 10);
}

TEST_CASE("synthetic data is deterministic in the seed", "[data][synthetic]") {
  const Dataset a = make_synthetic(50, 20, 3, 16, 4, 7), b = make_synthetic(50, 20, 3, 16, 4, 7);
  const Dataset c = make_synthetic(50, 20, 3, 16, 4, 8);
  CHECK(a.train.images.size() == size_t{50} * 3 * 16 * 16);
  CHECK(a.test.labels.size() == 20);
  CHECK(a.train.images == b.train.images);
  CHECK(a.train.labels == b.train.labels);
  CHECK(a.test.images == b.test.images);
  CHECK(a.train.images != c.train.images);
  // A smaller split is a prefix of a larger one: subsets mean the same examples.
  const Dataset small = make_synthetic(10, 5, 3, 16, 4, 7);
  CHECK(std::equal(small.train.images.begin(), small.train.images.end(), a.train.images.begin()));
  CHECK(std::equal(small.test.labels.begin(), small.test.labels.end(), a.test.labels.begin()));
}

TEST_CASE("synthetic classes are learnable by a nearest-class-mean classifier", "[data][synthetic]") {
  DataOptions synthetic = options("synthetic");
  synthetic.synthetic_seed = 3;
  auto loaded = load_dataset(synthetic);
  REQUIRE(loaded.ok());
  const Dataset& d = *loaded;
  CHECK((d.train.size() == 6000 && d.test.size() == 1000));
  CHECK((d.channels == 1 && d.height == 28 && d.width == 28 && d.classes == 10));

  const size_t elems = static_cast<size_t>(d.image_elems());
  std::vector<std::vector<double>> means(10, std::vector<double>(elems));
  std::vector<int> counts(10);
  for (int64_t i = 0; i < d.train.size(); ++i) {
    const int k = d.train.labels[i];
    ++counts[k];
    for (size_t j = 0; j < elems; ++j) means[k][j] += d.train.images[i * elems + j];
  }
  for (int k = 0; k < 10; ++k) {
    REQUIRE(counts[k] > 0);
    for (double& m : means[k]) m /= counts[k];
  }
  int correct = 0;
  double own_class_squares = 0;  // squared distance to the true class mean
  for (int64_t i = 0; i < d.test.size(); ++i) {
    int best = 0;
    double best_dist = INFINITY;
    for (int k = 0; k < 10; ++k) {
      double dist = 0;
      for (size_t j = 0; j < elems; ++j) {
        const double diff = d.test.images[i * elems + j] - means[k][j];
        dist += diff * diff;
      }
      if (dist < best_dist) best = k, best_dist = dist;
      if (k == d.test.labels[i]) own_class_squares += dist;
    }
    correct += best == d.test.labels[i];
  }
  const double accuracy = correct / static_cast<double>(d.test.size());
  const double rms = std::sqrt(own_class_squares / (d.test.size() * elems));
  INFO("nearest-class-mean accuracy " << accuracy << ", within-class rms " << rms);
  CHECK(accuracy > 0.9);
  CHECK(rms > 35);  // not trivial: examples are noisy variations, not copies of a prototype
}

TEST_CASE("normalisation matches a hand computation", "[data][norm]") {
  // Two examples of (2, 1, 2): channel 0 holds {0, 255, 255, 255}, channel 1 is constant.
  Dataset d{"hand", 2, 1, 2, 2, {}, {}};
  d.train.images = {0, 255, 7, 7, 255, 255, 7, 7};
  d.train.labels = {0, 1};
  const Normalization norm = compute_normalization(d);
  REQUIRE(norm.mean.size() == 2);
  CHECK(norm.mean[0] == Approx(0.75));
  CHECK(norm.stddev[0] == Approx(std::sqrt(0.1875)));  // population: sqrt(0.75 * 0.25)
  CHECK(norm.mean[1] == Approx(7 / 255.0));
  CHECK(norm.stddev[1] == 1.0f);  // constant channel: no division by zero

  std::vector<float> images(2 * 2 * 1 * 2);
  std::vector<int32_t> labels(2);
  d.test.images = {255, 0, 7, 200};  // one example; channel 1 differs from training
  d.test.labels = {1};
  fill_examples(d, d.test, norm, 0, 1, images.data(), labels.data());
  CHECK(images[0] == Approx((1 - 0.75) / std::sqrt(0.1875)));
  CHECK(images[1] == Approx((0 - 0.75) / std::sqrt(0.1875)));
  CHECK(images[2] == Approx(0).margin(1e-6));
  CHECK(images[3] == Approx((200 - 7) / 255.0));
  CHECK(labels[0] == 1);
  for (float v : images) CHECK(std::isfinite(v));

  fill_examples(d, d.train, norm, 1, 1, images.data(), labels.data());
  CHECK(images[0] == Approx((1 - 0.75) / std::sqrt(0.1875)));
  CHECK(labels[0] == 1);
}

TEST_CASE("the batcher covers each example at most once per epoch", "[data][batcher]") {
  const Dataset d = indexed_dataset(50);
  TrainBatcher batcher(d, identity_norm(1), 8, {}, 42);
  REQUIRE(batcher.batches_per_epoch() == 6);  // floor(50 / 8)

  std::vector<std::vector<int>> epochs(3);
  for (auto& order : epochs)
    for (int b = 0; b < 6; ++b) {
      const Batch batch = draw(batcher, d, 8);
      const std::vector<int> idx = indices_of(batch, d.image_elems());
      for (size_t i = 0; i < idx.size(); ++i) CHECK(batch.labels[i] == idx[i] % 10);
      order.insert(order.end(), idx.begin(), idx.end());
    }
  for (const auto& order : epochs) {
    CHECK(std::set<int>(order.begin(), order.end()).size() == 48);
    CHECK(*std::max_element(order.begin(), order.end()) < 50);
  }
  CHECK(epochs[0] != epochs[1]);
  CHECK(epochs[1] != epochs[2]);
  const auto s = batcher.state();
  CHECK((s.epoch == 3 && s.batch_in_epoch == 0));
}

TEST_CASE("the batcher is a function of the seed and restores exactly", "[data][batcher]") {
  const Dataset d = make_synthetic(30, 0, 2, 6, 3, 1);
  const Normalization norm = compute_normalization(d);
  const Augment augment{.crop_pad = 2, .flip = true};
  TrainBatcher a(d, norm, 7, augment, 5), b(d, norm, 7, augment, 5), other_seed(d, norm, 7, augment, 6);
  REQUIRE(a.batches_per_epoch() == 4);
  for (int i = 0; i < 6; ++i) {
    const Batch from_a = draw(a, d, 7);
    CHECK(from_a == draw(b, d, 7));
    CHECK_FALSE(from_a == draw(other_seed, d, 7));
  }

  // Save mid-epoch, run on across an epoch boundary, and replay from the saved state in a
  // fresh batcher, one behind and one ahead (same epoch, later batch).
  const TrainBatcher::State saved = a.state();
  CHECK((saved.epoch == 1 && saved.batch_in_epoch == 2));
  std::vector<Batch> expected;
  for (int i = 0; i < 9; ++i) expected.push_back(draw(a, d, 7));
  TrainBatcher fresh(d, norm, 7, augment, 5), behind(d, norm, 7, augment, 5);
  for (int i = 0; i < 3; ++i) draw(behind, d, 7);
  draw(b, d, 7);
  for (TrainBatcher* replay : {&fresh, &behind, &b}) {
    replay->restore(saved);
    for (int i = 0; i < 9; ++i) CHECK(draw(*replay, d, 7) == expected[i]);
  }
}

TEST_CASE("augmented images are shifted, zero-padded and flipped originals", "[data][batcher]") {
  // 10 examples of (2, 3, 4); label i identifies example i. Pixels are >= 1, so with the
  // identity normalisation only padding is 0.
  constexpr int kC = 2, kH = 3, kW = 4, kPad = 1;
  Dataset d{"aug", kC, kH, kW, 10, {}, {}};
  d.train.images = pattern_bytes(10 * kC * kH * kW, 9);
  for (auto& v : d.train.images) v = static_cast<uint8_t>(std::max<int>(v, 1));
  for (uint8_t i = 0; i < 10; ++i) d.train.labels.push_back(i);

  // Reference: pad by kPad with 0, take the window at (top, left), mirror if asked.
  auto transform = [&](int index, int top, int left, bool flip) {
    std::vector<float> padded(kC * (kH + 2 * kPad) * (kW + 2 * kPad), 0.0f), out;
    const int pw = kW + 2 * kPad, ph = kH + 2 * kPad;
    for (int c = 0; c < kC; ++c)
      for (int y = 0; y < kH; ++y)
        for (int x = 0; x < kW; ++x)
          padded[(c * ph + y + kPad) * pw + x + kPad] =
              d.train.images[((index * kC + c) * kH + y) * kW + x] / 255.0f;
    for (int c = 0; c < kC; ++c)
      for (int y = 0; y < kH; ++y)
        for (int x = 0; x < kW; ++x)
          out.push_back(padded[(c * ph + top + y) * pw + left + (flip ? kW - 1 - x : x)]);
    return out;
  };

  TrainBatcher batcher(d, identity_norm(kC), 5, {.crop_pad = kPad, .flip = true}, 11);
  std::set<std::tuple<int, int, bool>> seen;
  for (int step = 0; step < 100; ++step) {
    const Batch batch = draw(batcher, d, 5);
    for (int b = 0; b < 5; ++b) {
      const std::vector<float> image(batch.images.begin() + b * kC * kH * kW,
                                     batch.images.begin() + (b + 1) * kC * kH * kW);
      bool matched = false;
      for (int top = 0; top <= 2 * kPad; ++top)
        for (int left = 0; left <= 2 * kPad; ++left)
          for (bool flip : {false, true}) {
            const std::vector<float> ref = transform(batch.labels[b], top, left, flip);
            const bool same = std::equal(image.begin(), image.end(), ref.begin(),
                                         [](float u, float v) { return std::fabs(u - v) < 1e-6f; });
            if (same) seen.insert({top, left, flip}), matched = true;
          }
      CHECK(matched);
    }
  }
  CHECK(seen.size() == 18);  // every window and both orientations occur
}

namespace {

// n training examples of 2 bytes each whose image spells its index: (index mod 256, index / 256).
Dataset numbered_dataset(int n) {
  Dataset d;
  d.name = "indexed";
  d.channels = 1, d.height = 1, d.width = 2, d.classes = 10;
  for (int i = 0; i < n; ++i) {
    d.train.images.push_back(uint8_t(i % 256));
    d.train.images.push_back(uint8_t(i / 256));
    d.train.labels.push_back(uint8_t(i % 10));
  }
  return d;
}

std::vector<int> indices_of(const Split& split) {
  std::vector<int> out;
  for (int64_t i = 0; i < split.size(); ++i)
    out.push_back(split.images[size_t(2 * i)] + 256 * split.images[size_t(2 * i + 1)]);
  return out;
}

}  // namespace

TEST_CASE("the validation split is disjoint, complete, ordered and a function of its seed",
          "[data][validation]") {
  Dataset d = numbered_dataset(1000);
  REQUIRE(split_validation(d, 100, 7).ok());
  const std::vector<int> train = indices_of(d.train), validation = indices_of(d.validation);
  REQUIRE(train.size() == 900);
  REQUIRE(validation.size() == 100);
  CHECK(std::is_sorted(train.begin(), train.end()));
  CHECK(std::is_sorted(validation.begin(), validation.end()));
  std::set<int> all(train.begin(), train.end());
  for (int i : validation) CHECK(all.insert(i).second);  // disjoint
  CHECK(all.size() == 1000);                              // and together the whole set
  for (int64_t i = 0; i < d.validation.size(); ++i)       // labels travel with their images
    CHECK(d.validation.labels[size_t(i)] == validation[size_t(i)] % 10);

  // The documented rule, computed here independently: the first 100 steps of a Fisher–Yates
  // shuffle driven by Rng(7).
  std::vector<int> order(1000);
  for (int i = 0; i < 1000; ++i) order[size_t(i)] = i;
  Rng rng(7);
  for (int i = 0; i < 100; ++i) std::swap(order[size_t(i)], order[size_t(i) + rng.below(1000 - i)]);
  std::vector<int> expected(order.begin(), order.begin() + 100);
  std::sort(expected.begin(), expected.end());
  CHECK(validation == expected);

  Dataset again = numbered_dataset(1000), other = numbered_dataset(1000);
  REQUIRE(split_validation(again, 100, 7).ok());
  REQUIRE(split_validation(other, 100, 8).ok());
  CHECK(indices_of(again.validation) == validation);
  CHECK(indices_of(other.validation) != validation);
  // Spread over the whole set, not a block at one end.
  CHECK(validation.front() < 100);
  CHECK(validation.back() >= 900);
}

TEST_CASE("a validation split that leaves no training data names the key", "[data][validation]") {
  Dataset d = numbered_dataset(50);
  const Status s = split_validation(d, 50, 0);
  REQUIRE_FALSE(s.ok());
  CHECK_THAT(s.error().message, Catch::StartsWith("dataset.validation: 50 must be below the 50"));
  CHECK(d.train.size() == 50);  // unchanged
  REQUIRE(split_validation(d, 0, 0).ok());
  CHECK(d.validation.size() == 0);
}

TEST_CASE("load_dataset holds out the validation set after the training subset", "[data][validation]") {
  DataOptions o;
  o.name = "synthetic";
  o.train_subset = 600;
  o.validation = 100;
  o.validation_seed = 3;
  auto d = load_dataset(o);
  REQUIRE(d.ok());
  CHECK(d->train.size() == 500);
  CHECK(d->validation.size() == 100);
  CHECK(d->validation.images.size() == size_t(100 * d->image_elems()));
  o.validation = 600;
  auto too_many = load_dataset(o);
  REQUIRE_FALSE(too_many.ok());
  CHECK_THAT(too_many.error().message, Catch::Contains("dataset.validation"));
}
