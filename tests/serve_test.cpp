// `stodepth serve` over HTTP: the server runs in this process on 127.0.0.1 (a free port) over a
// fixture database written here, and httplib's client hits every route: status codes, content
// types, security headers, JSON values against the rows written, bad parameters (400, one
// line), unknown routes and traversal attempts (404/400, never a file), hostile text escaped,
// the database's bytes unchanged by serving, and a database deleted or replaced with garbage
// while serving (503, then served again once restored).
#include <fmt/format.h>
#include <httplib.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "harness/plan.h"
#include "harness/slurm/shards.h"
#include "model/base/json.h"
#include "results/report/render_html.h"
#include "results/report/report.h"
#include "results/report/report_tables.h"
#include "sweeps/sweep.h"
#include "tests/store_fixtures.h"
#include "tests/temp_dir.h"
#include "tools/serve/server.h"

using namespace stodepth;
using stodepth::testing::read_bytes;
using stodepth::testing::TempDir;

namespace {

constexpr const char* kHostile = "<script>alert(1)</script> \"quoted\" & 'single'";

// 2 values of p_L x 2 seeds, 100 iterations each (fixed: no dataset is loaded).
constexpr const char* kSweep =
    "name: live\n"
    "description: 'first <script>alert(1)</script> \"quoted\" & ''single'''\n"
    "base:\n"
    "  dataset: {name: synthetic, train_subset: 256, test_subset: 64}\n"
    "  model: {depth: 8}\n"
    "  train: {iterations: 100, batch: 32}\n"
    "grid:\n"
    "  stochastic_depth.p_L: [1.0, 0.5]\n"
    "seeds: [1, 2]\n";

struct Fixture {
  TempDir dir;
  std::string db = dir.file("results.db");
  std::vector<std::string> keys;  // p_L 1 seed 1, seed 2, p_L 0.5 seed 1, seed 2
  std::string done, running;      // keys[0] done (100 iterations), keys[2] running (30)
  std::optional<sweeps::Sweep> sweep;

  Fixture() {
    sweep = sweeps::parse_sweep(kSweep, "live.yaml").value();
    auto store = testing::open_store(db);
    testing::require_ok(harness::record_sweep(*store, *sweep));
    for (const auto& job : sweep->jobs) keys.push_back(job.key);
    REQUIRE(keys.size() == 4);
    done = keys[0];
    running = keys[2];
    // Three done runs (two p_L 1 seeds, one p_L 0.5) so the report has a pair.
    for (const auto& key : {keys[0], keys[1], keys[3]}) finish(*store, key, 100);
    REQUIRE(store->claim_run(running, false, "here:1", 2));
    testing::require_ok(store->append_iterations(running, testing::iterations(1, 30)));
    // A hostile sweep: its name and description are HTML.
    testing::require_ok(store->register_sweep({kHostile, kHostile, "name: x\n", "hx"}));
  }

  static void finish(results::Store& store, const std::string& key, int n) {
    REQUIRE(store.claim_run(key, false, "here:1", 2));
    MachineFacts facts;
    facts.cpu_model = "Test CPU";
    testing::require_ok(store.record_machine(key, facts));
    testing::require_ok(store.append_iterations(key, testing::iterations(1, n)));
    std::vector<TestEvalRecord> evals;
    for (int e = 1; e <= n / 10; ++e) {
      TestEvalRecord r = testing::test_eval(e);
      r.validation_accuracy = 0.4 + 0.01 * e;
      evals.push_back(r);
    }
    testing::require_ok(store.append_test_evals(key, evals));
    RunSummary summary = testing::sample_summary();
    summary.iterations = n;
    testing::require_ok(store.finish_run(key, results::RunState::kDone, &summary, ""));
  }
};

// The server, listening on a free port of 127.0.0.1 until destroyed.
class Running {
 public:
  explicit Running(const std::string& db) : server_(options(db)) {
    auto port = server_.bind();
    REQUIRE(port);
    port_ = *port;
    thread_ = std::thread([this] { (void)server_.run(); });
  }
  ~Running() {
    server_.stop();
    thread_.join();
  }
  int port() const { return port_; }
  httplib::Result get(const std::string& path) {
    httplib::Client client("127.0.0.1", port_);
    client.set_read_timeout(10, 0);
    return client.Get(path.c_str());
  }

