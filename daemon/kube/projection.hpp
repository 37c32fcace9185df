#pragma once
// Projection: Kubernetes JSON text -> the small views in probes/objects.hpp, so caches hold a few hundred bytes per
// object instead of whole documents. Tolerant by design: missing fields take their API defaults, a field of the
// wrong type is an error (text naming the field), nothing here throws or crashes on input.
//
// Parsing is simdjson's DOM parser through its error-code API (no simdjson exception can escape); simdjson stays
// out of this header so only projection.cpp pays for its 30k-line include. A Decoder owns the parser, whose
// buffers grow to the largest document seen and are then reused: that reuse is most of the speed
// (tests/bench/bench_watch_decode).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/expected.hpp"
#include "daemon/kube/errors.hpp"
#include "probes/objects.hpp"

namespace canary_guard::kube {

enum class EventType { added, modified, deleted, bookmark, error };

// One decoded watch line. For bookmark only resource_version is set; for error only `error`.
template <class View>
struct WatchEvent {
  EventType type = EventType::added;
  View object{};
  std::string resource_version;
  Error error{};
};

// One page of a LIST response ({"metadata":{"resourceVersion":..,"continue":..},"items":[..]}).
template <class View>
struct ListPage {
  std::vector<View> items;                      // the items that projected, in list order
  std::vector<std::string> errors;              // one per item that did not (left out, as bad watch lines are)
  std::optional<std::string> resource_version;  // metadata.resourceVersion when it is a string
  std::string continue_token;                   // metadata.continue; "" on the last page
};

// Decodes watch lines and list pages into views. Owns one simdjson parser: not thread-safe, keep one per
// informer (or per thread). The views it returns own their data; nothing refers to the parser afterwards.
// Supported views: Deployment, ReplicaSet, DaemonSet, ControllerRevision, Pod (explicitly instantiated in
// projection.cpp; another type fails to link).
class Decoder {
 public:
  Decoder();
  ~Decoder();
  Decoder(Decoder&&) noexcept;
  Decoder& operator=(Decoder&&) noexcept;

  // A watch line {"type":..,"object":{..}}. ERROR events carry the Status as an Error; BOOKMARK only the RV.
  template <class View>
  Expected<WatchEvent<View>, std::string> decode_event(std::string_view line);
  // One object's JSON text.
  template <class View>
  Expected<View, std::string> project(std::string_view object_json);
  // A LIST response body. An error only when the body is not a JSON object; bad items land in errors.
  template <class View>
  Expected<ListPage<View>, std::string> decode_list(std::string_view body);
  // template_fingerprint (below) of a template given as JSON text; an error when the text is not JSON.
  Expected<std::string, std::string> template_fingerprint(std::string_view template_json, bool strip_patch = false);

  // Bytes the parser holds for reuse (it keeps the capacity of the largest document it parsed).
  std::size_t capacity() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Conveniences over a thread_local Decoder, for tests, benchmarks and one-off callers.
template <class View>
Expected<WatchEvent<View>, std::string> decode_event(std::string_view line);
Expected<probes::DeploymentView, std::string> project_deployment(std::string_view object_json);
Expected<probes::ReplicaSetView, std::string> project_replicaset(std::string_view object_json);
Expected<probes::DaemonSetView, std::string> project_daemonset(std::string_view object_json);
Expected<probes::ControllerRevisionView, std::string> project_controller_revision(std::string_view object_json);
Expected<probes::PodView, std::string> project_pod(std::string_view object_json);

// Fingerprint of a pod template (spec.template of a D/RS/DS; for a CR pass data.spec.template with strip_patch):
// label pod-template-hash and (strip_patch) the top-level "$patch" are dropped; absent, null, [] and {} are
// equal; key order is ignored; of duplicate keys the last counts (kubernetes-rollouts.md §2.2). 16 lowercase
// hex digits of FNV-1a-64 over a canonical encoding. A template that is not an object (missing, null) gives
// empty_template_fingerprint(). An error only when template_json is not JSON.
Expected<std::string, std::string> template_fingerprint(std::string_view template_json, bool strip_patch = false);
std::string empty_template_fingerprint();

// Kind name by view type, for logs.
template <class View>
struct Projector;
template <>
struct Projector<probes::DeploymentView> {
  static constexpr std::string_view kind = "Deployment";
};
template <>
struct Projector<probes::ReplicaSetView> {
  static constexpr std::string_view kind = "ReplicaSet";
};
template <>
struct Projector<probes::DaemonSetView> {
  static constexpr std::string_view kind = "DaemonSet";
};
template <>
struct Projector<probes::ControllerRevisionView> {
  static constexpr std::string_view kind = "ControllerRevision";
};
template <>
struct Projector<probes::PodView> {
  static constexpr std::string_view kind = "Pod";
};

// "ns/name", or "name" for cluster-scoped objects (client-go MetaNamespaceKeyFunc).
inline std::string object_key(const probes::ObjectMeta& m) { return m.ns.empty() ? m.name : m.ns + "/" + m.name; }

}  // namespace canary_guard::kube
