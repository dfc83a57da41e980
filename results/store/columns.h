// The runs table's parameter columns: the settings of a run that have a column of their own,
// so that SQL can filter and group by them. Listed once, here, for the store (the columns it
// writes, and checks against config_json when reading), `query runs` (its columns and --where
// keys) and `query summary` (what it groups by).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <variant>

#include "model/config/config.h"

namespace stodepth::results {

// A value as SQLite stores it: INTEGER, REAL or TEXT.
using SqlValue = std::variant<int64_t, double, std::string>;

struct ParameterColumn {
  const char* name;       // the SQL column; also query's column and --where key
  const char* json_path;  // its leaf in the canonical config JSON, e.g. "model.depth"
  bool is_seed;           // runs that differ only in the seed repeat one configuration
  SqlValue (*stored)(const TrainConfig&);   // what the column holds
  std::string (*text)(const TrainConfig&);  // as query shows it and --where matches it
};

// dataset, depth, width, shortcut, rule, p_L, schedule, lr, batch, epochs, iterations, seed.
std::span<const ParameterColumn> parameter_columns();

}  // namespace stodepth::results
