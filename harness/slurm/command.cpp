#include "harness/slurm/command.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

extern char** environ;

namespace stodepth::harness {
namespace {

// A pipe whose ends close themselves.
struct Pipe {
  int fd[2] = {-1, -1};
  ~Pipe() {
    for (int f : fd)
      if (f >= 0) ::close(f);
  }
  void close_end(int i) {
    if (fd[i] >= 0) ::close(fd[i]);
    fd[i] = -1;
  }
};

}  // namespace

std::string first_line(const std::string& text) {
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(start, end - start);
    const size_t b = line.find_first_not_of(" \t\r");
    if (b != std::string::npos) {
      const size_t e = line.find_last_not_of(" \t\r");
      return line.substr(b, e - b + 1);
    }
    start = end + 1;
  }
  return "";
}

Result<CommandOutput> run_command(const std::vector<std::string>& argv,
                                  std::chrono::seconds timeout) {
  if (argv.empty()) return internal_error("run_command: no program");
  Pipe out, err;
  if (::pipe2(out.fd, O_CLOEXEC) || ::pipe2(err.fd, O_CLOEXEC))
    return internal_error(fmt::format("{}: cannot create a pipe: {}", argv[0], strerror(errno)));
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out.fd[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, err.fd[1], STDERR_FILENO);
  // The child starts with default signal dispositions and an empty mask, whatever the
  // launcher installed for itself.
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  sigset_t all, none;
  sigfillset(&all);
  sigemptyset(&none);
  posix_spawnattr_setsigdefault(&attributes, &all);
  posix_spawnattr_setsigmask(&attributes, &none);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  const int spawned =
      posix_spawnp(&pid, argv[0].c_str(), &actions, &attributes, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  if (spawned != 0)
    return bad_input(fmt::format("{}: cannot run it: {} (is Slurm's client installed and {} in "
                                 "PATH?)",
                                 argv[0], strerror(spawned), argv[0]));
  out.close_end(1);
  err.close_end(1);

  // Drain stdout and stderr together: a child blocked on a full pipe never exits.
  CommandOutput result;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  bool timed_out = false;
  while (out.fd[0] >= 0 || err.fd[0] >= 0) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    pollfd fds[2] = {{out.fd[0], POLLIN, 0}, {err.fd[0], POLLIN, 0}};
    if (::poll(fds, 2, int(left.count())) < 0) {
      if (errno == EINTR) continue;
      timed_out = true;  // cannot wait for it any more: stop it
      break;
    }
    char buffer[4096];
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      const ssize_t n = ::read(fds[i].fd, buffer, sizeof buffer);
      if (n > 0) {
        (i == 0 ? result.out : result.err).append(buffer, size_t(n));
      } else if (n == 0 || errno != EINTR) {
        (i == 0 ? out : err).close_end(0);
      }
    }
  }
  if (timed_out) ::kill(pid, SIGKILL);
  int status = 0;
  pid_t waited = 0;
  while ((waited = ::waitpid(pid, &status, 0)) < 0 && errno == EINTR) {
  }
  if (waited != pid)
    return internal_error(fmt::format("{}: cannot wait for it: {}", argv[0], strerror(errno)));
  if (timed_out)
    return bad_input(fmt::format("{}: no answer within {} s (is the Slurm controller up?)",
                                 argv[0], timeout.count()));
  result.exit_code =
      WIFEXITED(status) ? WEXITSTATUS(status) : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
  return result;
}

}  // namespace stodepth::harness
