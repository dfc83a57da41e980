#include "model/engine_info.h"

#include <fmt/format.h>

#include <cstdlib>
#include <oneapi/dnnl/dnnl.hpp>

namespace stodepth {

std::string onednn_isa() {
  switch (dnnl::get_effective_cpu_isa()) {
    case dnnl::cpu_isa::avx512_core_amx:
      return "AVX-512 + AMX";
    case dnnl::cpu_isa::avx512_core_bf16:
      return "AVX-512 (bf16)";
    case dnnl::cpu_isa::avx512_core_vnni:
      return "AVX-512 (VNNI)";
    case dnnl::cpu_isa::avx512_core:
      return "AVX-512";
    case dnnl::cpu_isa::avx2_vnni:
      return "AVX2 (VNNI)";
    case dnnl::cpu_isa::avx2:
      return "AVX2";
    case dnnl::cpu_isa::avx:
      return "AVX";
    case dnnl::cpu_isa::sse41:
      return "SSE4.1";
    default:
      return "other";
  }
}

bool has_native_bf16() {
  const dnnl::cpu_isa isa = dnnl::get_effective_cpu_isa();
  return isa == dnnl::cpu_isa::avx512_core_bf16 || isa == dnnl::cpu_isa::avx512_core_amx;
}

Status check_precision(Precision precision) {
  if (precision != Precision::kBf16 || has_native_bf16()) return ok_status();
  const char* cap = std::getenv("DNNL_MAX_CPU_ISA");
  return bad_input(fmt::format(
      "train.precision: bf16 needs a CPU with bf16 arithmetic (AVX-512 BF16, e.g. AMD Zen 4 or "
      "Intel Cooper Lake, or AMX, Sapphire Rapids and later); this one runs oneDNN at {}{}: "
      "train at f32 here, or run the bf16 jobs on such a machine",
      onednn_isa(), cap ? fmt::format(" (capped by DNNL_MAX_CPU_ISA={})", cap) : ""));
}

std::string onednn_version() {
  const dnnl_version_t* version = dnnl::version();
  return fmt::format("{}.{}.{}", version->major, version->minor, version->patch);
}

}  // namespace stodepth
