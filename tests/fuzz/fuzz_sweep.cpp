// Fuzzes the sweep-file parser, validator and expander through parse_sweep (the text entry
// point of load_sweep_file). Beyond not crashing: a rejected file gets only well-formed
// "fuzz.yaml:line:col: message" lines pointing inside the file; an accepted one gets valid,
// uniquely keyed jobs, the same on a second parse.
#include <algorithm>
#include <charconv>
#include <set>
#include <sstream>

#include "model/config/config_codec.h"
#include "sweeps/sweep.h"
#include "tests/fuzz/fuzz.h"

namespace {

// "fuzz.yaml:LINE:COL: message" with LINE a line of the text.
bool well_formed(const std::string& line, size_t text_lines) {
  constexpr std::string_view kFile = "fuzz.yaml:";
  if (line.rfind(kFile, 0) != 0) return false;
  const char* p = line.data() + kFile.size();
  const char* end = line.data() + line.size();
  size_t number = 0, column = 0;
  auto parsed = std::from_chars(p, end, number);
  if (parsed.ec != std::errc() || number < 1 || number > text_lines || parsed.ptr == end ||
      *parsed.ptr != ':')
    return false;
  parsed = std::from_chars(parsed.ptr + 1, end, column);
  return parsed.ec == std::errc() && column >= 1 && end - parsed.ptr > 2 && parsed.ptr[0] == ':' &&
         parsed.ptr[1] == ' ';
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace stodepth;
  const std::string text(reinterpret_cast<const char*>(data), size);
  // A small limit keeps every input fast; the limit is checked before anything is expanded.
  const sweeps::ExpandOptions options{.max_jobs = 1000};
  const Result<sweeps::Sweep> sweep = sweeps::parse_sweep(text, "fuzz.yaml", options);
  if (!sweep) {
    const std::string& message = sweep.error().message;
    FUZZ_CHECK(!message.empty());
    const size_t text_lines = size_t(std::count(text.begin(), text.end(), '\n')) + 1;
    std::istringstream lines(message);
    for (std::string line; std::getline(lines, line);) FUZZ_CHECK(well_formed(line, text_lines));
    return 0;
  }
  FUZZ_CHECK(!sweep->jobs.empty() && sweep->jobs.size() <= options.max_jobs);
  std::set<std::string> keys;
  for (const sweeps::Job& job : sweep->jobs) {
    FUZZ_CHECK(validate(job.config).ok());
    FUZZ_CHECK(job.config_json == canonical_config_json(job.config));
    FUZZ_CHECK(job.key == sweeps::job_key(job.config));
    FUZZ_CHECK(keys.insert(job.key).second);
  }
  const Result<sweeps::Sweep> again = sweeps::parse_sweep(text, "fuzz.yaml", options);
  FUZZ_CHECK(again && again->source_hash == sweep->source_hash &&
             again->jobs.size() == sweep->jobs.size());
  for (size_t i = 0; i < again->jobs.size(); ++i)
    FUZZ_CHECK(again->jobs[i].key == sweep->jobs[i].key);
  return 0;
}
