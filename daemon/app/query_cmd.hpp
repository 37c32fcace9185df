#pragma once
// `canary-guard query --check NAME -n NS WORKLOAD`: runs one check now against Prometheus for the workload's
// current revision and prints the rendered PromQL, the raw series and the outcome — the first thing to run when a
// check surprises you.
#include <string>

namespace canary_guard::app {

struct QueryOptions {
  std::string config_path;
  std::string kubeconfig;
  std::string check;
  std::string ns = "default";
  std::string workload;
  std::string kind;         // Deployment | DaemonSet | "" (either)
  std::string stable_hash;  // compare mode: the stable revision's hash (optional)
};

// Exit codes: 0 printed an outcome (whatever it is), 1 the workload or Prometheus could not be read, 2 usage/config.
int query_main(const QueryOptions& opts);

}  // namespace canary_guard::app
