#include "tools/train_flags.h"

#include <fmt/format.h>

#include "model/base/did_you_mean.h"

namespace stodepth::cli {
namespace {

// The help text with "{values}" replaced by an enum's names.
std::string help_of(const Setting& setting) {
  std::string help = setting.help;
  const auto* member = std::get_if<EnumMember>(&setting.member);
  if (const size_t at = help.find("{values}"); member && at != std::string::npos)
    help.replace(at, 8, fmt::format("{}", fmt::join(member->names->names, " | ")));
  return help;
}

// "key: ..." -> "--flag: ...": users of `train` know flags, not config keys.
Error with_flag_name(const Error& error) {
  for (const Setting& setting : settings()) {
    const std::string prefix = std::string(setting.key) + ":";
    if (setting.flag && error.message.starts_with(prefix))
      return bad_input(setting.flag + error.message.substr(prefix.size() - 1));
  }
  return error;
}

// Adds the flag of `setting` (which has one) to `app`, bound to `flags`.
void add_setting_flag(CLI::App& app, const Setting& setting, TrainFlags& f) {
  const std::string help = help_of(setting);
  visit_member(setting, f.config, [&]<typename Member>(Member& member) {
    using T = std::remove_const_t<Member>;
    if constexpr (std::is_same_v<T, EnumMember>) {
      std::string& name = f.names[setting.key] = value_text(setting, f.config);
      app.add_option(setting.flag, name, help)->capture_default_str();
    } else if constexpr (std::is_same_v<T, bool>) {
      app.add_flag(setting.flag, member ? f.off_switches[setting.key] : member, help);
    } else if constexpr (std::is_same_v<T, std::vector<double>>) {
      app.add_option(setting.flag, member, help)->delimiter(',');
    } else {
      auto* option = app.add_option(setting.flag, member, help);
      if constexpr (std::is_same_v<T, std::string>) {
        if (member.empty()) return;  // nothing to show: the help says what empty means
      }
      option->capture_default_str();
    }
  });
}

// `setting`'s enum value named `name` (as its flag was given), or the Error naming the flag.
Result<int> parse_enum_flag(const Setting& setting, const std::string& name) {
  const EnumNames& names = *std::get<EnumMember>(setting.member).names;
  if (const std::optional<int> value = names.parse(name)) return *value;
  const std::string hint = closest_match(name, names.names);
  return bad_input(fmt::format("{}: unknown value '{}'{} (one of: {})", setting.flag, name,
                               hint.empty() ? "" : fmt::format(", did you mean '{}'?", hint),
                               fmt::join(names.names, ", ")));
}

}  // namespace

void add_train_flags(CLI::App& app, TrainFlags& f) {
  const std::string augment_section = section_of(&TrainConfig::train, &TrainSettings::augment);
  bool augment_added = false;
  for (const Setting& setting : settings()) {
    if (!setting.flag) continue;
    if (!augment_added && std::string_view(setting.key).starts_with(augment_section)) {
      app.add_flag("--augment", f.augment,
                   "Random 4-px-padded crop and horizontal flip (the paper's CIFAR augmentation)");
      augment_added = true;
    }
    add_setting_flag(app, setting, f);
  }
}

Result<TrainConfig> resolve(const TrainFlags& f) {
  TrainConfig c = f.config;
  for (const Setting& setting : settings()) {
    if (const auto name = f.names.find(setting.key); name != f.names.end()) {
      auto value = parse_enum_flag(setting, name->second);
      if (!value) return value.error();
      std::get<EnumMember>(setting.member).set(c, *value);
    }
    if (const auto off = f.off_switches.find(setting.key); off != f.off_switches.end())
      std::get<MemberRef<bool>>(setting.member)(c) = !off->second;
  }
  if (f.augment) {
    c.train.augment.crop_pad = c.train.augment.crop_pad ? c.train.augment.crop_pad : 4;
    c.train.augment.flip = true;
  }
  if (auto status = validate(c); !status) return with_flag_name(status.error());
  return c;
}

}  // namespace stodepth::cli
