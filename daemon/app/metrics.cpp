#include "daemon/app/metrics.hpp"

#include <array>
#include <sstream>

#include <prometheus/text_serializer.h>

#include "daemon/app/process_metrics.hpp"

namespace canary_guard::app {

using prometheus::BuildCounter;
using prometheus::BuildGauge;

namespace {
const prometheus::Histogram::BucketBoundaries& detect_buckets() {
  static const prometheus::Histogram::BucketBoundaries b{1, 5, 10, 20, 30, 60, 120, 300, 600, 1800, 3600};
  return b;
}
const prometheus::Histogram::BucketBoundaries& restore_buckets() {
  static const prometheus::Histogram::BucketBoundaries b{1, 5, 10, 20, 30, 60, 120, 300, 600, 1800};
  return b;
}
}  // namespace

Metrics::Metrics(std::string_view version, std::string_view revision)
    : registry_(std::make_shared<prometheus::Registry>()),
      build_info_(BuildGauge().Name("canary_guard_build_info").Help("Build information; always 1.").Register(*registry_)),
      rollouts_("canary_guard_rollouts_total", "Rollouts of guarded workloads by how they ended.", SeriesFamily::Type::counter, {"namespace", "workload", "kind", "outcome"}),
      rollbacks_("canary_guard_rollbacks_total", "Automatic rollbacks started, by the kind of evidence.", SeriesFamily::Type::counter, {"namespace", "workload", "kind", "reason"}),
      active_("canary_guard_rollout_active", "1 while a rollout of the workload is being watched.", SeriesFamily::Type::gauge, {"namespace", "workload", "kind"}),
      start_ts_("canary_guard_rollout_start_timestamp_seconds", "When the watched rollout started (Unix seconds).", SeriesFamily::Type::gauge, {"namespace", "workload", "kind"}),
      pod_signals_("canary_guard_pod_signals_total", "Pod fast-failure signals that failed a revision, by reason.", SeriesFamily::Type::counter, {"namespace", "workload", "reason"}),
      kube_requests_(BuildCounter()
                         .Name("canary_guard_kube_requests_total")
                         .Help("Requests to the Kubernetes API by verb, resource and HTTP code.")
                         .Register(*registry_)),
      decisions_(BuildCounter()
                     .Name("canary_guard_decisions_total")
                     .Help("Decisions taken by the guard, by action.")
                     .Register(*registry_)),
      probe_evaluations_("canary_guard_probe_evaluations_total", "Metric check evaluations by outcome.", SeriesFamily::Type::counter, {"namespace", "workload", "probe", "outcome"}),
      probe_errors_(BuildCounter()
                        .Name("canary_guard_probe_errors_total")
                        .Help("Metric check errors by class (config, transient, partial, parse).")
                        .Register(*registry_)),
      probe_value_("canary_guard_probe_value", "The last value of a metric check (the worst series); may be NaN.", SeriesFamily::Type::gauge, {"namespace", "workload", "probe"}),
      last_decisive_("canary_guard_last_decisive_evaluation_timestamp_seconds", "When a metric check last gave a decisive (pass or fail) outcome.", SeriesFamily::Type::gauge, {"namespace", "workload"}),
      round_overruns_(BuildCounter()
                          .Name("canary_guard_analysis_round_overruns_total")
                          .Help("Evaluation rounds of a metric check that took longer than its interval.")
                          .Register(*registry_)),
      prom_requests_(BuildCounter()
                         .Name("canary_guard_prometheus_requests_total")
                         .Help("Requests to Prometheus by endpoint and HTTP code (conn_error: none).")
                         .Register(*registry_)),
      prom_duration_(prometheus::BuildHistogram()
                         .Name("canary_guard_prometheus_request_duration_seconds")
                         .Help("Duration of requests to Prometheus.")
                         .Register(*registry_)),
      informer_live_(BuildGauge()
                         .Name("canary_guard_informer_live")
                         .Help("1 while the informer's cache of the resource is live (listed, watch open and "
                               "showing life); 0 otherwise: nothing time-based is judged from it.")
                         .Register(*registry_)),
      events_dropped_(BuildCounter()
                          .Name("canary_guard_events_dropped_total")
                          .Help("Kubernetes Events dropped because the Event queue was full (Events are best effort).")
                          .Register(*registry_)
                          .Add({})),
      notifications_(BuildCounter()
                         .Name("canary_guard_alertmanager_notifications_received_total")
                         .Help("Alerts received on POST /v1/alertmanager by status and result (duplicate: seen before, "
                               "acted on once; ignored: other severity or no workload named).")
                         .Register(*registry_)),
      alerts_firing_("canary_guard_alerts_firing", "Firing Alertmanager alerts naming the workload, as delivered to the webhook.", SeriesFamily::Type::gauge, {"namespace", "workload"}),
      heartbeat_ts_(BuildGauge()
                        .Name("canary_guard_alertmanager_heartbeat_timestamp_seconds")
                        .Help("When the heartbeat alert last arrived (Unix seconds); 0: never.")
                        .Register(*registry_)
                        .Add({})),
      alert_channel_blind_(BuildGauge()
                               .Name("canary_guard_alert_channel_blind")
                               .Help("1 while the heartbeat alert has not arrived for heartbeat_timeout.")
                               .Register(*registry_)
                               .Add({})),
      leader_(BuildGauge()
                  .Name("canary_guard_leader")
                  .Help("1 while this process acts (holds the Lease, or leader election is off); 0 while it follows.")
                  .Register(*registry_)
                  .Add({})),
      push_requests_(BuildCounter()
                         .Name("canary_guard_alertmanager_push_requests_total")
                         .Help("POSTs of the daemon's own alerts to Alertmanager by HTTP code (conn_error: none).")
                         .Register(*registry_)),
      detect_(prometheus::BuildHistogram()
                  .Name("canary_guard_time_to_detect_seconds")
                  .Help("Revision started -> rollback decided, by kind and reason class.")
                  .Register(*registry_)),
      restore_(prometheus::BuildHistogram()
                   .Name("canary_guard_time_to_restore_seconds")
                   .Help("Rollback decided -> the healthy revision available again, by kind and reason class.")
                   .Register(*registry_)),
      workloads_(BuildGauge()
                     .Name("canary_guard_workloads")
                     .Help("Guarded workloads by kind and state (guarded, under_bake, under_analysis, held, "
                           "not_judged).")
                     .Register(*registry_)),
      notifications_sent_(BuildCounter()
                              .Name("canary_guard_notifications_total")
                              .Help("[[notify]] webhook deliveries by format and result (sent, failed, dropped).")
                              .Register(*registry_)) {
  for (auto f : {"json", "slack"})
    for (auto r : {"sent", "failed", "dropped"}) notifications_sent_.Add({{"format", f}, {"result", r}});
  for (auto st : {"firing", "resolved"})
    for (auto r : {"accepted", "duplicate", "ignored", "unauthorized", "malformed"})
      notifications_.Add({{"status", st}, {"result", r}});
  for (auto r : {"deployments", "replicasets", "daemonsets", "controllerrevisions", "pods"})
    informer_live_.Add({{"resource", r}}).Set(0);
  build_info_.Add({{"version", std::string(version)}, {"revision", std::string(revision)}}).Set(1);
  leader_.Set(1);  // without leader election the one process acts; the elector sets it otherwise
  // Every series that does not name a workload exists from the start, so rate() and increase() work from the
  // first scrape.
  for (auto k : {"Deployment", "DaemonSet"})
    for (auto r : {"progress_deadline", "pod_signal", "metric_probe", "alert", "known_bad"}) {
      detect_.Add({{"kind", k}, {"reason", r}}, detect_buckets());
      restore_.Add({{"kind", k}, {"reason", r}}, restore_buckets());
    }
  for (auto k : {"Deployment", "DaemonSet"})
    for (auto st : {"guarded", "under_bake", "under_analysis", "held", "not_judged"})
      workloads_.Add({{"kind", k}, {"state", st}}).Set(0);
  for (auto c : {"200", "400", "conn_error"}) push_requests_.Add({{"code", c}});
  for (auto a : {"mark_healthy", "rollback", "resume_rollback", "confirm_patched", "rollback_succeeded",
                 "rollback_failed", "supersede", "hold", "remove_copied_records", "pause_blind",
                 "resume_after_blind", "not_judged"})
    decisions_.Add({{"action", a}});
}

void Metrics::rollout_finished(const std::string& ns, const std::string& w, std::string_view kind, std::string_view outcome) {
  rollouts_.inc({ns, w, kind, outcome});
}

void Metrics::rollback(const std::string& ns, const std::string& w, std::string_view kind, std::string_view reason) {
  rollbacks_.inc({ns, w, kind, rollback_reason_label(reason)});
}

void Metrics::rollout_active(const std::string& ns, const std::string& w, std::string_view kind, bool active,
                             double start) {
  active_.set({ns, w, kind}, active ? 1 : 0);
  // The workload's counters exist at zero from its first sight, so increase() sees its first rollback.
  for (std::string_view o : {"completed", "rolled_back", "held", "superseded"}) rollouts_.add({ns, w, kind, o});
  for (std::string_view r : {"metric_probe", "alert", "pod_signal", "progress_deadline"}) rollbacks_.add({ns, w, kind, r});
  if (active) start_ts_.set({ns, w, kind}, start);
}

void Metrics::pod_signal(const std::string& ns, const std::string& w, std::string_view reason) {
  static constexpr std::array<std::string_view, 7> known = {"crash_loop", "image_pull", "invalid_image", "config_error",
                                                            "oom_killed", "not_ready", "unschedulable"};
  std::string_view r = "other";
  for (auto k : known)
    if (k == reason) r = k;
  pod_signals_.inc({ns, w, r});
}

void Metrics::kube_request(std::string_view verb, std::string_view resource, int code) {
  kube_requests_
      .Add({{"verb", std::string(verb)}, {"resource", std::string(resource)},
            {"code", code == 0 ? std::string("conn_error") : std::to_string(code)}})
      .Increment();
}

void Metrics::evaluation(const std::string& ns, const std::string& w, const std::string& probe, std::string_view outcome) {
  probe_evaluations_.inc({ns, w, probe, outcome});
}

void Metrics::probe_error(const std::string& probe, std::string_view cls) {
  probe_errors_.Add({{"probe", probe}, {"class", std::string(cls)}}).Increment();
}

void Metrics::probe_value(const std::string& ns, const std::string& w, const std::string& probe, double value) {
  probe_value_.set({ns, w, probe}, value);
}

void Metrics::last_decisive(const std::string& ns, const std::string& w, double t) { last_decisive_.set({ns, w}, t); }

void Metrics::analysis_round(const std::string& probe, bool overrun) {
  auto& c = round_overruns_.Add({{"probe", probe}});  // exported at 0 from the first round on
  if (overrun) c.Increment();
}

void Metrics::forget_analysis(const std::string& ns, const std::string& w) {
  // Drops the workload's analysis series (R5.2).
  probe_value_.remove_prefix({ns, w});
  last_decisive_.remove({ns, w});
}

void Metrics::prometheus_request(std::string_view endpoint, int code, double seconds) {
  prom_requests_
      .Add({{"endpoint", std::string(endpoint)}, {"code", code == 0 ? std::string("conn_error") : std::to_string(code)}})
      .Increment();
  static const prometheus::Histogram::BucketBoundaries kBuckets{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
  prom_duration_.Add({{"endpoint", std::string(endpoint)}}, kBuckets).Observe(seconds);
}

void Metrics::decision(std::string_view action) { decisions_.Add({{"action", std::string(action)}}).Increment(); }

void Metrics::event_dropped() { events_dropped_.Increment(); }

void Metrics::informer_live(std::string_view resource, bool live) {
  informer_live_.Add({{"resource", std::string(resource)}}).Set(live ? 1 : 0);
}

void Metrics::forget_workload(const std::string& ns, const std::string& w, std::string_view kind) {
  // Every table with a series per workload, so that a family added later is forgotten too (R5.2): listing label
  // values here once left the pod signal and probe evaluation counters of every deleted workload behind.
  for (SeriesFamily* t : tables()) t->remove_workload(ns, w, kind);
}

void Metrics::notification_received(std::string_view status, std::string_view result) {
  notifications_.Add({{"status", status == "resolved" ? "resolved" : "firing"}, {"result", std::string(result)}}).Increment();
}

void Metrics::alerts_firing(const std::map<std::pair<std::string, std::string>, int>& by_workload) {
  for (auto it = firing_series_.begin(); it != firing_series_.end();) {
    if (by_workload.count(*it)) {
      ++it;
      continue;
    }
    // Down to 0 for a guarded workload (its rollout_active series exist from its first sight). An alert that named
    // a workload the daemon does not guard, or one forgotten meanwhile (deleted), leaves no series behind: names
    // from webhook bodies must not grow /metrics for ever.
    if (active_.has_prefix({it->first, it->second})) alerts_firing_.set_existing({it->first, it->second}, 0);
    else alerts_firing_.remove({it->first, it->second});
    it = firing_series_.erase(it);
  }
  for (const auto& [k, n] : by_workload) {
    alerts_firing_.set({k.first, k.second}, n);
    firing_series_.insert(k);
  }
}

void Metrics::heartbeat(double unix_seconds) { heartbeat_ts_.Set(unix_seconds); }
void Metrics::time_to_detect(std::string_view kind, std::string_view reason, double seconds) {
  detect_.Add({{"kind", std::string(kind)}, {"reason", std::string(reason)}}, detect_buckets()).Observe(seconds);
}
void Metrics::time_to_restore(std::string_view kind, std::string_view reason, double seconds) {
  restore_.Add({{"kind", std::string(kind)}, {"reason", std::string(reason)}}, restore_buckets()).Observe(seconds);
}
void Metrics::workloads(const std::map<std::pair<std::string, std::string>, int>& by_kind_state) {
  for (const auto& [k, n] : by_kind_state) workloads_.Add({{"kind", k.first}, {"state", k.second}}).Set(n);
}

void Metrics::alertmanager_push(int code) {
  push_requests_.Add({{"code", code == 0 ? std::string("conn_error") : std::to_string(code)}}).Increment();
}
void Metrics::notification_sent(std::string_view format, std::string_view result) {
  notifications_sent_.Add({{"format", std::string(format)}, {"result", std::string(result)}}).Increment();
}
void Metrics::leader(bool leading) { leader_.Set(leading ? 1 : 0); }
void Metrics::alert_channel_blind(bool blind) { alert_channel_blind_.Set(blind ? 1 : 0); }

std::string Metrics::render() const {
  std::ostringstream out;
  auto families = registry_->Collect();
  for (auto& f : process_families()) families.push_back(std::move(f));
  prometheus::TextSerializer{}.Serialize(out, families);
  std::string body = std::move(out).str();
  std::size_t series = 0;
  for (const SeriesFamily* f : tables()) series += f->size();
  body.reserve(body.size() + series * 112);
  for (const SeriesFamily* f : tables()) f->render(body);
  return body;
}

std::optional<double> Metrics::workload_series(std::string_view family, SeriesFamily::Values values) const {
  for (const SeriesFamily* f : tables())
    if (f->name() == family) return f->value(values);
  return std::nullopt;
}

std::string_view Metrics::rollback_reason_label(std::string_view reason) {
  if (reason == "progress_deadline") return "progress_deadline";
  if (reason.substr(0, 11) == "pod_signal:" || reason == "pod_signal") return "pod_signal";
  if (reason == "alert" || reason.substr(0, 6) == "alert:") return "alert";
  if (reason == "metric_probe" || reason.substr(0, 7) == "metric:") return "metric_probe";
  return "other";
}

}  // namespace canary_guard::app
