#include "daemon/guard/workload_key.hpp"

namespace canary_guard::guard {

std::string_view to_string(Kind k) { return k == Kind::deployment ? "Deployment" : "DaemonSet"; }
std::string_view kind_token(Kind k) { return k == Kind::deployment ? "deployment" : "daemonset"; }

std::string WorkloadKey::str() const {
  std::string k(to_string(kind));
  k.reserve(k.size() + ns.size() + name.size() + 2);
  k += '/';
  k += ns;
  k += '/';
  k += name;
  return k;
}

std::optional<WorkloadKey> WorkloadKey::parse(std::string_view text) {
  const auto s1 = text.find('/');
  if (s1 == std::string_view::npos) return std::nullopt;
  const auto s2 = text.find('/', s1 + 1);
  if (s2 == std::string_view::npos) return std::nullopt;
  WorkloadKey k;
  const std::string_view kind = text.substr(0, s1);
  if (kind == "Deployment") k.kind = Kind::deployment;
  else if (kind == "DaemonSet") k.kind = Kind::daemonset;
  else return std::nullopt;
  k.ns = std::string(text.substr(s1 + 1, s2 - s1 - 1));
  k.name = std::string(text.substr(s2 + 1));
  if (k.ns.empty() || k.name.empty() || k.name.find('/') != std::string::npos) return std::nullopt;
  return k;
}

}  // namespace canary_guard::guard
