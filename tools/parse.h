// CLI11 parsing with stodepth's conventions: --help exits 0, a bad flag is one line and
// kExitBadInput.
#pragma once

#include <optional>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "tools/commands.h"

namespace stodepth::cli {

// Parses; returns how to end the command (help shown, or the bad flag), or nullopt to go on.
inline std::optional<CommandResult> parse_flags(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    return bad_input(fmt::format("{} (see --help)", e.what()));
  }
  return std::nullopt;
}

}  // namespace stodepth::cli
