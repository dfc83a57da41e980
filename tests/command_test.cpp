// run_command: output and exit codes captured, a missing program and a hung one refused.
#include "harness/slurm/command.h"

#include <catch2/catch.hpp>

using namespace stodepth;
using namespace stodepth::harness;

TEST_CASE("run_command captures stdout, stderr and the exit code") {
  auto r = run_command({"sh", "-c", "echo out; echo err >&2; exit 3"});
  REQUIRE(r);
  CHECK(r->out == "out\n");
  CHECK(r->err == "err\n");
  CHECK(r->exit_code == 3);
}

TEST_CASE("run_command reads more output than a pipe holds") {
  auto r = run_command({"sh", "-c", "head -c 300000 /dev/zero | tr '\\0' x; echo done >&2"});
  REQUIRE(r);
  CHECK(r->out.size() == 300000);
  CHECK(r->err == "done\n");
}

TEST_CASE("run_command gives the child an empty stdin") {
  auto r = run_command({"sh", "-c", "cat; echo end"});
  REQUIRE(r);
  CHECK(r->out == "end\n");
}

TEST_CASE("run_command names a program that is not there") {
  auto r = run_command({"no-such-program-xyz"});
  REQUIRE(!r);
  CHECK(r.error().kind == ErrorKind::kBadInput);
  CHECK(r.error().message.find("no-such-program-xyz") != std::string::npos);
}

TEST_CASE("run_command kills a program that does not answer in time") {
  auto r = run_command({"sleep", "30"}, std::chrono::seconds(1));
  REQUIRE(!r);
  CHECK(r.error().message.find("no answer within 1 s") != std::string::npos);
}

TEST_CASE("first_line skips blank lines and trims") {
  CHECK(first_line("\n  \n  sbatch: error: bad  \nmore\n") == "sbatch: error: bad");
  CHECK(first_line("") == "");
}
