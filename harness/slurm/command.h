// Running another program (sbatch, squeue, scontrol) and capturing what it prints. The
// Slurm executor talks to Slurm only through its commands, as a user would: they are the
// interface every Slurm release keeps.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "model/base/result.h"

namespace stodepth::harness {

struct CommandOutput {
  int exit_code = 0;  // 128 + signal when killed by one
  std::string out, err;
};

// Runs `argv` (argv[0] looked up in PATH), its standard input empty, and waits for it, at most `timeout` (then it is killed: kBadInput error naming the command). A program
// that cannot be started is a kBadInput Error naming it ("sbatch: not found in PATH …").
Result<CommandOutput> run_command(const std::vector<std::string>& argv,
                                  std::chrono::seconds timeout = std::chrono::seconds(60));

// The first line of `text` that is not blank, trimmed ("" if none): for one-line errors.
std::string first_line(const std::string& text);

}  // namespace stodepth::harness
