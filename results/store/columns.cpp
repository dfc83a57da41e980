#include "results/store/columns.h"

#include <vector>

#include "model/config/settings.h"

namespace stodepth::results {
namespace {

// SQLite integers are signed: seeds above 2^63 - 1 are stored wrapped (config_json has them as
// they are). Enums are stored by name.
SqlValue stored_value(const Setting& setting, const TrainConfig& config) {
  return visit_member(setting, config, [&](const auto& value) -> SqlValue {
    using T = std::decay_t<decltype(value)>;
    if constexpr (std::is_same_v<T, double> || std::is_same_v<T, std::string>)
      return value;
    else if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>)
      return int64_t(value);
    else
      return value_text(setting, config);
  });
}

std::vector<ParameterColumn> make_columns() {
  std::vector<ParameterColumn> columns;
  for (const Setting& setting : settings()) {
    if (!setting.column) continue;
    const Setting* s = &setting;
    columns.push_back({setting.column, setting.key, setting.scope == Scope::kSeed,
                       [s](const TrainConfig& c) { return stored_value(*s, c); },
                       [s](const TrainConfig& c) { return value_text(*s, c); }});
  }
  return columns;
}

}  // namespace

std::span<const ParameterColumn> parameter_columns() {
  static const std::vector<ParameterColumn> columns = make_columns();
  return columns;
}

}  // namespace stodepth::results
