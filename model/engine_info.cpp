#include "model/engine_info.h"

#include <fmt/format.h>

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

std::string onednn_version() {
  const dnnl_version_t* version = dnnl::version();
  return fmt::format("{}.{}.{}", version->major, version->minor, version->patch);
}

}  // namespace stodepth
