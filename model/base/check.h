// Loud precondition checks for programming errors (not user input, which gets an Error).
#pragma once

#include <cstdio>
#include <cstdlib>

#define STODEPTH_CHECK(cond, msg)                                                       \
  do {                                                                                  \
    if (!(cond)) {                                                                      \
      std::fprintf(stderr, "stodepth: internal error at %s:%d: %s (%s)\n", __FILE__,    \
                   __LINE__, msg, #cond);                                               \
      std::abort();                                                                     \
    }                                                                                   \
  } while (0)
