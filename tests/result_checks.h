// Checks on an Error the tests share: one line naming the file or key and the problem.
#pragma once

#include <catch2/catch.hpp>
#include <string>

#include "model/base/result.h"

namespace stodepth::testing {

inline bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// Checks that r failed with a one-line message naming `name` (a file or key) and `phrase`.
template <typename T>
void require_error(const Result<T>& r, const std::string& name, const std::string& phrase) {
  REQUIRE_FALSE(r.ok());
  INFO("message: " << r.error().message);
  CHECK(contains(r.error().message, name));
  CHECK(contains(r.error().message, phrase));
  CHECK_FALSE(contains(r.error().message, "\n"));
}

}  // namespace stodepth::testing
