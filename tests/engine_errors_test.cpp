// The model's edge: what an entry point's body throws becomes the kInternal Error the CLI
// prints; what it returns passes through.
#include "model/engine_errors.h"

#include <catch2/catch.hpp>
#include <stdexcept>

using namespace stodepth;

TEST_CASE("a oneDNN error becomes an internal Error with its status") {
  const auto result = engine_errors_as_values([]() -> Result<int> {
    throw dnnl::error(dnnl_invalid_arguments, "could not create a primitive");
  });
  REQUIRE(!result);
  CHECK(result.error().kind == ErrorKind::kInternal);
  CHECK(result.error().message ==
        "internal error in oneDNN: could not create a primitive (status 2)");
}

TEST_CASE("out of memory and other exceptions become internal Errors") {
  const auto no_memory = engine_errors_as_values([]() -> Result<int> { throw std::bad_alloc(); });
  REQUIRE(!no_memory);
  CHECK(no_memory.error().kind == ErrorKind::kInternal);
  CHECK(no_memory.error().message == "internal error: out of memory");
  const auto other =
      engine_errors_as_values([]() -> Result<int> { throw std::runtime_error("boom"); });
  REQUIRE(!other);
  CHECK(other.error().message == "internal error: boom");
}

TEST_CASE("a body's value and Error pass through unchanged") {
  const auto value = engine_errors_as_values([]() -> Result<int> { return 42; });
  REQUIRE(value);
  CHECK(value.value() == 42);
  const auto error =
      engine_errors_as_values([]() -> Result<int> { return bad_input("train.batch: 0"); });
  REQUIRE(!error);
  CHECK(error.error().kind == ErrorKind::kBadInput);
  CHECK(error.error().message == "train.batch: 0");
}
