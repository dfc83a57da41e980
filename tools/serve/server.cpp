#include "tools/serve/server.h"

#include <fmt/format.h>
#include <httplib.h>

#include <sys/stat.h>

#include <algorithm>
#include <functional>

#include "results/report/render_html.h"
#include "results/report/report.h"
#include "results/report/report_tables.h"
#include "tools/serve/answer_cache.h"
#include "tools/serve/api.h"
#include "tools/serve/assets.h"
#include "tools/serve/pages.h"
#include "tools/serve/series.h"

namespace stodepth::serve {
namespace {

using results::Store;

constexpr const char* kHtml = "text/html; charset=utf-8";
constexpr const char* kJson = "application/json";
constexpr const char* kText = "text/plain; charset=utf-8";
constexpr const char* kCsv = "text/csv; charset=utf-8";

// What a route answers: a body and its type, or an Error (400 for bad input, else 503).
struct Reply {
  std::string body;
  const char* type = kHtml;
};
using Handler = std::function<Result<Reply>(Store&, const httplib::Request&)>;

std::string one_line(std::string text) {
  std::replace(text.begin(), text.end(), '\n', ' ');
  std::replace(text.begin(), text.end(), '\r', ' ');
  return text + "\n";
}

void send_error(httplib::Response& res, int status, const std::string& message) {
  res.status = status;
  res.set_content(one_line(message), kText);
}

std::string param(const httplib::Request& req, const char* name) {
  return req.has_param(name) ? req.get_param_value(name) : "";
}

template <typename T>
Result<Reply> reply(Result<T> text, const char* type) {
  if (!text) return text.error();
  return Reply{std::move(text).value(), type};
}

Result<Reply> report_reply(Store& store, const std::string& name) {
  auto sweep = find_sweep(store, name);
  if (!sweep) return sweep.error();
  results::ReportOptions options;
  options.sweep = name;
  auto comparison = results::compare(store, options);
  if (!comparison) return comparison.error();
  const auto tables = results::report_tables(*comparison, options);
  std::vector<std::pair<std::string, std::vector<results::RunRow>>> arms;
  for (const auto& arm : comparison->arms) arms.emplace_back(arm.label, arm.runs);
  return Reply{report_page(*sweep, results::render_html(*comparison, tables, options), arms)};
}

Result<Reply> run_reply(Store& store, const std::string& db, const std::string& key) {
  auto run = find_run(store, key);
  if (!run) return run.error();
  auto shard = open_shard(db, key);  // a Slurm task records its stops there until merged
  auto stops = (shard && *shard ? **shard : store).stops(key);
  if (!stops) return stops.error();
  return Reply{run_page(*run, *stops)};
}

Result<Reply> compare_reply(Store& store, const httplib::Request& req) {
  auto picked = find_runs(store, param(req, "runs"));
  if (!picked) return picked.error();
  auto all = store.runs(std::nullopt);
  if (!all) return all.error();
  return Reply{compare_page(*picked, *all)};
}

// The identity of the database's files as they are now (device, inode, size and change time
// of the file and its WAL), or "" when it is missing.
std::string database_signature(const std::string& db) {
  std::string signature;
  for (const std::string& path : {db, db + "-wal"}) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
      if (path == db) return "";
      continue;
    }
    signature += fmt::format("{}:{}:{}:{}.{};", st.st_dev, st.st_ino, st.st_size,
                             st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
  }
  return signature;
}

Result<SeriesRequest> series_request(const httplib::Request& req) {
  return parse_series_request(param(req, "metric"), param(req, "max_points"),
                              param(req, "smoothing"), param(req, "window"));
}

}  // namespace

struct Server::Impl {
  ServeOptions options;
  httplib::Server http;
  CurveCache curves;
  AnswerCache answers{std::chrono::milliseconds(500), 256};
  int port = 0;

  // Answers with `handle` run on a Store of its own, read-only, holding one snapshot; an
  // answer to the same request (path and query) made less than 0.5 s ago is sent again.
  void route(const char* pattern, Handler handle) {
    http.Get(pattern, [this, handle](const httplib::Request& req, httplib::Response& res) {
      // Keyed by the database files' identity too: a write, or the file replaced or deleted,
      // is seen at once, not after the answer's age (a shard's write within that age).
      const std::string request = database_signature(options.db) + " " + req.target;
      if (auto cached = answers.find(request)) {
        res.set_content(std::move(cached->body), cached->type);
        if (cached->type != kHtml) res.set_header("Cache-Control", "no-store");
        return;
      }
      auto store = Store::open(options.db, results::OpenMode::kReadOnly);
      if (!store) return send_error(res, 503, "database unavailable: " + store.error().message);
      if (auto held = (*store)->hold_snapshot(); !held)
        return send_error(res, 503, "database unavailable: " + held.error().message);
      auto answer = handle(**store, req);
      if (!answer) {
        const bool bad = answer.error().kind == ErrorKind::kBadInput;
        return send_error(res, bad ? 400 : 503,
                          (bad ? "" : "database unavailable: ") + answer.error().message);
      }
      answers.store(request, CachedAnswer{answer->body, answer->type});
      res.set_content(std::move(answer->body), answer->type);
      if (answer->type != kHtml) res.set_header("Cache-Control", "no-store");
    });
  }

  void add_routes();
  void configure();
};

