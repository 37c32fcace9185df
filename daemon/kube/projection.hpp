#pragma once
// Projection: Kubernetes JSON -> the small views in probes/objects.hpp, so caches hold a few hundred bytes per
// object instead of whole documents. Tolerant by design: missing fields take their API defaults, a field of the
// wrong type is an error (text naming the field), nothing here throws or crashes on input.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

#include <nlohmann/json.hpp>

#include "config/expected.hpp"
#include "daemon/kube/errors.hpp"
#include "probes/objects.hpp"

namespace canary_guard::kube {

Expected<probes::DeploymentView, std::string> project_deployment(const nlohmann::json& j);
Expected<probes::ReplicaSetView, std::string> project_replicaset(const nlohmann::json& j);
Expected<probes::DaemonSetView, std::string> project_daemonset(const nlohmann::json& j);
Expected<probes::ControllerRevisionView, std::string> project_controller_revision(const nlohmann::json& j);
Expected<probes::PodView, std::string> project_pod(const nlohmann::json& j);

// Fingerprint of a pod template (spec.template of a D/RS/DS; for a CR pass data.spec.template with strip_patch):
// label pod-template-hash and (strip_patch) the top-level "$patch" are dropped; absent, null, [] and {} are
// equal; key order is ignored (kubernetes-rollouts.md §2.2). 16 lowercase hex digits of FNV-1a-64.
// A missing/null template gives the fingerprint of {}.
std::string template_fingerprint(const nlohmann::json* tmpl, bool strip_patch = false);

// Projection by view type, for Informer<View>.
template <class View>
struct Projector;
template <>
struct Projector<probes::DeploymentView> {
  static constexpr std::string_view kind = "Deployment";
  static auto project(const nlohmann::json& j) { return project_deployment(j); }
};
template <>
struct Projector<probes::ReplicaSetView> {
  static constexpr std::string_view kind = "ReplicaSet";
  static auto project(const nlohmann::json& j) { return project_replicaset(j); }
};
template <>
struct Projector<probes::DaemonSetView> {
  static constexpr std::string_view kind = "DaemonSet";
  static auto project(const nlohmann::json& j) { return project_daemonset(j); }
};
template <>
struct Projector<probes::ControllerRevisionView> {
  static constexpr std::string_view kind = "ControllerRevision";
  static auto project(const nlohmann::json& j) { return project_controller_revision(j); }
};
template <>
struct Projector<probes::PodView> {
  static constexpr std::string_view kind = "Pod";
  static auto project(const nlohmann::json& j) { return project_pod(j); }
};

enum class EventType { added, modified, deleted, bookmark, error };

// One decoded watch line. For bookmark only resource_version is set; for error only `error`.
template <class View>
struct WatchEvent {
  EventType type = EventType::added;
  View object{};
  std::string resource_version;
  Error error{};
};

// Parses a watch line without keeping the parts projection never reads: managedFields, annotations other than
// canary-guard.io/* and the revision, and (pod = true) all of a Pod's spec but nodeName.
Expected<nlohmann::json, std::string> parse_event_json(std::string_view line, bool pod = false);

template <class View>
Expected<WatchEvent<View>, std::string> decode_event(std::string_view line) {
  auto parsed = parse_event_json(line, std::is_same_v<View, probes::PodView>);
  if (!parsed) return unexpected(parsed.error());
  const nlohmann::json& j = *parsed;
  auto t = j.find("type");
  auto o = j.find("object");
  if (t == j.end() || !t->is_string() || o == j.end() || !o->is_object())
    return unexpected(std::string("watch event without type or object"));
  const auto& type = t->get_ref<const std::string&>();
  WatchEvent<View> ev;
  if (type == "ERROR") {
    ev.type = EventType::error;
    ev.error = error_from_status_json(o->dump());
    return ev;
  }
  if (type == "BOOKMARK") {
    ev.type = EventType::bookmark;
    auto m = o->find("metadata");
    if (m != o->end() && m->is_object())
      if (auto rv = m->find("resourceVersion"); rv != m->end() && rv->is_string()) ev.resource_version = *rv;
    if (ev.resource_version.empty()) return unexpected(std::string("BOOKMARK without resourceVersion"));
    return ev;
  }
  if (type == "ADDED") ev.type = EventType::added;
  else if (type == "MODIFIED") ev.type = EventType::modified;
  else if (type == "DELETED") ev.type = EventType::deleted;
  else return unexpected("unknown watch event type " + type);
  auto v = Projector<View>::project(*o);
  if (!v) return unexpected(v.error());
  ev.object = std::move(*v);
  ev.resource_version = ev.object.meta.resource_version;
  return ev;
}

// "ns/name", or "name" for cluster-scoped objects (client-go MetaNamespaceKeyFunc).
inline std::string object_key(const probes::ObjectMeta& m) { return m.ns.empty() ? m.name : m.ns + "/" + m.name; }

}  // namespace canary_guard::kube
