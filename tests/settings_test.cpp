// Tests for model/config/settings: every row of the settings table, driven through each place
// that reads or writes settings (a sweep file, `train`'s flags, the canonical codec, the store's
// parameter columns) and back, and refused there when out of range. The tests enumerate the
// table, so a new row is exercised without a new test: adding a setting is one row.
#include "model/config/settings.h"

#include <fmt/format.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "model/base/json.h"
#include "model/config/config_codec.h"
#include "model/config/distinguishing.h"
#include "results/store/columns.h"
#include "results/store/store.h"
#include "sweeps/sweep.h"
#include "tools/train_flags.h"

using namespace stodepth;

namespace {

const TrainConfig kDefaults;

// A config in which every rule between settings holds with any one other valid value: svhn
// (for dataset.extra), a validation set (for its seed), a constant warm-up of one epoch (for
// its rate).
TrainConfig permissive() {
  TrainConfig c;
  c.data.name = "svhn";
  c.data.validation = 100;
  c.train.lr.warmup_epochs = 1;
  c.train.lr.warmup_mode = WarmupMode::kConstant;
  return c;
}

template <typename Member>
using ValueOf = std::remove_reference_t<std::invoke_result_t<Member, TrainConfig&>>;

// Values to try, by type.
template <typename T>
std::vector<T> sample_values() {
  if constexpr (std::is_same_v<T, bool>)
    return {true, false};
  else if constexpr (std::is_same_v<T, uint64_t>)
    return {7, 1};
  else if constexpr (std::is_integral_v<T>)
    return {1, 2, 3, 8, 20};
  else if constexpr (std::is_same_v<T, double>)
    return {0.25, 0.05, 0.5};
  else if constexpr (std::is_same_v<T, std::vector<double>>)
    return {{10, 20}};
  else {
    std::vector<std::string> texts = data::dataset_names();
    texts.push_back("/srv/datasets/x");
    return texts;
  }
}

// `base` with `setting` set to each value to try.
std::vector<TrainConfig> variants(const Setting& setting, const TrainConfig& base) {
  std::vector<TrainConfig> out;
  std::visit(
      [&](const auto& member) {
        if constexpr (std::is_same_v<std::decay_t<decltype(member)>, EnumMember>) {
          for (size_t i = 0; i < member.names->names.size(); ++i)
            member.set(out.emplace_back(base), int(i));
        } else {
          for (const auto& value : sample_values<ValueOf<decltype(member)>>())
            member(out.emplace_back(base)) = value;
        }
      },
      setting.member);
  return out;
}

// `base` with `setting` changed to a valid value, or nullopt.
std::optional<TrainConfig> changed(const Setting& setting, const TrainConfig& base) {
  for (const TrainConfig& c : variants(setting, base))
    if (!same_value(setting, c, base) && validate(c).ok()) return c;
  return std::nullopt;
}

// `base` with `setting` just outside its range at each end (and NaN for a double).
std::vector<TrainConfig> out_of_range(const Setting& setting, const TrainConfig& base) {
  std::vector<TrainConfig> out;
  const Range& range = *setting.range;
  std::visit(
      [&](const auto& member) {
        if constexpr (!std::is_same_v<std::decay_t<decltype(member)>, EnumMember>) {
          using T = ValueOf<decltype(member)>;
          if constexpr (std::is_arithmetic_v<T> && !std::is_same_v<T, bool>) {
            const double step = std::is_integral_v<T> ? 1 : 0.5;
            std::vector<double> xs;
            if (std::isfinite(range.min))
              xs.push_back(range.min_open ? range.min : range.min - step);
            if (std::isfinite(range.max))
              xs.push_back(range.max_open ? range.max : range.max + step);
            if (std::is_floating_point_v<T>) xs.push_back(std::numeric_limits<double>::quiet_NaN());
            for (double x : xs)
              if (std::isnan(x) || (x >= double(std::numeric_limits<T>::lowest()) &&
                                    x <= double(std::numeric_limits<T>::max())))
                member(out.emplace_back(base)) = T(x);
          }
        }
      },
      setting.member);
  return out;
}

// The value as a sweep file writes it.
std::string yaml_text(const Setting& setting, const TrainConfig& c) {
  if (const auto* text = std::get_if<MemberRef<std::string>>(&setting.member))
    return json_string((*text)(const_cast<TrainConfig&>(c)), ShortEscapes::kNewlineTab);
  return value_text(setting, c);
}

// A sweep file whose one job is `c`: every setting that differs from its default, in base.
std::string sweep_text(const TrainConfig& c) {
  std::string text = "name: t\nbase:\n";
  std::string seeds = "1";
  for (const Setting& setting : settings()) {
    if (same_value(setting, c, kDefaults)) continue;
    if (setting.scope == Scope::kSeed)
      seeds = value_text(setting, c);
    else
      text += fmt::format("  {}: {}\n", setting.key, yaml_text(setting, c));
  }
  return text + fmt::format("seeds: [{}]\n", seeds);
}

// `train`'s arguments for `c`, or nullopt if a setting that differs from its default has no
// flag.
std::optional<std::vector<std::string>> train_args(const TrainConfig& c) {
  std::vector<std::string> args = {"stodepth train"};
  for (const Setting& setting : settings()) {
    if (same_value(setting, c, kDefaults)) continue;
    if (!setting.flag) return std::nullopt;
    args.push_back(setting.flag);
    if (const auto* list = std::get_if<MemberRef<std::vector<double>>>(&setting.member))
      args.push_back(fmt::format("{}", fmt::join((*list)(const_cast<TrainConfig&>(c)), ",")));
    else if (!std::holds_alternative<MemberRef<bool>>(setting.member))
      args.push_back(value_text(setting, c));  // a switch flips the default: no value
  }
  return args;
}

Result<TrainConfig> run_train_flags(std::vector<std::string> args) {
  CLI::App app;
  cli::TrainFlags flags;
  cli::add_train_flags(app, flags);
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  try {
    app.parse(int(argv.size()), argv.data());
  } catch (const CLI::ParseError& e) {
    return bad_input(e.what());
  }
  return cli::resolve(flags);
}

// The settings whose value differs between `a` and `b`.
std::vector<std::string> differences(const TrainConfig& a, const TrainConfig& b) {
  std::vector<std::string> keys;
  for (const Setting& setting : settings())
    if (!same_value(setting, a, b)) keys.push_back(setting.key);
  return keys;
}

const std::vector<std::string> kNone;

}  // namespace

