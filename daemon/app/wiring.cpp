#include "daemon/app/wiring.hpp"

#include <cstdlib>
#include <filesystem>

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

namespace canary_guard::app {

void setup_logging(config::LogLevel level, config::LogFormat format) {
  auto logger = spdlog::stderr_logger_st("canary-guard");
  spdlog::set_default_logger(logger);
  if (format == config::LogFormat::json) {
    // Messages are key=value pairs; in JSON mode they travel as the "msg" field.
    spdlog::set_pattern(R"({"time":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l","msg":"%v"})", spdlog::pattern_time_type::utc);
  } else {
    spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%eZ level=%l %v", spdlog::pattern_time_type::utc);
  }
  switch (level) {
    case config::LogLevel::trace: spdlog::set_level(spdlog::level::trace); break;
    case config::LogLevel::debug: spdlog::set_level(spdlog::level::debug); break;
    case config::LogLevel::info: spdlog::set_level(spdlog::level::info); break;
    case config::LogLevel::warn: spdlog::set_level(spdlog::level::warn); break;
    case config::LogLevel::error: spdlog::set_level(spdlog::level::err); break;
  }
}

Expected<kube::Credentials, std::string> resolve_credentials(const std::string& flag_path, const std::string& config_path,
                                                             const std::string& context) {
  if (!flag_path.empty()) return kube::load_kubeconfig(flag_path, context);
  if (!config_path.empty()) return kube::load_kubeconfig(config_path, context);
  const char* env = std::getenv("KUBECONFIG");
  const char* home = std::getenv("HOME");
  const bool have_default = (env && *env) || (home && std::filesystem::exists(std::string(home) + "/.kube/config"));
  if (have_default) return kube::load_kubeconfig(std::string{}, context);
  if (std::getenv("KUBERNETES_SERVICE_HOST")) {
    // CANARY_GUARD_SERVICEACCOUNT_DIR: where token, ca.crt and namespace are (tests run the daemon as a real service
    // account outside a pod); default the kubelet's mount.
    const char* dir = std::getenv("CANARY_GUARD_SERVICEACCOUNT_DIR");
    return dir && *dir ? kube::in_cluster_credentials(dir) : kube::in_cluster_credentials();
  }
  return unexpected(std::string(
      "no Kubernetes credentials: pass --kubeconfig, set [kubernetes] kubeconfig, set $KUBECONFIG, create "
      "~/.kube/config, or run in a pod with a service account"));
}

}  // namespace canary_guard::app
