// CLI11 parsing with stodepth's conventions: --help exits 0, a bad flag prints one line
// and exits with kExitBadInput.
#pragma once

#include <optional>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "tools/commands.h"

namespace stodepth::cli {

// Parses; returns the exit code to end the command with, or nullopt to go on.
inline std::optional<int> parse_flags(CLI::App& app, int argc, char** argv,
                                      const char* command) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    fmt::print(stderr, "stodepth {}: {} (see --help)\n", command, e.what());
    return kExitBadInput;
  }
  return std::nullopt;
}

}  // namespace stodepth::cli
