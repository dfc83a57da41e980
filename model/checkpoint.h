// Checkpoint files: a run's complete training state at an iteration boundary, so that an
// interrupted run resumes where it stopped and ends bit-identical to an uninterrupted one.
//
// File layout (native byte order; a checkpoint is read back by the build that wrote it):
//   "SDCKPT\r\n"  magic (8 bytes)
//   u32 format version (kCheckpointFormat)
//   u64 payload size, u32 CRC-32 (zlib) of the payload
//   payload: identity (string: whose run this is), iteration (i64), state (model/training_state.h)
// A checkpoint is written to "<path>.tmp", fsynced, renamed over <path> and the directory
// fsynced, so a reader finds the previous complete checkpoint or the new one, never a torn
// file; a damaged one fails its checksum.
//
// Field lists: a state's fields are listed once, in a function template that takes either a
// ByteWriter (each call appends the field) or a ByteReader (each call reads it back into the
// same place), so a field cannot be saved without being restored, nor read at another offset.
// Each call returns false when a reader fails (truncated bytes, or an `expect` mismatch):
//   field(x)                a plain value
//   expect(x)               a value the reader must find equal to its own (a count, a name)
//   floats(v)               a float array of exactly v.size() values
//   paired_optionals(a, b)  two optionals set together: a presence byte, then both values
//                           (0 when absent)
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "model/base/result.h"

namespace stodepth {

inline constexpr uint32_t kCheckpointFormat = 1;

// Appends plain values to a byte buffer.
class ByteWriter {
 public:
  template <typename T>
  void put(const T& value) {
    static_assert(std::is_trivially_copyable_v<T>);
    append(&value, sizeof(T));
  }
  void put_string(const std::string& s) {
    put<uint64_t>(s.size());
    append(s.data(), s.size());
  }
  void put_floats(const float* values, int64_t count) {
    put<int64_t>(count);
    append(values, size_t(count) * sizeof(float));
  }
  void put_floats(const std::vector<float>& values) {
    put_floats(values.data(), int64_t(values.size()));
  }
  const std::vector<char>& bytes() const { return bytes_; }
  std::vector<char> take() { return std::move(bytes_); }

  // The writing side of a field list (see the header comment): every call succeeds.
  static constexpr bool kReads = false;
  template <typename T>
  bool field(const T& value) {
    put(value);
    return true;
  }
  template <typename T>
  bool expect(const T& value) {
    put(value);
    return true;
  }
  bool expect(const std::string& s) {
    put_string(s);
    return true;
  }
  bool floats(const std::vector<float>& values) {
    put_floats(values);
    return true;
  }
  template <typename T>
  bool paired_optionals(const std::optional<T>& a, const std::optional<T>& b) {
    put<uint8_t>(a.has_value());
    put(a.value_or(T{}));
    put(b.value_or(T{}));
    return true;
  }

 private:
  void append(const void* data, size_t n) {
    const size_t at = bytes_.size();
    bytes_.resize(at + n);
    if (n > 0) std::memcpy(bytes_.data() + at, data, n);
  }
  std::vector<char> bytes_;
};

// Reads back what a ByteWriter wrote. Every getter returns false (and leaves the reader
// failed) instead of reading past the end or accepting a length that does not fit.
class ByteReader {
 public:
  ByteReader(const char* data, size_t size) : data_(data), size_(size) {}
  explicit ByteReader(const std::vector<char>& bytes) : ByteReader(bytes.data(), bytes.size()) {}

  template <typename T>
  bool get(T& value) {
    static_assert(std::is_trivially_copyable_v<T>);
    return take(&value, sizeof(T));
  }
  bool get_string(std::string& s) {
    uint64_t n = 0;
    if (!get(n) || n > remaining()) return fail();
    s.assign(data_ + offset_, n);
    offset_ += n;
    return true;
  }
  // Reads a float array that must have exactly `expected` values into `out`.
  bool get_floats(float* out, int64_t expected) {
    int64_t n = 0;
    if (!get(n) || n != expected) return fail();
    return take(out, size_t(n) * sizeof(float));
  }
  // The reading side of a field list (see the header comment).
  static constexpr bool kReads = true;
  template <typename T>
  bool field(T& value) {
    return get(value);
  }
  template <typename T>
  bool expect(const T& own) {
    T saved{};
    return get(saved) && saved == own;
  }
  bool expect(const std::string& own) {
    std::string saved;
    return get_string(saved) && saved == own;
  }
  bool floats(std::vector<float>& values) {
    return get_floats(values.data(), int64_t(values.size()));
  }
  template <typename T>
  bool paired_optionals(std::optional<T>& a, std::optional<T>& b) {
    uint8_t present = 0;
    T saved_a{}, saved_b{};
    if (!get(present) || !get(saved_a) || !get(saved_b)) return false;
    a = present ? std::optional<T>(saved_a) : std::nullopt;
    b = present ? std::optional<T>(saved_b) : std::nullopt;
    return true;
  }

  bool ok() const { return ok_; }
  bool at_end() const { return ok_ && offset_ == size_; }
  size_t offset() const { return offset_; }

 private:
  size_t remaining() const { return size_ - offset_; }
  bool take(void* out, size_t n) {
    if (!ok_ || n > remaining()) return fail();
    std::memcpy(out, data_ + offset_, n);
    offset_ += n;
    return true;
  }
  bool fail() { return ok_ = false; }

  const char* data_;
  size_t size_, offset_ = 0;
  bool ok_ = true;
};

struct Checkpoint {
  std::string identity;
  int64_t iteration = 0;
  std::vector<char> state;
};

// Writes `checkpoint` to `path` atomically (see the header comment).
Status write_checkpoint(const std::string& path, const Checkpoint& checkpoint);
// Reads and verifies a checkpoint: a missing, unreadable, truncated, foreign or damaged file
// is an Error naming the file: kDamaged when the file was read but is not a usable
// checkpoint, kStorage when it is not there or not readable.
Result<Checkpoint> read_checkpoint(const std::string& path);

}  // namespace stodepth
