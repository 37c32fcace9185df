#pragma once
// The identity of a guarded workload: kind, namespace, name. The work queue carries its text form
// ("Deployment/<ns>/<name>"); everything in the guard works with the typed key. Pure: standard library only.
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace canary_guard::guard {

enum class Kind { deployment, daemonset };
// "Deployment" | "DaemonSet": the Kubernetes kind, as in Events and metric labels.
std::string_view to_string(Kind k);
// "deployment" | "daemonset": the token in log lines.
std::string_view kind_token(Kind k);

struct WorkloadKey {
  Kind kind = Kind::deployment;
  std::string ns;
  std::string name;

  // "Deployment/<ns>/<name>"
  std::string str() const;
  // The inverse of str(); nullopt for anything else (unknown kind, missing parts, empty namespace or name).
  static std::optional<WorkloadKey> parse(std::string_view text);

  friend bool operator==(const WorkloadKey&, const WorkloadKey&) = default;
};

struct WorkloadKeyHash {
  std::size_t operator()(const WorkloadKey& k) const noexcept {
    const std::size_t h = std::hash<std::string>{}(k.ns) * 31 + std::hash<std::string>{}(k.name);
    return h * 2 + (k.kind == Kind::deployment ? 0 : 1);
  }
};

}  // namespace canary_guard::guard
