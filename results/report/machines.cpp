#include "results/report/machines.h"

#include <fmt/format.h>

#include <tuple>

namespace stodepth::results {
namespace {

auto fields(const MachineFacts& f) {
  return std::tie(f.host, f.cpu_model, f.isa, f.cores, f.threads, f.onednn_version);
}

}  // namespace

std::vector<MachineGroup> machine_groups(const std::vector<Arm>& arms) {
  std::vector<MachineGroup> groups;
  for (const Arm& arm : arms) {
    for (const RunRow& run : arm.runs) {
      auto group = groups.begin();
      while (group != groups.end() && fields(group->facts) != fields(run.machine)) ++group;
      if (group == groups.end()) group = groups.insert(groups.end(), {run.machine, {}, 0});
      ++group->runs;
      if (group->arms.empty() || group->arms.back() != arm.label) group->arms.push_back(arm.label);
    }
  }
  return groups;
}

std::string describe_machine(const MachineFacts& f) {
  const std::string threads =
      f.threads > 0 ? fmt::format("{} thread{} per job", f.threads, f.threads == 1 ? "" : "s")
                    : "threads per job not recorded";
  const std::string host = f.host.empty() ? "" : fmt::format("; host {}", f.host);
  if (f.cpu_model.empty() && f.isa.empty())
    return fmt::format("not recorded (launched before stodepth recorded machines); {}{}",
                       threads, host);
  return fmt::format("{}, {} cores, {}; {}; oneDNN {}{}",
                     f.cpu_model.empty() ? "unknown CPU" : f.cpu_model, f.cores, f.isa, threads,
                     f.onednn_version, host);
}

}  // namespace stodepth::results