 private:
  static serve::ServeOptions options(const std::string& db) {
    serve::ServeOptions o;
    o.db = db;
    o.port = 0;
    o.threads = 2;
    return o;
  }
  serve::Server server_;
  int port_ = 0;
  std::thread thread_;
};

// GET `path`: status `status`, and the body.
std::string body_of(Running& server, const std::string& path, int status = 200) {
  auto res = server.get(path);
  INFO(path);
  REQUIRE(res);
  INFO(res->body);
  CHECK(res->status == status);
  return res->body;
}

OrderedJson json_of(Running& server, const std::string& path) {
  auto res = server.get(path);
  INFO(path);
  REQUIRE(res);
  INFO(res->body);
  REQUIRE(res->status == 200);
  CHECK(res->get_header_value("Content-Type") == "application/json");
  return OrderedJson::parse(res->body);
}

// A refusal: `status` and one line of text.
void check_refused(Running& server, const std::string& path, int status) {
  auto res = server.get(path);
  INFO(path);
  REQUIRE(res);
  INFO(res->body);
  CHECK(res->status == status);
  CHECK(res->get_header_value("Content-Type").rfind("text/plain", 0) == 0);
  REQUIRE(!res->body.empty());
  CHECK(res->body.find('\n') == res->body.size() - 1);
  CHECK(res->body.find("root:") == std::string::npos);
}

const OrderedJson& job_of(const OrderedJson& jobs, const std::string& key) {
  for (const auto& job : jobs["jobs"])
    if (job["key"] == key) return job;
  FAIL("no job " << key);
  return jobs;
}

}  // namespace

TEST_CASE("serve: pages are HTML with the security headers, hostile text escaped") {
  Fixture f;
  Running server(f.db);
  for (const std::string& path :
       std::vector<std::string>{"/", "/sweep/live", "/sweep/live/report", "/run/" + f.done,
                                "/compare", "/compare?runs=" + f.done + "," + f.running}) {
    auto res = server.get(path);
    INFO(path);
    REQUIRE(res);
    INFO(res->body);
    CHECK(res->status == 200);
    CHECK(res->get_header_value("Content-Type") == "text/html; charset=utf-8");
    CHECK(res->get_header_value("Content-Security-Policy")
              .rfind("default-src 'self'; style-src 'self' 'unsafe-inline'", 0) == 0);
    CHECK(res->get_header_value("X-Content-Type-Options") == "nosniff");
    // No inline script: every <script> loads a file of ours.
    size_t at = 0;
    while ((at = res->body.find("<script", at)) != std::string::npos) {
      CHECK(res->body.compare(at, 20, "<script src=\"/static") == 0);
      ++at;
    }
    CHECK(res->body.find("<script>alert") == std::string::npos);
  }
  const std::string home = body_of(server, "/");
  CHECK(home.find(
            "&lt;script&gt;alert(1)&lt;/script&gt; &quot;quoted&quot; &amp; &#39;single&#39;") !=
        std::string::npos);
  CHECK(home.find("href=\"/sweep/live\"") != std::string::npos);
  CHECK(home.find("href=\"/sweep/%3Cscript%3Ealert%281%29%3C%2Fscript%3E") != std::string::npos);
  // The hostile sweep's own page, by its encoded name.
  const std::string hostile = body_of(
      server, "/sweep/%3Cscript%3Ealert%281%29%3C%2Fscript%3E%20%22quoted%22%20%26%20%27single%27");
  CHECK(hostile.find("&lt;script&gt;") != std::string::npos);

  const std::string sweep = body_of(server, "/sweep/live");
  for (const char* id :
       {"id=\"jobs\"", "id=\"smoothing\"", "id=\"smoothing-window\"", "id=\"xaxis\"",
        "id=\"logscale\"", "id=\"filter\"", "id=\"group-by\"", "id=\"chart-train_loss\"",
        "id=\"chart-test_batch_acc\"", "id=\"chart-test_acc\"", "id=\"chart-val_acc\"",
        "id=\"chart-lr\"", "id=\"chart-step_ms\"", "id=\"chart-active_blocks\""})
    CHECK(sweep.find(id) != std::string::npos);
  CHECK(sweep.find("first &lt;script&gt;") != std::string::npos);

  const std::string run = body_of(server, "/run/" + f.done);
  CHECK(run.find("href=\"/run/" + f.done + "/curve.csv\"") != std::string::npos);
  CHECK(run.find("Test CPU") != std::string::npos);
  CHECK(run.find("stochastic_depth.p_L") != std::string::npos);
}

