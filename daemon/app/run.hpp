#pragma once
// `canary-guard run`: wires configuration, credentials, the Kubernetes client, metrics, the HTTP server and the
// guard Controller onto one io_context and runs until SIGTERM/SIGINT.
#include <string>

namespace canary_guard::app {

struct RunOptions {
  std::string config_path;
  std::string kubeconfig;  // overrides the config file
  std::string log_format;  // overrides the config file when set
  std::string listen;      // overrides [server] listen when set
  bool dry_run = false;    // forces dry-run on
};

// Returns the process exit code. Start-up problems print every problem and return non-zero.
int run_guard(const RunOptions& opts);

}  // namespace canary_guard::app
