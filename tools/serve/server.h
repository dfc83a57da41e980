// `stodepth serve`'s HTTP server: fixed routes (pages.h, api.h, series.h, assets.h) over a
// results database opened read-only for each request, so that a launch writing it is never
// blocked for longer than a read, and a database deleted or replaced while serving fails only
// the requests made meanwhile (HTTP 503 with one line).
//
// Bounded work: a pool of worker threads, points per series (thinning.h), runs per comparison
// (api.h), request bodies (none are accepted: GET only, 1 KiB) and slow clients (5 s read and
// write timeouts).
#pragma once

#include <memory>
#include <string>

#include "model/base/result.h"

namespace stodepth::serve {

struct ServeOptions {
  std::string db = "out/results.db";
  std::string bind = "127.0.0.1";
  int port = 8080;  // 0: any free port
  int threads = 8;
};

class Server {
 public:
  explicit Server(ServeOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds the address; the port bound (the one asked, or a free one for port 0).
  Result<int> bind();
  // Serves until stop() (from another thread); an Error if it could not.
  Status run();
  // Stops serving: run() returns once the requests in progress are answered.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace stodepth::serve
