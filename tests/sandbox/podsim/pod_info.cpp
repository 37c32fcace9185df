#include "tests/sandbox/podsim/pod_info.hpp"
#include "tests/sandbox/podsim/json_access.hpp"

#include <fmt/format.h>

namespace canary_guard::podsim {

namespace {

using json = nlohmann::json;


// dump() throws on invalid UTF-8; a request body must never throw.
std::string to_body(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

std::vector<ContainerSpec> containers_of(const json& list) {
  std::vector<ContainerSpec> out;
  if (!list.is_array()) return out;
  for (const auto& c : list) {
    ContainerSpec spec{str(at(c, "name")), str(at(c, "image")), {}};
    if (spec.name.empty()) continue;
    spec.behaviour = parse_behaviour(spec.image);
    out.push_back(std::move(spec));
  }
  return out;
}

std::string affinity_node(const json& spec) {
  const json& terms = at(at(at(at(spec, "affinity"), "nodeAffinity"), "requiredDuringSchedulingIgnoredDuringExecution"),
                         "nodeSelectorTerms");
  if (!terms.is_array()) return {};
  for (const auto& term : terms) {
    const json& fields = at(term, "matchFields");
    if (!fields.is_array()) continue;
    for (const auto& f : fields) {
      const json& values = at(f, "values");
      if (str(at(f, "key")) == "metadata.name" && str(at(f, "operator")) == "In" && values.is_array() &&
          !values.empty())
        return str(values.front());
    }
  }
  return {};
}

}  // namespace

std::optional<PodInfo> parse_pod(const json& pod) {
  const json& meta = at(pod, "metadata");
  PodInfo p;
  p.ns = str(at(meta, "namespace"));
  p.name = str(at(meta, "name"));
  if (p.ns.empty() || p.name.empty()) return std::nullopt;
  p.uid = str(at(meta, "uid"));
  p.resource_version = str(at(meta, "resourceVersion"));
  p.deleting = !at(meta, "deletionTimestamp").is_null();
  const json& labels = at(meta, "labels");
  p.pod_template_hash = str(at(labels, "pod-template-hash"));
  p.controller_revision_hash = str(at(labels, "controller-revision-hash"));

  const json& spec = at(pod, "spec");
  p.node_name = str(at(spec, "nodeName"));
  p.affinity_node = affinity_node(spec);
  p.containers = containers_of(at(spec, "containers"));
  p.init_containers = containers_of(at(spec, "initContainers"));
  p.scheduling = parse_scheduling(spec);

  const json& status = at(pod, "status");
  if (status.is_object()) p.status = status;
  p.phase = str(at(status, "phase"));
  p.start_time = parse_time(str(at(status, "startTime")));
  p.pod_ip = str(at(status, "podIP"));
  p.host_ip = str(at(status, "hostIP"));
  const json& conditions = at(status, "conditions");
  if (conditions.is_array()) {
    for (const auto& c : conditions) {
      const auto type = str(at(c, "type"));
      const auto since = parse_time(str(at(c, "lastTransitionTime")));
      if (!since) continue;
      if (type == "Ready") p.ready = ConditionMemory{str(at(c, "status")) == "True", *since};
      if (type == "PodScheduled" && str(at(c, "status")) == "True") p.scheduled_time = since;
    }
  }
  return p;
}

bool status_contains(const json& current, const json& wanted) {
  if (!wanted.is_object() || !current.is_object()) return current == wanted;
  for (const auto& [key, value] : wanted.items()) {
    const auto it = current.find(key);
    if (it == current.end()) {
      if (!value.is_null()) return false;  // a merge patch's null deletes: absent is the same
      continue;
    }
    // Lists are replaced whole by a merge patch, so they must be equal; objects are merged key by key.
    if (value.is_object() ? !status_contains(*it, value) : *it != value) return false;
  }
  return true;
}

std::string binding_body(const PodInfo& pod, const std::string& node) {
  json meta{{"name", pod.name}, {"namespace", pod.ns}};
  if (!pod.uid.empty()) meta["uid"] = pod.uid;  // binds only the incarnation we saw
  return to_body(json{{"apiVersion", "v1"},
              {"kind", "Binding"},
              {"metadata", std::move(meta)},
              {"target", {{"apiVersion", "v1"}, {"kind", "Node"}, {"name", node}}}});
}

std::string status_patch_body(const std::string& resource_version, const json& status) {
  return to_body(json{{"metadata", {{"resourceVersion", resource_version}}}, {"status", status}});
}

json unschedulable_status(const json& current, const std::string& message, TimePoint now) {
  std::string since = format_time(now);
  const json& conditions = at(current, "conditions");
  if (conditions.is_array())
    for (const auto& c : conditions)
      if (str(at(c, "type")) == "PodScheduled" && str(at(c, "status")) == "False") {
        if (const auto t = str(at(c, "lastTransitionTime")); !t.empty()) since = t;
      }
  return json{{"phase", "Pending"},
              {"conditions", json::array({{{"type", "PodScheduled"},
                                           {"status", "False"},
                                           {"reason", "Unschedulable"},
                                           {"message", message},
                                           {"lastProbeTime", nullptr},
                                           {"lastTransitionTime", since}}})}};
}

std::string delete_body(const std::string& uid) {
  json body{{"apiVersion", "v1"}, {"kind", "DeleteOptions"}, {"gracePeriodSeconds", 0}};
  if (!uid.empty()) body["preconditions"] = {{"uid", uid}};
  return to_body(body);
}

std::string node_name(int index) { return fmt::format("podsim-node-{}", index); }
std::string node_ip(int index) { return fmt::format("10.0.{}.{}", index / 250, index % 250 + 1); }

std::string node_create_body(const std::string& name) {
  return to_body(json{{"apiVersion", "v1"},
              {"kind", "Node"},
              {"metadata",
               {{"name", name},
                {"labels",
                 {{"kubernetes.io/hostname", name},
                  {"kubernetes.io/os", "linux"},
                  {"kubernetes.io/arch", "amd64"},
                  {"podsim.canary-guard.io/simulated", "true"}}}}},
              {"spec", json::object()}});
}

std::string node_status_patch_body(const std::string& name, const std::string& ip, TimePoint now,
                                   TimePoint ready_since) {
  const auto heartbeat = format_time(now);
  const auto cond = [&](const char* type, bool ok, const char* reason, const char* message, TimePoint since) {
    return json{{"type", type},
                {"status", ok ? "True" : "False"},
                {"reason", reason},
                {"message", message},
                {"lastHeartbeatTime", heartbeat},
                {"lastTransitionTime", format_time(since)}};
  };
  const json resources{{"cpu", "8"}, {"memory", "32Gi"}, {"pods", "110"}, {"ephemeral-storage", "100Gi"}};
  json status{
      {"conditions", json::array({
                         cond("MemoryPressure", false, "KubeletHasSufficientMemory", "kubelet has sufficient memory available", ready_since),
                         cond("DiskPressure", false, "KubeletHasNoDiskPressure", "kubelet has no disk pressure", ready_since),
                         cond("PIDPressure", false, "KubeletHasSufficientPID", "kubelet has sufficient PID available", ready_since),
                         cond("Ready", true, "KubeletReady", "kubelet is posting ready status (simulated by podsim)", ready_since),
                     })},
      {"addresses", json::array({{{"type", "InternalIP"}, {"address", ip}}, {{"type", "Hostname"}, {"address", name}}})},
      {"capacity", resources},
      {"allocatable", resources},
      {"daemonEndpoints", {{"kubeletEndpoint", {{"Port", 10250}}}}},
      {"nodeInfo",
       {{"machineID", fmt::format("{:016x}", fnv1a(name))},
        {"systemUUID", fmt::format("{:016x}", fnv1a(name + "#uuid"))},
        {"bootID", fmt::format("{:016x}", fnv1a(name + "#boot"))},
        {"kernelVersion", "6.1.0-podsim"},
        {"osImage", "podsim"},
        {"containerRuntimeVersion", "podsim://1.0"},
        {"kubeletVersion", "v1.20.2"},
        {"kubeProxyVersion", "v1.20.2"},
        {"operatingSystem", "linux"},
        {"architecture", "amd64"}}},
  };
  return to_body(json{{"status", std::move(status)}});
}

std::optional<std::string> node_labels_patch_body(const json& node, const std::string& name) {
  const json& labels = at(at(node, "metadata"), "labels");
  json add = json::object();
  if (str(at(labels, "kubernetes.io/hostname")).empty()) add["kubernetes.io/hostname"] = name;
  if (str(at(labels, "kubernetes.io/os")).empty()) add["kubernetes.io/os"] = "linux";
  if (add.empty()) return std::nullopt;
  json meta{{"labels", std::move(add)}};
  if (const auto rv = str(at(at(node, "metadata"), "resourceVersion")); !rv.empty()) meta["resourceVersion"] = rv;
  return to_body(json{{"metadata", std::move(meta)}});
}

std::optional<json> taints_without_lifecycle(const json& node) {
  const json& taints = at(at(node, "spec"), "taints");
  if (!taints.is_array()) return std::nullopt;
  json keep = json::array();
  bool removed = false;
  for (const auto& t : taints) {
    const auto key = str(at(t, "key"));
    if (key == "node.kubernetes.io/not-ready" || key == "node.kubernetes.io/unreachable") {
      removed = true;
      continue;
    }
    keep.push_back(t);
  }
  if (!removed) return std::nullopt;
  return keep;
}

std::string taints_patch_body(const std::string& resource_version, const json& taints) {
  return to_body(json{{"metadata", {{"resourceVersion", resource_version}}}, {"spec", {{"taints", taints}}}});
}

}  // namespace canary_guard::podsim
