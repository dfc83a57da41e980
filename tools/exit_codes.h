// The process exit codes, and the one place an Error's kind becomes one.
#pragma once

#include "model/base/result.h"

namespace stodepth::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitInternal = 1;    // a bug, the environment, or failing storage
inline constexpr int kExitBadInput = 2;    // invalid flag, config, sweep file, dataset or database
inline constexpr int kExitDiverged = 3;    // train: the loss became NaN/Inf
inline constexpr int kExitJobsFailed = 4;  // launch: some jobs failed or diverged
inline constexpr int kExitInterrupted = 130;

// Bad input is the user's to fix (2); failing storage, a damaged file that could not be set
// aside, and internal errors are not (1).
constexpr int exit_code(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kBadInput: return kExitBadInput;
    case ErrorKind::kStorage:
    case ErrorKind::kDamaged:
    case ErrorKind::kInternal: return kExitInternal;
  }
  return kExitInternal;
}
inline int exit_code(const Error& error) { return exit_code(error.kind); }

}  // namespace stodepth::cli
