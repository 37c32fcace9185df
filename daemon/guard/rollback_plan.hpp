#pragma once
// Builds the rollback request exactly as `kubectl rollout undo --to-revision` would (spec/kubernetes-rollouts.md
// §4 and §6), plus an optimistic-concurrency precondition so a change made meanwhile is never overwritten.
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "config/expected.hpp"

namespace canary_guard::guard {

struct RollbackRequest {
  std::string content_type;  // application/json-patch+json | application/strategic-merge-patch+json
  std::string body;
  bool skipped = false;      // the workload already has the target template: kubectl prints "skipped rollback"
};

// §2.2: templates compared as JSON with the pod-template-hash label removed from both; key order ignored and
// an absent key, null, [] and {} are equal. The one canonical form is kube::template_fingerprint.
bool templates_equal(const nlohmann::json& a, const nlohmann::json& b);

// Deployment: JSON patch [test generation, replace /spec/template, replace /metadata/annotations].
// The template is the target ReplicaSet's spec.template without the pod-template-hash label; annotations are the
// Deployment's own skip-list keys plus every target-RS annotation outside the skip list, except canary-guard's own
// keys: its records belong to the ReplicaSet they describe, and its settings (canary-guard.io/enabled, bake-time,
// dry-run, thresholds ...) stay exactly as the Deployment has them now, so a rollback never changes how the guard
// treats the workload (in opt-in mode losing `enabled` would orphan the rollback record).
// lift_guard_pause: the Deployment is paused by the guard itself (blind, pause_when_blind): the patch also sets
// spec.paused false (its pause note, canary-guard.io/hold, is never kept).
Expected<RollbackRequest, std::string> deployment_rollback(const nlohmann::json& deployment,
                                                          const nlohmann::json& target_replicaset,
                                                          bool lift_guard_pause = false);

// DaemonSet: JSON patch [test generation, replace /spec/template with the ControllerRevision's template]: the
// effect of kubectl's strategic-merge `$patch: replace`, plus the precondition.
Expected<RollbackRequest, std::string> daemonset_rollback(const nlohmann::json& daemonset,
                                                         const nlohmann::json& target_revision);


}  // namespace canary_guard::guard
