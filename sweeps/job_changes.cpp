#include "sweeps/job_changes.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <map>
#include <optional>
#include <set>

#include "model/config/distinguishing.h"
#include "model/config/settings.h"

namespace stodepth::sweeps {
namespace {

// A job's settings as (dotted path → value text) of its canonical JSON.
using Settings = std::map<std::string, std::string>;

// Named in a list before the rest is counted: the refusal stays one readable line.
constexpr size_t kNamed = 3;

// Settings added after a release are left out of the canonical JSON at their defaults.
const std::string kDefault = "(default)";

Settings settings_of(const std::string& config_json) {
  Settings settings;
  for (auto& [path, value] : flatten_json(config_json)) settings.emplace(path, value);
  return settings;
}

const std::string& value_at(const Settings& settings, const std::string& path) {
  const auto it = settings.find(path);
  return it == settings.end() ? kDefault : it->second;
}

bool is_seed(const std::string& path) {
  const Setting* setting = find_setting(path);
  return setting && setting->scope == Scope::kSeed;
}

std::string seed_of(const Settings& settings) {
  for (const auto& [path, value] : settings)
    if (is_seed(path)) return value;
  return kDefault;
}

// Every path of the jobs of the lists, sorted (the canonical JSON's order).
std::set<std::string> paths_of(std::initializer_list<const std::vector<Settings>*> lists) {
  std::set<std::string> paths;
  for (const auto* jobs : lists)
    for (const auto& job : *jobs)
      for (const auto& [path, value] : job) paths.insert(path);
  return paths;
}

// The paths of two jobs' settings that differ (a path one of them lacks is at its default).
std::vector<std::string> differing_paths(const Settings& a, const Settings& b) {
  std::vector<std::string> paths;
  auto i = a.begin(), j = b.begin();
  while (i != a.end() || j != b.end()) {
    if (j == b.end() || (i != a.end() && i->first < j->first)) {
      paths.push_back(i->first);
      ++i;
    } else if (i == a.end() || j->first < i->first) {
      paths.push_back(j->first);
      ++j;
    } else {
      if (i->second != j->second) paths.push_back(i->first);
      ++i, ++j;
    }
  }
  return paths;
}

// How many settings differ, counted up to `limit` + 1 (a caller looking for fewer stops there).
size_t count_differing(const Settings& a, const Settings& b, size_t limit) {
  size_t n = 0;
  auto i = a.begin(), j = b.begin();
  while ((i != a.end() || j != b.end()) && n <= limit) {
    if (j == b.end() || (i != a.end() && i->first < j->first)) {
      ++n, ++i;
    } else if (i == a.end() || j->first < i->first) {
      ++n, ++j;
    } else {
      n += i->second != j->second;
      ++i, ++j;
    }
  }
  return n;
}

// "a, b, c and 4 more".
std::string listed(const std::vector<std::string>& items) {
  std::string text;
  for (size_t i = 0; i < std::min(items.size(), kNamed); ++i)
    text += (i == 0 ? "" : ", ") + items[i];
  if (items.size() > kNamed) text += fmt::format(" and {} more", items.size() - kNamed);
  return text;
}

std::string jobs(size_t n) { return fmt::format("{} job{}", n, n == 1 ? "" : "s"); }

// "model.depth 8 → 20, stochastic_depth.p_L 0.5 → 0.2": the settings that differ.
std::string difference(const Settings& from, const Settings& to) {
  std::vector<std::string> changes;
  for (const auto& path : differing_paths(from, to))
    changes.push_back(fmt::format("{} {} → {}", path, value_at(from, path), value_at(to, path)));
  return fmt::format("{}", fmt::join(changes, ", "));
}

// For each stored job, the settings other than the seed that tell it apart from the other
// stored jobs: "model.depth=20 stochastic_depth.p_L=0.5" (empty: only its seed does).
std::vector<std::string> arm_labels(const std::vector<Settings>& stored) {
  std::vector<std::string> varied;
  for (const auto& path : paths_of({&stored})) {
    if (is_seed(path)) continue;
    std::set<std::string> values;
    for (const auto& job : stored) values.insert(value_at(job, path));
    if (values.size() > 1) varied.push_back(path);
  }
  std::vector<std::string> out;
  for (const auto& job : stored) {
    std::vector<std::string> parts;
    for (const auto& path : varied) parts.push_back(path + "=" + value_at(job, path));
    out.push_back(fmt::format("{}", fmt::join(parts, " ")));
  }
  return out;
}

// "seeds 3–4" ("seed 3"), as ranges when they are integers (as stored ones are).
std::string seeds_text(const std::vector<std::string>& seeds) {
  std::vector<long long> numbers;
  for (const auto& seed : seeds) {
    long long n = 0;
    const auto [end, error] = std::from_chars(seed.data(), seed.data() + seed.size(), n);
    if (error != std::errc() || end != seed.data() + seed.size())
      return fmt::format("seeds {}", fmt::join(seeds, ", "));
    numbers.push_back(n);
  }
  return fmt::format("seed{} {}", seeds.size() == 1 ? "" : "s", integer_ranges(numbers));
}

// Stored jobs `which` named by seeds within their arm, arms in order of first appearance:
// "seeds 1–4 of stochastic_depth.p_L=1, seed 2 of stochastic_depth.p_L=0.5", a few arms
// named and the rest counted.
std::string named(const std::vector<size_t>& which, const std::vector<Settings>& stored,
                  const std::vector<std::string>& arms) {
  std::vector<std::pair<std::string, std::vector<std::string>>> seeds_by_arm;
  for (size_t i : which) {
    auto arm = std::find_if(seeds_by_arm.begin(), seeds_by_arm.end(),
                            [&](const auto& a) { return a.first == arms[i]; });
    if (arm == seeds_by_arm.end()) arm = seeds_by_arm.insert(seeds_by_arm.end(), {arms[i], {}});
    arm->second.push_back(seed_of(stored[i]));
  }
  std::vector<std::string> items;
  for (const auto& [arm, seeds] : seeds_by_arm)
    items.push_back(arm.empty() ? seeds_text(seeds) : seeds_text(seeds) + " of " + arm);
  return listed(items);
}

// The values of `added` that no stored job has, by setting: "seeds 3–4; model.depth 56".
std::string new_values(const std::vector<Settings>& stored, const std::vector<Settings>& added) {
  std::string seeds;  // first: growing a sweep is most often adding seeds
  std::vector<std::string> others;
  for (const auto& path : paths_of({&stored, &added})) {
    std::set<std::string> known;
    for (const auto& job : stored) known.insert(value_at(job, path));
    std::vector<std::string> fresh;
    for (const auto& job : added) {
      const std::string& value = value_at(job, path);
      if (!known.count(value) && std::find(fresh.begin(), fresh.end(), value) == fresh.end())
        fresh.push_back(value);
    }
    if (fresh.empty()) continue;
    if (is_seed(path))
      seeds = seeds_text(fresh);
    else
      others.push_back(fmt::format("{} {}", path, fmt::join(fresh, ", ")));
  }
  if (!seeds.empty()) others.insert(others.begin(), seeds);
  return fmt::format("{}", fmt::join(others, "; "));
}

// For each removed stored job, the added job of the same seed that is the stored job as the
// file now has it, if any: the closest (fewest settings differing); of equally close ones,
// one not yet paired, the next in order first (a base setting or an axis value edited pairs
// the jobs in order, each one setting apart: found at once). Past a budget of comparisons
// (sweeps of many thousand jobs), the next one in order.
std::vector<std::optional<size_t>> pair_removed(const std::vector<Settings>& stored,
                                                const std::vector<bool>& removed,
                                                const std::vector<Settings>& added) {
  constexpr size_t kComparisons = 1'000'000;
  struct Candidates {
    std::vector<size_t> added;  // in file order
    size_t next = 0;            // the next in order not yet paired
  };
  std::map<std::string, Candidates> by_seed;
  for (size_t a = 0; a < added.size(); ++a) by_seed[seed_of(added[a])].added.push_back(a);
  std::vector<bool> paired(added.size(), false);
  std::vector<std::optional<size_t>> pairs(stored.size());
  size_t comparisons = 0;
  for (size_t i = 0; i < stored.size(); ++i) {
    if (!removed[i]) continue;
    const auto found = by_seed.find(seed_of(stored[i]));
    if (found == by_seed.end()) continue;
    Candidates& candidates = found->second;
    while (candidates.next < candidates.added.size() && paired[candidates.added[candidates.next]])
      ++candidates.next;
    size_t closest = candidates.added[std::min(candidates.next, candidates.added.size() - 1)];
    // (settings differing, already paired): different keys differ in one setting at least.
    std::pair<size_t, bool> fewest{count_differing(stored[i], added[closest], SIZE_MAX),
                                   paired[closest]};
    for (size_t a : candidates.added) {
      if (fewest == std::pair<size_t, bool>{1, false} || ++comparisons > kComparisons) break;
      const std::pair<size_t, bool> distance{count_differing(stored[i], added[a], fewest.first),
                                             paired[a]};
      if (distance < fewest) {
        closest = a;
        fewest = distance;
      }
    }
    paired[closest] = true;
    pairs[i] = closest;
  }
  return pairs;
}

// The refusal's account of the removed stored jobs (`lost` of JobChanges).
std::string lost_jobs(const std::vector<Settings>& stored, const std::vector<bool>& removed,
                      const std::vector<Settings>& added) {
  const auto arms = arm_labels(stored);
  const auto pairs = pair_removed(stored, removed, added);
  // By difference, in order of first appearance: a base setting edited changes every job
  // the same way, which then reads as one change.
  std::vector<std::pair<std::string, std::vector<size_t>>> changes;
  std::vector<size_t> dropped;
  size_t changed = 0;
  for (size_t i = 0; i < stored.size(); ++i) {
    if (!removed[i]) continue;
    if (!pairs[i]) {
      dropped.push_back(i);
      continue;
    }
    const std::string what = difference(stored[i], added[*pairs[i]]);
    auto group = std::find_if(changes.begin(), changes.end(),
                              [&](const auto& g) { return g.first == what; });
    if (group == changes.end()) group = changes.insert(changes.end(), {what, {}});
    group->second.push_back(i);
    ++changed;
  }
  std::vector<std::string> parts;
  if (!changes.empty()) {
    std::string text = fmt::format("changes {} (", jobs(changed));
    for (size_t g = 0; g < std::min(changes.size(), kNamed); ++g)
      text += fmt::format("{}{} in {}", g == 0 ? "" : "; ", changes[g].first,
                          named(changes[g].second, stored, arms));
    if (changes.size() > kNamed)
      text += fmt::format("; and {} other changes", changes.size() - kNamed);
    parts.push_back(text + ")");
  }
  if (!dropped.empty())
    parts.push_back(
        fmt::format("removes {} ({})", jobs(dropped.size()), named(dropped, stored, arms)));
  return fmt::format("{}", fmt::join(parts, " and "));
}

}  // namespace

std::string integer_ranges(std::vector<long long> numbers) {
  std::sort(numbers.begin(), numbers.end());
  numbers.erase(std::unique(numbers.begin(), numbers.end()), numbers.end());
  std::vector<std::string> ranges;
  for (size_t i = 0; i < numbers.size();) {
    size_t j = i;
    while (j + 1 < numbers.size() && numbers[j + 1] == numbers[j] + 1) ++j;
    ranges.push_back(j == i ? fmt::format("{}", numbers[i])
                            : fmt::format("{}–{}", numbers[i], numbers[j]));
    i = j + 1;
  }
  return fmt::format("{}", fmt::join(ranges, ", "));
}

JobChanges compare_jobs(const std::vector<StoredJob>& stored, const Sweep& sweep) {
  JobChanges changes;
  std::set<std::string> file_keys, stored_keys;
  for (const auto& job : sweep.jobs) file_keys.insert(job.key);
  std::vector<Settings> stored_settings, added_settings;
  std::vector<bool> removed;
  for (const auto& job : stored) {
    stored_keys.insert(job.key);
    stored_settings.push_back(settings_of(job.config_json));
    removed.push_back(!file_keys.count(job.key));
    if (removed.back()) changes.removed.push_back(job);
  }
  for (const auto& job : sweep.jobs) {
    if (stored_keys.count(job.key)) continue;
    changes.added.push_back(&job);
    added_settings.push_back(settings_of(job.config_json));
  }
  changes.new_values = new_values(stored_settings, added_settings);
  if (!changes.removed.empty()) changes.lost = lost_jobs(stored_settings, removed, added_settings);
  return changes;
}

}  // namespace stodepth::sweeps
