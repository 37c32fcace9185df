#include "daemon/guard/kube_writer.hpp"

#include <boost/asio/co_spawn.hpp>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "daemon/guard/rollback_plan.hpp"
#include "daemon/kube/projection.hpp"
#include "daemon/kube/resources.hpp"
#include "probes/metric_analysis.hpp"

namespace canary_guard::guard {

namespace asio = boost::asio;
using asio::awaitable;

namespace {

std::string workload_path(const Observation& obs) {
  return obs.key.kind == Kind::deployment ? kube::paths::deployments(obs.key.ns, obs.key.name)
                                          : kube::paths::daemonsets(obs.key.ns, obs.key.name);
}

std::string revision_path(const Observation& obs, const std::string& name) {
  return obs.key.kind == Kind::deployment ? kube::paths::replicasets(obs.key.ns, name)
                                          : kube::paths::controllerrevisions(obs.key.ns, name);
}

}  // namespace

RecordPatch record_patch(const Revision& rev, const std::optional<std::string>& verdict_text,
                         const std::optional<std::string>& rollback_text) {
  // Every record write is a compare-and-swap, the first one too: of two processes that both believe they lead and
  // both write the first record of a revision (both mark it healthy, both start its rollback), one must fail and
  // re-read, or both tell (two RevisionHealthy Events) and both go on. A `test` of a member against null passes
  // when the member is absent and fails when it is present, in the apiserver's JSON patch (evanphx/json-patch,
  // patch.go `test`; shown by tests/integration/record_race_test.cpp): "not written yet" can be tested.
  nlohmann::json ops = nlohmann::json::array();
  // JSON pointer: "/" in a key is "~1" (RFC 6901); our keys have no "~".
  auto pointer = [](std::string_view key) {
    std::string p = "/metadata/annotations/";
    for (char ch : key) p += ch == '/' ? std::string("~1") : std::string(1, ch);
    return p;
  };
  // A record text known (read, or written by this process ahead of the cache) means the map is there.
  if (!rev.has_annotations && rev.verdict_text.empty() && rev.rollback_text.empty()) {
    // No annotations map at all (an empty map is not serialised): the map itself is tested absent and created.
    nlohmann::json ann = nlohmann::json::object();
    if (verdict_text) ann[std::string(kVerdictAnnotation)] = *verdict_text;
    if (rollback_text) ann[std::string(kRollbackAnnotation)] = *rollback_text;
    ops.push_back({{"op", "test"}, {"path", "/metadata/annotations"}, {"value", nullptr}});
    ops.push_back({{"op", "add"}, {"path", "/metadata/annotations"}, {"value", ann}});
    return {kube::PatchType::json, ops.dump()};
  }
  auto field = [&](std::string_view key, const std::optional<std::string>& text, const std::string& old) {
    if (!text) return;
    if (old.empty())
      ops.push_back({{"op", "test"}, {"path", pointer(key)}, {"value", nullptr}});
    else
      ops.push_back({{"op", "test"}, {"path", pointer(key)}, {"value", old}});
    ops.push_back({{"op", "add"}, {"path", pointer(key)}, {"value", *text}});  // add replaces an existing member
  };
  field(kVerdictAnnotation, verdict_text, rev.verdict_text);
  field(kRollbackAnnotation, rollback_text, rev.rollback_text);
  return {kube::PatchType::json, ops.dump()};
}

awaitable<Result<Ok>> KubeWriter::write_record(const Observation& obs, const Revision& rev,
                                               std::optional<VerdictRecord> verdict,
                                               std::optional<RollbackRecord> rollback) {
  std::optional<std::string> v, rb;
  if (verdict) v = format_verdict(*verdict);
  if (rollback) rb = format_rollback(*rollback);
  auto patch = record_patch(rev, v, rb);
  auto r = co_await client_.patch(revision_path(obs, rev.name), patch.type, patch.body);
  if (!r) {
    auto e = r.error();
    // A failed `test`: another writer moved the record on since we read it (a second process that also believes it
    // leads). Reported as a conflict: the caller forgets what it wrote and re-reads.
    if (e.kind == kube::ErrorKind::invalid || e.kind == kube::ErrorKind::conflict)
      co_return unexpected(kube::make_error(kube::ErrorKind::conflict,
                                            "the record on " + rev.name + " changed since it was read: " + e.message));
    co_return unexpected(std::move(e));
  }
  co_return Ok{};
}

awaitable<Result<FreshRollback>> KubeWriter::prepare_rollback(const Observation& obs, const Revision& target) {
  auto [w, t] = co_await both(client_.get(workload_path(obs)), client_.get(revision_path(obs, target.name)));
  if (!w) co_return unexpected(w.error());
  if (!t) co_return unexpected(t.error());
  co_return plan_rollback(obs, *w, *t);
}

Result<FreshRollback> plan_rollback(const Observation& obs, const nlohmann::json& workload,
                                    const nlohmann::json& target) {
  const bool dep = obs.key.kind == Kind::deployment;
  FreshRollback fresh;
  fresh.generation = workload.value("/metadata/generation"_json_pointer, std::int64_t{0});
  fresh.paused = dep && workload.value("/spec/paused"_json_pointer, false);
  if (const auto* ann = workload.contains("metadata") ? &workload["metadata"] : nullptr;
      ann && ann->contains("annotations")) {
    const auto& a = (*ann)["annotations"];
    if (a.is_object() && a.contains(std::string(kHoldAnnotation)) && a[std::string(kHoldAnnotation)].is_string())
      fresh.paused_by_guard = a[std::string(kHoldAnnotation)].get<std::string>().rfind("paused-blind", 0) == 0;
  }
  const auto tmpl = workload.contains("spec") && workload["spec"].is_object() && workload["spec"].contains("template")
                        ? workload["spec"]["template"].dump()
                        : std::string("null");
  auto fp = kube::template_fingerprint(tmpl);
  if (!fp) return unexpected(kube::make_error(kube::ErrorKind::bad_data, "workload template: " + fp.error()));
  fresh.template_fingerprint = *fp;
  auto plan = dep ? deployment_rollback(workload, target, /*lift_guard_pause=*/fresh.paused && fresh.paused_by_guard)
                  : daemonset_rollback(workload, target);
  if (!plan) return unexpected(kube::make_error(kube::ErrorKind::bad_data, plan.error()));
  fresh.skipped = plan->skipped;
  fresh.content_type = plan->content_type;
  fresh.body = std::move(plan->body);
  return fresh;
}

awaitable<Result<std::int64_t>> KubeWriter::send_rollback(const Observation& obs, const FreshRollback& plan) {
  auto p = co_await client_.patch(workload_path(obs), kube::PatchType::json, plan.body);
  if (!p) co_return unexpected(p.error());
  co_return p->value("/metadata/generation"_json_pointer, plan.generation + 1);
}

awaitable<Result<Ok>> KubeWriter::remove_workload_records(const Observation& obs) {
  // A merge patch deletes with null and tolerates absent keys; the resourceVersion makes it fail (409) when the
  // workload changed since it was observed.
  nlohmann::json body = {{"metadata",
                          {{"resourceVersion", obs.ref.resource_version},
                           {"annotations",
                            {{std::string(kVerdictAnnotation), nullptr},
                             {std::string(kRollbackAnnotation), nullptr},
                             {std::string(probes::kAnalysisAnnotation), nullptr}}}}}};
  auto r = co_await client_.patch(workload_path(obs), kube::PatchType::merge, body.dump());
  if (!r) co_return unexpected(r.error());
  co_return Ok{};
}

awaitable<Result<Ok>> KubeWriter::set_paused(const Observation& obs, bool paused, std::optional<std::string> note) {
  nlohmann::json ann = nlohmann::json::object();
  ann[std::string(kHoldAnnotation)] = note ? nlohmann::json(*note) : nlohmann::json(nullptr);
  nlohmann::json body = {{"metadata", {{"resourceVersion", obs.ref.resource_version}, {"annotations", ann}}},
                         {"spec", {{"paused", paused}}}};
  auto r = co_await client_.patch(workload_path(obs), kube::PatchType::merge, body.dump());
  if (!r) co_return unexpected(r.error());
  co_return Ok{};
}

void KubeWriter::event(const ObjectRef& obj, std::string type, std::string reason, std::string message) {
  if (tap_) tap_(obj, type, reason, message);
  queue_.push(PendingEvent{obj, std::move(type), std::move(reason), std::move(message)});
}

}  // namespace canary_guard::guard
