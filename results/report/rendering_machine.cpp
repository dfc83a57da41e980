#include "results/report/rendering_machine.h"

#include <fmt/format.h>

#include <oneapi/dnnl/dnnl.hpp>
#include <thread>

#include "model/dnn/tensor.h"

namespace stodepth::results {

MachineFacts rendering_machine_facts() {
  MachineFacts facts;
  facts.cores = int(std::thread::hardware_concurrency());
  facts.isa = dnn::cpu_isa_name();
  const dnnl_version_t* version = dnnl::version();
  facts.onednn_version = fmt::format("{}.{}.{}", version->major, version->minor, version->patch);
  return facts;
}

}  // namespace stodepth::results
