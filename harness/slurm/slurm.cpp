#include "harness/slurm/slurm.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "harness/slurm/command.h"
#include "model/base/json.h"

namespace stodepth::harness {
namespace {

// Values written into #SBATCH lines: sbatch splits those at whitespace, and expands % in
// file names.
Status check_plain(const std::string& flag, const std::string& value) {
  if (value.find_first_of(" \t\r\n'\"%") != std::string::npos)
    return bad_input(fmt::format("{} '{}': spaces, quotes and % cannot be passed to sbatch in "
                                 "a batch script (use a value without them)",
                                 flag, value));
  return ok_status();
}

// The sbatch options the executor sets itself: the task → job mapping, the log, the
// self-requeue and its warning depend on them.
constexpr const char* kOwnedOptions[] = {"--array", "--output", "--error", "--open-mode",
                                         "--requeue", "--no-requeue", "--signal", "--chdir",
                                         "--job-name", "--cpus-per-task"};

// `s` quoted for the shell.
std::string shell_quote(const std::string& s) {
  std::string quoted = "'";
  for (char c : s) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

}  // namespace

std::string to_json(const SlurmOptions& o) {
  nlohmann::ordered_json j;
  j["partition"] = o.partition;
  j["time"] = o.time;
  j["mem"] = o.mem;
  j["account"] = o.account;
  j["qos"] = o.qos;
  j["cpus_per_task"] = o.cpus_per_task;
  j["max_running"] = o.max_running;
  j["sbatch_lines"] = o.sbatch_lines;
  j["prelude_file"] = o.prelude_file;
  j["signal_seconds"] = o.signal_seconds;
  j["max_timeout_requeues"] = o.max_timeout_requeues;
  return j.dump();
}

Status check_options(const SlurmOptions& o) {
  if (o.cpus_per_task < 1)
    return bad_input(fmt::format("--cpus-per-task {}: must be at least 1", o.cpus_per_task));
  if (o.max_running < 0)
    return bad_input(fmt::format("--max-running {}: must be >= 0 (0: no limit)", o.max_running));
  if (o.signal_seconds < 1 || o.signal_seconds > 65535)
    return bad_input(fmt::format(
        "--signal-seconds {}: must be 1 to 65535 (seconds of warning before the time limit)",
        o.signal_seconds));
  if (o.max_timeout_requeues < 0)
    return bad_input(fmt::format("--max-timeout-requeues {}: must be >= 0",
                                 o.max_timeout_requeues));
  const std::pair<const char*, const std::string*> values[] = {
      {"--partition", &o.partition}, {"--time", &o.time}, {"--mem", &o.mem},
      {"--account", &o.account},     {"--qos", &o.qos}};
  for (const auto& [flag, value] : values)
    if (auto plain = check_plain(flag, *value); !plain) return plain;
  for (const auto& line : o.sbatch_lines) {
    if (line.find_first_of("\r\n") != std::string::npos || line.rfind("--", 0) != 0)
      return bad_input(fmt::format("--sbatch '{}': give one sbatch option per flag, starting "
                                   "with -- (e.g. --sbatch=--constraint=avx512)",
                                   line));
    const std::string name = line.substr(0, line.find_first_of("= "));
    for (const char* owned : kOwnedOptions)
      if (name == owned)
        return bad_input(fmt::format("--sbatch '{}': {} is set by the Slurm executor (use its "
                                     "own flag where there is one: launch --help)",
                                     line, owned));
  }
  return ok_status();
}

Result<std::string> batch_script(const SlurmOptions& o, const ArrayScript& a) {
  for (const auto& [flag, path] : {std::pair{"the shard directory", &a.shard_dir},
                                   std::pair{"the working directory", &a.work_dir}})
    if (auto plain = check_plain(flag, *path); !plain) return plain.error();
  std::string prelude;
  if (!o.prelude_file.empty()) {
    std::error_code ec;
    std::ifstream in(o.prelude_file);
    if (!std::filesystem::is_regular_file(o.prelude_file, ec)) in.setstate(std::ios::failbit);
    std::stringstream text;
    text << in.rdbuf();
    if (!in)
      return bad_input(fmt::format("{}: --prelude file cannot be read (give a readable file of "
                                   "shell lines, e.g. module load …)",
                                   o.prelude_file));
    prelude = text.str();
    if (!prelude.empty() && prelude.back() != '\n') prelude += '\n';
  }
  const size_t n = a.keys.size();
  std::string s = "#!/bin/bash\n";
  s += fmt::format("# stodepth: {} job{} of sweep '{}', one per array task, each trained into "
                   "its store shard <key>.db in {}\n",
                   n, n == 1 ? "" : "s", a.sweep, a.shard_dir);
  const auto option = [&](const std::string& line) { s += "#SBATCH " + line + "\n"; };
  option(fmt::format("--job-name=stodepth-{}", a.sweep));
  option(fmt::format("--array=0-{}{}", n - 1,
                     o.max_running > 0 ? fmt::format("%{}", o.max_running) : ""));
  option(fmt::format("--cpus-per-task={}", o.cpus_per_task));
  if (!o.partition.empty()) option("--partition=" + o.partition);
  if (!o.time.empty()) option("--time=" + o.time);
  if (!o.mem.empty()) option("--mem=" + o.mem);
  if (!o.account.empty()) option("--account=" + o.account);
  if (!o.qos.empty()) option("--qos=" + o.qos);
  option(fmt::format("--output={}/slurm-%A_%a.out", a.shard_dir));
  option("--open-mode=append");  // a requeued task appends to its log
  option("--requeue");           // a task may requeue itself after a time-limit warning
  // The warning goes to the batch shell only (B:), which exec made the task itself.
  option(fmt::format("--signal=B:USR1@{}", o.signal_seconds));
  option("--chdir=" + a.work_dir);
  for (const auto& line : o.sbatch_lines) option(line);
  if (!prelude.empty()) s += fmt::format("# prelude: {}\n{}", o.prelude_file, prelude);
  s += "keys=(\n";
  for (const auto& key : a.keys) s += key + "\n";
  s += ")\n";
  s += fmt::format(
      "exec {} run-task --shard {}/\"${{keys[$SLURM_ARRAY_TASK_ID]}}.db\" --threads {} "
      "--checkpoint-every {} --max-timeout-requeues {}\n",
      shell_quote(a.stodepth), shell_quote(a.shard_dir), o.cpus_per_task, a.checkpoint_every,
      o.max_timeout_requeues);
  return s;
}

Status check_submission(const SlurmOptions& o, const std::string& script_path) {
  for (const char* tool : {"sbatch", "squeue", "scontrol"}) {
    auto found = run_command({tool, "--version"}, std::chrono::seconds(10));
    if (!found) return found.error();
  }
  if (!o.partition.empty()) {
    auto shown = run_command({"scontrol", "show", "partition", o.partition, "-o"});
    if (!shown) return shown.error();
    if (shown->exit_code != 0)
      return bad_input(fmt::format("--partition {}: {} (sinfo lists the partitions)",
                                   o.partition, first_line(shown->out + shown->err)));
  }
  auto tested = run_command({"sbatch", "--test-only", script_path});
  if (!tested) return tested.error();
  if (tested->exit_code != 0)
    return bad_input(fmt::format("sbatch rejects the job array: {} (fix the sbatch flags; "
                                 "launch --dry-run prints the script)",
                                 first_line(tested->err + tested->out)));
  return ok_status();
}

Result<std::string> submit(const std::string& script_path) {
  // Long: a busy controller may take its time, and a submission cut short may still have
  // been accepted.
  auto submitted = run_command({"sbatch", "--parsable", script_path}, std::chrono::seconds(600));
  if (!submitted) return submitted.error();
  const std::string id = first_line(submitted->out);
  if (submitted->exit_code != 0 || id.empty())
    return bad_input(fmt::format("sbatch rejected the job array: {}",
                                 first_line(submitted->err + submitted->out)));
  return id.substr(0, id.find(';'));  // "id;cluster" on a multi-cluster setup
}

bool is_active(const std::string& state) {
  for (const char* ended : {"COMPLETED", "CANCELLED", "FAILED", "TIMEOUT", "NODE_FAIL",
                            "OUT_OF_MEMORY", "BOOT_FAIL", "DEADLINE", "PREEMPTED"})
    if (state == ended) return false;
  return !state.empty();
}

Result<std::map<std::string, QueuedTask>> queued_tasks(const std::vector<std::string>& job_ids) {
  std::map<std::string, QueuedTask> tasks;
  if (job_ids.empty()) return tasks;
  std::string ids;
  for (const auto& id : job_ids) ids += (ids.empty() ? "" : ",") + id;
  auto listed = run_command({"squeue", "-h", "-r", "--states=all", "-o", "%i|%T|%r", "-j", ids});
  if (!listed) return listed.error();
  if (listed->exit_code != 0) {
    // All the jobs are gone from the controller's memory: nothing is queued.
    if (listed->err.find("Invalid job id") != std::string::npos) return tasks;
    return bad_input(fmt::format("squeue failed: {} (is the Slurm controller reachable?)",
                                 first_line(listed->err + listed->out)));
  }
  std::istringstream lines(listed->out);
  for (std::string line; std::getline(lines, line);) {
    const size_t a = line.find('|'), b = line.find('|', a + 1);
    if (a == std::string::npos || b == std::string::npos) continue;
    tasks[line.substr(0, a)] = {line.substr(a + 1, b - a - 1), line.substr(b + 1)};
  }
  return tasks;
}

Status requeue(const std::string& slurm_job_id) {
  auto done = run_command({"scontrol", "requeue", slurm_job_id});
  if (!done) return done.error();
  if (done->exit_code != 0)
    return bad_input(fmt::format("scontrol requeue {}: {}", slurm_job_id,
                                 first_line(done->err + done->out)));
  return ok_status();
}

}  // namespace stodepth::harness
