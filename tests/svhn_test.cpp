// Tests for the SVHN reader (model/data/svhn.cpp): MAT files written here with matio (v5, v7
// zlib-compressed, v7.3 HDF5) read back through read_svhn_files and load_dataset; the layout
// conversion, the label mapping 10 -> 0, extra appended, and every error naming its file.
#include <matio.h>

#include <catch2/catch.hpp>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "model/data/dataset.h"
#include "tests/result_checks.h"
#include "tests/temp_dir.h"

namespace fs = std::filesystem;
using namespace stodepth;
using namespace stodepth::data;
using stodepth::testing::TempDir;
using Bytes = std::vector<uint8_t>;

namespace {

constexpr size_t kImage = 3 * 32 * 32;

struct MatFormat {
  mat_ft version = MAT_FT_MAT5;
  matio_compression compression = MAT_COMPRESSION_NONE;
  const char* name = "v5";
};
const MatFormat kV5{}, kV7{MAT_FT_MAT5, MAT_COMPRESSION_ZLIB, "v7 (zlib)"},
    kV73{MAT_FT_MAT73, MAT_COMPRESSION_NONE, "v7.3 (HDF5)"};

// A MAT file being written; closed when destroyed.
class MatWriter {
 public:
  MatWriter(const std::string& path, const MatFormat& format)
      : mat_(Mat_CreateVer(path.c_str(), nullptr, format.version)), format_(format) {
    REQUIRE(mat_ != nullptr);
  }
  ~MatWriter() { Mat_Close(mat_); }
  mat_t* get() { return mat_; }
  MatWriter(const MatWriter&) = delete;
  MatWriter& operator=(const MatWriter&) = delete;

  void add(const char* name, matio_classes class_type, matio_types type, std::vector<size_t> dims,
           void* data) {
    matvar_t* var = Mat_VarCreate(name, class_type, type, static_cast<int>(dims.size()),
                                  dims.data(), data, MAT_F_DONT_COPY_DATA);
    REQUIRE(var != nullptr);
    const int written = Mat_VarWrite(mat_, var, format_.compression);
    Mat_VarFree(var);
    REQUIRE(written == 0);
  }

 private:
  mat_t* mat_;
  MatFormat format_;
};

// An asymmetric value for pixel (n, c, h, w): swapping h and w, or mixing up c and n, changes it.
uint8_t pixel(size_t n, size_t c, size_t h, size_t w) {
  return static_cast<uint8_t>(n * 101 + c * 53 + h * 7 + w);
}

// X as MATLAB holds it: X(h, w, c, n) at h + 32 w + 1024 c + 3072 n.
Bytes column_major_images(size_t count, size_t first_n = 0) {
  Bytes x(count * kImage);
  for (size_t n = 0; n < count; ++n)
    for (size_t c = 0; c < 3; ++c)
      for (size_t w = 0; w < 32; ++w)
        for (size_t h = 0; h < 32; ++h)
          x[h + 32 * w + 1024 * c + kImage * n] = pixel(first_n + n, c, h, w);
  return x;
}

// Our layout, (N, C, H, W) row-major, computed independently of the reader.
Bytes row_major_images(size_t count, size_t first_n = 0) {
  Bytes x(count * kImage);
  for (size_t n = 0; n < count; ++n)
    for (size_t c = 0; c < 3; ++c)
      for (size_t h = 0; h < 32; ++h)
        for (size_t w = 0; w < 32; ++w)
          x[((n * 3 + c) * 32 + h) * 32 + w] = pixel(first_n + n, c, h, w);
  return x;
}

// A format 2 file: X (32, 32, 3, N) uint8 and y (N, 1), double or uint8.
void write_svhn(const std::string& path, Bytes x, std::vector<double> y,
                const MatFormat& format = kV5, bool uint8_labels = false) {
  MatWriter mat(path, format);
  mat.add("X", MAT_C_UINT8, MAT_T_UINT8, {32, 32, 3, x.size() / kImage}, x.data());
  if (uint8_labels) {
    Bytes y8(y.begin(), y.end());
    mat.add("y", MAT_C_UINT8, MAT_T_UINT8, {y8.size(), 1}, y8.data());
  } else {
    mat.add("y", MAT_C_DOUBLE, MAT_T_DOUBLE, {y.size(), 1}, y.data());
  }
}

using stodepth::testing::contains;
using stodepth::testing::require_error;

DataOptions svhn_options(const std::string& dir, bool extra = false) {
  DataOptions o;
  o.name = "svhn";
  o.dir = dir;
  o.extra = extra;
  return o;
}

}  // namespace

