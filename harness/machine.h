// The machine a launch runs on: the facts recorded with each run (so that a report names the
// hardware that produced a figure) and the id under which a launcher holds its runs.
#pragma once

#include <string>
#include <string_view>

#include "model/config/records.h"

namespace stodepth::harness {

// This machine's facts for runs training with `threads` OpenMP threads each. Facts that
// cannot be read are left empty (or 0) rather than failing a launch.
MachineFacts collect_machine_facts(int threads);

// The first "model name" of a /proc/cpuinfo text, "" if it has none (e.g. on ARM).
std::string cpu_model_from_cpuinfo(std::string_view cpuinfo);

// "hostname:pid": the owner recorded with the runs this process claims.
std::string launcher_id();

}  // namespace stodepth::harness
