#include "daemon/guard/observe.hpp"

#include <algorithm>
#include <limits>

#include "config/rfc3339.hpp"
#include "daemon/guard/kind_rules.hpp"
#include "daemon/guard/records.hpp"
#include "probes/metric_analysis.hpp"

namespace canary_guard::guard {
namespace {

constexpr std::chrono::seconds kLagRecheck{1};          // a lagging status is looked at again this soon

// Replaces a cached record with the one we wrote when the cache has not caught up yet; forgets ours once it has.
void overlay_records(Revision& r, const probes::KeyValues& cached, std::map<std::string, WorkloadState::Written>& written) {
  auto it = written.find(r.name);
  if (it == written.end()) return;
  auto apply = [&](std::optional<std::string>& mine, std::string_view key, auto parse, auto& field,
                   std::string& text) {
    if (!mine) return;
    const std::string* c = probes::find_value(cached, key);
    if (c && *c == *mine) {
      mine.reset();  // the cache has it
    } else {
      field = parse(*mine, r.hash);
      text = *mine;
    }
  };
  apply(it->second.verdict, kVerdictAnnotation, parse_verdict, r.verdict, r.verdict_text);
  apply(it->second.rollback, kRollbackAnnotation, parse_rollback, r.rollback, r.rollback_text);
  if (!it->second.verdict && !it->second.rollback) written.erase(it);
}

std::optional<TimePoint> earliest(std::optional<TimePoint> a, std::optional<TimePoint> b) {
  if (!a) return b;
  if (!b) return a;
  return std::min(*a, *b);
}

// The open rollback record whose target is the current revision, if any: its time anchors the deadline and marks
// a ProgressDeadlineExceeded older than our PATCH as stale (spec §7.4a).
std::optional<TimePoint> waiting_anchor(const std::vector<Revision>& revs, const std::string& current) {
  std::optional<TimePoint> at;
  for (const auto& r : revs)
    if (r.rollback && r.rollback->to == current &&
        (r.rollback->state == RollbackState::waiting || r.rollback->state == RollbackState::started))
      at = at ? std::max(*at, r.rollback->at) : r.rollback->at;
  return at;
}

bool pod_ready(const probes::PodView& p) {
  const probes::Condition* c = p.condition("Ready");
  return c && c->status == "True";
}

bool pod_unschedulable(const probes::PodView& p) {
  const probes::Condition* c = p.condition("PodScheduled");
  return c && c->status == "False" && c->reason == "Unschedulable";
}

// The guard's own blind-pause note ("paused-blind hash=<h> at=<t>") names revision `hash`.
bool guard_paused_blind(const probes::KeyValues& annotations, std::string_view hash) {
  const std::string* note = probes::find_value(annotations, kHoldAnnotation);
  if (!note || note->rfind("paused-blind", 0) != 0) return false;
  const std::string want = " hash=" + std::string(hash);
  const auto at = note->find(want);
  if (at == std::string::npos) return false;
  const auto end = at + want.size();
  return end == note->size() || (*note)[end] == ' ';
}

std::string alert_text(const StoredAlert& a) {
  std::string text = "alert " + a.alertname + " (severity " + (a.severity.empty() ? "none" : a.severity) +
                     ") firing since " + format_rfc3339(a.alert.starts_at);
  if (const std::string* summary = probes::find_value(a.alert.annotations, "summary"))
    text += ": " + summary->substr(0, 300);
  return text;
}

// Alertmanager alerts naming this workload: the earliest that started after the revision (minus alert_grace) is
// the alert finding; older ones are pre-existing notes, except those a rollback of this workload already answered.
void observe_alerts(const AlertStore& store, const config::AlertmanagerSection& am, const WorkloadState& st,
                    Observation& obs) {
  Snapshot& s = obs.snapshot;
  s.act_on_healthy = am.act_on_healthy;
  const TimePoint since = st.revision_origin - am.alert_grace;
  const StoredAlert* first = nullptr;
  for (const StoredAlert* a : store.firing_for(s.ns, s.name, s.kind)) {
    if (a->alert.starts_at >= since) {
      obs.alert_fingerprints.push_back(a->alert.fingerprint);
      if (!first || a->alert.starts_at < first->alert.starts_at) first = a;
      continue;
    }
    const std::string reason = "alert:" + a->alertname;
    const bool answered = std::any_of(s.revisions.begin(), s.revisions.end(), [&](const Revision& r) {
      return r.rollback && r.rollback->reason == reason;
    });
    if (!answered)
      obs.notes.push_back(Finding{"alert_preexisting:" + a->alertname,
                                  alert_text(*a) + ", before the current revision started; not evidence against it, "
                                                   "no action"});
  }
  if (first) s.alert = Finding{"alert:" + first->alertname, alert_text(*first)};
  if (const auto blind = store.blind_since(); blind && !s.hold)
    s.hold = Finding{"alerts_blind", "the alert channel is blind: no " + am.heartbeat_alert +
                                         " heartbeat alert from Alertmanager since " + format_rfc3339(*blind) +
                                         " (heartbeat_timeout " +
                                         std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                                                            am.heartbeat_timeout).count()) +
                                         " s), so the absence of alerts proves nothing"};
}

}  // namespace

