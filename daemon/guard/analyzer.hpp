#pragma once
// Analyzer: metric analysis as a component of its own. It evaluates every [[check]] on the check's own interval
// for all workloads currently under analysis, with ONE query per check when the check's template keeps the labels
// that map series back to workloads (batching; otherwise one query per workload), and keeps per-revision analysis
// state (probes/metric_analysis.hpp). Reconcile tells it which workloads are under analysis (track / untrack,
// level-triggered) and reads the state back through observe(); the Analyzer only enqueues a workload when its
// state changed in a way that matters (a FAIL, a trip, the first PASS, a config error). State that matters is
// written to the revision object (canary-guard.io/analysis) so a restart or a takeover resumes it.
// Owned by the daemon wiring; runs on the one io_context thread.
#include <utility>  // Boost 1.74: must precede boost/asio/awaitable.hpp

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "config/clock.hpp"
#include "config/config.hpp"
#include "daemon/guard/analysis_view.hpp"
#include "daemon/guard/guard_metrics.hpp"
#include "daemon/guard/workload_key.hpp"
#include "probes/metric_analysis.hpp"
#include "probes/prometheus.hpp"

namespace canary_guard::guard {

// Where query results come from (prom::PrometheusClient in the daemon, a fake in tests).
class MetricSource {
 public:
  virtual ~MetricSource() = default;
  // `timeout` counts from the moment the query is sent (retries of transient errors included): every query
  // gets the configured [prometheus] timeout, however late in its round it comes.
  virtual boost::asio::awaitable<Expected<probes::QueryResult, probes::QueryError>> query(
      std::string promql, double eval_time_unix, std::chrono::milliseconds timeout) = 0;
};

class Analyzer final : public AnalysisView {
 public:
  using Notify = std::function<void(const WorkloadKey&)>;
  // Writes the canary-guard.io/analysis annotation (fire and forget; a lost write only loses the state of one
  // evaluation for a restarted daemon).
  using Persist = std::function<void(const WorkloadKey&, const std::string& revision_object, const std::string& text)>;

  // `monotonic` measures how long a round takes (nullptr: the steady clock).
  Analyzer(boost::asio::io_context& ioc, const config::Config& config, const Clock& clock, MetricSource& source,
           Notify notify, Persist persist, AnalysisMetrics* metrics, const MonotonicClock* monotonic = nullptr);

  bool enabled() const { return !config_.checks.empty() && !config_.prometheus.url.empty(); }
  // The wiring sets these once the queue exists (the Controller owns it).
  void set_callbacks(Notify notify, Persist persist) {
    notify_ = std::move(notify);
    persist_ = std::move(persist);
  }
  // reconcile sent the CheckError Event for this check's current config error.
  void error_told(const WorkloadKey& key, const std::string& check);
  void track(const AnalysisTarget& t);
  void untrack(const WorkloadKey& key);
  const probes::RevisionAnalysis* state(const WorkloadKey& key, std::string_view hash) const override;
  std::size_t tracked() const { return targets_.size(); }
  // Every tracked workload's current analysis, sorted by kind, namespace, name (GET /analysis).
  std::vector<AnalysisSnapshot> snapshot() const;

  // One loop per check until stop().
  boost::asio::awaitable<void> run();
  void stop();

  // One evaluation round of one check over every tracked workload it applies to (the loop calls it every
  // interval; tests call it directly). Returns the number of queries sent. A round that takes longer than the
  // check's interval is logged (event=round_overrun) and counted; its outcomes count as any others.
  boost::asio::awaitable<int> evaluate(const config::Check& check);

 private:
  struct Tracked {
    AnalysisTarget target;
    probes::RevisionAnalysis state;
  };
  boost::asio::awaitable<void> loop(const config::Check& check);
  // One kind's due workloads (one batch, or one query each).
  boost::asio::awaitable<int> evaluate_group(const config::Check& check, std::vector<std::string> due,
                                             TimePoint eval_time);
  static void remember_stable(Tracked& t);
  void apply(const config::Check& check, Tracked& t, const probes::CheckOutcome& o, TimePoint now);

  boost::asio::io_context& ioc_;
  const config::Config& config_;
  const Clock& clock_;
  MetricSource& source_;
  Notify notify_;
  Persist persist_;
  AnalysisMetrics* metrics_;
  SteadyClock steady_;
  const MonotonicClock& monotonic_;
  std::unordered_map<std::string, Tracked> targets_;  // by WorkloadKey::str()
  bool stopped_ = false;
};

}  // namespace canary_guard::guard
