#include "daemon/guard/kind_rules.hpp"

namespace canary_guard::guard {

std::unique_ptr<KindRules> rules_for(const WorkloadKey& key, const ClusterView& view) {
  switch (key.kind) {
    case Kind::deployment: return deployment_rules(key, view);
    case Kind::daemonset: return daemonset_rules(key, view);
  }
  return deployment_rules(key, view);  // unreachable: Kind is closed
}

}  // namespace canary_guard::guard
