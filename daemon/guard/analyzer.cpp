#include "daemon/guard/analyzer.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <map>
#include <tuple>

#include <spdlog/spdlog.h>

namespace canary_guard::guard {

namespace asio = boost::asio;
using asio::awaitable;

namespace {

double unix_seconds(TimePoint t) { return to_unix_seconds(t); }

const std::string* label(const probes::Series& s, std::string_view key) { return probes::find_value(s.labels, key); }

}  // namespace

Analyzer::Analyzer(asio::io_context& ioc, const config::Config& config, const Clock& clock, MetricSource& source,
                   Notify notify, Persist persist, AnalysisMetrics* metrics, const MonotonicClock* monotonic)
    : ioc_(ioc),
      config_(config),
      clock_(clock),
      source_(source),
      notify_(std::move(notify)),
      persist_(std::move(persist)),
      metrics_(metrics),
      monotonic_(monotonic ? *monotonic : steady_) {}

void Analyzer::track(const AnalysisTarget& t) {
  const std::string k = t.key.str();
  auto it = targets_.find(k);
  if (it != targets_.end() && it->second.state.hash == t.vars.revision_hash && it->second.state.rollout == t.rollout) {
    // Same rollout of the same revision: refresh what reconcile knows now (stable revision, first Ready pod, checks).
    it->second.target.vars = t.vars;
    remember_stable(it->second);
    it->second.target.checks = t.checks;
    it->second.target.revision_object = t.revision_object;
    if (t.first_ready && !it->second.state.first_ready) it->second.state.first_ready = t.first_ready;
    // Reconcile judged it blind: remember that on the revision object, so a restarted daemon stays as blind.
    if (t.blind && !it->second.state.blind) {
      it->second.state.blind = true;
      if (persist_ && !t.revision_object.empty())
        persist_(t.key, t.revision_object, probes::format_analysis(it->second.state));
    }
    return;
  }
  // A new revision, a new rollout of a template seen before, or a restart: start from what can be trusted.
  Tracked tr;
  tr.target = t;
  tr.state = initial_analysis(t);
  remember_stable(tr);
  if (metrics_ && it == targets_.end()) metrics_->forget_analysis(t.key.ns, t.key.name);
  targets_[k] = std::move(tr);
}

void Analyzer::remember_stable(Tracked& t) {
  // The revision this rollout replaced stays its stable side for the whole analysis: reconcile sees only who still
  // runs, and the old pods are gone long before a query that looks eval_lag + its window back stops seeing them.
  if (t.state.stable.empty()) t.state.stable = t.target.vars.stable_hash;
  t.target.vars.stable_hash = t.state.stable;
}

void Analyzer::untrack(const WorkloadKey& key) {
  if (targets_.erase(key.str()) && metrics_) metrics_->forget_analysis(key.ns, key.name);
}

const probes::RevisionAnalysis* Analyzer::state(const WorkloadKey& key, std::string_view hash) const {
  auto it = targets_.find(key.str());
  if (it == targets_.end() || it->second.state.hash != hash) return nullptr;
  return &it->second.state;
}

std::vector<AnalysisSnapshot> Analyzer::snapshot() const {
  std::vector<AnalysisSnapshot> out;
  out.reserve(targets_.size());
  for (const auto& [k, t] : targets_) {
    AnalysisSnapshot s;
    s.key = t.target.key;
    s.revision_hash = t.state.hash;
    for (const auto& [name, st] : t.state.checks) {
      CheckSnapshot c;
      c.name = name;
      if (st.last_at) c.last = st.last;  // a seeded state has a window but no evaluation of this process
      c.value = st.last_value;
      c.detail = st.last_detail;
      c.at = st.last_at;
      c.window = st.window;
      c.passed = st.passed;
      c.tripped = st.tripped;
      s.checks.push_back(std::move(c));
    }
    out.push_back(std::move(s));
  }
  std::sort(out.begin(), out.end(), [](const AnalysisSnapshot& a, const AnalysisSnapshot& b) {
    return std::tie(a.key.kind, a.key.ns, a.key.name) < std::tie(b.key.kind, b.key.ns, b.key.name);
  });
  return out;
}

void Analyzer::error_told(const WorkloadKey& key, const std::string& check) {
  auto it = targets_.find(key.str());
  if (it == targets_.end()) return;
  if (auto c = it->second.state.checks.find(check); c != it->second.state.checks.end()) c->second.config_error_told = true;
}

void Analyzer::apply(const config::Check& check, Tracked& t, const probes::CheckOutcome& o, TimePoint now) {
  const bool was_tripped = t.state.checks[check.name].tripped;
  const auto rec = probes::record_outcome(check, t.target.checks, t.state, o, now, max_blind(config_),
                                          config_.prometheus.eval_lag);
  const bool changed = rec.changed;
  const auto& st = t.state.checks[check.name];
  const auto& key = t.target.key;
  spdlog::debug("component=analysis check={} workload={}/{} revision_hash={} outcome={} value={} window={} detail=\"{}\"",
                check.name, key.ns, key.name, t.state.hash, probes::to_string(o.outcome),
                o.value ? std::to_string(*o.value) : std::string("-"), st.window, o.detail);
  if (metrics_) {
    metrics_->evaluation(key.ns, key.name, check.name, probes::to_string(o.outcome));
    if (o.error) metrics_->probe_error(check.name, probes::to_string(o.error->cls));
    if (o.value) metrics_->probe_value(key.ns, key.name, check.name, *o.value);
    if (probes::is_decisive(o.outcome)) metrics_->last_decisive(key.ns, key.name, unix_seconds(now));
  }
  if (!changed) return;
  if (persist_ && !t.target.revision_object.empty())
    persist_(key, t.target.revision_object, probes::format_analysis(t.state));
  // Outcomes are back after a blind spell: reconcile must judge again now (lift the guard's own blind pause, say
  // MetricsRestored), whatever the outcomes were before it.
  if (rec.restored)
    spdlog::info("component=analysis check={} workload={}/{} revision_hash={} event=metrics_restored outcome={}",
                 check.name, key.ns, key.name, t.state.hash, probes::to_string(o.outcome));
  if (!was_tripped && st.tripped)
    spdlog::info("component=analysis check={} workload={}/{} event=tripped detail=\"{}\"", check.name, key.ns,
                 key.name, st.trip_detail);
  if (notify_) notify_(key);
}

awaitable<int> Analyzer::evaluate(const config::Check& check) {
  const Duration round_start = monotonic_.elapsed();
  const TimePoint now = clock_.now();
  const TimePoint eval_time = now - config_.prometheus.eval_lag;
  // Who is due: tracked, the check applies, warmed up, not tripped yet (a tripped check has done its job). One
  // batch per kind: the revision label differs between Deployments and DaemonSets.
  std::vector<std::string> due[2];
  for (auto& [k, t] : targets_) {
    if (std::find(t.target.checks.begin(), t.target.checks.end(), &check) == t.target.checks.end()) continue;
    if (!probes::warmed_up(check, t.state, now, eval_time)) continue;
    if (auto it = t.state.checks.find(check.name); it != t.state.checks.end() && it->second.tripped) continue;
    due[t.target.key.kind == Kind::deployment ? 0 : 1].push_back(k);
  }
  int queries = 0;
  for (auto& group : due)
    if (!group.empty()) queries += co_await evaluate_group(check, group, eval_time);
  const Duration took = monotonic_.elapsed() - round_start;
  const bool overrun = took > check.interval;
  if (overrun)
    spdlog::warn("component=analysis check={} event=round_overrun duration_ms={} interval_ms={} queries={}", check.name,
                 took.count(), check.interval.count(), queries);
  if (metrics_) metrics_->analysis_round(check.name, overrun);
  co_return queries;
}

awaitable<int> Analyzer::evaluate_group(const config::Check& check, std::vector<std::string> due, TimePoint eval_time) {
  // Each query gets the configured timeout from the moment it is sent: the round's own schedule is the daemon's
  // business (a slow round is counted in evaluate()), never a Prometheus error.
  const auto timeout = config_.prometheus.timeout;
  int queries = 0;
  const bool compare = check.compare.has_value();
  const std::string label_name(config::revision_label_for(targets_.at(due.front()).target.vars.kind));
  // The rollout each query is for: one replaced while the queries ran (re-tracked) gets none of these outcomes.
  std::map<std::string, std::int64_t> rollout_of;
  for (const auto& k : due) rollout_of[k] = targets_.at(k).state.rollout;

  // ms / stable_ms: the min_samples query's value for the new / stable revision (outer nullopt: not run).
  auto outcome_for = [&](const std::vector<probes::Series>& news, const std::vector<probes::Series>& stables,
                         const std::optional<std::optional<double>>& ms,
                         const std::optional<std::optional<double>>& stable_ms) {
    if (!compare) return probes::judge_threshold(check, news, ms);
    std::optional<probes::CompareSamples> samples;
    if (ms) samples = probes::CompareSamples{*ms, stable_ms.value_or(std::nullopt)};
    return probes::judge_compare(check, news, stables, samples);
  };

  // One query for everyone due. Series are mapped back by (namespace, revision label).
  std::vector<config::CheckTarget> batch_vars;
  std::optional<std::string> batch_query;
  if (config_.analysis.batch && check.batchable) {
    for (const auto& k : due) {
      batch_vars.push_back(targets_.at(k).target.vars);
      if (compare && !batch_vars.back().stable_hash.empty()) {
        config::CheckTarget stable = batch_vars.back();
        stable.revision_hash = stable.stable_hash;
        batch_vars.push_back(stable);
      }
    }
    // The loader marks a check batchable only when render_batch accepts its templates; if not, one query each.
    if (auto r = config::render_batch(check.query, check, batch_vars)) batch_query = std::move(*r);
    else spdlog::warn("component=analysis check={} event=batch_refused error=\"{}\"", check.name, r.error().message);
  }
  if (batch_query) {
    std::optional<Expected<probes::QueryResult, probes::QueryError>> ms_result;
    if (check.min_samples) {
      auto msq = config::render_batch(check.min_samples->query, check, batch_vars);
      if (msq) {
        ++queries;
        ms_result.emplace(co_await source_.query(*msq, unix_seconds(eval_time), timeout));
      }
    }
    ++queries;
    auto result = co_await source_.query(*batch_query, unix_seconds(eval_time), timeout);
    const TimePoint after = clock_.now();
    // Group by (namespace, hash).
    std::map<std::pair<std::string, std::string>, std::vector<probes::Series>> by_target, ms_by_target;
    auto group = [&](const probes::QueryResult& r, auto& out) {
      for (const auto& s : r.series) {
        const std::string* ns = label(s, "namespace");
        const std::string* h = label(s, label_name);
        if (ns && h) out[{*ns, *h}].push_back(s);
      }
    };
    if (result) group(*result, by_target);
    if (ms_result && *ms_result) group(**ms_result, ms_by_target);
    for (const auto& k : due) {
      auto it = targets_.find(k);
      if (it == targets_.end()) continue;  // untracked while we waited
      Tracked& t = it->second;
      if (t.state.hash != t.target.vars.revision_hash || t.state.rollout != rollout_of[k]) continue;
      probes::CheckOutcome o;
      if (!result) {
        o = probes::judge_error(check, result.error());
      } else {
        const auto& news = by_target[{t.target.vars.ns, t.target.vars.revision_hash}];
        const auto& stables = by_target[{t.target.vars.ns, t.target.vars.stable_hash}];
        std::optional<std::optional<double>> ms, stable_ms;
        if (check.min_samples) {
          if (ms_result && !*ms_result) {
            o = probes::judge_error(check, ms_result->error());
            apply(check, t, o, after);
            continue;
          }
          auto samples_of = [&](const std::string& hash) {
            probes::QueryResult part;
            part.series = ms_by_target[{t.target.vars.ns, hash}];
            return probes::sum_of_values(part);
          };
          ms = samples_of(t.target.vars.revision_hash);
          if (compare) stable_ms = samples_of(t.target.vars.stable_hash);
        }
        o = outcome_for(news, stables, ms, stable_ms);
      }
      apply(check, t, o, after);
    }
    co_return queries;
  }

  // One query per workload (the template's result cannot be mapped back, or batching is off).
  for (const auto& k : due) {
    auto it = targets_.find(k);
    if (it == targets_.end()) continue;
    const config::CheckTarget vars = it->second.target.vars;
    auto promql = config::render_template(check.query, check, vars);
    if (!promql) continue;
    ++queries;
    auto result = co_await source_.query(*promql, unix_seconds(eval_time), timeout);
    std::optional<Expected<probes::QueryResult, probes::QueryError>> stable_result;
    if (compare && result && !vars.stable_hash.empty()) {
      config::CheckTarget sv = vars;
      sv.revision_hash = vars.stable_hash;
      if (auto sq = config::render_template(check.query, check, sv)) {
        ++queries;
        stable_result.emplace(co_await source_.query(*sq, unix_seconds(eval_time), timeout));
      }
    }
    std::optional<std::optional<double>> ms, stable_ms;
    std::optional<probes::QueryError> ms_error;
    if (check.min_samples && result) {
      if (auto msq = config::render_template(check.min_samples->query, check, vars)) {
        ++queries;
        auto r = co_await source_.query(*msq, unix_seconds(eval_time), timeout);
        if (r) ms = probes::sum_of_values(*r);
        else ms_error = r.error();
      }
      // Compare mode: the stable side needs its minimum too (R1.10).
      if (compare && ms && !vars.stable_hash.empty()) {
        config::CheckTarget sv = vars;
        sv.revision_hash = vars.stable_hash;
        if (auto msq = config::render_template(check.min_samples->query, check, sv)) {
          ++queries;
          auto r = co_await source_.query(*msq, unix_seconds(eval_time), timeout);
          if (r) stable_ms = probes::sum_of_values(*r);
          else ms_error = r.error();
        }
      }
    }
    it = targets_.find(k);
    if (it == targets_.end() || it->second.state.hash != vars.revision_hash || it->second.state.rollout != rollout_of[k])
      continue;
    probes::CheckOutcome o;
    if (!result) o = probes::judge_error(check, result.error());
    else if (ms_error) o = probes::judge_error(check, *ms_error);
    else if (stable_result && !*stable_result) o = probes::judge_error(check, stable_result->error());
    else
      o = outcome_for(result->series, stable_result ? (*stable_result)->series : std::vector<probes::Series>{}, ms,
                      stable_ms);
    apply(check, it->second, o, clock_.now());
  }
  co_return queries;
}

awaitable<void> Analyzer::loop(const config::Check& check) {
  asio::steady_timer timer(ioc_);
  auto next = std::chrono::steady_clock::now();
  while (!stopped_) {
    next += check.interval;
    const auto now = std::chrono::steady_clock::now();
    if (next < now) next = now + check.interval;  // a slow round: skip, do not pile up
    timer.expires_at(next);
    boost::system::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (stopped_) break;
    try {
      const int n = co_await evaluate(check);
      if (n > 0) spdlog::debug("component=analysis event=round check={} queries={} tracked={}", check.name, n, targets_.size());
    } catch (const std::exception& e) {
      spdlog::error("component=analysis check={} event=round_failed error=\"{}\"", check.name, e.what());
    }
  }
}

awaitable<void> Analyzer::run() {
  if (!enabled()) co_return;
  for (const auto& c : config_.checks)
    asio::co_spawn(ioc_, loop(c), [name = c.name](std::exception_ptr e) {
      if (e) spdlog::error("component=analysis check={} event=crashed", name);
    });
  co_return;
}

void Analyzer::stop() { stopped_ = true; }

}  // namespace canary_guard::guard
