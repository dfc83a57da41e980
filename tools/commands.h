// The `stodepth` subcommands. Each parses its own flags and returns the process exit code;
// this is the only layer where exceptions are caught (CLI11's and oneDNN's).
#pragma once

namespace stodepth::cli {

// Documented exit codes.
inline constexpr int kExitOk = 0;
inline constexpr int kExitInternal = 1;   // a bug or an environment failure
inline constexpr int kExitBadInput = 2;   // invalid flag, config or dataset
inline constexpr int kExitDiverged = 3;   // the loss became NaN/Inf
inline constexpr int kExitJobsFailed = 4;  // launch: some jobs failed or diverged
inline constexpr int kExitInterrupted = 130;

int run_train(int argc, char** argv);
int run_bench(int argc, char** argv);
int run_launch(int argc, char** argv);
int run_query(int argc, char** argv);
int run_report(int argc, char** argv);

}  // namespace stodepth::cli
