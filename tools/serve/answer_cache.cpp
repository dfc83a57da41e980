#include "tools/serve/answer_cache.h"

#include <iterator>
#include <utility>

namespace stodepth::serve {

AnswerCache::AnswerCache(std::chrono::milliseconds max_age, std::size_t capacity,
                         std::function<Clock::time_point()> now)
    : max_age_(max_age), capacity_(capacity), now_(std::move(now)) {}

std::optional<CachedAnswer> AnswerCache::find(const std::string& request) {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(request);
  if (it == entries_.end() || now_() - it->second.at >= max_age_) return std::nullopt;
  return it->second.answer;
}

void AnswerCache::store(const std::string& request, CachedAnswer answer) {
  std::lock_guard lock(mutex_);
  const Clock::time_point now = now_();
  if (entries_.size() >= capacity_ && !entries_.count(request)) {
    for (auto it = entries_.begin(); it != entries_.end();)
      it = now - it->second.at >= max_age_ ? entries_.erase(it) : std::next(it);
    // Still full of fresh answers: a burst of distinct requests; start over.
    if (entries_.size() >= capacity_) entries_.clear();
  }
  entries_.insert_or_assign(request, Entry{now, std::move(answer)});
}

}  // namespace stodepth::serve