TEST_CASE("SVHN files read back as (N, C, H, W) with label 10 as digit 0", "[svhn]") {
  TempDir tmp;
  const std::vector<double> y = {10, 1, 9, 5};
  const std::vector<uint8_t> expected_labels = {0, 1, 9, 5};
  for (const MatFormat& format : {kV5, kV7, kV73}) {
    for (const bool uint8_labels : {false, true}) {
      INFO(format.name << (uint8_labels ? ", uint8 y" : ", double y"));
      const std::string path = tmp.file("train_32x32.mat");
      fs::remove(path);
      write_svhn(path, column_major_images(4), y, format, uint8_labels);
      auto split = read_svhn_files({path});
      REQUIRE(split.ok());
      CHECK(split->labels == expected_labels);
      CHECK(split->images == row_major_images(4));
    }
  }
}

TEST_CASE("one pixel lands where MATLAB's X(h, w, c, n) puts it", "[svhn]") {
  TempDir tmp;
  Bytes x(2 * kImage, 0);
  // MATLAB X(4, 18, 3, 2) = 200, i.e. 0-based h 3, w 17, c 2, n 1.
  x[3 + 32 * 17 + 1024 * 2 + kImage * 1] = 200;
  write_svhn(tmp.file("t.mat"), x, {1, 2}, kV7);
  auto split = read_svhn_files({tmp.file("t.mat")});
  REQUIRE(split.ok());
  const size_t at = 1 * kImage + 2 * 1024 + 3 * 32 + 17;  // (n, c, h, w) row-major
  CHECK(split->images[at] == 200);
  int nonzero = 0;
  for (uint8_t v : split->images) nonzero += v != 0;
  CHECK(nonzero == 1);
}

TEST_CASE("load_dataset reads an SVHN directory and appends extra on request", "[svhn][load]") {
  TempDir tmp;
  write_svhn(tmp.file("train_32x32.mat"), column_major_images(3), {1, 2, 3}, kV7);
  write_svhn(tmp.file("test_32x32.mat"), column_major_images(2, 100), {10, 4}, kV5);
  write_svhn(tmp.file("extra_32x32.mat"), column_major_images(4, 3), {5, 6, 7, 10}, kV7);

  auto plain = load_dataset(svhn_options(tmp.path().string()));
  REQUIRE(plain.ok());
  CHECK(plain->name == "svhn");
  CHECK((plain->channels == 3 && plain->height == 32 && plain->width == 32));
  CHECK(plain->classes == 10);
  CHECK(plain->train.labels == std::vector<uint8_t>{1, 2, 3});
  CHECK(plain->train.images == row_major_images(3));
  CHECK(plain->test.labels == std::vector<uint8_t>{0, 4});
  CHECK(plain->test.images == row_major_images(2, 100));

  auto with_extra = load_dataset(svhn_options(tmp.path().string(), true));
  REQUIRE(with_extra.ok());
  CHECK(with_extra->train.labels == std::vector<uint8_t>{1, 2, 3, 5, 6, 7, 0});
  CHECK(with_extra->train.images == row_major_images(7));  // extra's images follow train's
  CHECK(with_extra->test.labels == std::vector<uint8_t>{0, 4});
}

