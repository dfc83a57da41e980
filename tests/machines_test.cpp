// The report's machines (results/report/machines.h): runs grouped by their recorded facts.
#include "results/report/machines.h"

#include <catch2/catch.hpp>

using namespace stodepth;
using namespace stodepth::results;

namespace {

RunRow run_on(const MachineFacts& facts) {
  RunRow r;
  r.machine = facts;
  return r;
}

const MachineFacts kEpyc{"node1", "AMD EPYC 7B13", "AVX-512 + bf16", 2, 1, "2.6.3"};
const MachineFacts kXeon{"node2", "Intel Xeon", "AVX2", 16, 4, "2.6.3"};

}  // namespace

TEST_CASE("runs group by machine in order of first run, each group naming its arms") {
  MachineFacts other_threads = kEpyc;
  other_threads.threads = 2;
  const std::vector<Arm> arms = {
      Arm{"ResNet", {}, {run_on(kEpyc), run_on(kXeon), run_on(kEpyc)}},
      Arm{"SD", {}, {run_on(kEpyc), run_on(other_threads)}}};
  const auto groups = machine_groups(arms);
  REQUIRE(groups.size() == 3);
  CHECK(groups[0].facts.host == "node1");
  CHECK(groups[0].runs == 3);
  CHECK(groups[0].arms == std::vector<std::string>{"ResNet", "SD"});
  CHECK(groups[1].facts.host == "node2");
  CHECK(groups[1].runs == 1);
  CHECK(groups[1].arms == std::vector<std::string>{"ResNet"});
  CHECK(groups[2].facts.threads == 2);  // the thread count is part of the machine
  CHECK(groups[2].arms == std::vector<std::string>{"SD"});
  CHECK(machine_groups({}).empty());
}

TEST_CASE("a machine in one line, recorded or not") {
  CHECK(describe_machine(kEpyc) ==
        "AMD EPYC 7B13, 2 cores, AVX-512 + bf16; 1 thread per job; oneDNN 2.6.3; host node1");
  CHECK(describe_machine(kXeon) ==
        "Intel Xeon, 16 cores, AVX2; 4 threads per job; oneDNN 2.6.3; host node2");
  CHECK(describe_machine({"h", "", "", 0, 0, ""}) ==
        "not recorded (launched before stodepth recorded machines); threads per job not "
        "recorded; host h");
}
