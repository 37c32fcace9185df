#include "daemon/guard/decide.hpp"

#include <algorithm>

namespace canary_guard::guard {
namespace {

const Revision* find_hash(const std::vector<Revision>& revs, std::string_view hash) {
  for (const auto& r : revs)
    if (r.hash == hash) return &r;
  return nullptr;
}

std::optional<TimePoint> earliest(std::optional<TimePoint> a, std::optional<TimePoint> b) {
  if (!a) return b;
  if (!b) return a;
  return std::min(*a, *b);
}

Decision make(Action a, std::string reason, std::string message) {
  Decision d;
  d.action = a;
  d.reason = std::move(reason);
  d.message = std::move(message);
  return d;
}

std::string rev_label(const Revision& r) { return "revision " + std::to_string(r.number) + " (" + r.hash + ")"; }

// A probe's detail as a sentence: messages join several of them, so each ends with a full stop.
std::string sentence(std::string text) {
  while (!text.empty() && text.back() == ' ') text.pop_back();
  if (!text.empty() && text.back() != '.' && text.back() != '!' && text.back() != '?') text += '.';
  return text;
}

// The rollback record that is still in flight (started or waiting); the newest when there are several.
const Revision* in_flight_owner(const std::vector<Revision>& revs) {
  const Revision* best = nullptr;
  for (const auto& r : revs) {
    if (!r.rollback) continue;
    if (r.rollback->state != RollbackState::started && r.rollback->state != RollbackState::waiting) continue;
    if (!best || r.rollback->at > best->rollback->at) best = &r;
  }
  return best;
}

Decision in_flight(const Snapshot& s, const Revision& owner, const Revision& cur, TimePoint now) {
  const RollbackRecord& rec = *owner.rollback;
  const Revision* target = find_hash(s.revisions, rec.to);
  Decision d;
  d.record_owner = owner;
  d.current = cur;
  if (target) d.target = *target;

  if (s.current_hash != owner.hash && s.current_hash != rec.to) {
    d.action = Action::supersede;
    d.reason = "superseded";
    d.message = "A new " + rev_label(cur) + " was deployed during the rollback from " + owner.hash +
                "; the rollback record ends and the new revision is judged on its own.";
    return d;
  }
  if (rec.state == RollbackState::started) {
    if (s.current_hash == owner.hash) {
      if (s.paused) {
        // Crash recovery: the intent was recorded but the workload was paused since. kubectl refuses to undo a
        // paused Deployment; so do we. The record stays `started`: resuming it resumes the rollback.
        Decision h = make(Action::hold, "paused",
                          "The rollback of " + rev_label(owner) + " was interrupted and the Deployment is paused now; "
                          "holding (resume it to let the rollback finish, or roll back by hand).");
        h.current = cur;
        return h;
      }
      if (!target) {
        Decision h = make(Action::hold, "target_missing",
                          "Rollback target " + rec.to + " no longer exists; holding, no guess is made.");
        h.current = cur;
        return h;
      }
      d.action = Action::resume_rollback;
      d.reason = rec.reason.empty() ? "resume" : rec.reason;
      d.message = "Resuming the rollback of " + rev_label(owner) + " to " + rev_label(*target) + ".";
      return d;
    }
    d.action = Action::confirm_patched;
    d.reason = rec.reason;
    d.message = "Rolled back " + rev_label(owner) + " to " + rev_label(cur) + " (the PATCH went through before a restart); waiting for it to roll out.";
    return d;
  }
  // waiting
  if (s.current_hash == owner.hash) {
    // The failed template was applied again while we waited: that is someone else's new deployment.
    d.action = Action::supersede;
    d.reason = "superseded";
    d.message = "The rolled-back template " + owner.hash + " was applied again during the rollback.";
    return d;
  }
  const std::string after = " Holding: no further automatic rollback until a new revision appears; " +
                            rev_label(cur) + " is no longer a rollback target.";
  if (s.failure) {
    d.action = Action::rollback_failed;
    d.reason = s.failure->reason;
    d.message = "Rollback to " + rev_label(cur) + " did not succeed: " + sentence(s.failure->detail) + after;
    return d;
  }
  if (s.rollout_complete) {
    d.action = Action::rollback_succeeded;
    d.reason = rec.reason;
    d.message = "Rolled back from " + owner.hash + " to " + rev_label(cur) + "; the rollout is complete.";
    return d;
  }
  if (s.deadline_passed) {
    // Unschedulable pods or a quota hold a new release; a rollback that hits them has failed all the same.
    d.action = Action::rollback_failed;
    d.reason = s.hold ? s.hold->reason : "progress_deadline";
    d.message = "Rollback to " + rev_label(cur) + " did not complete within its progress deadline" +
                (s.hold ? ": " + sentence(s.hold->detail) : std::string(".")) + after;
    return d;
  }
  const TimePoint limit = rec.at + s.rollback_wait_limit;
  if (now >= limit) {
    d.action = Action::rollback_failed;
    d.reason = "rollback_timeout";
    d.message = "Rollback to " + rev_label(cur) + " did not complete within " +
                std::to_string(std::chrono::duration_cast<std::chrono::seconds>(s.rollback_wait_limit).count()) +
                " s" + (s.hold ? " (" + s.hold->reason + ")" : std::string()) + "." + after;
    return d;
  }
  d.action = Action::none;
  d.reason = "rollback_waiting";
  d.recheck_at = earliest(s.next_check, limit);
  return d;
}

}  // namespace

std::string_view to_string(Action a) {
  switch (a) {
    case Action::none: return "none";
    case Action::mark_healthy: return "mark_healthy";
    case Action::rollback: return "rollback";
    case Action::resume_rollback: return "resume_rollback";
    case Action::confirm_patched: return "confirm_patched";
    case Action::rollback_succeeded: return "rollback_succeeded";
    case Action::rollback_failed: return "rollback_failed";
    case Action::supersede: return "supersede";
    case Action::hold: return "hold";
    case Action::remove_copied_records: return "remove_copied_records";
    case Action::not_judged: return "not_judged";
    case Action::pause_blind: return "pause_blind";
    case Action::resume_after_blind: return "resume_after_blind";
  }
  return "none";
}

std::optional<Revision> rollback_target(const std::vector<Revision>& revisions, std::string_view exclude_hash) {
  const Revision* best = nullptr;
  for (const auto& r : revisions) {
    if (r.hash == exclude_hash || !r.verdict || r.verdict->verdict != Verdict::healthy) continue;
    if (!best || r.number > best->number) best = &r;
  }
  if (!best) return std::nullopt;
  return *best;
}

Decision decide(const Snapshot& s, const config::Policy& policy, TimePoint now) {
  if (!policy.enabled) return make(Action::none, "not_guarded", {});
  // Copies of our records on the workload would be copied onto every new ReplicaSet and could overwrite a
  // re-used one's own record: remove them before anything else. Dry-run never writes to a workload.
  if (s.records_on_workload && !policy.dry_run)
    return make(Action::remove_copied_records, "copied_records",
                "The Deployment carries copies of canary-guard's record annotations (kubectl rollout undo copies "
                "them from the ReplicaSet); removing them.");
  // Doubt means no action: until the status describes the latest spec, nothing is judged.
  if (!s.status_current || s.current_hash.empty()) return make(Action::none, "status_not_current", {});
  // A cache whose watch failed or went silent shows the past: time-based rules (ready grace, deadlines) would run
  // against a frozen picture. Hold everything until it is live again.
  if (s.cache_not_live) return make(Action::none, "cache_not_live", {});
  const Revision* cur = find_hash(s.revisions, s.current_hash);
  if (!cur) return make(Action::none, "current_revision_unknown", {});

  // The guard's own blind pause ends once the guard knows it is not blind any more. The status is current here (a
  // pause bumps the generation, and a stale status says nothing about blindness), so either the analysis was read
  // and is decisive again, or the revision has its verdict, or no metric check applies to it any more (removed from
  // the config or switched off by canary-guard.io/checks): with no check there is nothing to be blind about, and a
  // pause left behind would stop the workload for good. A failure is rolled back instead; the rollback lifts the
  // pause itself.
  const bool blind = s.hold && s.hold->reason == "metrics_blind";
  if (s.guard_pause_note && !blind && !s.failure && !policy.dry_run) {
    if (s.metrics_required || cur->verdict)
      return make(Action::resume_after_blind, "metrics_restored",
                  "Metric checks are decisive again: resuming the Deployment canary-guard paused while blind.");
    return make(Action::resume_after_blind, "metrics_not_applicable",
                "No metric check applies to the current revision any more: resuming the Deployment canary-guard "
                "paused while blind.");
  }
  if (const Revision* owner = in_flight_owner(s.revisions)) return in_flight(s, *owner, *cur, now);

  // After a failed rollback, the target stays as it is until someone deploys a new revision.
  for (const auto& r : s.revisions) {
    if (r.rollback && r.rollback->state == RollbackState::failed && r.rollback->to == s.current_hash) {
      Decision d = make(Action::none, "held_after_failed_rollback", {});
      d.current = *cur;
      return d;
    }
  }

  Decision d;
  d.current = *cur;
  d.dry_run = policy.dry_run;
  if (s.on_delete && !(cur->verdict && cur->verdict->verdict == Verdict::healthy)) {
    d.action = Action::not_judged;
    d.reason = "on_delete";
    d.message = rev_label(*cur) + " is not judged: the DaemonSet's updateStrategy is OnDelete, so its pods change "
                "only when someone deletes them; canary-guard neither verifies nor rolls back such a revision.";
    return d;
  }
  const bool known_bad = cur->verdict && cur->verdict->verdict == Verdict::failed;
  std::optional<Finding> failure = s.failure;
  if (!failure && s.alert) failure = s.alert;
  if (cur->verdict && cur->verdict->verdict == Verdict::healthy) {
    // Verified healthy: its own probes no longer judge it. An alert that fired since it started is a person's
    // matter unless the operator chose otherwise; the rollback target is then an older healthy revision.
    if (!s.alert) {
      d.action = Action::none;
      d.reason = "healthy";
      return d;
    }
    if (!s.act_on_healthy) {
      d.action = Action::hold;
      d.reason = "alert_on_healthy";
      d.message = rev_label(*cur) + " was verified healthy; " + sentence(s.alert->detail) +
                  " Not rolled back by an alert: on-call decides ([alertmanager] act_on_healthy = true acts).";
      return d;
    }
    failure = s.alert;
  } else if (known_bad) {
    if (policy.on_known_bad == config::KnownBadAction::hold) {
      d.action = Action::hold;
      d.reason = "known_bad_template";
      d.message = rev_label(*cur) + " was rolled back as failed before (" + cur->verdict->reason +
                  "); it was applied again. Holding: on_known_bad=hold.";
      return d;
    }
    const TimePoint last = cur->rollback ? cur->rollback->at : cur->verdict->at;
    if (now < last + policy.known_bad_min_interval) {
      d.action = Action::hold;
      d.reason = "known_bad_rate_limited";
      d.message = rev_label(*cur) + " was rolled back as failed less than " +
                  std::to_string(policy.known_bad_min_interval.count()) + " s ago; holding until the rate limit allows.";
      d.recheck_at = last + policy.known_bad_min_interval;
      return d;
    }
    failure = Finding{"known_bad_template", rev_label(*cur) + " is a template already rolled back as failed."};
  }

  if (failure) {
    if (s.paused) {
      d.action = Action::hold;
      d.reason = "paused";
      d.message = rev_label(*cur) + " failed (" + failure->detail +
                  ") but the Deployment is paused; holding (resume it, or roll back by hand).";
      d.recheck_at = s.next_check;
      return d;
    }
    auto target = rollback_target(s.revisions, cur->hash);
    if (!target) {
      d.action = Action::hold;
      d.reason = "no_healthy_revision";
      // Say what is known: a first revision had nothing before it; later, a verified revision may have been
      // deleted by revisionHistoryLimit cleanup (the guard's records live on the revision objects, and go with them).
      d.message = rev_label(*cur) + " failed (" + failure->detail + ") but " +
                  (cur->number <= 1
                       ? std::string("no revision was ever verified healthy")
                       : std::string("no revision verified healthy is left to roll back to: none was, or "
                                     "revisionHistoryLimit cleanup deleted it (before Kubernetes 1.21 a Deployment's "
                                     "oldest-created ReplicaSet goes first: after repeated rollbacks, the release "
                                     "they returned to)")) +
                  "; holding, no guess is made.";
      return d;
    }
    if (!policy.dry_run && s.rollbacks_in_flight >= s.max_concurrent_rollbacks) {
      d.action = Action::hold;
      d.reason = "rollback_limit";
      d.message = rev_label(*cur) + " failed (" + failure->detail + "); " + std::to_string(s.rollbacks_in_flight) +
                  " rollbacks already running (max_concurrent_rollbacks); waiting for a slot.";
      d.recheck_at = now + std::chrono::seconds{5};
      return d;
    }
    d.action = Action::rollback;
    d.reason = failure->reason;
    d.target = *target;
    d.message = rev_label(*cur) + " failed: " + sentence(failure->detail) + " Rolling back to " +
                rev_label(*target) + ", the last revision verified healthy.";
    return d;
  }

  // Pausing stalls a rollout in progress; a complete one has nothing left to stall, and a pause would only block the
  // next `kubectl set image`. A complete Deployment that is blind is held, never paused.
  if (s.hold && s.hold->reason == "metrics_blind" && s.pause_when_blind && s.kind == Kind::deployment && !s.paused &&
      !s.guard_pause_note && !s.rollout_complete && !policy.dry_run) {
    d.action = Action::pause_blind;
    d.reason = "metrics_blind";
    d.message = rev_label(*cur) + ": " + sentence(s.hold->detail) +
                " Pausing the Deployment (pause_when_blind) until metric checks are decisive again.";
    return d;
  }
  if (s.hold) {
    d.action = Action::hold;
    d.reason = s.hold->reason;
    d.message = rev_label(*cur) + ": " + sentence(s.hold->detail) +
                (s.hold->reason == "metrics_blind"
                     ? " Holding: neither rolled back nor verified until metric checks are decisive again."
                 : s.hold->reason == "alerts_blind"
                     ? " Holding: not verified healthy until the heartbeat returns (a failing probe still rolls back)."
                     : " Holding: no rollback while the cause is outside the release.");
    d.recheck_at = s.next_check;
    return d;
  }

  if (s.rollout_complete) {
    if (s.pods_expected <= 0) {
      // Zero pods prove nothing: judged once it has pods (a scale-up re-enqueues the workload).
      d.action = Action::none;
      d.reason = "no_pods";
      d.recheck_at = s.next_check;
      return d;
    }
    const bool any_verdict =
        std::any_of(s.revisions.begin(), s.revisions.end(), [](const Revision& r) { return r.verdict.has_value(); });
    if (!any_verdict && s.baseline_eligible) {
      // First sight of this workload: a complete, available revision is the healthy baseline.
      d.action = Action::mark_healthy;
      d.reason = "baseline";
      d.message = rev_label(*cur) + " is complete and available; recorded as the healthy baseline.";
      return d;
    }
    const TimePoint since = s.complete_since.value_or(now);
    if (now >= since + policy.bake_time) {
      if (s.metrics_required && !s.metrics_passed) {
        // Never healthy without evidence: every check must have passed at least once.
        d.action = Action::none;
        d.reason = "metrics_pending";
        d.recheck_at = s.next_check;
        return d;
      }
      d.action = Action::mark_healthy;
      d.reason = "baked";
      d.message = rev_label(*cur) + " rolled out and passed its " + std::to_string(policy.bake_time.count()) +
                  " s bake time with no failed probe" + (s.metrics_required ? " and every metric check passed" : "") +
                  "; verified healthy.";
      return d;
    }
    d.action = Action::none;
    d.reason = "baking";
    d.recheck_at = earliest(since + policy.bake_time, s.next_check);
    return d;
  }

  d.action = Action::none;
  d.reason = "progressing";
  d.recheck_at = s.next_check;
  return d;
}

}  // namespace canary_guard::guard