TEST_CASE("SVHN directory errors say how to fix them", "[svhn][load]") {
  TempDir tmp;
  auto no_dir = load_dataset(svhn_options(""));
  REQUIRE_FALSE(no_dir.ok());
  CHECK(no_dir.error().message.rfind(
            "dataset.dir: svhn needs the directory holding train_32x32.mat and test_32x32.mat",
            0) == 0);
  require_error(load_dataset(svhn_options(tmp.file("absent"))), "absent", "directory not found");
  require_error(load_dataset(svhn_options(tmp.path().string())), tmp.file("train_32x32.mat"),
                "file not found");

  write_svhn(tmp.file("train_32x32.mat"), column_major_images(1), {1});
  require_error(load_dataset(svhn_options(tmp.path().string())), tmp.file("test_32x32.mat"),
                "file not found");
  write_svhn(tmp.file("test_32x32.mat"), column_major_images(1), {1});
  REQUIRE(load_dataset(svhn_options(tmp.path().string())).ok());
  require_error(load_dataset(svhn_options(tmp.path().string(), true)), tmp.file("extra_32x32.mat"),
                "file not found");
}

TEST_CASE("corrupt SVHN files are errors naming the file", "[svhn]") {
  TempDir tmp;
  const std::string path = tmp.file("bad_32x32.mat");
  auto read = [&] { return read_svhn_files({path}); };
  Bytes x = column_major_images(2);
  std::vector<double> y = {1, 2};
  std::string expected;  // set by the sections that only write a file (closed at their end)

  SECTION("not a MAT file") {
    std::ofstream(path) << "this is a text file, not a MATLAB file; it is long enough for a header"
                        << std::string(200, '.');
    require_error(read(), path, "not a MAT v5, v7 or v7.3 file");
  }
  SECTION("a MAT v4 file") {
    expected = "not a MAT v5, v7 or v7.3 file";
    MatWriter mat(path, {MAT_FT_MAT4, MAT_COMPRESSION_NONE, "v4"});
    mat.add("y", MAT_C_DOUBLE, MAT_T_DOUBLE, {2, 1}, y.data());
  }
  SECTION("a struct variable") {
    expected = "a cell, struct, object or sparse variable";
    const char* const fields[] = {"a", nullptr};
    const size_t dims[] = {1, 1};
    MatWriter mat(path, kV7);
    matvar_t* s = Mat_VarCreateStruct2("s", 2, dims, fields);
    REQUIRE(s != nullptr);
    REQUIRE(Mat_VarWrite(mat.get(), s, MAT_COMPRESSION_ZLIB) == 0);
    Mat_VarFree(s);
  }
  SECTION("an empty file") {
    std::ofstream{path};
    require_error(read(), path, "empty file");
  }
  SECTION("no X") {
    expected = "no variable X";
    MatWriter mat(path, kV5);
    mat.add("y", MAT_C_DOUBLE, MAT_T_DOUBLE, {2, 1}, y.data());
  }
  SECTION("no y") {
    expected = "no variable y";
    MatWriter mat(path, kV73);
    mat.add("X", MAT_C_UINT8, MAT_T_UINT8, {32, 32, 3, 2}, x.data());
  }
  SECTION("X of class double") {
    expected = "X must be real uint8, got double";
    std::vector<double> xd(x.begin(), x.end());
    MatWriter mat(path, kV7);
    mat.add("X", MAT_C_DOUBLE, MAT_T_DOUBLE, {32, 32, 3, 2}, xd.data());
    mat.add("y", MAT_C_DOUBLE, MAT_T_DOUBLE, {2, 1}, y.data());
  }
  SECTION("X of rank 3") {
    expected = "expected (32, 32, 3, N)";
    MatWriter mat(path, kV5);
    mat.add("X", MAT_C_UINT8, MAT_T_UINT8, {32, 32, 6}, x.data());
    mat.add("y", MAT_C_DOUBLE, MAT_T_DOUBLE, {2, 1}, y.data());
  }
  SECTION("X of 28x28 images") {
    expected = "X has shape (28, 28, 3, 2)";
    MatWriter mat(path, kV5);
    mat.add("X", MAT_C_UINT8, MAT_T_UINT8, {28, 28, 3, 2}, x.data());
    mat.add("y", MAT_C_DOUBLE, MAT_T_DOUBLE, {2, 1}, y.data());
  }
  SECTION("y of class int32") {
    expected = "y must be real double or uint8 labels, got int32";
    std::vector<int32_t> y32 = {1, 2};
    MatWriter mat(path, kV5);
    mat.add("X", MAT_C_UINT8, MAT_T_UINT8, {32, 32, 3, 2}, x.data());
    mat.add("y", MAT_C_INT32, MAT_T_INT32, {2, 1}, y32.data());
  }
  SECTION("y of shape (2, 2)") {
    expected = "y has shape (2, 2), expected (N, 1)";
    std::vector<double> y4 = {1, 2, 3, 4};
    MatWriter mat(path, kV5);
    mat.add("X", MAT_C_UINT8, MAT_T_UINT8, {32, 32, 3, 2}, x.data());
    mat.add("y", MAT_C_DOUBLE, MAT_T_DOUBLE, {2, 2}, y4.data());
  }

  SECTION("X and y counts differ") {
    write_svhn(path, x, {1, 2, 3}, kV7);
    require_error(read(), path, "X holds 2 images but y holds 3 labels");
  }
  SECTION("label 0") {
    write_svhn(path, x, {1, 0});
    require_error(read(), path, "y(2) is 0, expected a label 1..10");
  }
  SECTION("label 11 as uint8") {
    write_svhn(path, x, {11, 1}, kV73, true);
    require_error(read(), path, "y(1) is 11, expected a label 1..10");
  }
  SECTION("label 2.5") {
    write_svhn(path, x, {1, 2.5}, kV7);
    require_error(read(), path, "y(2) is 2.5");
  }
  SECTION("X claiming more images than the file holds") {
    write_svhn(path, x, y);
    // A v5 file: 128-byte header, the matrix tag (8), array flags (16), the dims tag (8), then
    // the dims as int32: N is the fourth.
    constexpr std::streamoff kCountOffset = 128 + 8 + 16 + 8 + 3 * 4;
    std::fstream file(path, std::ios::in | std::ios::out | std::ios::binary);
    int32_t count = 0;
    file.seekg(kCountOffset);
    file.read(reinterpret_cast<char*>(&count), sizeof count);
    REQUIRE(count == 2);
    count = 600000;
    file.seekp(kCountOffset);
    file.write(reinterpret_cast<const char*>(&count), sizeof count);
    file.close();
    require_error(read(), path, "X claims 600000 images, more than a");
  }
  SECTION("a rank of millions") {  // matio would allocate and fill gigabytes for the dims
    write_svhn(path, x, y);
    // A v5 file: 128-byte header, the matrix tag (8), array flags (16), then the dims tag,
    // whose second word is the dims' length in bytes.
    constexpr std::streamoff kDimsBytesOffset = 128 + 8 + 16 + 4;
    std::fstream file(path, std::ios::in | std::ios::out | std::ios::binary);
    const int32_t bytes = 218959116;
    file.seekp(kDimsBytesOffset);
    file.write(reinterpret_cast<const char*>(&bytes), sizeof bytes);
    file.close();
    require_error(read(), path + ": byte 128", "damaged dimensions");
  }
  SECTION("a truncated file") {
    for (const MatFormat& format : {kV5, kV7, kV73}) {
      INFO(format.name);
      fs::remove(path);
      write_svhn(path, x, y, format);
      fs::resize_file(path, fs::file_size(path) / 2);
      auto r = read();
      require_error(r, path, "a truncated download");
    }
  }
  if (!expected.empty()) require_error(read(), path, expected);
}
