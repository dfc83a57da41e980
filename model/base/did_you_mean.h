// "Did you mean …?" hints for unknown names (flags, keys, commands, datasets, sweeps).
#pragma once

#include <string>
#include <vector>

namespace stodepth {

// The closest candidate by edit distance (the first of equally close ones); empty when none
// is within max(2, |word|/3) edits.
std::string closest_match(const std::string& word, const std::vector<std::string>& candidates);

}  // namespace stodepth
