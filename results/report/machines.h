// Which machines a sweep's runs trained on, as the launcher recorded them with each run
// (RunRow::machine): the report's header names the hardware behind every figure, not the
// machine that renders the report.
#pragma once

#include <string>
#include <vector>

#include "model/config/records.h"
#include "results/report/comparison.h"

namespace stodepth::results {

// The runs of `arms` grouped by equal machine facts (threads included), in order of first
// appearance; each group names its arms in arm order.
std::vector<MachineGroup> machine_groups(const std::vector<Arm>& arms);

// One line, e.g. "AMD EPYC 7B13, 2 cores, AVX-512 + bf16; 1 thread per job; oneDNN 2.6.3;
// host node1". Runs launched before schema 3 have no CPU facts: "not recorded (…)".
std::string describe_machine(const MachineFacts& facts);

}  // namespace stodepth::results
