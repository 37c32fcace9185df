#pragma once
#include <array>
#include <map>
#include <set>
// canary-guard's own metrics (spec/probes.md §5): the families the guard updates, and helpers that keep label sets
// closed. Families with a series per workload are SeriesFamily tables (series_family.hpp: rendered without a copy
// of the registry, so a scrape stays fast with thousands of workloads); the others live in one prometheus-cpp
// Registry. Owned by the daemon wiring (main); the HTTP server serves render() on /metrics.
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "daemon/app/series_family.hpp"
#include "daemon/guard/guard_metrics.hpp"
#include "daemon/prom/prometheus_client.hpp"

namespace canary_guard::app {

class Metrics final : public guard::GuardMetrics, public guard::AnalysisMetrics, public prom::QueryObserver {
 public:
  explicit Metrics(std::string_view version, std::string_view revision = "unknown");

  prometheus::Registry& registry() { return *registry_; }
  // The whole text exposition (format 0.0.4): the registry, the process_* series, the per-workload tables.
  std::string render() const;
  // For tests: one per-workload series' value by family name and label values; nullopt when absent.
  std::optional<double> workload_series(std::string_view family, SeriesFamily::Values values) const;

  // outcome: completed | rolled_back | held | superseded
  void rollout_finished(const std::string& ns, const std::string& workload, std::string_view kind, std::string_view outcome) override;
  // reason: metric_probe | alert | pod_signal | progress_deadline
  void rollback(const std::string& ns, const std::string& workload, std::string_view kind, std::string_view reason) override;
  void rollout_active(const std::string& ns, const std::string& workload, std::string_view kind, bool active,
                      double start_unix_seconds) override;
  void pod_signal(const std::string& ns, const std::string& workload, std::string_view reason) override;
  void kube_request(std::string_view verb, std::string_view resource, int code);
  void decision(std::string_view action) override;
  void time_to_detect(std::string_view kind, std::string_view reason, double seconds) override;
  void time_to_restore(std::string_view kind, std::string_view reason, double seconds) override;
  // canary_guard_workloads{kind,state}: how many guarded workloads are in each state now.
  void workloads(const std::map<std::pair<std::string, std::string>, int>& by_kind_state) override;
  void informer_live(std::string_view resource, bool live) override;
  void event_dropped() override;
  // Drops a workload's series when it is deleted or no longer guarded (R5.2).
  void forget_workload(const std::string& ns, const std::string& workload, std::string_view kind) override;

  // Metric analysis (spec §5).
  void evaluation(const std::string& ns, const std::string& workload, const std::string& probe,
                  std::string_view outcome) override;
  void probe_error(const std::string& probe, std::string_view cls) override;
  void probe_value(const std::string& ns, const std::string& workload, const std::string& probe, double value) override;
  void last_decisive(const std::string& ns, const std::string& workload, double unix_seconds) override;
  void analysis_round(const std::string& probe, bool overrun) override;
  void forget_analysis(const std::string& ns, const std::string& workload) override;
  // endpoint: query | query_range | ready | buildinfo; code: HTTP status, 0 = connection error.
  void prometheus_request(std::string_view endpoint, int code, double seconds);
  void request(std::string_view endpoint, int code, double seconds) override { prometheus_request(endpoint, code, seconds); }

  // Alertmanager webhook (spec §5): status firing|resolved, result accepted|duplicate|ignored|unauthorized|malformed.
  void notification_received(std::string_view status, std::string_view result);
  void alerts_firing(const std::map<std::pair<std::string, std::string>, int>& by_workload);
  void heartbeat(double unix_seconds);
  void alert_channel_blind(bool blind);
  // canary_guard_leader: 1 while this process holds the Lease (or leader election is off), else 0.
  void leader(bool leading);
  // canary_guard_alertmanager_push_requests_total{code}: 0 = no answer.
  void alertmanager_push(int code);
  // canary_guard_notifications_total{format,result}: [[notify]] deliveries (sent | failed | dropped).
  void notification_sent(std::string_view format, std::string_view result);

  // Closed label values; anything else becomes "other" (R5.1).
  static std::string_view rollback_reason_label(std::string_view decision_reason);

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Gauge>& build_info_;
  SeriesFamily rollouts_;
  SeriesFamily rollbacks_;
  SeriesFamily active_;
  SeriesFamily start_ts_;
  SeriesFamily pod_signals_;
  prometheus::Family<prometheus::Counter>& kube_requests_;
  prometheus::Family<prometheus::Counter>& decisions_;
  SeriesFamily probe_evaluations_;
  prometheus::Family<prometheus::Counter>& probe_errors_;
  SeriesFamily probe_value_;
  SeriesFamily last_decisive_;
  prometheus::Family<prometheus::Counter>& round_overruns_;
  prometheus::Family<prometheus::Counter>& prom_requests_;
  prometheus::Family<prometheus::Histogram>& prom_duration_;
  prometheus::Family<prometheus::Gauge>& informer_live_;
  prometheus::Counter& events_dropped_;
  prometheus::Family<prometheus::Counter>& notifications_;
  SeriesFamily alerts_firing_;
  prometheus::Gauge& heartbeat_ts_;
  prometheus::Gauge& alert_channel_blind_;
  prometheus::Gauge& leader_;
  prometheus::Family<prometheus::Counter>& push_requests_;
  prometheus::Family<prometheus::Histogram>& detect_;
  prometheus::Family<prometheus::Histogram>& restore_;
  prometheus::Family<prometheus::Gauge>& workloads_;
  prometheus::Family<prometheus::Counter>& notifications_sent_;
  std::set<std::pair<std::string, std::string>> firing_series_;

  // Every per-workload table: render() shows these, forget_workload() clears a workload from each.
  template <class Self>  // Metrics or const Metrics
  static auto tables_of(Self& m) {
    using Table = std::conditional_t<std::is_const_v<Self>, const SeriesFamily*, SeriesFamily*>;
    return std::array<Table, 9>{&m.rollouts_, &m.rollbacks_, &m.active_, &m.start_ts_, &m.pod_signals_,
                                &m.probe_evaluations_, &m.probe_value_, &m.last_decisive_, &m.alerts_firing_};
  }
  auto tables() const { return tables_of(*this); }
  auto tables() { return tables_of(*this); }
};

}  // namespace canary_guard::app