TEST_CASE("every setting set in a sweep file's base arrives in its member") {
  for (const Setting& setting : settings()) {
    INFO(setting.key);
    const auto c = changed(setting, permissive());
    REQUIRE(c);
    const std::string text = sweep_text(*c);
    INFO(text);
    auto sweep = sweeps::parse_sweep(text, "t.yaml");
    REQUIRE(sweep.ok());
    REQUIRE(sweep->jobs.size() == 1);
    CHECK(differences(sweep->jobs[0].config, *c) == kNone);
  }
}

TEST_CASE("every setting with a flag set on train's command line arrives in its member") {
  for (const Setting& setting : settings()) {
    INFO(setting.key);
    const auto c = changed(setting, permissive());
    REQUIRE(c);
    const auto args = train_args(*c);
    if (!setting.flag) {
      CHECK_FALSE(args);
      continue;
    }
    REQUIRE(args);
    INFO(fmt::format("{}", fmt::join(*args, " ")));
    auto config = run_train_flags(*args);
    if (!config) FAIL(config.error().message);
    CHECK(differences(*config, *c) == kNone);
  }
}

TEST_CASE("every setting goes through the canonical JSON and back, the machine's excepted") {
  for (const Setting& setting : settings()) {
    INFO(setting.key);
    const auto c = changed(setting, permissive());
    REQUIRE(c);
    const std::string json = canonical_config_json(*c);
    auto back = parse_config_json(json);
    REQUIRE(back.ok());
    std::set<std::string> leaves;
    for (const auto& [path, value] : flatten_json(json)) leaves.insert(path);
    const bool in_json = setting.scope != Scope::kMachine;
    CHECK(same_value(setting, *back, in_json ? *c : kDefaults));
    // A setting added later is written only when it differs from its default.
    const bool written = in_json && (!setting.added_later || !same_value(setting, *c, kDefaults));
    CHECK(leaves.count(setting.key) == (written ? 1 : 0));
    // At its default, a setting added later is left out, so old job keys stay.
    std::set<std::string> default_leaves;
    for (const auto& [path, value] : flatten_json(canonical_config_json(kDefaults)))
      default_leaves.insert(path);
    CHECK(default_leaves.count(setting.key) == (in_json && !setting.added_later ? 1 : 0));
  }
}

