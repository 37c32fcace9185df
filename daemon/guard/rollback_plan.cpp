#include "daemon/guard/rollback_plan.hpp"

#include <array>
#include <string_view>

#include "config/config.hpp"
#include "daemon/guard/records.hpp"
#include "daemon/kube/projection.hpp"
#include "probes/metric_analysis.hpp"

namespace canary_guard::guard {
namespace {

using nlohmann::json;

constexpr std::array<std::string_view, 6> kSkipList = {
    "kubectl.kubernetes.io/last-applied-configuration", "deployment.kubernetes.io/revision",
    "deployment.kubernetes.io/revision-history",        "deployment.kubernetes.io/desired-replicas",
    "deployment.kubernetes.io/max-replicas",            "deprecated.deployment.rollback.to"};

bool in_skip_list(std::string_view k) {
  for (auto s : kSkipList)
    if (s == k) return true;
  return false;
}

// canary-guard.io/*: the guard's own settings (kept as the Deployment has them now) and records (which belong to
// the object they are on). Neither comes from the target ReplicaSet.
bool guard_key(std::string_view k) { return k.substr(0, config::annotation::prefix.size()) == config::annotation::prefix; }
bool guard_setting(std::string_view k) {
  return guard_key(k) && k != kVerdictAnnotation && k != kRollbackAnnotation && k != probes::kAnalysisAnnotation &&
         k != kHoldAnnotation;
}

const json* path(const json& j, std::initializer_list<const char*> keys) {
  const json* cur = &j;
  for (const char* k : keys) {
    if (!cur->is_object()) return nullptr;
    auto it = cur->find(k);
    if (it == cur->end()) return nullptr;
    cur = &*it;
  }
  return cur;
}

}  // namespace

// One canonical form for templates in the whole daemon: the projection's fingerprint (kube/projection.hpp).
bool templates_equal(const json& a, const json& b) {
  auto fa = kube::template_fingerprint(a.dump());
  auto fb = kube::template_fingerprint(b.dump());
  return fa && fb && *fa == *fb;
}

Expected<RollbackRequest, std::string> deployment_rollback(const json& d, const json& rs, bool lift_guard_pause) {
  const json* gen = path(d, {"metadata", "generation"});
  if (!gen || !gen->is_number_integer()) return unexpected(std::string("deployment has no metadata.generation"));
  const json* dtmpl = path(d, {"spec", "template"});
  const json* tmpl = path(rs, {"spec", "template"});
  if (!tmpl || !tmpl->is_object()) return unexpected(std::string("target ReplicaSet has no spec.template"));
  if (!dtmpl || !dtmpl->is_object()) return unexpected(std::string("deployment has no spec.template"));

  RollbackRequest req;
  req.content_type = "application/json-patch+json";
  if (templates_equal(*dtmpl, *tmpl)) {
    req.skipped = true;
    return req;
  }

  json new_tmpl = *tmpl;
  if (auto* labels = new_tmpl.contains("metadata") ? &new_tmpl["metadata"] : nullptr;
      labels && labels->is_object() && labels->contains("labels") && (*labels)["labels"].is_object())
    (*labels)["labels"].erase("pod-template-hash");

  json annotations = json::object();
  if (const json* da = path(d, {"metadata", "annotations"}); da && da->is_object())
    for (auto it = da->begin(); it != da->end(); ++it)
      if (in_skip_list(it.key()) || guard_setting(it.key())) annotations[it.key()] = it.value();
  if (const json* ra = path(rs, {"metadata", "annotations"}); ra && ra->is_object())
    for (auto it = ra->begin(); it != ra->end(); ++it) {
      if (in_skip_list(it.key()) || guard_key(it.key())) continue;
      annotations[it.key()] = it.value();
    }

  const json* da = path(d, {"metadata", "annotations"});
  json ops = json::array();
  // The precondition tests generation, not resourceVersion: generation rises with every spec or annotation change
  // (what a rollback could overwrite) but not with the controller's status writes, which would fail a
  // resourceVersion test several times a second during a rollout.
  ops.push_back({{"op", "test"}, {"path", "/metadata/generation"}, {"value", *gen}});
  ops.push_back({{"op", "replace"}, {"path", "/spec/template"}, {"value", std::move(new_tmpl)}});
  // `replace` needs an existing key; a Deployment that never had annotations gets `add` (kubectl would fail: 422).
  ops.push_back({{"op", da && da->is_object() ? "replace" : "add"},
                 {"path", "/metadata/annotations"},
                 {"value", std::move(annotations)}});
  if (lift_guard_pause) ops.push_back({{"op", "replace"}, {"path", "/spec/paused"}, {"value", false}});
  req.body = ops.dump();
  return req;
}

Expected<RollbackRequest, std::string> daemonset_rollback(const json& ds, const json& cr) {
  const json* gen = path(ds, {"metadata", "generation"});
  if (!gen || !gen->is_number_integer()) return unexpected(std::string("daemonset has no metadata.generation"));
  const json* data = path(cr, {"data"});
  const json* crtmpl = path(cr, {"data", "spec", "template"});
  if (!data || !data->is_object() || !crtmpl || !crtmpl->is_object())
    return unexpected(std::string("ControllerRevision has no data.spec.template"));
  const json* dstmpl = path(ds, {"spec", "template"});
  if (!dstmpl) return unexpected(std::string("daemonset has no spec.template"));

  RollbackRequest req;
  req.content_type = "application/json-patch+json";
  json target = *crtmpl;
  target.erase("$patch");
  if (templates_equal(*dstmpl, target)) {
    req.skipped = true;
    return req;
  }
  // kubectl sends the CR data, a strategic-merge patch whose `$patch: replace` swaps the whole template. A JSON patch
  // replacing /spec/template has the same effect and can carry a precondition on generation (see above).
  json ops = json::array();
  ops.push_back({{"op", "test"}, {"path", "/metadata/generation"}, {"value", *gen}});
  ops.push_back({{"op", "replace"}, {"path", "/spec/template"}, {"value", std::move(target)}});
  req.body = ops.dump();
  return req;
}

}  // namespace canary_guard::guard
