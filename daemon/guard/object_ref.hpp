#pragma once
// The workload an Event or a write is about. Plain data.
#include <string>

namespace canary_guard::guard {

struct ObjectRef {
  std::string kind;  // Deployment | DaemonSet
  std::string ns;
  std::string name;
  std::string uid;
  std::string resource_version;
};

}  // namespace canary_guard::guard