bool status_lags_pods(const std::vector<const probes::PodView*>& pods, std::int32_t status_ready) {
  std::int32_t ready = 0;
  for (const auto* p : pods)
    if (p && !p->meta.deleted && pod_ready(*p)) ++ready;
  return ready > status_ready;
}

std::optional<Observation> observe(const WorkloadKey& key, const ClusterView& view, WorkloadState& st,
                                   const ObserveContext& ctx, TimePoint now) {
  Observation obs;
  obs.key = key;
  Snapshot& s = obs.snapshot;
  s.kind = key.kind;
  s.ns = key.ns;
  s.name = key.name;
  s.max_concurrent_rollbacks = ctx.config.max_concurrent_rollbacks;
  s.pause_when_blind = ctx.config.analysis.pause_when_blind;
  s.rollbacks_in_flight = ctx.rollbacks_in_flight;

  const auto rules = rules_for(key, view);
  const probes::ObjectMeta* meta = rules->meta();
  if (!meta || meta->deleted) return std::nullopt;
  const std::string_view kind = to_string(key.kind);
  if (!config::is_guarded(ctx.config, key.ns, meta->labels, meta->annotations, kind)) return std::nullopt;
  auto resolved = config::resolve_policy(ctx.config, meta->annotations);
  obs.policy = resolved.policy;
  obs.policy.enabled = true;  // is_guarded() already said yes
  obs.problems = std::move(resolved.problems);
  obs.ref = ObjectRef{std::string(kind), key.ns, key.name, meta->uid, meta->resource_version};
  obs.generation = meta->generation;
  const bool cache_has_our_patch = meta->generation >= st.min_generation;

  // Revisions and the current one, by the kind's rules.
  KindReading reading = rules->read(obs.policy);
  for (auto& ro : reading.revisions) {
    s.revisions.push_back(std::move(ro.revision));
    overlay_records(s.revisions.back(), *ro.annotations, st.written);
  }
  s.records_on_workload = reading.records_on_workload;
  s.guard_pause_note = reading.guard_pause_note;
  s.paused = reading.paused;
  s.status_current = cache_has_our_patch && reading.spec_observed;
  s.pods_expected = reading.pods_expected;
  s.on_delete = reading.on_delete;
  s.rollback_wait_limit = reading.rollback_wait_limit;
  s.current_hash = reading.current_hash;
  if (!ctx.caches_not_live.empty()) s.cache_not_live = ctx.caches_not_live;
  if (std::any_of(s.revisions.begin(), s.revisions.end(), [](const Revision& r) { return r.verdict.has_value(); }))
    st.seen_verdict = true;
  if (!s.status_current || s.current_hash.empty()) {
    st.last_observed = now;
    return obs;
  }
  const Revision* current = nullptr;
  for (const auto& r : s.revisions)
    if (r.hash == s.current_hash) current = &r;
  if (!current) {  // the rules name a current revision they did not list: doubt
    st.last_observed = now;
    s.status_current = false;
    return obs;
  }
  const TimePoint current_created = reading.current_created;

  const bool first_look = !st.first_hash.has_value();
  if (first_look) st.first_hash = s.current_hash;

  // When did the current revision start? A change seen by this process happened after our previous look and
  // before now; the object's creation time is the best estimate when it falls in that window (a re-used old
  // revision does not). At the first look after start the deadline timer counts from the daemon's start (we did
  // not see the revision's progress), but the pods' restart baselines count from the revision object's creation:
  // a crash loop already under way is the revision's own history.
  if (st.hash != s.current_hash || st.number != current->number) {
    const TimePoint lower = st.last_observed.value_or(ctx.daemon_started);
    st.hash = s.current_hash;
    st.number = current->number;
    st.revision_started = std::clamp(current_created, std::min(lower, now), now);
    st.complete_since.reset();
    st.completed_once = false;
    const TimePoint pods_since = st.last_observed ? st.revision_started : std::min(current_created, now);
    st.tracker.emplace(pods_since);
    st.revision_origin = pods_since;
    st.ds_last.reset();
    st.ds_last_progress.reset();
  }
  st.last_observed = now;
  obs.revision_started = st.revision_started;
  const auto anchor_record = waiting_anchor(s.revisions, s.current_hash);
  const TimePoint anchor = anchor_record ? std::max(*anchor_record, st.revision_started) : st.revision_started;

  // Baseline: see the header. The history-limit rule keeps a restart in the middle of a bake from turning the
  // only revision left into a baseline.
  s.baseline_eligible = st.first_hash == s.current_hash && !st.seen_verdict &&
                        !(reading.history_limit == 0 && current->number > 1);

  const PodSets pod_sets = rules->pods(reading);
  const auto& pods = pod_sets.current;
  const bool lags = status_lags_pods(pod_sets.counted, reading.status_ready);
  const bool unschedulable = std::any_of(pods.begin(), pods.end(), [](const probes::PodView* p) {
    return !p->meta.deleted && pod_unschedulable(*p);
  });

  const ProgressReading pr = rules->progress(obs.policy, ProgressInput{anchor, anchor_record, now, st.completed_once, lags}, st);
  const probes::ProbeResult& progress = pr.progress;
  const std::chrono::seconds deadline = pr.deadline;
  s.rollout_complete = pr.rollout_complete;
  std::optional<TimePoint> next = pr.next;
  if (lags) next = earliest(next, now + kLagRecheck);
  st.tracker->observe(pods, now);
  const probes::ProbeResult pod_result = st.tracker->evaluate(obs.policy.pods, deadline, now);
  next = earliest(next, st.tracker->next_check(obs.policy.pods, deadline, now));

  if (progress.outcome == probes::Outcome::fail) {
    s.deadline_passed = true;
    if (unschedulable) {
      s.hold = Finding{"unschedulable", "Pods of the new revision are Unschedulable (" + progress.detail +
                                            "); the cause is capacity or placement, not the release"};
    } else if (pr.outside_cause) {
      s.hold = pr.outside_cause;
    } else {
      s.failure = Finding{"progress_deadline", progress.detail};
    }
  }
  if (!s.failure && pod_result.outcome == probes::Outcome::fail)
    s.failure = Finding{"pod_signal:" + pod_result.reason, pod_result.detail};
  if (!s.hold) {
    if (progress.hold && progress.reason != "paused") {
      s.hold = Finding{progress.reason, progress.detail};
    } else if (pod_result.hold) {
      s.hold = Finding{pod_result.reason, pod_result.detail};
    }
  }
  // Metric analysis: while the current revision has no verdict, its checks are evaluated by the Analyzer; here
  // its state becomes evidence (a trip is a failure, blindness a hold, all passed a condition for healthy).
  const bool judged = current->verdict && (current->verdict->verdict == Verdict::healthy ||
                                           current->verdict->verdict == Verdict::failed);
  obs.analysis_decided = true;
  if (ctx.analysis && !judged) {
    auto checks = applicable_checks(ctx.config, key.ns, kind, meta->labels, meta->annotations);
    if (!checks.empty()) {
      const std::string stable_hash = rules->stable_hash(reading, pod_sets);
      std::optional<TimePoint> first_ready;
      for (const auto* p : pods) {
        const probes::Condition* c = p->condition("Ready");
        if (!p->meta.deleted && c && c->status == "True" && (!first_ready || c->last_transition < *first_ready))
          first_ready = c->last_transition;
      }
      AnalysisTarget t;
      t.key = key;
      t.vars = config::CheckTarget{key.ns, key.name, std::string(kind), s.current_hash, stable_hash};
      t.revision_object = current->name;
      t.rollout = current->number;
      t.started = st.revision_started;
      t.first_ready = first_ready;
      if (reading.current_annotations)
        if (const std::string* a = probes::find_value(*reading.current_annotations, probes::kAnalysisAnnotation)) t.seed = *a;
      t.checks = checks;
      t.paused_blind = s.guard_pause_note && guard_paused_blind(meta->annotations, s.current_hash);
      probes::RevisionAnalysis fresh;
      const probes::RevisionAnalysis* a = ctx.analysis->state(key, s.current_hash);
      if (a && a->rollout != t.rollout) a = nullptr;  // an earlier rollout of this template: not evidence
      if (!a) {
        fresh = initial_analysis(t);
        a = &fresh;
      }
      const auto summary = probes::summarize(checks, *a, max_blind(ctx.config), ctx.config.prometheus.eval_lag, now);
      s.metrics_required = true;
      s.metrics_passed = summary.all_passed;
      for (const auto& n : summary.waiting_for) s.metrics_waiting += (s.metrics_waiting.empty() ? "" : ", ") + n;
      if (summary.tripped && !s.failure)
        s.failure = Finding{"metric:" + summary.tripped->name, summary.trip_detail};
      if (summary.blind && !s.hold)
        s.hold = Finding{"metrics_blind", "no decisive outcome from any metric check for " +
                                              std::to_string(max_blind(ctx.config).count() / 1000) +
                                              " s (Prometheus down, or no data); not verified while blind"};
      next = earliest(next, summary.blind_at);
      t.blind = summary.blind;
      for (const auto& [name, cs] : a->checks)
        if (cs.config_error && !cs.config_error_told) obs.check_errors.emplace_back(name, *cs.config_error);
      obs.analysis = std::move(t);
    }
  }

  if (ctx.alerts) observe_alerts(*ctx.alerts, ctx.config.alertmanager, st, obs);

  // Complete with pods is what counts: zero pods prove nothing (decide holds its verdict until there are some).
  if (s.rollout_complete && s.pods_expected > 0) {
    if (!st.complete_since) st.complete_since = now;
    st.completed_once = true;
  } else {
    st.complete_since.reset();
  }
  s.complete_since = st.complete_since;
  s.next_check = next;
  obs.watching = !(current->verdict && current->verdict->verdict == Verdict::healthy);
  return obs;
}

}  // namespace canary_guard::guard
