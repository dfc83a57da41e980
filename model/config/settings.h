// Every setting of a training run, declared once: its dotted key (as sweep files, the
// canonical config JSON and error messages write it), the TrainConfig member holding it, its
// allowed values, its `train` flag, its part in the job key and its store column. The
// sweep schema, the CLI flags, the canonical codec, validate(), the store's parameter columns
// and the report read this table, so adding a setting is one row here plus its use in the
// engine.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "model/base/check.h"
#include "model/config/config.h"

namespace stodepth {

// The member of TrainConfig holding a setting, typed; an enum member is seen as the index of
// its value's name.
template <typename T>
using MemberRef = T& (*)(TrainConfig&);
struct EnumMember {
  const EnumNames* names;
  int (*get)(const TrainConfig&);
  void (*set)(TrainConfig&, int);
  const void* (*address)(const TrainConfig&);
};
using Member = std::variant<MemberRef<int>, MemberRef<int64_t>, MemberRef<uint64_t>,
                            MemberRef<double>, MemberRef<bool>, MemberRef<std::string>,
                            MemberRef<std::vector<double>>, EnumMember>;

// What a setting describes, which decides its part in job keys and sweeps.
enum class Scope {
  kExperiment,  // in the canonical JSON and the job key; a sweep may vary it
  // The machine, not the experiment: left out of the canonical JSON, so that the same
  // experiment keeps its key across machines; varying it would only make duplicate jobs,
  // so a sweep sets it in `base` alone.
  kMachine,
  // The repetition: in the job key, but a sweep lists it in `seeds:`, and runs that differ
  // only in it repeat one configuration.
  kSeed,
};

// The values a number allows, [min, max] with either end open (non-finite doubles are never
// allowed), and validate()'s message for a value outside: a fmt string, {} the value.
struct Range {
  double min = -std::numeric_limits<double>::infinity();
  double max = std::numeric_limits<double>::infinity();
  bool min_open = false, max_open = false;
  std::string message = {};
  bool contains(double x) const;
};

// A problem with a config's value, worded without the key, or nullopt.
using Problem = std::optional<std::string>;

struct Setting {
  const char* key;  // dotted: the sections, then the name (stochastic_depth.p_L)
  Member member;
  Scope scope = Scope::kExperiment;
  // Added after the first release: written into the canonical JSON only when it differs from
  // its default, read as the default when missing, so that a config leaving it at its
  // default keeps the job key it had before the setting existed.
  bool added_later = false;
  // Shown beside every run that sets it (query runs, status, launch --dry-run), even where
  // all the runs listed share it, since it changes how every number was computed.
  bool shown_when_set = false;
  const char* flag = nullptr;    // of `train`; nullptr: none
  std::string help = {};         // "{values}" stands for an enum's names, e.g. "linear | uniform"
  const char* column = nullptr;  // the store's parameter column; nullptr: none
  std::optional<Range> range = {};
  // A rule a range cannot say, checked after the range; it may involve other settings
  // (validate() checks the settings in the table's order).
  Problem (*check)(const TrainConfig&) = nullptr;
};

// Every setting, in the order of `train --help` and of the store's columns. The default of
// each is its member in TrainConfig{}.
std::span<const Setting> settings();

// The setting with dotted `key`, or nullptr.
const Setting* find_setting(std::string_view key);

// The setting held in `address` of `config` (a member of it), or nullptr.
const Setting* setting_at(const TrainConfig& config, const void* address);

// The setting at the end of a path of member pointers from TrainConfig, so that code names a
// setting without typing its key: setting_of(&TrainConfig::model, &ModelConfig::depth).
template <typename... Path>
const Setting& setting_of(Path... path) {
  static const TrainConfig probe;
  const Setting* setting = setting_at(probe, &(probe.*....*path));
  STODEPTH_CHECK(setting, "setting_of: the path leads to no setting's member");
  return *setting;
}

// The dotted prefix ("section.") shared by the settings whose members lie in [begin, end)
// of `config`.
std::string section_spanning(const void* begin, const void* end, const TrainConfig& config);
// That prefix for the part of TrainConfig that `path` leads to, e.g.
// section_of(&TrainConfig::sd).
template <typename... Path>
std::string section_of(Path... path) {
  static const TrainConfig probe;
  const auto& part = (probe.*....*path);
  return section_spanning(&part, &part + 1, probe);
}

// Calls `visit` with the member `setting` holds in `config`: a reference to it (const when
// `Config` is const TrainConfig), or an enum member's EnumMember.
template <typename Config, typename Visit>
decltype(auto) visit_member(const Setting& setting, Config& config, Visit&& visit) {
  return std::visit(
      [&](const auto& member) -> decltype(auto) {
        if constexpr (std::is_same_v<std::decay_t<decltype(member)>, EnumMember>)
          return visit(member);
        else if constexpr (std::is_const_v<Config>)
          return visit(std::as_const(member(const_cast<TrainConfig&>(config))));
        else
          return visit(member(config));
      },
      setting.member);
}

// The value of `setting` in `config` as text: numbers as fmt's "{}" writes them, enums by
// name, lists as [a, b].
std::string value_text(const Setting& setting, const TrainConfig& config);

// True if `setting` has the same value in `a` and `b`.
bool same_value(const Setting& setting, const TrainConfig& a, const TrainConfig& b);

}  // namespace stodepth
