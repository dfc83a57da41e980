// Everything the report takes from oneDNN, in one place: the facts of the machine that
// renders the report. The header's machine line should describe the machine that trained,
// so this is a stand-in until runs record their own MachineFacts (RunRow::machine); replacing
// its one caller in compare() (report.cpp) leaves results/ without oneDNN.
#pragma once

#include "model/records.h"

namespace stodepth::results {

// This process's cores, the ISA oneDNN dispatches to, and oneDNN's version; host, CPU model
// and threads are left empty (the report takes threads from the runs).
MachineFacts rendering_machine_facts();

}  // namespace stodepth::results