TEST_CASE("serve: the report page embeds the report stodepth report renders") {
  Fixture f;
  std::string expected;
  {
    auto store = testing::open_store(f.db, results::OpenMode::kReadOnly);
    results::ReportOptions options;
    options.sweep = "live";
    auto comparison = results::compare(*store, options);
    REQUIRE(comparison);
    const std::string html =
        results::render_html(*comparison, results::report_tables(*comparison, options), options);
    const size_t begin = html.find("<body>\n") + 7, end = html.find("</body>");
    expected = html.substr(begin, end - begin);
  }
  Running server(f.db);
  const std::string page = body_of(server, "/sweep/live/report");
  CHECK(page.find("<div id=\"report\">\n" + expected + "</div>") != std::string::npos);
  CHECK(page.find("href=\"/run/" + f.done + "\"") != std::string::npos);
}

TEST_CASE("serve: the API's sweeps, jobs and series hold the rows written") {
  Fixture f;
  Running server(f.db);
  const auto sweeps = json_of(server, "/api/sweeps");
  REQUIRE(sweeps.size() == 2);
  CHECK(sweeps[0]["name"] == "live");
  CHECK(sweeps[0]["total"] == 4);
  CHECK(sweeps[0]["counts"]["done"] == 3);
  CHECK(sweeps[0]["counts"]["running"] == 1);
  CHECK(sweeps[0]["machines"] == OrderedJson::array({"here (Test CPU)"}));
  CHECK(sweeps[1]["name"] == kHostile);

  const auto jobs = json_of(server, "/api/sweep/live/jobs");
  REQUIRE(jobs["jobs"].size() == 4);
  const auto& running = job_of(jobs, f.running);
  CHECK(running["state"] == "running");
  CHECK(running["iteration"] == 30);
  CHECK(running["total"] == 100);
  CHECK(running["loss"].get<double>() == 2.0 - 0.01 * 30);  // the fixture's iteration(30)
  CHECK(running["test_batch_acc"].get<double>() == 0.25 + 0.001 * 30);
  CHECK(running["test_acc"].is_null());
  CHECK(running["settings"]["stochastic_depth.p_L"] == 0.5);
  // Its pace is the mean step of its last 30 (1.5 + i ms): 32 images per step.
  CHECK(running["images_per_second"].get<double>() == Approx(32 * 1000 / (1.5 + 15.5)));
  const auto& done = job_of(jobs, f.done);
  CHECK(done["state"] == "done");
  CHECK(done["test_acc"].get<double>() == 0.5 + 0.01 * 10);  // the last evaluation, epoch 10
  CHECK(done["images_per_second"].get<double>() == 768);     // the summary's

  // Training loss: every iteration; train_s sums the step times (1.5 + i ms).
  auto loss = json_of(server, "/api/run/" + f.done + "/series?metric=train_loss");
  CHECK(loss["key"] == f.done);
  CHECK(loss["x"] == "iteration");
  CHECK(loss["thinning"] == "none");
  CHECK(loss["smoothing"] == "none");
  REQUIRE(loss["points"].size() == 100);
  CHECK(loss["points"][0] == OrderedJson::array({1, 1, 0.0025, 2.0 - 0.01}));
  CHECK(loss["points"][2][2].get<double>() == Approx((2.5 + 3.5 + 4.5) / 1000));
  CHECK(loss["points"][99][0] == 100);
  // Test mini-batch accuracy: every 10th iteration; whole test set and validation: evaluations.
  auto batch = json_of(server, "/api/run/" + f.done + "/series?metric=test_batch_acc");
  REQUIRE(batch["points"].size() == 10);
  CHECK(batch["points"][0][0] == 10);
  CHECK(batch["points"][0][3].get<double>() == 0.25 + 0.001 * 10);
  auto test = json_of(server, "/api/run/" + f.done + "/series?metric=test_acc");
  REQUIRE(test["points"].size() == 10);
  CHECK(test["points"][9][3].get<double>() == 0.5 + 0.01 * 10);
  auto val = json_of(server, "/api/run/" + f.done + "/series?metric=val_acc");
  REQUIRE(val["points"].size() == 10);
  CHECK(val["points"][0][3].get<double>() == 0.4 + 0.01);
  for (const std::string metric : {"lr", "step_ms", "active_blocks", "train_acc", "test_loss"})
    CHECK(json_of(server, "/api/run/" + f.done + "/series?metric=" + metric)["points"].size() >=
          10);
  auto active = json_of(server, "/api/run/" + f.done + "/series?metric=active_blocks");
  CHECK(active["points"][17][3] == 18 % 9);

  // Thinned: at most max_points, named.
  auto thinned = json_of(server, "/api/run/" + f.done + "/series?metric=train_loss&max_points=10");
  CHECK(thinned["points"].size() == 10);
  CHECK(thinned["thinning"] == "lttb 10 of 100");
  // Box smoothing of width 4: the trailing mean of iterations 1..4 at iteration 4.
  auto box =
      json_of(server, "/api/run/" + f.done + "/series?metric=train_loss&smoothing=box&window=4");
  CHECK(box["smoothing"] == "box:4");
  CHECK(box["points"][3][3].get<double>() == Approx(2.0 - 0.01 * 2.5));
  // A window wider than a quarter of the run is clipped, as the report clips it.
  auto wide = json_of(
      server, "/api/run/" + f.done + "/series?metric=train_loss&smoothing=ewma&window=1000");
  CHECK(wide["smoothing"] == "ewma:25");

  // The sweep's series, per run and per p_L (mean ± sd over its runs at each iteration).
  auto per_run = json_of(server, "/api/sweep/live/series?metric=train_loss");
  CHECK(per_run["series"].size() == 4);
  auto per_run_thinned = json_of(server, "/api/sweep/live/series?metric=train_loss&max_points=10");
  for (const auto& s : per_run_thinned["series"]) CHECK(s["points"].size() <= 10);
  CHECK(per_run_thinned["series"][0]["thinning"] == "lttb 10 of 100");
  auto grouped =
      json_of(server, "/api/sweep/live/series?metric=train_loss&group_by=stochastic_depth.p_L");
  REQUIRE(grouped["series"].size() == 2);
  const auto& half = grouped["series"][0]["name"] == "stochastic_depth.p_L=0.5"
                         ? grouped["series"][0]
                         : grouped["series"][1];
  CHECK(half["keys"].size() == 2);
  // Iteration 10: two runs (one done, one running) with the same loss: mean 1.9, sd 0.
  CHECK(half["points"][9][3].get<double>() == Approx(1.9));
  CHECK(half["points"][9][4].get<double>() == 0);
  CHECK(half["points"].size() == 100);  // iterations 31..100 from the done run alone
  auto arms = json_of(server, "/api/sweep/live/series?metric=test_acc&group_by=arm");
  CHECK(arms["series"].size() == 2);
}

