#pragma once
// Projected Kubernetes objects: only the fields canary-guard decides on, not whole JSON documents.
// Filled by daemon/kube/projection.cpp from API responses; read by probes and the decision core.
// Plain data, standard library only, so the decision core stays free of JSON and I/O.
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "config/clock.hpp"

namespace canary_guard::probes {

// Small ordered key/value list. Only annotations we use are kept (prefixes canary-guard.io/ and
// deployment.kubernetes.io/revision); labels are kept whole for workloads (selector matching), not for pods.
using KeyValues = std::vector<std::pair<std::string, std::string>>;

inline const std::string* find_value(const KeyValues& kv, std::string_view key) {
  for (const auto& [k, v] : kv)
    if (k == key) return &v;
  return nullptr;
}

struct ObjectMeta {
  std::string ns;
  std::string name;
  std::string uid;
  std::string resource_version;
  std::int64_t generation = 0;
  TimePoint created{};
  std::optional<TimePoint> deleted;  // deletionTimestamp
  std::string controller_uid;        // uid of the ownerReference with controller: true
  KeyValues labels;
  KeyValues annotations;
  // The object has an annotations map at all (before the filter above): a first record then adds one member to it
  // rather than creating the map (guard/kube_writer.hpp record_patch).
  bool has_annotations = false;
};

struct Condition {
  std::string type;
  std::string status;  // "True" | "False" | "Unknown"
  std::string reason;
  TimePoint last_update{};
  TimePoint last_transition{};
};

struct DeploymentView {
  ObjectMeta meta;
  std::int32_t spec_replicas = 1;
  bool replicas_set = true;
  bool paused = false;
  std::optional<std::int32_t> progress_deadline_seconds;  // nullopt or INT32_MAX: none
  std::int32_t min_ready_seconds = 0;
  std::int32_t revision_history_limit = 10;  // spec.revisionHistoryLimit (API default 10)
  std::string strategy;  // RollingUpdate | Recreate
  std::int64_t observed_generation = 0;
  std::int32_t replicas = 0, updated_replicas = 0, ready_replicas = 0, available_replicas = 0,
               unavailable_replicas = 0;
  std::vector<Condition> conditions;
  std::string template_hash;  // FNV-64 of the canonical pod template JSON (see projection.cpp)

  const Condition* condition(std::string_view type) const {
    for (const auto& c : conditions)
      if (c.type == type) return &c;
    return nullptr;
  }
};

struct ReplicaSetView {
  ObjectMeta meta;  // controller_uid = owning Deployment
  std::int64_t revision = -1;  // deployment.kubernetes.io/revision; -1 when unparsable, 0 when missing
  std::string pod_template_hash;
  std::int32_t spec_replicas = 0;
  std::int32_t replicas = 0, ready_replicas = 0, available_replicas = 0;
  std::int64_t observed_generation = 0;
  std::string template_hash;  // canonical template fingerprint without the pod-template-hash label
};

struct DaemonSetView {
  ObjectMeta meta;
  std::string update_strategy;  // RollingUpdate | OnDelete
  std::int32_t revision_history_limit = 10;  // spec.revisionHistoryLimit (API default 10)
  std::int64_t observed_generation = 0;
  std::int32_t desired_number_scheduled = 0, current_number_scheduled = 0, updated_number_scheduled = 0,
               number_ready = 0, number_available = 0, number_unavailable = 0;
  std::int32_t min_ready_seconds = 0;
  std::string template_hash;
};

struct ControllerRevisionView {
  ObjectMeta meta;  // controller_uid = owning DaemonSet
  std::int64_t revision = 0;
  std::string hash;           // controller-revision-hash label (or the name, as the controller does)
  std::string template_hash;  // canonical fingerprint of data.spec.template without $patch
};

struct ContainerStateView {
  std::string waiting_reason;     // state.waiting.reason
  std::string terminated_reason;  // state.terminated.reason
  std::string last_terminated_reason;  // lastState.terminated.reason
  std::int32_t last_exit_code = 0;
  std::int32_t restart_count = 0;
  bool ready = false;
  bool running = false;
  bool init = false;  // from initContainerStatuses
};

struct PodView {
  ObjectMeta meta;  // controller_uid = owning ReplicaSet or DaemonSet; labels: only the hash labels
  std::string pod_template_hash;         // label pod-template-hash
  std::string controller_revision_hash;  // label controller-revision-hash
  std::string node_name;
  std::string phase;
  std::vector<Condition> conditions;  // PodScheduled, Ready, ContainersReady ...
  std::vector<ContainerStateView> containers;

  const Condition* condition(std::string_view type) const {
    for (const auto& c : conditions)
      if (c.type == type) return &c;
    return nullptr;
  }
};

}  // namespace canary_guard::probes
