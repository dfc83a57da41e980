// Terminal progress: a bar redrawn in place on a TTY, plain log lines otherwise.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace stodepth::cli {

// "1:02:03" / "4:05" for a number of seconds.
std::string format_duration(double seconds);
// "[#########...........]" of `width` cells for a fraction in [0, 1].
std::string format_bar(double fraction, int width);

class Progress {
 public:
  // Writes to `out`; draws in place when `out` is a terminal.
  explicit Progress(std::FILE* out);
  bool interactive() const { return interactive_; }

  // Reports `done` of `total` units with a status text. On a terminal the line is redrawn
  // at most ~10 times a second; otherwise a line is logged every `log_every_seconds`.
  void update(int64_t done, int64_t total, const std::string& status);
  // As update(), with one more line per entry of `details` under the bar on a terminal
  // (appended to the log line otherwise), e.g. one line per running job.
  void update(int64_t done, int64_t total, const std::string& status,
              const std::vector<std::string>& details);
  // Prints a line above the bar (terminal) or as a log line.
  void note(const std::string& line);
  // Clears the bar; later output starts on a clean line.
  void finish();

  double log_every_seconds = 10.0;

 private:
  using Clock = std::chrono::steady_clock;
  std::FILE* out_;
  bool interactive_;
  Clock::time_point start_, last_draw_;
  void draw();   // the bar and its detail lines, cursor left at the end of the last
  void erase();  // removes the drawn block from a terminal
  bool drawn_ = false;
  std::string last_line_;
  std::vector<std::string> last_details_;
};

}  // namespace stodepth::cli