TEST_CASE("every setting with a column is stored in it and read back from the store") {
  for (const Setting& setting : settings()) {
    INFO(setting.key);
    const auto columns = results::parameter_columns();
    const auto column = std::find_if(columns.begin(), columns.end(), [&](const auto& column) {
      return std::string(column.json_path) == setting.key;
    });
    if (!setting.column) {
      CHECK(column == columns.end());
      continue;
    }
    REQUIRE(column != columns.end());
    CHECK(std::string(column->name) == setting.column);
    CHECK(column->is_seed == (setting.scope == Scope::kSeed));
    const auto c = changed(setting, permissive());
    REQUIRE(c);
    CHECK(column->text(*c) == value_text(setting, *c));
    CHECK(column->text(*c) != column->text(permissive()));

    auto store = results::Store::open(":memory:", results::OpenMode::kReadWrite);
    REQUIRE(store.ok());
    REQUIRE((*store)->register_sweep({"s", "", "name: s\n", "h"}).ok());
    REQUIRE((*store)->add_jobs({{"k", "s", *c, canonical_config_json(*c)}}).ok());
    auto table = (*store)->select(fmt::format("SELECT {} FROM runs", column->name));
    REQUIRE(table.ok());
    CHECK(table->rows.at(0).at(0) == std::optional(value_text(setting, *c)));
    auto runs = (*store)->runs(std::nullopt);
    REQUIRE(runs.ok());
    CHECK(same_value(setting, runs->at(0).config, *c));
  }
}

TEST_CASE("a value out of its range is refused, naming the key (the flag on the command line)") {
  int refused = 0;
  for (const Setting& setting : settings()) {
    if (!setting.range) continue;
    for (const TrainConfig& bad : out_of_range(setting, permissive())) {
      const std::string value = value_text(setting, bad);
      INFO(setting.key << " = " << value);
      const auto status = validate(bad);
      REQUIRE_FALSE(status.ok());
      CHECK_THAT(status.error().message, Catch::StartsWith(std::string(setting.key) + ": "));

      auto sweep = sweeps::parse_sweep(sweep_text(bad), "t.yaml");
      REQUIRE_FALSE(sweep.ok());
      CHECK_THAT(sweep.error().message, Catch::Contains(std::string(setting.key) + ": "));

      if (setting.flag) {
        auto config = run_train_flags(*train_args(bad));
        REQUIRE_FALSE(config.ok());
        CHECK_THAT(config.error().message, Catch::StartsWith(std::string(setting.flag) + ": "));
      }
      ++refused;
    }
  }
  CHECK(refused >= 20);
}

