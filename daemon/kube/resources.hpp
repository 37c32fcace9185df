#pragma once
// REST paths of the resources canary-guard reads and writes. ns = "" means cluster-wide (all namespaces).
#include <string>
#include <string_view>

namespace canary_guard::kube::paths {

inline std::string join(std::string_view prefix, std::string_view ns, std::string_view plural, std::string_view name) {
  std::string p(prefix);
  if (!ns.empty()) {
    p += "/namespaces/";
    p += ns;
  }
  p += '/';
  p += plural;
  if (!name.empty()) {
    p += '/';
    p += name;
  }
  return p;
}

inline std::string apps(std::string_view plural, std::string_view ns = {}, std::string_view name = {}) {
  return join("/apis/apps/v1", ns, plural, name);
}
inline std::string core(std::string_view plural, std::string_view ns = {}, std::string_view name = {}) {
  return join("/api/v1", ns, plural, name);
}

inline std::string deployments(std::string_view ns = {}, std::string_view name = {}) { return apps("deployments", ns, name); }
inline std::string replicasets(std::string_view ns = {}, std::string_view name = {}) { return apps("replicasets", ns, name); }
inline std::string daemonsets(std::string_view ns = {}, std::string_view name = {}) { return apps("daemonsets", ns, name); }
inline std::string controllerrevisions(std::string_view ns = {}, std::string_view name = {}) {
  return apps("controllerrevisions", ns, name);
}
inline std::string pods(std::string_view ns = {}, std::string_view name = {}) { return core("pods", ns, name); }
inline std::string events(std::string_view ns = {}, std::string_view name = {}) { return core("events", ns, name); }
inline std::string configmaps(std::string_view ns = {}, std::string_view name = {}) { return core("configmaps", ns, name); }
inline std::string nodes(std::string_view name = {}) { return core("nodes", {}, name); }
inline std::string namespaces(std::string_view name = {}) { return core("namespaces", {}, name); }
inline std::string leases(std::string_view ns = {}, std::string_view name = {}) {
  return join("/apis/coordination.k8s.io/v1", ns, "leases", name);
}
// Subresources: status(deployments("ns","n")) -> .../deployments/n/status
inline std::string status(std::string_view object_path) { return std::string(object_path) + "/status"; }

}  // namespace canary_guard::kube::paths
