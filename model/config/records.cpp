#include "model/config/records.h"

namespace stodepth {

const char* to_string(RunStatus s) {
  switch (s) {
    case RunStatus::kDone: return "done";
    case RunStatus::kDiverged: return "diverged";
    case RunStatus::kInterrupted: return "interrupted";
  }
  return "?";
}

}  // namespace stodepth
