// A run's configuration as JSON, both ways, from the settings table (model/config/settings.h):
// the canonical text that
// job keys hash and the results store keeps with every run, and that text read back into a
// complete TrainConfig (the store's runs, reports, queries).
//
// Canonical text: sorted keys, no spaces, every field written (defaults too, except those of
// settings added later, which appear only when set: see Setting::added_later), the sweep-file
// key names nested by section ({"model":{"depth":20,…},…}), enums by name, doubles as
// json_number (shortest round-trip, 1 not 1.0, -0 as 0, non-finite as null). Its bytes must
// never change: they are hashed into the job keys stored in users' databases.
// Settings of Scope::kMachine (the data directory, the thread count) are left out: they
// describe the machine, not the experiment, so the same experiment keeps its key across
// machines.
#pragma once

#include <string>
#include <string_view>

#include "model/base/result.h"
#include "model/config/config.h"

namespace stodepth {

std::string canonical_config_json(const TrainConfig& config);

// The config whose canonical text `json` is (or a JSON text with the same fields in any key
// order and spacing). A missing, mistyped or unknown key is a kBadInput Error naming it
// ("key: expected an integer, got string"). null reads back as NaN where a double is expected
// (canonical text writes non-finite doubles as null); the machine's settings keep their
// defaults. Values are not validated (see validate()).
Result<TrainConfig> parse_config_json(std::string_view json);

}  // namespace stodepth
