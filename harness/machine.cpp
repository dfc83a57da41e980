#include "harness/machine.h"

#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "model/engine_info.h"

namespace stodepth::harness {
namespace {

std::string host_name() {
  char name[256] = {};
  gethostname(name, sizeof(name) - 1);
  return name;
}

std::string read_file(const char* path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string_view trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of(" \t") + 1 - first);
}

}  // namespace

std::string cpu_model_from_cpuinfo(std::string_view cpuinfo) {
  while (!cpuinfo.empty()) {
    const auto end = cpuinfo.find('\n');
    const std::string_view line = cpuinfo.substr(0, end);
    cpuinfo = end == std::string_view::npos ? std::string_view{} : cpuinfo.substr(end + 1);
    const auto colon = line.find(':');
    if (colon != std::string_view::npos && trim(line.substr(0, colon)) == "model name")
      return std::string(trim(line.substr(colon + 1)));
  }
  return {};
}

MachineFacts collect_machine_facts(int threads) {
  MachineFacts facts;
  facts.host = host_name();
  facts.cpu_model = cpu_model_from_cpuinfo(read_file("/proc/cpuinfo"));
  facts.isa = onednn_isa();
  facts.cores = int(std::max(sysconf(_SC_NPROCESSORS_ONLN), 0L));
  facts.threads = threads;
  facts.onednn_version = onednn_version();
  return facts;
}

std::string launcher_id() { return fmt::format("{}:{}", host_name(), getpid()); }

}  // namespace stodepth::harness
