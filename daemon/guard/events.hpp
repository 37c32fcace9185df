#pragma once
// Records Kubernetes Events (core/v1, spec kubernetes-rollouts.md §9.4) on guarded workloads: one per decision, so
// `kubectl describe` and `kubectl get events` tell on-call people what the guard did and why. Owned by the
// Controller. Failures to record are logged and counted, never fatal: the decision already happened.
#include <utility>  // Boost 1.74: must precede boost/asio/awaitable.hpp

#include <boost/asio/awaitable.hpp>

#include <string>

#include "config/clock.hpp"
#include "daemon/guard/object_ref.hpp"
#include "daemon/kube/client.hpp"

namespace canary_guard::guard {

class EventRecorder {
 public:
  EventRecorder(kube::Client& client, const Clock& clock, std::string component, std::string host);
  // type: "Normal" | "Warning". Returns false when the apiserver refused the Event.
  boost::asio::awaitable<bool> record(const ObjectRef& obj, std::string type, std::string reason, std::string message);

 private:
  kube::Client& client_;
  const Clock& clock_;
  std::string component_;
  std::string host_;
  unsigned counter_ = 0;
};

}  // namespace canary_guard::guard
