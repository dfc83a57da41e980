// What the oneDNN engine runs on, for the records and the speed figures that must name it;
// asked here so that no module outside model/ includes oneDNN.
#pragma once

#include <string>

#include "model/base/result.h"
#include "model/config/config.h"

namespace stodepth {

// The instruction set oneDNN dispatches to in this process ("AVX2", "AVX-512 (bf16)", …):
// the host's best, or less under DNNL_MAX_CPU_ISA. Every speed figure should name it.
std::string onednn_isa();

// True if oneDNN runs bf16 arithmetic natively here (AVX-512 BF16 or AMX, not capped below by
// DNNL_MAX_CPU_ISA). Elsewhere oneDNN 2.6 either has no bf16 kernels (AVX2) or emulates them
// slower than f32 (AVX-512 without BF16).
bool has_native_bf16();

// Whether a run at `precision` can train in this process: f32 always, bf16 where
// has_native_bf16(); else a bad_input Error of one line naming the ISA and what bf16 needs.
Status check_precision(Precision precision);

// The version of the oneDNN library this process runs, "major.minor.patch".
std::string onednn_version();

}  // namespace stodepth
