// load_dataset: resolves a dataset name and directory to files, reads and validates them.
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <new>

#include "model/base/did_you_mean.h"
#include "model/data/dataset.h"
#include "model/data/validation_split.h"

namespace stodepth::data {
namespace fs = std::filesystem;
namespace {

constexpr int64_t kSyntheticTrain = 6000, kSyntheticTest = 1000;

Error unknown_name(const std::string& name) {
  const auto& names = dataset_names();
  const std::string closest = closest_match(name, names);
  const std::string hint = closest.empty() ? "" : fmt::format("; did you mean '{}'?", closest);
  return bad_input(
      fmt::format("dataset: unknown name '{}' (valid: {}){}", name, fmt::join(names, ", "), hint));
}

// The directory to read `name` from, checked to exist.
Result<fs::path> data_dir(const DataOptions& options) {
  const bool fashion = options.name == "fashion-mnist";
  if (options.dir.empty() && options.name == "svhn")
    return bad_input(
        "dataset.dir: svhn needs the directory holding train_32x32.mat and test_32x32.mat "
        "(pass --data-dir)");
  if (options.dir.empty() && !fashion)
    return bad_input(
        fmt::format("dataset: {} needs a data directory (pass --data-dir)", options.name));
  const fs::path dir = options.dir.empty() ? fs::path(kFashionMnistDir) : fs::path(options.dir);
  std::error_code ec;
  if (fs::is_directory(dir, ec)) return dir;
  const std::string fix = fashion ? "install it: apt-get install dataset-fashion-mnist, or pass --data-dir"
                                  : "pass --data-dir with the extracted dataset";
  return bad_input(fmt::format("{}: {} directory not found ({})", dir.string(), options.name, fix));
}

// `file` or `file.gz` in dir.
Result<std::string> find_file(const fs::path& dir, const std::string& file) {
  std::error_code ec;
  for (const std::string& candidate : {file + ".gz", file})
    if (fs::exists(dir / candidate, ec)) return (dir / candidate).string();
  return bad_input(
      fmt::format("{}[.gz]: file not found (pass --data-dir with the complete dataset)",
                  (dir / file).string()));
}

Result<Split> load_idx_split(const fs::path& dir, const std::string& prefix) {
  auto images = find_file(dir, prefix + "-images-idx3-ubyte");
  if (!images) return images.error();
  auto labels = find_file(dir, prefix + "-labels-idx1-ubyte");
  if (!labels) return labels.error();
  return read_idx_pair(*images, *labels, 28, 28, 10);
}

Result<Dataset> load_idx(const DataOptions& options, const fs::path& dir) {
  auto train = load_idx_split(dir, "train");
  if (!train) return train.error();
  auto test = load_idx_split(dir, "t10k");
  if (!test) return test.error();
  return Dataset{options.name, 1, 28, 28, 10, std::move(*train), std::move(*test)};
}

// CIFAR archives extract to a subdirectory; accept dir or dir/<subdir>.
fs::path cifar_dir(const fs::path& dir, const std::string& subdir, const std::string& probe) {
  std::error_code ec;
  if (!fs::exists(dir / probe, ec) && fs::is_directory(dir / subdir, ec)) return dir / subdir;
  return dir;
}

Result<Dataset> load_cifar(const DataOptions& options, const fs::path& dir) {
  const bool cifar100 = options.name == "cifar100";
  std::vector<std::string> train_files, test_files;
  if (cifar100) {
    const fs::path base = cifar_dir(dir, "cifar-100-binary", "train.bin");
    train_files = {(base / "train.bin").string()};
    test_files = {(base / "test.bin").string()};
  } else {
    const fs::path base = cifar_dir(dir, "cifar-10-batches-bin", "data_batch_1.bin");
    for (int i = 1; i <= 5; ++i) train_files.push_back((base / fmt::format("data_batch_{}.bin", i)).string());
    test_files = {(base / "test_batch.bin").string()};
  }
  auto train = read_cifar_files(train_files, cifar100);
  if (!train) return train.error();
  auto test = read_cifar_files(test_files, cifar100);
  if (!test) return test.error();
  return Dataset{options.name, 3, 32, 32, cifar100 ? 100 : 10, std::move(*train),
                 std::move(*test)};
}

// SVHN format 2: {train, test, extra}_32x32.mat; extra (531131 images) joins train on request.
Result<Dataset> load_svhn(const DataOptions& options, const fs::path& dir) {
  std::vector<std::string> train_files = {(dir / "train_32x32.mat").string()};
  if (options.extra) train_files.push_back((dir / "extra_32x32.mat").string());
  auto train = read_svhn_files(train_files);
  if (!train) return train.error();
  auto test = read_svhn_files({(dir / "test_32x32.mat").string()});
  if (!test) return test.error();
  return Dataset{options.name, 3, 32, 32, 10, std::move(*train), std::move(*test)};
}

Status check_subset_sign(const char* key, int64_t n) {
  if (n < 0)
    return bad_input(fmt::format("{}: must be >= 0 (0 means the whole split), got {}", key, n));
  return ok_status();
}

// Keeps the first n examples (n == 0: all).
Status apply_subset(const char* key, int64_t n, int64_t image_elems, Split& split) {
  if (n == 0) return ok_status();
  if (n > split.size())
    return bad_input(
        fmt::format("{}: {} exceeds the {} examples of the split (lower it or use 0 for all)", key,
                    n, split.size()));
  split.labels.resize(static_cast<size_t>(n));
  split.images.resize(static_cast<size_t>(n * image_elems));
  split.labels.shrink_to_fit();
  split.images.shrink_to_fit();
  return ok_status();
}

Result<Dataset> load_by_name(const DataOptions& options) {
  if (options.name == "synthetic")
    return make_synthetic(kSyntheticTrain, kSyntheticTest, 1, 28, 10, options.synthetic_seed);
  auto dir = data_dir(options);
  if (!dir) return dir.error();
  if (options.name == "fashion-mnist" || options.name == "mnist") return load_idx(options, *dir);
  if (options.name == "svhn") return load_svhn(options, *dir);
  return load_cifar(options, *dir);
}

}  // namespace

Result<Dataset> load_dataset(const DataOptions& options) try {
  const auto& names = dataset_names();
  if (std::find(names.begin(), names.end(), options.name) == names.end())
    return unknown_name(options.name);
  if (Status s = check_subset_sign("train_subset", options.train_subset); !s) return s.error();
  if (Status s = check_subset_sign("test_subset", options.test_subset); !s) return s.error();

  auto dataset = load_by_name(options);
  if (!dataset) return dataset;
  Dataset& d = *dataset;
  if (Status s = apply_subset("train_subset", options.train_subset, d.image_elems(), d.train); !s)
    return s.error();
  if (Status s = apply_subset("test_subset", options.test_subset, d.image_elems(), d.test); !s)
    return s.error();
  if (Status s = split_validation(d, options.validation, options.validation_seed); !s)
    return s.error();
  return dataset;
} catch (const std::bad_alloc&) {
  return bad_input(fmt::format("dataset: out of memory loading {} (use train_subset/test_subset?)",
                               options.name));
}

}  // namespace stodepth::data