TEST_CASE("serve: curve downloads hold every row at full precision with the run key") {
  Fixture f;
  Running server(f.db);
  auto res = server.get("/run/" + f.done + "/curve.csv");
  REQUIRE(res);
  CHECK(res->status == 200);
  CHECK(res->get_header_value("Content-Type") == "text/csv; charset=utf-8");
  std::istringstream lines(res->body);
  std::string line;
  std::getline(lines, line);
  CHECK(line.rfind("run,kind,iteration,epoch,lr,", 0) == 0);
  int iterations = 0, evaluations = 0;
  while (std::getline(lines, line)) {
    CHECK(line.rfind(f.done + ",", 0) == 0);
    iterations += line.find(",iteration,") != std::string::npos;
    evaluations += line.find(",test_set,") != std::string::npos;
  }
  CHECK(iterations == 100);
  CHECK(evaluations == 10);
  // lr 0.1/3 at iteration 3, every digit: 0.03333333333333333.
  CHECK(res->body.find(f.done + ",iteration,3,1,0.03333333333333333,") != std::string::npos);

  const auto curve = json_of(server, "/run/" + f.done + "/curve.json");
  REQUIRE(curve["iterations"].size() == 100);
  REQUIRE(curve["test_set"].size() == 10);
  for (const auto& row : curve["iterations"]) CHECK(row["run"] == f.done);
  for (const auto& row : curve["test_set"]) CHECK(row["run"] == f.done);
  CHECK(curve["iterations"][2]["lr"].get<double>() == 0.1 / 3);
  CHECK(curve["test_set"][0]["validation_accuracy"].get<double>() == 0.4 + 0.01);
}

