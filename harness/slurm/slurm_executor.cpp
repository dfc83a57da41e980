#include "harness/slurm/slurm_executor.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include <filesystem>
#include <fstream>
#include <set>

#include <fmt/format.h>

#include "harness/job_runner.h"
#include "harness/slurm/shards.h"

namespace stodepth::harness {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view kSlurmHolder = "slurm:";

// Writes `text` to a new file in `dir`; its path.
Result<std::string> write_script(const std::string& dir, const std::string& text) {
  std::string path = fmt::format("{}/sbatch-{}.sh", dir, getpid());
  std::ofstream out(path, std::ios::trunc);
  out << text;
  out.close();
  if (!out)
    return storage_error(fmt::format("{}: cannot write the batch script (make the shard "
                                     "directory writable)",
                                     path));
  return path;
}

// An exclusive flock on a file, held while the object lives.
class LaunchLock {
 public:
  static Result<LaunchLock> take(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
      return storage_error(fmt::format("{}: cannot open the launch lock: {}", path,
                                       std::strerror(errno)));
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      ::close(fd);
      return bad_input(fmt::format("{}: another launch of this database is submitting jobs "
                                   "(run this one when it has finished)",
                                   path));
    }
    return LaunchLock(fd);
  }
  LaunchLock(LaunchLock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  LaunchLock(const LaunchLock&) = delete;
  LaunchLock& operator=(const LaunchLock&) = delete;
  ~LaunchLock() {
    if (fd_ >= 0) ::close(fd_);  // releases the lock
  }

 private:
  explicit LaunchLock(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace

Result<SubmissionPlan> plan_submission(const Plan& plan, const DatabaseView& view,
                                       bool retry_failed, const std::string& shard_dir) {
  SubmissionPlan submission;
  std::set<std::string> job_ids;
  for (const auto& [key, run] : view.runs)
    if (run.state == results::RunState::kRunning && run.host.rfind(kSlurmHolder, 0) == 0)
      job_ids.insert(run.host.substr(kSlurmHolder.size(), run.host.find('_') -
                                                               kSlurmHolder.size()));
  auto queue = queued_tasks({job_ids.begin(), job_ids.end()});
  if (!queue) return queue.error();
  for (const auto& planned : plan.to_run) {
    const sweeps::Job& job = *planned.job;
    const auto stored = view.runs.find(job.key);
    if (stored != view.runs.end()) {
      const StoredRun& run = stored->second;
      if (is_finished(run.state, retry_failed)) {
        ++submission.finished;
        continue;
      }
      if (run.state == results::RunState::kRunning) {
        if (run.host.rfind(kSlurmHolder, 0) != 0) {
          ++submission.held_locally;
          continue;
        }
        const auto task = queue->find(run.host.substr(kSlurmHolder.size()));
        if (task != queue->end() && is_active(task->second.state)) {
          ++submission.active;
          continue;
        }
        submission.gone.push_back(run.host);
      }
    }
    std::error_code ec;
    if (fs::exists(shard_path(shard_dir, job.key), ec)) {
      auto shard = read_shard(shard_dir, job.key);
      // Merged (and retired) by the launch; with retry_failed a failed one is then resubmitted.
      if (shard && is_finished(shard->state, retry_failed)) {
        ++submission.ended_in_shard;
        continue;
      }
    }
    submission.to_submit.push_back(&job);
  }
  return submission;
}

Result<std::vector<ArraySubmission>> submission_scripts(
    const SlurmLaunch& launch, const sweeps::Sweep& sweep,
    const std::vector<const sweeps::Job*>& jobs, const std::string& shard_dir,
    int64_t checkpoint_every) {
  std::vector<ArraySubmission> arrays;
  for (size_t first = 0; first < jobs.size(); first += kMaxArrayTasks) {
    ArraySubmission array;
    array.jobs.assign(jobs.begin() + ptrdiff_t(first),
                      jobs.begin() + ptrdiff_t(std::min(jobs.size(), first + kMaxArrayTasks)));
    ArrayScript script;
    script.sweep = sweep.name;
    script.stodepth = launch.stodepth;
    script.shard_dir = fs::absolute(shard_dir).lexically_normal().string();
    script.work_dir = launch.work_dir;
    script.checkpoint_every = checkpoint_every;
    for (const sweeps::Job* job : array.jobs) script.keys.push_back(job->key);
    auto text = batch_script(launch.options, script);
    if (!text) return text.error();
    array.script = std::move(*text);
    arrays.push_back(std::move(array));
  }
  return arrays;
}

Status check_slurm_launch(const SlurmLaunch& launch, const std::string& shard_dir,
                          const std::vector<ArraySubmission>& arrays) {
  if (auto checked = check_options(launch.options); !checked) return checked;
  if (arrays.empty()) return ok_status();
  // The directory is made for the test script and removed again if it was not there: a
  // refused launch leaves nothing behind.
  std::error_code ec;
  const bool existed = fs::exists(shard_dir, ec);
  fs::create_directories(shard_dir, ec);
  if (ec || !fs::is_directory(shard_dir))
    return bad_input(fmt::format("{}: cannot create the shard directory: {} (it must be a "
                                 "writable directory on the filesystem the cluster's nodes share)",
                                 shard_dir, ec ? ec.message() : "a file is in the way"));
  auto probe = write_script(shard_dir, arrays.front().script);
  Status accepted = ok_status();
  if (!probe)
    accepted = bad_input(fmt::format("{}: the shard directory is not writable (it must be "
                                     "writable on the filesystem the cluster's nodes share)",
                                     shard_dir));
  else
    accepted = check_submission(launch.options, *probe);
  if (probe) fs::remove(*probe, ec);
  if (!existed) fs::remove(shard_dir, ec);
  return accepted;
}

Result<LaunchSummary> SlurmExecutor::execute(const Plan& plan, const RunnerSetup& setup,
                                             JobObserver& observer) {
  LaunchSummary summary;
  summary.skipped = plan.finished;
  const sweeps::Sweep& sweep = *plan.sweep;
  const std::string dir = shard_dir(setup.db_path);
  // One Slurm launch of a database at a time, from merging to recording its submissions:
  // two would both see a job as not submitted and both submit it.
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec)
    return storage_error(fmt::format("{}: cannot create the shard directory: {}", dir,
                                     ec.message()));
  auto lock = LaunchLock::take(dir + "/.launch.lock");
  if (!lock) return lock.error();
  auto store = results::Store::open(setup.db_path, results::OpenMode::kReadWrite);
  if (!store) return store.error();

  auto merged = merge_shards(**store, dir);
  if (!merged) return merged.error();
  summary.merged = int(merged->merged.size());
  for (const auto& error : merged->refused) observer.on_notice(error.message);
  auto view = read_database_view(**store, sweep);
  if (!view) return view.error();
  auto submission = plan_submission(plan, *view, setup.retry_failed, dir);
  if (!submission) return submission.error();
  for (const auto& host : submission->gone)
    if (auto s = (*store)->release_stale_runs(sweep.name, host); !s) return s.error();
  summary.skipped += submission->finished + submission->ended_in_shard;
  summary.in_slurm = submission->active;
  summary.not_claimed = submission->held_locally;
  if (submission->to_submit.empty()) return summary;

  auto arrays = submission_scripts(launch_, sweep, submission->to_submit, dir,
                                   setup.checkpoint_every);
  if (!arrays) return arrays.error();
  for (const ArraySubmission& array : *arrays) {
    if (stop_requested()) break;  // Ctrl-C: nothing more is submitted
    std::vector<std::string> created;
    const auto undo = [&] {
      for (const auto& key : created) retire_shard(dir, key);
    };
    for (const sweeps::Job* job : array.jobs) {
      auto made = create_shard(dir, sweep, *job);
      if (!made) {
        undo();
        return made.error();
      }
      if (*made) created.push_back(job->key);
    }
    auto path = write_script(dir, array.script);
    if (!path) {
      undo();
      return path.error();
    }
    auto job_id = submit(*path);
    std::error_code ec;
    fs::remove(*path, ec);
    if (!job_id) {
      undo();
      return job_id.error();
    }
    results::SlurmSubmission record;
    record.job_id = *job_id;
    record.sweep = sweep.name;
    record.options_json = to_json(launch_.options);
    record.script = array.script;
    record.threads = launch_.options.cpus_per_task;
    for (const sweeps::Job* job : array.jobs) record.keys.push_back(job->key);
    if (auto s = (*store)->record_submission(record); !s)
      return Error{s.error().kind,
                   fmt::format("{} (Slurm job {} was submitted: cancel it with 'scancel {}' "
                               "before launching again)",
                               s.error().message, *job_id, *job_id)};
    summary.submitted += int(array.jobs.size());
    summary.slurm_jobs.push_back(*job_id);
  }
  return summary;
}

}  // namespace stodepth::harness
