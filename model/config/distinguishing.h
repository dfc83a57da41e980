// The canonical config JSON stored with each run (model/config/config_codec.h) as flat settings:
// what tells runs apart, including the settings without a column of their own.
#pragma once

#include <span>
#include <string>
#include <utility>
#include <vector>

#include "model/config/settings.h"

namespace stodepth {

// The leaves of a JSON object as (dotted path, value text) pairs in document order, e.g.
// (train.lr.warmup, 0); arrays are kept whole ("[1,2]"). Values are written as the
// canonical text writes them; text that is not JSON has no leaves.
std::vector<std::pair<std::string, std::string>> flatten_json(const std::string& json);

// A key that equal runs share whatever their seed (and, with `without_survival`, whatever
// their stochastic-depth settings): the flattened config minus those leaves.
std::string settings_key(const std::string& config_json, bool without_survival);

// For each config, the settings whose values are not the same in all `configs`, as
// "path=value" joined by ", "; paths starting with one of `ignored` are left out.
std::vector<std::string> distinguishing_settings(const std::vector<std::string>& configs,
                                                 const std::vector<std::string>& ignored);

// What a list of runs shows beside its fixed columns: the settings whose values are not the
// same in all `configs`, and those shown_when_set that any config sets off its default (bf16
// precision), in the settings table's order. Machine settings are left out (a stored run's
// config does not keep them). Read from the configs, not their JSON, which leaves out a
// setting added later when at its default.
std::vector<const Setting*> settings_to_show(std::span<const TrainConfig* const> configs);

// What a table of runs calls a setting (its column header and `--where` key): its store
// column; else the last part of its key when no other setting has that column or last part
// ("mode" for stochastic_depth.mode); else the whole key ("eval.batch", as train.batch has
// the column "batch").
std::string short_name(const Setting& setting);

}  // namespace stodepth
