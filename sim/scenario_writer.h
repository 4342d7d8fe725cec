#pragma once
// Writing a Scenario back as a scenario file (docs/scenarios.md), so that what explore
// generates and shrinks (sim/explore.h) is an ordinary file `vigil sim` runs. Every value
// is written in the form the loader reads, so load_scenario(write_scenario(s)) gives s
// again (tests/sim/explore_writer_test.cpp), with the fault entries in time order.

#include <string>

#include "sim/scenario.h"

namespace vigil::sim {

// REQUIRES: `scenario` is valid (as load_scenario would return it). `comment` (may be
// empty) is written first, each line as a YAML comment.
std::string write_scenario(const Scenario& scenario, const std::string& comment = "");

}  // namespace vigil::sim
