#include "results/store/columns.h"

#include <fmt/format.h>

namespace stodepth::results {
namespace {

using Config = const TrainConfig&;

const ParameterColumn kParameterColumns[] = {
    {"dataset", "dataset.name", false,
     [](Config c) -> SqlValue { return c.data.name; },
     [](Config c) { return c.data.name; }},
    {"depth", "model.depth", false,
     [](Config c) -> SqlValue { return int64_t{c.model.depth}; },
     [](Config c) { return std::to_string(c.model.depth); }},
    {"width", "model.width", false,
     [](Config c) -> SqlValue { return int64_t{c.model.width}; },
     [](Config c) { return std::to_string(c.model.width); }},
    {"shortcut", "model.shortcut", false,
     [](Config c) -> SqlValue { return to_string(c.model.shortcut); },
     [](Config c) -> std::string { return to_string(c.model.shortcut); }},
    {"rule", "stochastic_depth.rule", false,
     [](Config c) -> SqlValue { return to_string(c.sd.rule); },
     [](Config c) -> std::string { return to_string(c.sd.rule); }},
    {"p_L", "stochastic_depth.p_L", false,
     [](Config c) -> SqlValue { return c.sd.p_L; },
     [](Config c) { return fmt::format("{}", c.sd.p_L); }},
    {"schedule", "train.lr.schedule", false,
     [](Config c) -> SqlValue { return to_string(c.train.lr.kind); },
     [](Config c) -> std::string { return to_string(c.train.lr.kind); }},
    {"lr", "train.lr.base", false,
     [](Config c) -> SqlValue { return c.train.lr.base; },
     [](Config c) { return fmt::format("{}", c.train.lr.base); }},
    {"batch", "train.batch", false,
     [](Config c) -> SqlValue { return int64_t{c.train.batch}; },
     [](Config c) { return std::to_string(c.train.batch); }},
    {"epochs", "train.epochs", false,
     [](Config c) -> SqlValue { return c.train.epochs; },
     [](Config c) { return std::to_string(c.train.epochs); }},
    {"iterations", "train.iterations", false,
     [](Config c) -> SqlValue { return c.train.iterations; },
     [](Config c) { return std::to_string(c.train.iterations); }},
    // SQLite integers are signed: seeds above 2^63 - 1 are stored wrapped (config_json has
    // them as they are).
    {"seed", "train.seed", true,
     [](Config c) -> SqlValue { return int64_t(c.train.seed); },
     [](Config c) { return std::to_string(c.train.seed); }},
};

}  // namespace

std::span<const ParameterColumn> parameter_columns() { return kParameterColumns; }

}  // namespace stodepth::results