TEST_CASE("serve: responses are gzip-compressed when asked, never Brotli (too slow)") {
  Fixture f;
  Running server(f.db);
  for (const char* accepted : {"br", "gzip, deflate, br"}) {
    httplib::Client client("127.0.0.1", server.port());
    client.set_decompress(false);
    auto res = client.Get("/api/sweep/live/series?metric=train_loss",
                          {{"Accept-Encoding", accepted}});
    REQUIRE(res);
    CHECK(res->status == 200);
    CHECK(res->get_header_value("Content-Encoding") ==
          (std::string(accepted) == "br" ? "" : "gzip"));
  }
}

TEST_CASE("serve: static files are the embedded ones") {
  Fixture f;
  Running server(f.db);
  auto js = server.get("/static/dygraph.min.js");
  REQUIRE(js);
  CHECK(js->status == 200);
  CHECK(js->get_header_value("Content-Type") == "text/javascript; charset=utf-8");
  CHECK(js->body == read_bytes("/usr/share/javascript/dygraphs/dygraph.min.js"));
  auto css = server.get("/static/dygraph.min.css");
  REQUIRE(css);
  CHECK(css->get_header_value("Content-Type") == "text/css; charset=utf-8");
  for (const char* name : {"/static/app.js", "/static/app.css"}) {
    auto res = server.get(name);
    REQUIRE(res);
    CHECK(res->status == 200);
    CHECK(res->body.size() > 100);
  }
}

TEST_CASE("serve: bad parameters are refused with one line, unknown routes and traversal 404") {
  Fixture f;
  Running server(f.db);
  const std::string series = "/api/run/" + f.done + "/series";
  for (const std::string& path :
       std::vector<std::string>{"/sweep/nosuch",
                                "/sweep/nosuch/report",
                                "/api/sweep/nosuch/jobs",
                                "/api/sweep/nosuch/series",
                                "/run/zzzz",
                                "/run/0123456789abcdef",
                                "/run/0123456789ABCDEF",
                                "/run/0123456789abcdef/curve.csv",
                                "/api/run/zzzz/series",
                                series + "?max_points=-1",
                                series + "?max_points=99999999999999999999",
                                series + "?max_points=abc",
                                series + "?max_points=2001",
                                series + "?max_points=2",
                                series + "?metric=bogus",
                                series + "?smoothing=median",
                                series + "?smoothing=box&window=0",
                                series + "?smoothing=box&window=x",
                                "/api/sweep/live/series?group_by=bogus",
                                "/compare?runs=" + f.done + ",nothex"})
    check_refused(server, path, 400);
  CHECK(body_of(server, "/api/sweep/liv/jobs", 400) ==
        "no sweep 'liv' in the database, did you mean 'live'?\n");
  // More than 20 runs in one comparison.
  std::string many;
  for (int i = 0; i < 21; ++i) many += fmt::format("{}{:016x}", i ? "," : "", i);
  CHECK(body_of(server, "/compare?runs=" + many, 400).find("no run") != std::string::npos);

  for (const std::string& path : std::vector<std::string>{
           "/nope", "/api/nope", "/sweep/live/extra", "/static/nope.js", "/static/../../etc/passwd",
           "/static/%2e%2e/%2e%2e/etc/passwd", "/static/..%2f..%2fetc%2fpasswd", "/run/../",
           "/%2e%2e/%2e%2e/etc/passwd", "/static/", "/static/app.js/x", "//etc/passwd"}) {
    auto res = server.get(path);
    INFO(path);
    REQUIRE(res);
    CHECK((res->status == 404 || res->status == 400));
    CHECK(res->body.find("root:") == std::string::npos);
    CHECK(res->get_header_value("X-Content-Type-Options") == "nosniff");
  }
}

