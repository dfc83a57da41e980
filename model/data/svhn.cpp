// SVHN "format 2" cropped digits (Netzer et al. 2011) through libmatio: each MAT file holds X,
// uint8 (32, 32, 3, N) in MATLAB's column-major order, and y, (N, 1) labels 1..10 where 10 is the
// digit 0. MAT v5, v7 (zlib-compressed) and v7.3 (HDF5: Debian's libmatio is built with it).
#include <fmt/format.h>
#include <matio.h>
#include <zlib.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <new>
#include <utility>

#include "model/config/settings.h"
#include "model/data/dataset.h"

namespace stodepth::data {
namespace {

constexpr int kSide = 32, kChannels = 3, kClasses = 10;
constexpr size_t kPlaneBytes = size_t{kSide} * kSide;
constexpr size_t kImageBytes = kChannels * kPlaneBytes;
// zlib inflates at most 1032:1, so a file of S bytes cannot hold more than 1032 * S bytes of
// data: a header claiming more is corrupt, refused before anything that size is allocated.
constexpr uintmax_t kMaxInflation = 1032;
constexpr const char* kRedownload = "re-download it from http://ufldl.stanford.edu/housenumbers/";

// matio logs why an open or a read failed (to stderr by default). Keep the calling thread's last
// message instead, to put it into the Error.
thread_local std::string matio_message;

void keep_matio_message(int level, char* message) {
  if (level & (MATIO_LOG_LEVEL_ERROR | MATIO_LOG_LEVEL_CRITICAL | MATIO_LOG_LEVEL_WARNING))
    matio_message = std::string(message, std::strcspn(message, "\n"));  // HDF5's: many lines
}

void capture_matio_log() {
  static const int installed = Mat_LogInitFunc("stodepth", keep_matio_message);
  (void)installed;
  matio_message.clear();
}

std::string matio_reason() {
  return matio_message.empty() ? "" : fmt::format("; matio: {}", matio_message);
}

struct MatCloser {
  void operator()(mat_t* mat) const { Mat_Close(mat); }
};
struct VarFreer {
  void operator()(matvar_t* var) const { Mat_VarFree(var); }
};
using MatFile = std::unique_ptr<mat_t, MatCloser>;
using MatVar = std::unique_ptr<matvar_t, VarFreer>;

// An opened file whose X and y headers (not their data) are read and checked.
struct SvhnFile {
  std::string path;
  MatFile mat;
  MatVar images;  // X: header only
  int count = 0;  // N
};

// MATLAB's name of a class, for messages.
std::string class_name(matio_classes class_type) {
  static constexpr const char* kNames[] = {
      "empty", "cell",  "struct", "object", "char",   "sparse", "double", "single",   "int8",
      "uint8", "int16", "uint16", "int32",  "uint32", "int64",  "uint64", "function", "opaque"};
  const auto index = static_cast<size_t>(class_type);
  return index < std::size(kNames) ? kNames[index] : fmt::format("class {}", index);
}

std::string describe_dims(const matvar_t& var) {
  if (var.rank <= 0 || !var.dims) return "()";
  const std::vector<size_t> dims(var.dims, var.dims + var.rank);
  return fmt::format("({})", fmt::join(dims, ", "));
}

Status check_images_header(const std::string& path, const matvar_t& x, uintmax_t file_bytes) {
  if (x.class_type != MAT_C_UINT8 || x.isComplex)
    return bad_input(fmt::format("{}: X must be real uint8, got {}{} (not SVHN format 2: {})", path,
                                 x.isComplex ? "complex " : "", class_name(x.class_type),
                                 kRedownload));
  if (x.rank != 4 || x.dims[0] != kSide || x.dims[1] != kSide || x.dims[2] != kChannels)
    return bad_input(
        fmt::format("{}: X has shape {}, expected (32, 32, 3, N) (not the cropped digits: {})",
                    path, describe_dims(x), kRedownload));
  const size_t count = x.dims[3];
  if (count == 0) return bad_input(fmt::format("{}: X holds no images ({})", path, kRedownload));
  // matio reads with int extents and offsets: SVHN's largest file, extra (531131), fits.
  if (count > INT_MAX / kImageBytes)
    return bad_input(fmt::format(
        "{}: X claims {} images, more than the {} matio can read in one piece (a damaged file? {})",
        path, count, INT_MAX / kImageBytes, kRedownload));
  if (count * kImageBytes > kMaxInflation * file_bytes)
    return bad_input(
        fmt::format("{}: X claims {} images, more than a {}-byte file can hold (corrupt file: {})",
                    path, count, file_bytes, kRedownload));
  return ok_status();
}

Status check_labels_header(const std::string& path, const matvar_t& y, size_t count) {
  if ((y.class_type != MAT_C_DOUBLE && y.class_type != MAT_C_UINT8) || y.isComplex)
    return bad_input(
        fmt::format("{}: y must be real double or uint8 labels, got {}{} (not SVHN format 2: {})",
                    path, y.isComplex ? "complex " : "", class_name(y.class_type), kRedownload));
  // (N, 1) as MATLAB saves it; (1, N) as a 1-D array saved by scipy.io.savemat.
  const bool column = y.rank == 2 && (y.dims[1] == 1 || y.dims[0] == 1);
  if (!column)
    return bad_input(fmt::format("{}: y has shape {}, expected (N, 1) (not SVHN format 2: {})",
                                 path, describe_dims(y), kRedownload));
  const size_t labels = y.dims[0] * y.dims[1];
  if (labels != count)
    return bad_input(fmt::format("{}: X holds {} images but y holds {} labels (a damaged file: {})",
                                 path, count, labels, kRedownload));
  return ok_status();
}

// matio trusts the lengths in a MAT v5 file's variable headers: a damaged file claiming a rank
// of millions makes it allocate and fill gigabytes, and it parses anything that is not v5 or
// v7.3 as MAT v4, whose headers it trusts alike. So before matio sees a file, its header must
// say v5 or v7.3, and each top-level variable of a v5 file must be a plain array whose rank and
// name are small; v7.3 files are HDF5's to check.
namespace mat5 {

constexpr uint32_t kInt8 = 1, kInt32 = 5, kUint32 = 6, kMatrix = 14, kCompressed = 15;
constexpr uint32_t kMaxRank = 32;       // SVHN's X has 4
constexpr uint32_t kMaxNameBytes = 63;  // MATLAB's namelengthmax
// Bytes of a variable's header that are checked: tag, flags, dims, name tag.
constexpr size_t kHeaderBytes = 8 + 16 + 8 + 4 * kMaxRank + 8;

struct Reader {
  std::ifstream in;
  bool swap = false;  // the file's byte order is not ours
  uint32_t u32(const uint8_t* p) const {
    uint32_t v;
    std::memcpy(&v, p, 4);
    return swap ? __builtin_bswap32(v) : v;
  }
  std::vector<uint8_t> read(uintmax_t offset, size_t bytes) {
    std::vector<uint8_t> out(bytes);
    in.clear();
    in.seekg(static_cast<std::streamoff>(offset));
    in.read(reinterpret_cast<char*>(out.data()), static_cast<std::streamsize>(bytes));
    out.resize(static_cast<size_t>(std::max<std::streamsize>(in.gcount(), 0)));
    return out;
  }
};

// Up to `limit` bytes of a zlib stream's output, or nothing if the stream is not zlib.
std::vector<uint8_t> inflate_prefix(const std::vector<uint8_t>& compressed, size_t limit) {
  std::vector<uint8_t> out(limit);
  z_stream z{};
  if (inflateInit(&z) != Z_OK) return {};
  z.next_in = const_cast<uint8_t*>(compressed.data());
  z.avail_in = static_cast<uInt>(compressed.size());
  z.next_out = out.data();
  z.avail_out = static_cast<uInt>(limit);
  const int status = inflate(&z, Z_SYNC_FLUSH);
  out.resize(limit - z.avail_out);
  inflateEnd(&z);
  return status == Z_OK || status == Z_STREAM_END || status == Z_BUF_ERROR ? out
                                                                           : std::vector<uint8_t>{};
}

// Checks one variable: `h` starts at its miMATRIX tag.
Status check_variable(const Reader& r, const std::vector<uint8_t>& h, const std::string& where) {
  auto bad = [&](const char* what) {
    return bad_input(
        fmt::format("{}: {} (a damaged file, or not SVHN format 2: {})", where, what, kRedownload));
  };
  if (h.size() < 8 + 16 + 8 || r.u32(&h[0]) != kMatrix) return bad("not a MATLAB array");
  if (r.u32(&h[8]) != kUint32 || r.u32(&h[12]) != 8) return bad("damaged array flags");
  const uint32_t class_type = r.u32(&h[16]) & 0xff;
  if (class_type < MAT_C_CHAR || class_type == MAT_C_SPARSE || class_type > MAT_C_UINT64)
    return bad("a cell, struct, object or sparse variable");
  const uint32_t dims_bytes = r.u32(&h[28]);
  if (r.u32(&h[24]) != kInt32 || dims_bytes % 4 != 0 || dims_bytes < 8 || dims_bytes > 4 * kMaxRank)
    return bad("damaged dimensions");
  const size_t name_tag = 32 + (dims_bytes + 7) / 8 * 8;
  if (h.size() < name_tag + 8) return bad("truncated variable header");
  const uint32_t name_tag_word = r.u32(&h[name_tag]);
  const bool small = (name_tag_word >> 16) != 0;  // a name of up to 4 bytes packed into its tag
  const uint32_t name_bytes = small ? name_tag_word >> 16 : r.u32(&h[name_tag + 4]);
  if ((small ? name_tag_word & 0xffff : name_tag_word) != kInt8 || name_bytes > kMaxNameBytes)
    return bad("damaged variable name");
  return ok_status();
}

Status check_layout(const std::string& path, uintmax_t file_bytes) {
  Reader r{std::ifstream(path, std::ios::binary)};
  const std::vector<uint8_t> header = r.read(0, 128);
  const auto not_mat = [&] {
    return bad_input(
        fmt::format("{}: not a MAT v5, v7 or v7.3 file (SVHN format 2 ships as MAT files: {})",
                    path, kRedownload));
  };
  if (header.size() < 128) return not_mat();
  if (header[126] == 'M' && header[127] == 'I')
    r.swap = true;
  else if (header[126] != 'I' || header[127] != 'M')
    return not_mat();
  const uint16_t version =
      r.swap ? uint16_t(header[124] << 8 | header[125]) : uint16_t(header[125] << 8 | header[124]);
  if (version == 0x0200) return ok_status();  // v7.3: HDF5
  if (version != 0x0100) return not_mat();
  for (uintmax_t at = 128; at + 8 <= file_bytes;) {
    const std::vector<uint8_t> tag = r.read(at, 8);
    if (tag.size() < 8) break;
    const uint32_t type = r.u32(&tag[0]), bytes = r.u32(&tag[4]);
    const std::string where = fmt::format("{}: byte {}", path, at);
    std::vector<uint8_t> variable;
    if (type == kCompressed) {
      // zlib inflates at most 1032:1: this much input yields the header, if it is there.
      variable = inflate_prefix(r.read(at + 8, std::min<size_t>(bytes, 4096)), kHeaderBytes);
    } else if (type == kMatrix && bytes % 8 == 0) {
      variable = r.read(at, std::min<size_t>(bytes + size_t{8}, kHeaderBytes));
    } else {
      return bad_input(
          fmt::format("{}: not a MATLAB variable (a damaged file: {})", where, kRedownload));
    }
    if (Status s = check_variable(r, variable, where); !s) return s;
    at += 8 + uintmax_t{bytes};
  }
  return ok_status();
}

}  // namespace mat5

Result<SvhnFile> open_svhn_file(const std::string& path) {
  std::error_code ec;
  const uintmax_t file_bytes = std::filesystem::file_size(path, ec);
  if (ec)
    return bad_input(fmt::format(
        "{}: file not found (download SVHN format 2 from http://ufldl.stanford.edu/housenumbers/ "
        "into {})",
        path, setting_of(&TrainConfig::data, &DataOptions::dir).key));
  if (file_bytes == 0) return bad_input(fmt::format("{}: empty file ({})", path, kRedownload));
  if (Status s = mat5::check_layout(path, file_bytes); !s) return s.error();
  capture_matio_log();
  SvhnFile file{path, MatFile(Mat_Open(path.c_str(), MAT_ACC_RDONLY)), nullptr, 0};
  if (!file.mat)
    return bad_input(fmt::format("{}: not a MAT file{} ({})", path, matio_reason(), kRedownload));
  file.images.reset(Mat_VarReadInfo(file.mat.get(), "X"));
  if (!file.images)
    return bad_input(
        fmt::format("{}: no variable X{} (a truncated download, or not SVHN format 2: {})", path,
                    matio_reason(), kRedownload));
  if (Status s = check_images_header(path, *file.images, file_bytes); !s) return s.error();
  file.count = static_cast<int>(file.images->dims[3]);

  const MatVar labels(Mat_VarReadInfo(file.mat.get(), "y"));
  if (!labels)
    return bad_input(
        fmt::format("{}: no variable y{} (a truncated download, or not SVHN format 2: {})", path,
                    matio_reason(), kRedownload));
  if (Status s = check_labels_header(path, *labels, file.images->dims[3]); !s) return s.error();
  return file;
}

// MATLAB's X(h, w, c, n) sits at h + 32 w + 1024 c + 3072 n; we want (N, C, H, W) row-major,
// w + 32 h + 1024 c + 3072 n: within each plane, a transpose of a square.
void transpose_planes(uint8_t* images, size_t count) {
  for (size_t p = 0; p < count * kChannels; ++p) {
    uint8_t* plane = images + p * kPlaneBytes;
    for (int h = 0; h < kSide; ++h)
      for (int w = h + 1; w < kSide; ++w) std::swap(plane[h * kSide + w], plane[w * kSide + h]);
  }
}

// Reads X straight into `images` ((N, C, H, W), sized by the caller): no second copy.
Status read_images(SvhnFile& file, uint8_t* images) {
  capture_matio_log();
  int start[4] = {0, 0, 0, 0}, stride[4] = {1, 1, 1, 1};
  int edge[4] = {kSide, kSide, kChannels, file.count};
  if (Mat_VarReadData(file.mat.get(), file.images.get(), images, start, stride, edge) != 0)
    return bad_input(fmt::format("{}: cannot read X{} (a truncated or damaged file: {})", file.path,
                                 matio_reason(), kRedownload));
  transpose_planes(images, static_cast<size_t>(file.count));
  return ok_status();
}

// Appends y's labels as 0..9 (SVHN's 10 is the digit 0).
Status read_labels(SvhnFile& file, std::vector<uint8_t>& labels) {
  capture_matio_log();
  const MatVar y(Mat_VarRead(file.mat.get(), "y"));
  const size_t count = static_cast<size_t>(file.count);
  const bool is_double = y && y->class_type == MAT_C_DOUBLE;
  const size_t element_bytes = is_double ? sizeof(double) : 1;
  if (!y || !y->data || (!is_double && y->class_type != MAT_C_UINT8) || y->rank != 2 ||
      y->dims[0] * y->dims[1] != count || y->nbytes < count * element_bytes)
    return bad_input(fmt::format("{}: cannot read y{} (a truncated or damaged file: {})", file.path,
                                 matio_reason(), kRedownload));
  for (size_t i = 0; i < count; ++i) {
    const double value = is_double ? static_cast<const double*>(y->data)[i]
                                   : static_cast<const uint8_t*>(y->data)[i];
    if (!(value >= 1 && value <= kClasses) || value != std::floor(value))
      return bad_input(fmt::format(
          "{}: y({}) is {}, expected a label 1..10, 10 for the digit 0 (not SVHN format 2: {})",
          file.path, i + 1, value, kRedownload));
    labels.push_back(static_cast<uint8_t>(value == kClasses ? 0 : value));
  }
  return ok_status();
}

}  // namespace

Result<Split> read_svhn_files(const std::vector<std::string>& paths) try {
  // Every header is checked before any data is read: a bad extra_32x32.mat fails at once, and
  // the split is allocated once at its final size.
  std::vector<SvhnFile> files;
  size_t total = 0;
  for (const std::string& path : paths) {
    auto file = open_svhn_file(path);
    if (!file) return file.error();
    total += static_cast<size_t>(file->count);
    files.push_back(std::move(*file));
  }
  Split split;
  split.images.resize(total * kImageBytes);
  split.labels.reserve(total);
  size_t done = 0;
  for (SvhnFile& file : files) {
    if (Status s = read_images(file, split.images.data() + done * kImageBytes); !s)
      return s.error();
    if (Status s = read_labels(file, split.labels); !s) return s.error();
    done += static_cast<size_t>(file.count);
    file.mat.reset();
  }
  return split;
} catch (const std::bad_alloc&) {
  return bad_input(
      "SVHN: out of memory while loading (train + extra alone take 1.9 GB: set dataset.extra: "
      "false?)");
}

}  // namespace stodepth::data
