// Machine facts: the CPU model parsed from /proc/cpuinfo's text, and every fact collected
// from the source it names.
#include "harness/machine.h"

#include <unistd.h>

#include <catch2/catch.hpp>

#include <fstream>
#include <regex>
#include <sstream>

#include <oneapi/dnnl/dnnl.h>

#include "model/engine_info.h"

using namespace stodepth;
using stodepth::harness::cpu_model_from_cpuinfo;

TEST_CASE("the CPU model is the first 'model name' of /proc/cpuinfo") {
  const std::string cpuinfo =
      "processor\t: 0\n"
      "vendor_id\t: GenuineIntel\n"
      "model\t\t: 85\n"
      "model name\t: Intel(R) Xeon(R) Gold 6140 CPU @ 2.30GHz  \n"
      "\n"
      "processor\t: 1\n"
      "model name\t: another\n";
  CHECK(cpu_model_from_cpuinfo(cpuinfo) == "Intel(R) Xeon(R) Gold 6140 CPU @ 2.30GHz");
  // "model" alone is not the model name; no line at all (ARM): empty.
  CHECK(cpu_model_from_cpuinfo("model\t\t: 85\nCPU part\t: 0xd0c\n").empty());
  CHECK(cpu_model_from_cpuinfo("").empty());
  CHECK(cpu_model_from_cpuinfo("model name: last line without newline") ==
        "last line without newline");
}

TEST_CASE("machine facts come from the host, the CPU and oneDNN") {
  const MachineFacts facts = harness::collect_machine_facts(3);
  char host[256] = {};
  REQUIRE(gethostname(host, sizeof(host) - 1) == 0);
  CHECK(facts.host == host);
  std::ifstream in("/proc/cpuinfo");
  std::stringstream cpuinfo;
  cpuinfo << in.rdbuf();
  CHECK(facts.cpu_model == cpu_model_from_cpuinfo(cpuinfo.str()));
  CHECK(facts.isa == onednn_isa());
  CHECK(facts.cores == sysconf(_SC_NPROCESSORS_ONLN));
  CHECK(facts.cores > 0);
  CHECK(facts.threads == 3);
  const dnnl_version_t* v = dnnl_version();
  CHECK(facts.onednn_version == std::to_string(v->major) + "." + std::to_string(v->minor) +
                                    "." + std::to_string(v->patch));
  CHECK(std::regex_match(facts.onednn_version, std::regex("[0-9]+\\.[0-9]+\\.[0-9]+")));
}

TEST_CASE("the launcher id is this host and process") {
  char host[256] = {};
  REQUIRE(gethostname(host, sizeof(host) - 1) == 0);
  CHECK(harness::launcher_id() == std::string(host) + ":" + std::to_string(getpid()));
}
