#pragma once
// The scheduler's feasibility rule as podsim plays it: which of podsim's nodes may run a pod, judged by
// spec.nodeSelector, required node affinity and the pod's cpu/memory requests against each node's allocatable
// (kube-scheduler's NodeAffinity and NodeResourcesFit filters, v1.20 wording). Per pod only: podsim does not add up
// what is already bound to a node, and ignores taints, ports and pod (anti-)affinity.
//
// podsim's nodes (pod_info.hpp node_create_body / node_status_patch_body) carry the labels
// kubernetes.io/hostname=<node name>, kubernetes.io/os=linux, kubernetes.io/arch=amd64 and
// podsim.canary-guard.io/simulated=true, and report allocatable cpu "8", memory "32Gi", pods "110",
// ephemeral-storage "100Gi". The simulator re-reads labels and allocatable from the server on every node refresh,
// so `kubectl label node` changes what is schedulable.
//
// Pure: parse_scheduling reads JSON, decide_scheduling is a function of its arguments.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace canary_guard::podsim {

// A Kubernetes resource.Quantity ("500m", "1Gi", "1G", "129e6", "0.5") scaled and rounded up as the API does:
// quantity_value is Quantity.Value() (memory bytes), quantity_milli is MilliValue() (millicores). Saturates at
// INT64_MAX. nullopt for text that is not a quantity, a negative one, or more than 20 significant digits.
std::optional<std::int64_t> quantity_value(std::string_view text);
std::optional<std::int64_t> quantity_milli(std::string_view text);

struct NodeSelectorRequirement {
  std::string key;
  std::string op;  // In NotIn Exists DoesNotExist Gt Lt (matchFields: In NotIn on metadata.name)
  std::vector<std::string> values;
};

// Requirements are ANDed. A term with no requirement at all matches no node (as in Kubernetes).
struct NodeSelectorTerm {
  std::vector<NodeSelectorRequirement> match_expressions;
  std::vector<NodeSelectorRequirement> match_fields;
};

struct SchedulingSpec {
  std::map<std::string, std::string> node_selector;
  // spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms (ORed);
  // nullopt when the pod has no required node affinity.
  std::optional<std::vector<NodeSelectorTerm>> required_terms;
  // max(sum of containers, each init container) plus spec.overhead, as the scheduler computes it.
  std::int64_t cpu_milli = 0;
  std::int64_t memory_bytes = 0;
  // What could not be read (a bad quantity, an unknown operator...). Not empty: podsim schedules the pod
  // anyway and logs this (a test tool must not hold pods back on its own parsing).
  std::vector<std::string> problems;
};

struct SchedNode {
  std::string name;
  std::map<std::string, std::string> labels;
  std::int64_t cpu_milli = 0;  // allocatable
  std::int64_t memory_bytes = 0;
};

// pod.spec (any JSON; odd shapes become problems, never exceptions).
SchedulingSpec parse_scheduling(const nlohmann::json& spec);
// node object from the API: metadata.name, metadata.labels, status.allocatable cpu and memory. nullopt without
// a name or without a readable allocatable cpu and memory.
std::optional<SchedNode> parse_sched_node(const nlohmann::json& node);

struct SchedulingDecision {
  std::vector<std::string> feasible;  // node names, in the order of `nodes`
  // When feasible is empty: the scheduler's FailedScheduling message, e.g.
  // "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) didn't match node selector."
  std::string message;
};

bool node_matches(const SchedulingSpec& pod, const SchedNode& node);  // selector and required affinity
SchedulingDecision decide_scheduling(const SchedulingSpec& pod, const std::vector<SchedNode>& nodes);

}  // namespace canary_guard::podsim
