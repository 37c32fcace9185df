#pragma once
// What the guard reports to its own metrics (spec/probes.md §5). The guard owns this interface; the daemon wiring
// passes an implementation (app::Metrics), tests pass a recording fake or nothing. Label values handed in are the
// guard's closed tokens; the implementation maps anything else to "other" (R5.1).
#include <map>
#include <string>
#include <utility>
#include <string_view>

namespace canary_guard::guard {

class GuardMetrics {
 public:
  virtual ~GuardMetrics() = default;
  // outcome: completed | rolled_back | held | superseded
  virtual void rollout_finished(const std::string& ns, const std::string& workload, std::string_view kind,
                                std::string_view outcome) = 0;
  // A rollback was started (counted once per rollback, whatever crash recovery happens in between). reason: the
  // decision reason (progress_deadline, pod_signal:<signal>, ...).
  virtual void rollback(const std::string& ns, const std::string& workload, std::string_view kind,
                        std::string_view reason) = 0;
  virtual void rollout_active(const std::string& ns, const std::string& workload, std::string_view kind, bool active,
                              double start_unix_seconds) = 0;
  // A pod fast-failure signal failed a revision. reason: probes::PodSignal token.
  virtual void pod_signal(const std::string& ns, const std::string& workload, std::string_view reason) = 0;
  virtual void decision(std::string_view action) = 0;
  // canary_guard_informer_live{resource}: 1 while the informer's cache is live (kube/liveness.hpp), else 0.
  virtual void informer_live(std::string_view /*resource*/, bool /*live*/) {}
  // canary_guard_events_dropped_total: an Event dropped because the Event queue was full.
  virtual void event_dropped() {}
  // canary_guard_time_to_detect_seconds{kind,reason}: revision started -> rollback decided. reason: a class
  // (progress_deadline, pod_signal, metric_probe, alert, known_bad, other).
  virtual void time_to_detect(std::string_view /*kind*/, std::string_view /*reason*/, double /*seconds*/) {}
  // canary_guard_time_to_restore_seconds{kind,reason}: rollback decided -> the healthy revision available again.
  virtual void time_to_restore(std::string_view /*kind*/, std::string_view /*reason*/, double /*seconds*/) {}
  // canary_guard_workloads{kind,state}: the count of guarded workloads per (kind, state), every pair present.
  virtual void workloads(const std::map<std::pair<std::string, std::string>, int>& /*by_kind_state*/) {}
  // The workload was deleted or is no longer guarded: drop its series (R5.2).
  virtual void forget_workload(const std::string& ns, const std::string& workload, std::string_view kind) = 0;
};

// What metric analysis reports (spec §5): canary_guard_probe_evaluations_total, _probe_errors_total,
// _probe_value, _last_decisive_evaluation_timestamp_seconds. `probe` is the check name (bounded by the config).
class AnalysisMetrics {
 public:
  virtual ~AnalysisMetrics() = default;
  // outcome: pass | fail | inconclusive | no_data | error
  virtual void evaluation(const std::string& ns, const std::string& workload, const std::string& probe,
                          std::string_view outcome) = 0;
  // class: config | transient | partial | parse
  virtual void probe_error(const std::string& probe, std::string_view cls) = 0;
  virtual void probe_value(const std::string& ns, const std::string& workload, const std::string& probe,
                           double value) = 0;
  virtual void last_decisive(const std::string& ns, const std::string& workload, double unix_seconds) = 0;
  // One evaluation round of a check ended; `overrun`: it took longer than the check's interval
  // (canary_guard_analysis_round_overruns_total; the daemon's own schedule, never an outcome).
  virtual void analysis_round(const std::string& probe, bool overrun) = 0;
  virtual void forget_analysis(const std::string& ns, const std::string& workload) = 0;
};

}  // namespace canary_guard::guard
