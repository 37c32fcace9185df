#pragma once
// `canary-guard check-config FILE`: load and validate a configuration file without touching a cluster.
#include <ostream>
#include <string>

#include "config/config.hpp"

namespace canary_guard::config {

// Prints every diagnostic, one per line ("file:line:col: error: message"), to `err` and returns 1; or prints
// "config OK: <summary>" to `out` and returns 0.
int check_config_main(const std::string& path, std::ostream& out, std::ostream& err);

// One line naming the effective settings an operator most wants to confirm (used by check-config and at start-up).
std::string summary(const Config& c);

}  // namespace canary_guard::config
