#include "tools/serve/answer_cache.h"

#include <catch2/catch.hpp>

using stodepth::serve::AnswerCache;
using stodepth::serve::CachedAnswer;
using namespace std::chrono_literals;

namespace {

// A clock the test moves by hand.
struct FakeClock {
  AnswerCache::Clock::time_point t{};
  AnswerCache::Clock::time_point operator()() const { return t; }
};

}  // namespace

TEST_CASE("answer_cache: an answer is served again until it is max_age old", "[serve]") {
  FakeClock clock;
  AnswerCache cache(500ms, 8, [&] { return clock(); });
  CHECK_FALSE(cache.find("/api/sweeps"));
  cache.store("/api/sweeps", CachedAnswer{"[1]", "application/json"});
  clock.t += 499ms;
  auto hit = cache.find("/api/sweeps");
  REQUIRE(hit);
  CHECK(hit->body == "[1]");
  CHECK(std::string(hit->type) == "application/json");
  CHECK_FALSE(cache.find("/api/sweeps?x=1"));  // another request
  clock.t += 1ms;
  CHECK_FALSE(cache.find("/api/sweeps"));  // 500 ms old: read again
  cache.store("/api/sweeps", CachedAnswer{"[2]", "application/json"});
  CHECK(cache.find("/api/sweeps")->body == "[2]");
}

TEST_CASE("answer_cache: capacity bounds the answers kept", "[serve]") {
  FakeClock clock;
  AnswerCache cache(500ms, 2, [&] { return clock(); });
  cache.store("a", CachedAnswer{"A", "t"});
  clock.t += 600ms;  // a is stale
  cache.store("b", CachedAnswer{"B", "t"});
  cache.store("c", CachedAnswer{"C", "t"});  // full: the stale a goes, b stays
  CHECK(cache.find("b")->body == "B");
  CHECK(cache.find("c")->body == "C");
  cache.store("d", CachedAnswer{"D", "t"});  // full of fresh answers: starts over
  CHECK_FALSE(cache.find("b"));
  CHECK_FALSE(cache.find("c"));
  CHECK(cache.find("d")->body == "D");
}
