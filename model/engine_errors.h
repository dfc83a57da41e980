// The model's edge: what oneDNN or the allocator throws inside an entry point called from
// outside model/ (training, the bench) becomes an Error of that call, so that no caller needs
// oneDNN's exception type or lets an exception cross the module boundary.
#pragma once

#include <fmt/format.h>

#include <exception>
#include <new>
#include <oneapi/dnnl/dnnl.hpp>

#include "model/base/result.h"

namespace stodepth {

// Runs `body` (returning a Result) and returns its result, or the kInternal Error of what it threw.
template <typename Body>
auto engine_errors_as_values(Body&& body) -> decltype(body()) {
  try {
    return body();
  } catch (const dnnl::error& e) {
    return internal_error(
        fmt::format("internal error in oneDNN: {} (status {})", e.what(), int(e.status)));
  } catch (const std::bad_alloc&) {
    return internal_error("internal error: out of memory");
  } catch (const std::exception& e) {
    return internal_error(fmt::format("internal error: {}", e.what()));
  }
}

}  // namespace stodepth
