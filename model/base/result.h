// Errors as values across module boundaries: Result<T> holds a value or an Error of a kind.
// Exceptions never cross modules: a module catches what its libraries throw (oneDNN,
// yaml-cpp, allocation) at its edge and returns an Error; only tools/ (the CLI) throws.
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace stodepth {

// What kind of failure, so that callers decide by kind (retry, discard, stop) and the CLI
// maps kinds to exit codes in one place (tools/exit_codes.h), never by parsing messages.
enum class ErrorKind {
  kBadInput,  // the user's input: a flag, a sweep file, a dataset, a database not ours
  kStorage,   // the results database or checkpoint storage failed (disk full, file gone)
  kDamaged,   // a file of ours is corrupt (failed its checksum): discard it and start over
  kInternal,  // a bug, or the environment (oneDNN error, out of memory)
};

// What went wrong and how to fix it, in one line: "file:key: message (fix)".
struct Error {
  ErrorKind kind;
  std::string message;
};

inline Error bad_input(std::string m) { return {ErrorKind::kBadInput, std::move(m)}; }
inline Error storage_error(std::string m) { return {ErrorKind::kStorage, std::move(m)}; }
inline Error damaged_file(std::string m) { return {ErrorKind::kDamaged, std::move(m)}; }
inline Error internal_error(std::string m) { return {ErrorKind::kInternal, std::move(m)}; }

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::move(value)) {}
  Result(Error error) : state_(std::move(error)) {}

  bool ok() const { return std::holds_alternative<T>(state_); }
  explicit operator bool() const { return ok(); }

  T& value() & { assert(ok()); return std::get<T>(state_); }
  const T& value() const& { assert(ok()); return std::get<T>(state_); }
  T&& value() && { assert(ok()); return std::get<T>(std::move(state_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() { return value(); }

  const Error& error() const { assert(!ok()); return std::get<Error>(state_); }

 private:
  std::variant<T, Error> state_;
};

// Result of an operation that yields nothing but may fail.
struct Ok {};
using Status = Result<Ok>;
inline Status ok_status() { return Ok{}; }

}  // namespace stodepth
