#include "daemon/app/metrics.hpp"

#include <array>

namespace canary_guard::app {

using prometheus::BuildCounter;
using prometheus::BuildGauge;

Metrics::Metrics(std::string_view version)
    : registry_(std::make_shared<prometheus::Registry>()),
      build_info_(BuildGauge().Name("canary_guard_build_info").Help("Build information; always 1.").Register(*registry_)),
      rollouts_(BuildCounter()
                    .Name("canary_guard_rollouts_total")
                    .Help("Rollouts of guarded workloads by how they ended.")
                    .Register(*registry_)),
      rollbacks_(BuildCounter()
                     .Name("canary_guard_rollbacks_total")
                     .Help("Automatic rollbacks started, by the kind of evidence.")
                     .Register(*registry_)),
      active_(BuildGauge()
                  .Name("canary_guard_rollout_active")
                  .Help("1 while a rollout of the workload is being watched.")
                  .Register(*registry_)),
      start_ts_(BuildGauge()
                    .Name("canary_guard_rollout_start_timestamp_seconds")
                    .Help("When the watched rollout started (Unix seconds).")
                    .Register(*registry_)),
      pod_signals_(BuildCounter()
                       .Name("canary_guard_pod_signals_total")
                       .Help("Pod fast-failure signals that failed a revision, by reason.")
                       .Register(*registry_)),
      kube_requests_(BuildCounter()
                         .Name("canary_guard_kube_requests_total")
                         .Help("Requests to the Kubernetes API by verb, resource and HTTP code.")
                         .Register(*registry_)),
      decisions_(BuildCounter()
                     .Name("canary_guard_decisions_total")
                     .Help("Decisions taken by the guard, by action.")
                     .Register(*registry_)) {
  build_info_.Add({{"version", std::string(version)}, {"revision", "unknown"}}).Set(1);
  for (auto a : {"mark_healthy", "rollback", "resume_rollback", "confirm_patched", "rollback_succeeded",
                 "rollback_failed", "supersede", "hold"})
    decisions_.Add({{"action", a}});
}

void Metrics::rollout_finished(const std::string& ns, const std::string& w, std::string_view kind, std::string_view outcome) {
  rollouts_.Add({{"namespace", ns}, {"workload", w}, {"kind", std::string(kind)}, {"outcome", std::string(outcome)}})
      .Increment();
}

void Metrics::rollback(const std::string& ns, const std::string& w, std::string_view kind, std::string_view reason) {
  rollbacks_.Add({{"namespace", ns}, {"workload", w}, {"kind", std::string(kind)},
                  {"reason", std::string(rollback_reason_label(reason))}})
      .Increment();
}

void Metrics::rollout_active(const std::string& ns, const std::string& w, std::string_view kind, bool active,
                             double start) {
  prometheus::Labels l{{"namespace", ns}, {"workload", w}, {"kind", std::string(kind)}};
  active_.Add(l).Set(active ? 1 : 0);
  if (active) start_ts_.Add(l).Set(start);
}

void Metrics::pod_signal(const std::string& ns, const std::string& w, std::string_view reason) {
  static constexpr std::array<std::string_view, 7> known = {"crash_loop", "image_pull", "invalid_image", "config_error",
                                                            "oom_killed", "not_ready", "unschedulable"};
  std::string_view r = "other";
  for (auto k : known)
    if (k == reason) r = k;
  pod_signals_.Add({{"namespace", ns}, {"workload", w}, {"reason", std::string(r)}}).Increment();
}

void Metrics::kube_request(std::string_view verb, std::string_view resource, int code) {
  kube_requests_
      .Add({{"verb", std::string(verb)}, {"resource", std::string(resource)},
            {"code", code == 0 ? std::string("conn_error") : std::to_string(code)}})
      .Increment();
}

void Metrics::decision(std::string_view action) { decisions_.Add({{"action", std::string(action)}}).Increment(); }

void Metrics::forget_workload(const std::string& ns, const std::string& w, std::string_view kind) {
  prometheus::Labels l{{"namespace", ns}, {"workload", w}, {"kind", std::string(kind)}};
  if (active_.Has(l)) active_.Remove(&active_.Add(l));
  if (start_ts_.Has(l)) start_ts_.Remove(&start_ts_.Add(l));
}

std::string_view Metrics::rollback_reason_label(std::string_view reason) {
  if (reason == "progress_deadline") return "progress_deadline";
  if (reason.substr(0, 11) == "pod_signal:" || reason == "pod_signal") return "pod_signal";
  if (reason == "alert") return "alert";
  if (reason == "metric_probe") return "metric_probe";
  return "other";
}

}  // namespace canary_guard::app
