// What the oneDNN engine runs on, for the records and the speed figures that must name it;
// asked here so that no module outside model/ includes oneDNN.
#pragma once

#include <string>

namespace stodepth {

// The instruction set oneDNN dispatches to in this process ("AVX2", "AVX-512 (bf16)", …):
// the host's best, or less under DNNL_MAX_CPU_ISA. Every speed figure should name it.
std::string onednn_isa();

// The version of the oneDNN library this process runs, "major.minor.patch".
std::string onednn_version();

}  // namespace stodepth
