// stodepth: a research harness for Deep Networks with Stochastic Depth.
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "model/base/did_you_mean.h"
#include "tools/commands.h"

namespace {

using namespace stodepth::cli;

struct Subcommand {
  const char* name;
  const char* summary;
  CommandResult (*run)(int argc, char** argv);
};

constexpr Subcommand kSubcommands[] = {
    {"train", "train one ResNet with or without stochastic depth", run_train},
    {"launch", "run or resume a sweep into the results database", run_launch},
    {"query", "query the results database: runs, curves, summaries, SQL", run_query},
    {"report", "write the ResNet vs stochastic-depth comparison report of a sweep", run_report},
    {"equivalence", "test whether two sets of accuracies are equal within a margin (TOST)",
     run_equivalence},
    {"bench", "measure training throughput and the stochastic-depth speedup", run_bench},
    {"status",
     "show where each job of a sweep is (state, iteration, pace, Slurm state), with an ETA",
     run_status},
    {"serve", "watch and compare sweeps live in the browser (a web server, read-only)",
     run_serve},
    {"merge", "fold the ended store shards of cluster runs into the results database", run_merge},
};
// What a Slurm batch script runs on a node: not for users, so not in the usage.
constexpr Subcommand kHiddenSubcommands[] = {
    {"run-task", "run one store shard's job", run_run_task},
};

void print_usage() {
  fmt::print("stodepth {}: Deep Networks with Stochastic Depth, measured.\n\n", STODEPTH_VERSION);
  fmt::print("usage: stodepth <command> [flags]   (stodepth <command> --help for its flags)\n\n");
  for (const auto& c : kSubcommands) fmt::print("  {:<8} {}\n", c.name, c.summary);
  fmt::print("\nexit codes: 0 ok, 1 internal error, 2 bad input, 3 diverged (train), 4 jobs failed (launch), 130 interrupted\n");
}

// Runs a command, and prints its error once: the one place a command's failure meets stderr.
int run_subcommand(const Subcommand& command, int argc, char** argv) {
  try {
    const CommandResult result = command.run(argc, argv);
    if (const auto& error = result.error()) {
      std::fflush(stdout);  // what the command printed comes first (e.g. a dry run's table)
      if (result.named())
        fmt::print(stderr, "stodepth {}: {}\n", command.name, error->message);
      else
        fmt::print(stderr, "{}\n", error->message);
    }
    return result.exit_code();
  } catch (const std::exception& e) {
    fmt::print(stderr, "stodepth {}: internal error: {}\n", command.name, e.what());
  }
  return kExitInternal;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h")) {
    print_usage();
    return argc < 2 ? kExitBadInput : kExitOk;
  }
  if (!std::strcmp(argv[1], "--version")) {
    fmt::print("stodepth {}\n", STODEPTH_VERSION);
    return kExitOk;
  }
  std::vector<std::string> names;
  for (const auto& c : kSubcommands) names.push_back(c.name);
  std::vector<Subcommand> all(std::begin(kSubcommands), std::end(kSubcommands));
  all.insert(all.end(), std::begin(kHiddenSubcommands), std::end(kHiddenSubcommands));
  for (const auto& c : all)
    if (argv[1] == std::string(c.name)) return run_subcommand(c, argc - 1, argv + 1);
  const std::string hint = stodepth::closest_match(argv[1], names);
  fmt::print(stderr, "stodepth: unknown command '{}'{} (run 'stodepth --help')\n", argv[1],
             hint.empty() ? "" : fmt::format(", did you mean '{}'?", hint));
  return kExitBadInput;
}
