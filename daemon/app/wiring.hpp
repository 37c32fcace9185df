#pragma once
// Start-up helpers shared by the CLI commands: logging set-up and credential resolution.
#include <string>

#include "config/config.hpp"
#include "config/expected.hpp"
#include "daemon/kube/kubeconfig.hpp"

namespace canary_guard::app {

// Logs go to stderr; format "text" (key=value lines) or "json" (one object per line).
void setup_logging(config::LogLevel level, config::LogFormat format);

// --kubeconfig flag, then the config file's [kubernetes] kubeconfig, then $KUBECONFIG / ~/.kube/config, then the
// in-cluster service account.
Expected<kube::Credentials, std::string> resolve_credentials(const std::string& flag_path, const std::string& config_path,
                                                             const std::string& context);

}  // namespace canary_guard::app
