// The `stodepth` subcommands. Each parses its own flags and returns a CommandResult: the exit
// code, or the Error that main prints once, "stodepth <command>: <message>". This is the only
// layer where exceptions are caught (CLI11's; the engine returns oneDNN's as Errors).
#pragma once

#include <optional>
#include <utility>

#include "model/base/result.h"
#include "tools/exit_codes.h"

namespace stodepth::cli {

// How a command ends: an exit code, or an Error (exit code by its kind, or one given).
class CommandResult {
 public:
  CommandResult(int exit_code) : exit_code_(exit_code) {}
  CommandResult(Error error) : exit_code_(cli::exit_code(error)), error_(std::move(error)) {}

  // An Error whose message already names its source ("sweep.yaml:3:5: …"): printed as it is,
  // without the command's name.
  static CommandResult unnamed(Error error) {
    CommandResult result(std::move(error));
    result.named_ = false;
    return result;
  }

  int exit_code() const { return exit_code_; }
  const std::optional<Error>& error() const { return error_; }
  bool named() const { return named_; }

 private:
  int exit_code_;
  std::optional<Error> error_;
  bool named_ = true;
};

CommandResult run_train(int argc, char** argv);
CommandResult run_bench(int argc, char** argv);
CommandResult run_launch(int argc, char** argv);
CommandResult run_query(int argc, char** argv);
CommandResult run_report(int argc, char** argv);
CommandResult run_equivalence(int argc, char** argv);
CommandResult run_merge(int argc, char** argv);
CommandResult run_status(int argc, char** argv);
CommandResult run_serve(int argc, char** argv);
CommandResult run_run_task(int argc, char** argv);

}  // namespace stodepth::cli