TEST_CASE("the table is the only list: each consumer covers exactly its rows") {
  std::set<std::string> keys, flags, columns;
  for (const Setting& setting : settings()) {
    INFO(setting.key);
    CHECK(keys.insert(setting.key).second);
    if (setting.flag) CHECK(flags.insert(setting.flag).second);
    if (setting.column) CHECK(columns.insert(setting.column).second);
    // Each row holds its own member, found back from it.
    const void* address = visit_member(setting, kDefaults, [&](const auto& member) -> const void* {
      if constexpr (std::is_same_v<std::decay_t<decltype(member)>, EnumMember>)
        return member.address(kDefaults);
      else
        return &member;
    });
    CHECK(setting_at(kDefaults, address) == &setting);
    CHECK(find_setting(setting.key) == &setting);
  }

  // train's flags: one per row with a flag, and --augment, which sets two of them.
  CLI::App app;
  cli::TrainFlags train_flags;
  cli::add_train_flags(app, train_flags);
  std::set<std::string> options;
  for (const CLI::Option* option : app.get_options())
    if (option->get_name() != "--help") options.insert(option->get_name());
  std::set<std::string> expected = flags;
  expected.insert("--augment");
  CHECK(options == expected);

  // The store's parameter columns: the rows with a column, in the table's order.
  std::vector<std::string> column_names, row_columns;
  for (const auto& column : results::parameter_columns()) column_names.push_back(column.name);
  for (const Setting& setting : settings())
    if (setting.column) row_columns.push_back(setting.column);
  CHECK(column_names == row_columns);

  // The seed is named by its own list in a sweep file, the machine's settings only in base.
  for (const Setting& setting : settings()) {
    INFO(setting.key);
    if (setting.scope == Scope::kExperiment) continue;
    const std::string grid =
        fmt::format("name: t\ngrid: {{{}: [{}]}}\n", setting.key, yaml_text(setting, kDefaults));
    auto sweep = sweeps::parse_sweep(grid, "t.yaml");
    REQUIRE_FALSE(sweep.ok());
    CHECK_THAT(sweep.error().message,
               Catch::Contains(setting.scope == Scope::kSeed ? "list seeds in the top-level"
                                                             : "can only be set in base"));
  }
}

TEST_CASE("members are named through the table") {
  CHECK(std::string(setting_of(&TrainConfig::model, &ModelConfig::depth).key) == "model.depth");
  CHECK(std::string(
            setting_of(&TrainConfig::train, &TrainSettings::lr, &LrSchedule::warmup_lr).key) ==
        "train.lr.warmup_lr");
  CHECK(section_of(&TrainConfig::sd) == "stochastic_depth.");
  CHECK(section_of(&TrainConfig::train, &TrainSettings::augment) == "train.augment.");
  CHECK(section_of(&TrainConfig::train) == "train.");
}

TEST_CASE("enum names: each value's name reads back as it, the shortcut in either case") {
  for (const Setting& setting : settings()) {
    const auto* member = std::get_if<EnumMember>(&setting.member);
    if (!member) continue;
    INFO(setting.key);
    const auto& names = member->names->names;
    CHECK(names.size() == std::set<std::string>(names.begin(), names.end()).size());
    for (size_t i = 0; i < names.size(); ++i) {
      CHECK(member->names->parse(names[i]) == std::optional<int>(int(i)));
      TrainConfig c;
      member->set(c, int(i));
      CHECK(member->get(c) == int(i));
      CHECK(value_text(setting, c) == names[i]);
    }
  }
  CHECK(parse_enum<Shortcut>("b") == Shortcut::kB);
  CHECK(parse_enum<SurvivalRule>("Linear") == std::nullopt);
  CHECK(std::string(to_string(Shortcut::kC)) == "C");
  CHECK(std::string(to_string(SurvivalRule::kUniform)) == "uniform");
  CHECK(std::string(to_string(DropMode::kSample)) == "sample");
  CHECK(std::string(to_string(LrScheduleKind::kCosine)) == "cosine");
  CHECK(std::string(to_string(WarmupMode::kConstant)) == "constant");
}
