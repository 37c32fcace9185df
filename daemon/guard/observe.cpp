#include "daemon/guard/observe.hpp"

#include <algorithm>
#include <limits>

#include "daemon/guard/revision_of.hpp"
#include "probes/rollout_probe.hpp"
#include "probes/rollout_status.hpp"

namespace canary_guard::guard {
namespace {

constexpr std::chrono::seconds kDefaultDeadline{600};  // the Deployment default (kubernetes-rollouts.md §1)
constexpr std::chrono::seconds kLagRecheck{1};          // a lagging status is looked at again this soon

// Replaces a cached record with the one we wrote when the cache has not caught up yet; forgets ours once it has.
void overlay_records(Revision& r, const probes::KeyValues& cached, std::map<std::string, WorkloadState::Written>& written) {
  auto it = written.find(r.name);
  if (it == written.end()) return;
  auto apply = [&](std::optional<std::string>& mine, std::string_view key, auto parse, auto& field) {
    if (!mine) return;
    const std::string* c = probes::find_value(cached, key);
    if (c && *c == *mine) {
      mine.reset();  // the cache has it
    } else {
      field = parse(*mine, r.hash);
    }
  };
  apply(it->second.verdict, kVerdictAnnotation, parse_verdict, r.verdict);
  apply(it->second.rollback, kRollbackAnnotation, parse_rollback, r.rollback);
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

  const probes::ObjectMeta* meta = nullptr;
  const probes::DeploymentView* dv = nullptr;
  const probes::DaemonSetView* dsv = nullptr;
  if (key.kind == Kind::deployment) {
    dv = view.deployment(key.ns, key.name);
    if (dv) meta = &dv->meta;
  } else {
    dsv = view.daemonset(key.ns, key.name);
    if (dsv) meta = &dsv->meta;
  }
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

  // Revisions and the current one.
  TimePoint current_created{};
  std::string current_uid;
  const probes::KeyValues* current_annotations = nullptr;
  std::string stable_hash;  // the revision being replaced, while it still runs
  std::int32_t status_ready = 0;
  std::int32_t history_limit = 10;
  if (dv) {
    s.records_on_workload = probes::find_value(dv->meta.annotations, kVerdictAnnotation) ||
                            probes::find_value(dv->meta.annotations, kRollbackAnnotation) ||
                            probes::find_value(dv->meta.annotations, probes::kAnalysisAnnotation);
    std::int64_t max_rev = 0;
    const probes::ReplicaSetView* cur = nullptr;
    const auto d_rev = deployment_revision(dv->meta.annotations);
    for (const auto* rs : view.replicasets_of(dv->meta.uid)) {
      if (!rs || rs->meta.deleted || rs->revision < 0 || rs->pod_template_hash.empty()) continue;
      s.revisions.push_back(revision_of(*rs, rs->pod_template_hash, rs->revision));
      overlay_records(s.revisions.back(), rs->meta.annotations, st.written);
      max_rev = std::max(max_rev, rs->revision);
      if (d_rev && rs->revision == *d_rev) cur = rs;
    }
    // canary-guard.io/hold: paused-blind ... is the guard's own note that it paused the Deployment while blind;
    // such a pause is the guard's, not a person's, and does not stop a rollback (which lifts it).
    const std::string* note = probes::find_value(dv->meta.annotations, kHoldAnnotation);
    s.guard_pause_note = note && note->rfind("paused-blind", 0) == 0;
    s.paused = dv->paused && !s.guard_pause_note;
    // Spec §8: act only when the status describes the latest spec and the revision annotation has caught up.
    s.status_current =
        cache_has_our_patch && dv->observed_generation >= dv->meta.generation && d_rev && cur && *d_rev == max_rev;
    s.pods_expected = dv->spec_replicas;
    history_limit = dv->revision_history_limit;
    if (auto dl = probes::deployment_progress_deadline(*dv)) s.rollback_wait_limit = *dl;
    else s.rollback_wait_limit = kDefaultDeadline;
    if (cur) {
      s.current_hash = cur->pod_template_hash;
      current_created = cur->meta.created;
      current_uid = cur->meta.uid;
      status_ready = cur->ready_replicas;
      current_annotations = &cur->meta.annotations;
      std::int64_t best = -1;
      for (const auto* rs : view.replicasets_of(dv->meta.uid))
        if (rs && rs != cur && !rs->meta.deleted && rs->replicas > 0 && rs->revision > best) {
          best = rs->revision;
          stable_hash = rs->pod_template_hash;
        }
    }
  } else {
    const probes::ControllerRevisionView* cur = nullptr;
    for (const auto* cr : view.revisions_of(dsv->meta.uid)) {
      if (!cr || cr->meta.deleted) continue;
      s.revisions.push_back(revision_of(*cr, cr->hash, cr->revision));
      overlay_records(s.revisions.back(), cr->meta.annotations, st.written);
      // The current revision is the one whose template is the DaemonSet's (kubernetes-rollouts.md §5.2), not the
      // highest number: the status can arrive before the controller bumps a re-used revision's number.
      if (cr->template_hash == dsv->template_hash && (!cur || cr->revision > cur->revision)) cur = cr;
    }
    s.status_current = cache_has_our_patch && dsv->observed_generation >= dsv->meta.generation && cur;
    s.pods_expected = dsv->desired_number_scheduled;
    s.on_delete = dsv->update_strategy != "RollingUpdate";
    history_limit = dsv->revision_history_limit;
    s.rollback_wait_limit =
        obs.policy.daemonset_progress_deadline.count() > 0 ? obs.policy.daemonset_progress_deadline : kDefaultDeadline;
    status_ready = dsv->number_ready;
    if (cur) {
      s.current_hash = cur->hash;
      current_created = cur->meta.created;
      current_annotations = &cur->meta.annotations;
    }
  }
  if (std::any_of(s.revisions.begin(), s.revisions.end(), [](const Revision& r) { return r.verdict.has_value(); }))
    st.seen_verdict = true;
  if (!s.status_current || s.current_hash.empty()) {
    st.last_observed = now;
    return obs;
  }
  const Revision* current = nullptr;
  for (const auto& r : s.revisions)
    if (r.hash == s.current_hash) current = &r;

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
    st.tracker = std::make_unique<probes::PodSignalTracker>(pods_since);
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
                        !(history_limit == 0 && current->number > 1);

  // Pods of the current revision (all pods of the DaemonSet for its status comparison).
  std::vector<const probes::PodView*> pods;
  std::vector<const probes::PodView*> all_ds_pods;
  if (dv) {
    for (const auto* p : view.pods_of(current_uid))
      if (p) pods.push_back(p);
  } else {
    for (const auto* p : view.pods_of(dsv->meta.uid)) {
      if (!p) continue;
      all_ds_pods.push_back(p);
      if (p->controller_revision_hash == s.current_hash) pods.push_back(p);
    }
  }
  const bool lags = status_lags_pods(dv ? pods : all_ds_pods, status_ready);
  const bool unschedulable = std::any_of(pods.begin(), pods.end(), [](const probes::PodView* p) {
    return !p->meta.deleted && pod_unschedulable(*p);
  });

  probes::ProbeResult progress;
  std::chrono::seconds deadline{kDefaultDeadline};
  std::optional<TimePoint> next;
  if (dv) {
    if (auto dl = probes::deployment_progress_deadline(*dv)) deadline = *dl;
    // After our PATCH the target's progress clock starts at the PATCH: a ProgressDeadlineExceeded dated before
    // PATCH + deadline was computed by the controller from the failed revision's last progress (or survived the
    // undo, spec §7.4a) and says nothing about the target. A genuine one cannot appear earlier.
    std::optional<TimePoint> stale_before;
    if (anchor_record) stale_before = *anchor_record + deadline;
    progress = probes::evaluate_deployment_progress(*dv, anchor, now, stale_before, st.completed_once, lags);
    s.rollout_complete =
        probes::deployment_rollout_status(*dv, 0, stale_before).state == probes::RolloutStatus::State::success;
    next = probes::next_deadline(*dv, anchor, st.completed_once);
  } else {
    deadline = obs.policy.daemonset_progress_deadline;
    if (st.ds_last && probes::daemonset_progressed(*st.ds_last, *dsv)) st.ds_last_progress = now;
    st.ds_last = *dsv;
    progress = probes::evaluate_daemonset_progress(*dsv, obs.policy, anchor, now, st.ds_last_progress,
                                                   st.completed_once, lags);
    s.rollout_complete = probes::daemonset_rollout_status(*dsv).state == probes::RolloutStatus::State::success;
    next = probes::next_deadline(*dsv, obs.policy, anchor, st.ds_last_progress, st.completed_once);
  }
  if (lags) next = earliest(next, now + kLagRecheck);
  st.tracker->observe(pods, now);
  const probes::ProbeResult pod_result = st.tracker->evaluate(obs.policy.pods, deadline, now);
  next = earliest(next, st.tracker->next_check(obs.policy.pods, deadline, now));

  if (progress.outcome == probes::Outcome::fail) {
    s.deadline_passed = true;
    const probes::Condition* rf = dv ? dv->condition("ReplicaFailure") : nullptr;
    if (unschedulable) {
      s.hold = Finding{"unschedulable", "Pods of the new revision are Unschedulable (" + progress.detail +
                                            "); the cause is capacity or placement, not the release"};
    } else if (rf && rf->status == "True") {
      s.hold = Finding{"replica_failure", "ReplicaFailure=True reason " + rf->reason + " (" + progress.detail +
                                              "); pods cannot be created (quota?), not a fault of the release"};
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
      if (dsv) {
        // The stable revision of a DaemonSet: the newest other revision that still has pods.
        std::int64_t best = -1;
        for (const auto* p : all_ds_pods)
          if (p->controller_revision_hash != s.current_hash)
            for (const auto& r : s.revisions)
              if (r.hash == p->controller_revision_hash && r.number > best) {
                best = r.number;
                stable_hash = r.hash;
              }
      }
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
      t.started = st.revision_started;
      t.first_ready = first_ready;
      if (current_annotations)
        if (const std::string* a = probes::find_value(*current_annotations, probes::kAnalysisAnnotation)) t.seed = *a;
      t.checks = checks;
      probes::RevisionAnalysis fresh;
      const probes::RevisionAnalysis* a = ctx.analysis->state(key, s.current_hash);
      if (!a) {
        if (t.seed)
          if (auto seeded = probes::parse_analysis(*t.seed, s.current_hash)) fresh = std::move(*seeded);
        fresh.hash = s.current_hash;
        fresh.started = t.started;
        fresh.first_ready = first_ready;
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
      for (const auto& [name, cs] : a->checks)
        if (cs.config_error && !cs.config_error_told) obs.check_errors.emplace_back(name, *cs.config_error);
      obs.analysis = std::move(t);
    }
  }

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
