#pragma once
// `canary-guard check-config FILE`: load and validate a configuration file without touching a cluster.
#include <ostream>
#include <string>

#include "config/config.hpp"

namespace canary_guard::config {

// Prints every diagnostic, one per line ("file:line:col: error: message"), to `err` and returns 1; or prints
// "config OK: <summary>" to `out` and returns 0. With [prometheus] url set, a "prometheus: ..." line follows;
// then, per [[check]], its settings, its queries rendered for a sample workload (default/example, a
// Deployment) and either the batch query for two sample workloads or a "not batchable: <reason>" line.
int check_config_main(const std::string& path, std::ostream& out, std::ostream& err);

// One line naming the effective settings an operator most wants to confirm (used by check-config and at start-up).
std::string summary(const Config& c);

}  // namespace canary_guard::config