TEST_CASE("serve: serving never writes the database") {
  Fixture f;
  const std::string before = read_bytes(f.db);
  {
    Running server(f.db);
    for (const std::string& path : std::vector<std::string>{
             "/", "/api/sweeps", "/api/sweep/live/jobs", "/sweep/live", "/sweep/live/report",
             "/run/" + f.done, "/run/" + f.done + "/curve.csv",
             "/api/run/" + f.running + "/series?metric=train_loss",
             "/api/sweep/live/series?metric=test_acc&group_by=arm"})
      body_of(server, path);
  }
  CHECK(read_bytes(f.db) == before);
}

TEST_CASE(
    "serve: a database deleted, replaced or damaged while serving fails requests, not "
    "the server") {
  Fixture f;
  Running server(f.db);
  body_of(server, "/api/sweeps");
  const std::string aside = f.db + ".aside";
  std::filesystem::rename(f.db, aside);
  check_refused(server, "/api/sweeps", 503);
  check_refused(server, "/", 503);
  check_refused(server, "/sweep/live", 503);
  {
    std::ofstream garbage(f.db, std::ios::binary);
    garbage << std::string(8192, 'x');
  }
  check_refused(server, "/api/sweep/live/jobs", 503);
  check_refused(server, "/api/run/" + f.done + "/series", 503);
  std::filesystem::remove(f.db);
  std::filesystem::copy_file(aside, f.db);
  {  // Damaged: the header intact, the pages cut off.
    std::filesystem::resize_file(f.db, 4096 + 100);
  }
  auto damaged = server.get("/api/sweep/live/jobs");
  REQUIRE(damaged);
  CHECK(damaged->status == 503);
  std::filesystem::remove(f.db);
  std::filesystem::rename(aside, f.db);
  const auto sweeps = json_of(server, "/api/sweeps");
  CHECK(sweeps.size() == 2);
  body_of(server, "/sweep/live");
}

TEST_CASE("serve: a run training in a store shard is read from its shard") {
  Fixture f;
  // A Slurm task's shard beside the database: the run's rows are there until it is merged.
  const std::string dir = harness::shard_dir(f.db);
  std::filesystem::create_directories(dir);
  const sweeps::Job* job = nullptr;
  for (const auto& j : f.sweep->jobs)
    if (j.key == f.running) job = &j;
  REQUIRE(job);
  REQUIRE(harness::create_shard(dir, *f.sweep, *job));
  {
    auto shard = testing::open_store(harness::shard_path(dir, f.running),
                                     results::OpenMode::kReadWrite, testing::rollback_journal());
    REQUIRE(shard->claim_run(f.running, false, "node:1", 2));
    testing::require_ok(shard->append_iterations(f.running, testing::iterations(1, 45)));
    testing::require_ok(shard->record_stop(f.running, {"", 40, "time-limit", "12", true}));
  }
  Running server(f.db);
  auto loss = json_of(server, "/api/run/" + f.running + "/series?metric=train_loss");
  CHECK(loss["points"].size() == 45);
  const auto jobs = json_of(server, "/api/sweep/live/jobs");
  const auto& running = job_of(jobs, f.running);
  CHECK(running["iteration"] == 45);
  CHECK(running["loss"].get<double>() == 2.0 - 0.01 * 45);
  const std::string page = body_of(server, "/run/" + f.running);
  CHECK(page.find("time-limit") != std::string::npos);
  auto csv = server.get("/run/" + f.running + "/curve.csv");
  REQUIRE(csv);
  CHECK(std::count(csv->body.begin(), csv->body.end(), '\n') == 1 + 45);
}
