// The runs table's parameter columns: the settings of a run that have a column of their own,
// so that SQL can filter and group by them. They are the settings table's rows with a column
// (model/config/settings.h), for the store (the columns it writes, and checks against
// config_json when reading) and `query runs` (its columns and --where keys). `query summary`
// groups by every setting but the seed (settings_key, model/config/distinguishing.h), with or
// without a column.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <variant>

#include "model/config/config.h"

namespace stodepth::results {

// A value as SQLite stores it: INTEGER, REAL or TEXT.
using SqlValue = std::variant<int64_t, double, std::string>;

struct ParameterColumn {
  const char* name;       // the SQL column; also query's column and --where key
  const char* json_path;  // its setting's key: its leaf in the canonical config JSON
  bool is_seed;           // runs that differ only in the seed repeat one configuration
  std::function<SqlValue(const TrainConfig&)> stored;   // what the column holds
  std::function<std::string(const TrainConfig&)> text;  // as query shows it, --where matches it
};

// In the settings table's order: dataset, depth, width, shortcut, rule, p_L, schedule, lr,
// batch, epochs, iterations, seed.
std::span<const ParameterColumn> parameter_columns();

}  // namespace stodepth::results
