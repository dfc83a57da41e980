#include "model/config/config.h"

#include "model/config/settings.h"

namespace stodepth {

// Names from the settings table's enum names.
const char* to_string(Shortcut s) { return enum_names(s).names.at(size_t(s)).c_str(); }
const char* to_string(SurvivalRule r) { return enum_names(r).names.at(size_t(r)).c_str(); }
const char* to_string(LrScheduleKind k) { return enum_names(k).names.at(size_t(k)).c_str(); }
const char* to_string(DropMode m) { return enum_names(m).names.at(size_t(m)).c_str(); }
const char* to_string(WarmupMode m) { return enum_names(m).names.at(size_t(m)).c_str(); }
const char* to_string(Precision p) { return enum_names(p).names.at(size_t(p)).c_str(); }

int64_t total_iterations(const TrainConfig& c, int64_t batches_per_epoch) {
  return c.train.iterations > 0 ? c.train.iterations : c.train.epochs * batches_per_epoch;
}

}  // namespace stodepth
