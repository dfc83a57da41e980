// The engine's facts: the version oneDNN reports, and the ISA name of the ISA it dispatches to,
// also under the AVX2 cap (registered a second time with DNNL_MAX_CPU_ISA=AVX2).
#include "model/engine_info.h"

#include <oneapi/dnnl/dnnl.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <string>

using namespace stodepth;

TEST_CASE("the oneDNN version is the library's major.minor.patch") {
  const dnnl_version_t* v = dnnl_version();
  CHECK(onednn_version() ==
        std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch));
  CHECK(v->major >= 2);
}

TEST_CASE("the ISA is named after the one oneDNN dispatches to") {
  const std::string isa = onednn_isa();
  const char* cap = std::getenv("DNNL_MAX_CPU_ISA");
  if (cap && std::string(cap) == "AVX2") CHECK(isa == "AVX2");
  // The project supports AVX2 and up.
  CHECK((isa == "AVX2" || isa == "AVX2 (VNNI)" || isa.rfind("AVX-512", 0) == 0));
  if (dnnl_get_effective_cpu_isa() == dnnl_cpu_isa_avx512_core_bf16) CHECK(isa == "AVX-512 (bf16)");
  if (dnnl_get_effective_cpu_isa() == dnnl_cpu_isa_avx2) CHECK(isa == "AVX2");
}
