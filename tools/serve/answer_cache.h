// Answers shared between clients for a short time. A watched sweep's page polls the same
// requests every second from every open tab; without sharing, each poll re-reads the database
// and re-thins every series, and twenty tabs would take CPU from the launch they watch. An
// answer younger than the cache's age is served again; the server's keys hold the database
// files' identity besides the request, so a write is seen at once (a Slurm shard's within
// that age).
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>

namespace stodepth::serve {

struct CachedAnswer {
  std::string body;
  const char* type = nullptr;
};

class AnswerCache {
 public:
  using Clock = std::chrono::steady_clock;

  // `max_age`: how long an answer is served again; `capacity`: answers kept at most (a
  // request names at most one, so this bounds the memory of distinct requests).
  AnswerCache(std::chrono::milliseconds max_age, std::size_t capacity,
              std::function<Clock::time_point()> now = Clock::now);

  // The answer stored for `request` less than max_age ago.
  std::optional<CachedAnswer> find(const std::string& request);
  void store(const std::string& request, CachedAnswer answer);

 private:
  struct Entry {
    Clock::time_point at;
    CachedAnswer answer;
  };
  std::chrono::milliseconds max_age_;
  std::size_t capacity_;
  std::function<Clock::time_point()> now_;
  std::mutex mutex_;
  std::map<std::string, Entry> entries_;
};

}  // namespace stodepth::serve
