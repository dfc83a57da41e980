#include "tools/progress.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

namespace stodepth::cli {

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const int64_t s = std::llround(seconds);
  if (s >= 3600) return fmt::format("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60);
  return fmt::format("{}:{:02}", s / 60, s % 60);
}

std::string format_bar(double fraction, int width) {
  const int filled = int(std::clamp(fraction, 0.0, 1.0) * width + 0.5);
  std::string bar(width + 2, '.');
  bar.front() = '[';
  bar.back() = ']';
  std::fill_n(bar.begin() + 1, filled, '#');
  return bar;
}

Progress::Progress(std::FILE* out)
    : out_(out), interactive_(isatty(fileno(out)) != 0), start_(Clock::now()),
      last_draw_(start_) {}

void Progress::update(int64_t done, int64_t total, const std::string& status) {
  update(done, total, status, {});
}

void Progress::update(int64_t done, int64_t total, const std::string& status,
                      const std::vector<std::string>& details) {
  const auto now = Clock::now();
  const double since_draw = std::chrono::duration<double>(now - last_draw_).count();
  const bool last = done >= total;
  if (drawn_ && !last && since_draw < (interactive_ ? 0.1 : log_every_seconds)) return;
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const double fraction = total > 0 ? double(done) / double(total) : 0.0;
  const double eta = done > 0 ? elapsed / double(done) * double(total - done) : NAN;
  last_line_ = fmt::format("{} {:3.0f}% {} elapsed {} ETA {}", format_bar(fraction, 24),
                           100 * fraction, status, format_duration(elapsed),
                           format_duration(eta));
  if (interactive_) {
    erase();
    last_details_ = details;
    draw();
  } else {
    std::string line = last_line_;
    for (const auto& d : details) line += " | " + d;
    fmt::print(out_, "{}\n", line);
  }
  std::fflush(out_);
  drawn_ = true;
  last_draw_ = now;
}

void Progress::draw() {
  fmt::print(out_, "{}", last_line_);
  for (const auto& d : last_details_) fmt::print(out_, "\n  {}", d);
}

void Progress::erase() {
  if (!drawn_) return;
  // To the start of the block's first line, then clear to the end of the screen.
  if (!last_details_.empty()) fmt::print(out_, "\033[{}F", last_details_.size());
  fmt::print(out_, "\r\033[J");
}

void Progress::note(const std::string& line) {
  if (interactive_ && drawn_) {
    erase();
    fmt::print(out_, "{}\n", line);
    draw();
  } else {
    fmt::print(out_, "{}\n", line);
  }
  std::fflush(out_);
}

void Progress::finish() {
  if (interactive_) erase();
  std::fflush(out_);
  drawn_ = false;
  last_details_.clear();
}

}  // namespace stodepth::cli