void Server::Impl::add_routes() {
  const std::string db = options.db;
  route("/", [](Store& s, const auto&) -> Result<Reply> {
    auto sweeps = s.sweeps();
    if (!sweeps) return sweeps.error();
    return Reply{sweeps_page(*sweeps)};
  });
  // Sweep names may hold any character, "/" too (they are checked against the database), so
  // the routes with a suffix come first.
  route(R"(/sweep/(.+)/report)",
        [](Store& s, const auto& req) { return report_reply(s, req.matches[1]); });
  route(R"(/sweep/(.+))", [](Store& s, const auto& req) -> Result<Reply> {
    auto sweep = find_sweep(s, req.matches[1]);
    if (!sweep) return sweep.error();
    return Reply{sweep_page(*sweep)};
  });
  route(R"(/run/([^/]+))",
        [db](Store& s, const auto& req) { return run_reply(s, db, req.matches[1]); });
  route(R"(/run/([^/]+)/curve\.csv)",
        [db](Store& s, const auto& req) { return reply(curve_csv(s, db, req.matches[1]), kCsv); });
  route(R"(/run/([^/]+)/curve\.json)", [db](Store& s, const auto& req) {
    return reply(curve_json(s, db, req.matches[1]), kJson);
  });
  route("/compare", [](Store& s, const auto& req) { return compare_reply(s, req); });
  route("/api/sweeps", [db](Store& s, const auto&) { return reply(sweeps_json(s, db), kJson); });
  route(R"(/api/sweep/(.+)/jobs)",
        [db](Store& s, const auto& req) { return reply(jobs_json(s, db, req.matches[1]), kJson); });
  route(R"(/api/sweep/(.+)/series)", [this, db](Store& s, const auto& req) -> Result<Reply> {
    auto request = series_request(req);
    if (!request) return request.error();
    return reply(sweep_series_json(s, db, req.matches[1], *request, param(req, "group_by"), curves),
                 kJson);
  });
  route(R"(/api/run/([^/]+)/series)", [this, db](Store& s, const auto& req) -> Result<Reply> {
    auto request = series_request(req);
    if (!request) return request.error();
    return reply(series_json(s, db, req.matches[1], *request, curves), kJson);
  });
  // Browsers ask for an icon; the pages name none (an empty data: URL), so nothing is sent.
  http.Get("/favicon.ico",
           [](const httplib::Request&, httplib::Response& res) { res.status = 204; });
  // Static files need no database.
  http.Get(R"(/static/([^/]+))", [](const httplib::Request& req, httplib::Response& res) {
    const Asset* asset = find_asset(req.matches[1].str());
    if (!asset) return send_error(res, 404, "not found: " + req.path);
    res.set_content(asset->body.data(), asset->body.size(), asset->content_type);
    res.set_header("Cache-Control", "max-age=3600");
  });
}

void Server::Impl::configure() {
  http.set_default_headers({
      {"Content-Security-Policy",
       "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"},
      {"X-Content-Type-Options", "nosniff"},
      {"Referrer-Policy", "no-referrer"},
      {"X-Frame-Options", "DENY"},
  });
  // SO_REUSEADDR only: httplib's default adds SO_REUSEPORT, with which a second server on the
  // same port would share it silently instead of being refused.
  http.set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, reinterpret_cast<void*>(&yes), sizeof(yes));
  });
  const int threads = std::max(options.threads, 1);
  http.new_task_queue = [threads] { return new httplib::ThreadPool(size_t(threads)); };
  // Headers and body go out in two writes: without TCP_NODELAY, Nagle's algorithm holds the
  // second until the client's delayed ACK, ~40 ms a request on loopback.
  http.set_tcp_nodelay(true);
  http.set_payload_max_length(1024);
  http.set_read_timeout(5, 0);
  http.set_write_timeout(5, 0);
  // One request per connection: httplib gives each open connection a worker thread, so a
  // browser's idle keep-alive connections would hold the pool and starve other clients.
  http.set_keep_alive_max_count(1);
  // Routes answer their own errors; what reaches here unanswered (no route: 404) gets one line.
  http.set_error_handler(httplib::Server::HandlerWithResponse([](const httplib::Request& req,
                                                                 httplib::Response& res) {
    if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
    send_error(res, res.status,
               res.status == 404 ? "not found: " + req.path : fmt::format("HTTP {}", res.status));
    return httplib::Server::HandlerResponse::Handled;
  }));
  // Responses are compressed with gzip, never Brotli: Debian's httplib compresses with
  // Brotli's slowest setting (0.7 s for a 400 kB series), gzip in milliseconds. The request
  // is httplib's own object, handed to handlers as const.
  http.set_pre_routing_handler([](const httplib::Request& req, httplib::Response&) {
    auto& headers = const_cast<httplib::Request&>(req).headers;
    const bool gzip = req.get_header_value("Accept-Encoding").find("gzip") != std::string::npos;
    headers.erase("Accept-Encoding");
    if (gzip) headers.emplace("Accept-Encoding", "gzip");
    return httplib::Server::HandlerResponse::Unhandled;
  });
  http.set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr error) {
        std::string what = "unknown";
        try {
          std::rethrow_exception(error);
        } catch (const std::exception& e) {
          what = e.what();
        } catch (...) {
        }
        send_error(res, 500, "internal error: " + what);
      });
  add_routes();
}

Server::Server(ServeOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  impl_->configure();
}

Server::~Server() = default;

Result<int> Server::bind() {
  const auto& o = impl_->options;
  if (o.port == 0) {
    impl_->port = impl_->http.bind_to_any_port(o.bind);
    if (impl_->port <= 0) return bad_input(fmt::format("--bind {}: cannot listen there", o.bind));
  } else {
    if (!impl_->http.bind_to_port(o.bind, o.port))
      return bad_input(
          fmt::format("--bind {} --port {}: cannot listen there (in use? another "
                      "--port, or 0 for any free one)",
                      o.bind, o.port));
    impl_->port = o.port;
  }
  return impl_->port;
}

Status Server::run() {
  if (!impl_->http.listen_after_bind()) return internal_error("the server stopped listening");
  return ok_status();
}

void Server::stop() { impl_->http.stop(); }

}  // namespace stodepth::serve
