#pragma once
// What podsim needs from a Pod object, read defensively from API JSON: odd or partial objects yield empty
// fields, never an exception. Also builds the request bodies podsim sends (Binding, status patch, Node).
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/clock.hpp"
#include "tests/sandbox/podsim/pod_model.hpp"
#include "tests/sandbox/podsim/scheduling.hpp"

namespace canary_guard::podsim {

struct PodInfo {
  std::string ns;
  std::string name;
  std::string uid;
  std::string resource_version;
  std::string node_name;      // spec.nodeName
  std::string affinity_node;  // DaemonSet pods: requiredDuringScheduling... matchFields metadata.name In [x]
  bool deleting = false;      // metadata.deletionTimestamp set
  std::string phase;          // status.phase
  std::vector<ContainerSpec> containers;
  std::vector<ContainerSpec> init_containers;
  SchedulingSpec scheduling;  // nodeSelector, required node affinity, cpu/memory requests
  std::string pod_template_hash;
  std::string controller_revision_hash;
  std::optional<TimePoint> start_time;  // status.startTime (a previous podsim run set it)
  std::optional<TimePoint> scheduled_time;
  std::optional<ConditionMemory> ready;  // status.conditions[Ready]
  std::string pod_ip;
  std::string host_ip;
  nlohmann::json status;  // status as the server has it (to skip rewriting what is already there)

  std::string key() const { return ns + "/" + name; }
  bool terminal() const { return phase == "Succeeded" || phase == "Failed"; }
};

// nullopt when the object lacks a namespace or name (nothing can be done with it).
std::optional<PodInfo> parse_pod(const nlohmann::json& pod);

// True when every field of `wanted` is already in `current` with the same value (what a merge patch of `wanted`
// would not change).
bool status_contains(const nlohmann::json& current, const nlohmann::json& wanted);

// POST body for pods/<name>/binding.
std::string binding_body(const PodInfo& pod, const std::string& node);
// Merge patch for pods/<name>/status; carries resourceVersion so a stale write fails with 409.
std::string status_patch_body(const std::string& resource_version, const nlohmann::json& status);
// Pod status for "no node fits": phase Pending, PodScheduled=False reason Unschedulable with `message`. Keeps the
// lastTransitionTime of a PodScheduled=False already in `current` (so an unchanged status needs no rewrite).
nlohmann::json unschedulable_status(const nlohmann::json& current, const std::string& message, TimePoint now);
// DELETE body: immediate, and only for the pod incarnation we saw.
std::string delete_body(const std::string& uid);

// Simulated node `index` (1-based).
std::string node_name(int index);
std::string node_ip(int index);
std::string node_create_body(const std::string& name);
// Merge patch for nodes/<name>/status. ready_since: when Ready last became True.
std::string node_status_patch_body(const std::string& name, const std::string& ip, TimePoint now,
                                   TimePoint ready_since);
// Merge patch for nodes/<name> adding kubernetes.io/hostname=<name> and kubernetes.io/os=linux where a Node
// lacks them (one created before podsim set them, or relabelled); nullopt when both are there.
std::optional<std::string> node_labels_patch_body(const nlohmann::json& node, const std::string& name);
// Taints to keep after removing not-ready/unreachable; nullopt when nothing needs removing.
std::optional<nlohmann::json> taints_without_lifecycle(const nlohmann::json& node);
// Merge patch for nodes/<name> replacing spec.taints, guarded by resourceVersion.
std::string taints_patch_body(const std::string& resource_version, const nlohmann::json& taints);

}  // namespace canary_guard::podsim
