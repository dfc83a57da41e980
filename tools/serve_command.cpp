// `stodepth serve`: the results database in the browser, live (tools/serve/).
#include <fmt/format.h>
#include <pthread.h>
#include <signal.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <cstdio>
#include <ctime>
#include <thread>

#include "tools/commands.h"
#include "tools/parse.h"
#include "tools/serve/server.h"

namespace stodepth::cli {
namespace {

bool is_loopback(const std::string& address) {
  return address == "127.0.0.1" || address == "localhost" || address == "::1";
}

}  // namespace

CommandResult run_serve(int argc, char** argv) {
  CLI::App app{
      "Serve the results database as a web application: sweeps, live curves, reports, "
      "run pages, comparisons. Reads the database read-only; Ctrl-C stops it.",
      "stodepth serve"};
  serve::ServeOptions options;
  app.add_option("--db", options.db, "Results database")->capture_default_str();
  app.add_option("--port", options.port, "Port (0: any free one; the URL printed has it)")
      ->check(CLI::Range(0, 65535))
      ->capture_default_str();
  app.add_option("--bind", options.bind,
                 "Address to listen on; another than 127.0.0.1 lets others read the database")
      ->capture_default_str();
  app.add_option("--threads", options.threads, "Worker threads answering requests")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  if (auto exit = parse_flags(app, argc, argv)) return *exit;
  if (!is_loopback(options.bind))
    fmt::print(stderr,
               "stodepth serve: warning: listening on {}: anyone who can reach it can read the "
               "database (no authentication); the default is 127.0.0.1\n",
               options.bind);

  // SIGINT and SIGTERM are taken by a watcher thread (blocked in every thread, the server's
  // included), which stops the server: its threads finish their requests and run() returns.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  serve::Server server(options);
  auto port = server.bind();
  if (!port) return port.error();
  const std::string host = options.bind.find(':') != std::string::npos
                               ? fmt::format("[{}]", options.bind)
                               : options.bind;
  fmt::print("serving {} at http://{}:{}/\n", options.db, host, *port);
  std::fflush(stdout);

  std::atomic<bool> done = false;
  std::thread watcher([&] {
    const timespec tick{0, 200'000'000};
    while (!done) {
      if (sigtimedwait(&stop_signals, nullptr, &tick) > 0) {
        server.stop();
        return;
      }
    }
  });
  const Status served = server.run();
  done = true;
  watcher.join();
  if (!served) return served.error();
  return kExitOk;
}

}  // namespace stodepth::cli
