// The Slurm client side that needs no cluster: option checks, the batch script, queue states.
// (tests/slurm_executor_test.sh and slurm_resume_test.sh run the rest on a real cluster.)
#include "harness/slurm/slurm.h"

#include <fstream>

#include <catch2/catch.hpp>

#include "tests/temp_dir.h"

using namespace stodepth;
using namespace stodepth::harness;

namespace {

ArrayScript three_jobs() {
  ArrayScript a;
  a.sweep = "grid";
  a.stodepth = "/shared/bin/stodepth";
  a.shard_dir = "/shared/out/results.db.shards";
  a.work_dir = "/shared/work";
  a.keys = {"aaaa", "bbbb", "cccc"};
  a.checkpoint_every = 50;
  return a;
}

bool has_line(const std::string& text, const std::string& line) {
  return ("\n" + text).find("\n" + line + "\n") != std::string::npos;
}

}  // namespace

TEST_CASE("the batch script is one array with every option and a line per job") {
  SlurmOptions o;
  o.partition = "cpu";
  o.time = "4:00:00";
  o.mem = "8G";
  o.account = "lab";
  o.qos = "long";
  o.cpus_per_task = 4;
  o.max_running = 2;
  o.sbatch_lines = {"--constraint=avx512"};
  o.signal_seconds = 300;
  o.max_timeout_requeues = 5;
  auto script = batch_script(o, three_jobs());
  REQUIRE(script);
  CHECK(script->rfind("#!/bin/bash\n", 0) == 0);
  for (const char* line :
       {"#SBATCH --array=0-2%2", "#SBATCH --cpus-per-task=4", "#SBATCH --partition=cpu",
        "#SBATCH --time=4:00:00", "#SBATCH --mem=8G", "#SBATCH --account=lab",
        "#SBATCH --qos=long", "#SBATCH --requeue", "#SBATCH --open-mode=append",
        "#SBATCH --signal=B:USR1@300", "#SBATCH --chdir=/shared/work",
        "#SBATCH --output=/shared/out/results.db.shards/slurm-%A_%a.out",
        "#SBATCH --constraint=avx512", "aaaa", "bbbb", "cccc"})
    CHECK(has_line(*script, line));
  CHECK(has_line(*script,
                 "exec '/shared/bin/stodepth' run-task --shard "
                 "'/shared/out/results.db.shards'/\"${keys[$SLURM_ARRAY_TASK_ID]}.db\" "
                 "--threads 4 --checkpoint-every 50 --max-timeout-requeues 5"));
}

TEST_CASE("options left empty are Slurm's defaults: no line for them") {
  auto script = batch_script(SlurmOptions{}, three_jobs());
  REQUIRE(script);
  CHECK(has_line(*script, "#SBATCH --array=0-2"));
  for (const char* flag : {"--partition", "--time", "--mem", "--account", "--qos"})
    CHECK(script->find(flag) == std::string::npos);
}

TEST_CASE("the prelude file's lines come before the task") {
  testing::TempDir dir;
  std::ofstream(dir.file("modules.sh")) << "module load gcc/12";
  SlurmOptions o;
  o.prelude_file = dir.file("modules.sh");
  auto script = batch_script(o, three_jobs());
  REQUIRE(script);
  const auto at = script->find("module load gcc/12\n");
  REQUIRE(at != std::string::npos);
  CHECK(at < script->find("exec "));
  o.prelude_file = dir.file("missing.sh");
  auto missing = batch_script(o, three_jobs());
  REQUIRE(!missing);
  CHECK(missing.error().message.find("missing.sh") != std::string::npos);
}

TEST_CASE("a path sbatch would split at a space or expand at % is refused, naming it") {
  for (const char* dir : {"/shared/my results.db.shards", "/shared/100%.db.shards"}) {
    ArrayScript a = three_jobs();
    a.shard_dir = dir;
    auto script = batch_script(SlurmOptions{}, a);
    REQUIRE(!script);
    CHECK(script.error().message.find(dir) != std::string::npos);
  }
}

TEST_CASE("option checks name the flag") {
  const auto message = [](SlurmOptions o) {
    const Status s = check_options(o);
    return s ? std::string() : s.error().message;
  };
  SlurmOptions o;
  CHECK(message(o).empty());
  o.cpus_per_task = 0;
  CHECK(message(o).find("--cpus-per-task") == 0);
  o = {};
  o.partition = "a b";
  CHECK(message(o).find("--partition") == 0);
  o = {};
  o.sbatch_lines = {"constraint=x"};
  CHECK(message(o).find("--sbatch") == 0);
  o = {};
  o.signal_seconds = 0;
  CHECK(message(o).find("--signal-seconds") == 0);
  o = {};
  o.max_running = -1;
  CHECK(message(o).find("--max-running") == 0);
  // Options the executor sets itself cannot be overridden by an --sbatch line.
  for (const char* owned : {"--array=0-3", "--output=x.out", "--no-requeue", "--signal=USR2@60",
                            "--chdir=/tmp"}) {
    o = {};
    o.sbatch_lines = {owned};
    CHECK(message(o).find("is set by the Slurm executor") != std::string::npos);
  }
  o = {};
  o.sbatch_lines = {"--constraint=avx512", "--exclusive"};
  CHECK(message(o).empty());
}

TEST_CASE("only pending, running and held tasks are active") {
  for (const char* state : {"PENDING", "RUNNING", "REQUEUED", "REQUEUE_HOLD", "COMPLETING",
                            "CONFIGURING", "SUSPENDED", "SPECIAL_EXIT"})
    CHECK(is_active(state));
  for (const char* state : {"COMPLETED", "CANCELLED", "FAILED", "TIMEOUT", "NODE_FAIL",
                            "OUT_OF_MEMORY", "PREEMPTED", ""})
    CHECK_FALSE(is_active(state));
}

TEST_CASE("the recorded options are JSON with every field") {
  SlurmOptions o;
  o.partition = "cpu";
  o.sbatch_lines = {"--constraint=avx512"};
  const std::string json = to_json(o);
  CHECK(json.find("\"partition\":\"cpu\"") != std::string::npos);
  CHECK(json.find("\"sbatch_lines\":[\"--constraint=avx512\"]") != std::string::npos);
  CHECK(json.find("\"max_timeout_requeues\":3") != std::string::npos);
}
