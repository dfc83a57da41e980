// The `stodepth` subcommands. Each parses its own flags and returns the process exit code;
// this is the only layer where exceptions are caught (CLI11's and oneDNN's).
#pragma once

#include "tools/exit_codes.h"

namespace stodepth::cli {

int run_train(int argc, char** argv);
int run_bench(int argc, char** argv);
int run_launch(int argc, char** argv);
int run_query(int argc, char** argv);
int run_report(int argc, char** argv);
int run_equivalence(int argc, char** argv);
int run_merge(int argc, char** argv);
int run_status(int argc, char** argv);
int run_run_task(int argc, char** argv);

}  // namespace stodepth::cli
