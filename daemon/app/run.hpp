#pragma once
// `canary-guard run`: wires configuration, credentials, the Kubernetes client, metrics, the HTTP server and the
// guard Controller onto one io_context and runs until SIGTERM/SIGINT.
#include <string>
#include <vector>

namespace canary_guard::app {

struct RunOptions {
  std::string config_path;
  std::string kubeconfig;  // overrides the config file
  std::string log_format;  // overrides the config file when set
  std::string listen;      // overrides [server] listen when set
  bool dry_run = false;    // forces dry-run on
  // The command line, for SIGHUP: a new configuration that loads is applied by re-executing the daemon in place
  // (same pid); empty: SIGHUP only validates.
  std::vector<std::string> argv;
};

// run_guard's answer to SIGHUP with a configuration that loads: the caller re-executes the daemon (after every
// destructor ran, so no socket leaks into the new image).
inline constexpr int kReexec = -1;

// Returns the process exit code, or kReexec. Start-up problems print every problem and return non-zero.
int run_guard(const RunOptions& opts);

}  // namespace canary_guard::app
