#include <gtest/gtest.h>

#include <functional>

#include "daemon/guard/decide.hpp"

namespace cg = canary_guard;
using namespace canary_guard::guard;
using namespace std::chrono_literals;

namespace {

const cg::TimePoint T0{std::chrono::seconds{1'800'000'000}};

Revision rev(std::string hash, std::int64_t n, std::optional<Verdict> v = std::nullopt) {
  Revision r;
  r.name = "web-" + hash;
  r.hash = std::move(hash);
  r.number = n;
  if (v) r.verdict = VerdictRecord{*v, r.hash, T0 - 1h, "test"};
  return r;
}

Snapshot snap(std::vector<Revision> revs, std::string current) {
  Snapshot s;
  s.ns = "shop";
  s.name = "web";
  s.status_current = true;
  s.current_hash = std::move(current);
  s.revisions = std::move(revs);
  s.max_concurrent_rollbacks = 3;
  s.pods_expected = 2;
  return s;
}

Revision with_record(Revision r, RollbackState st, std::string to, cg::TimePoint at = T0 - 10s) {
  r.rollback = RollbackRecord{st, r.hash, std::move(to), 1, at, "crash_loop"};
  return r;
}

cg::config::Policy policy() { return cg::config::Policy{}; }

}  // namespace

TEST(Decide, StaleStatusNeverActs) {
  auto s = snap({rev("a", 1, Verdict::healthy), rev("b", 2)}, "b");
  s.failure = Finding{"progress_deadline", "deadline"};
  s.status_current = false;
  EXPECT_EQ(decide(s, policy(), T0).action, Action::none);
  s.status_current = true;
  s.current_hash = "";
  EXPECT_EQ(decide(s, policy(), T0).action, Action::none);
  s.current_hash = "zzz";  // not among the revisions (cache lag)
  EXPECT_EQ(decide(s, policy(), T0).action, Action::none);
}

TEST(Decide, CacheNotLiveNeverActs) {
  // Whatever the snapshot shows (a failure, a complete bake, a rollback to confirm), a cache that is not live holds.
  struct Case {
    const char* name;
    std::function<void(Snapshot&)> set;
  };
  const std::vector<Case> cases = {
      {"failure", [](Snapshot& s) { s.failure = Finding{"pod_signal:not_ready", "pod not Ready"}; }},
      {"complete, baked", [](Snapshot& s) {
         s.rollout_complete = true;
         s.complete_since = T0 - 1h;
       }},
      {"paused while blind, decisive again", [](Snapshot& s) {
         s.guard_pause_note = true;
         s.metrics_required = true;
       }},
  };
  for (const auto& c : cases) {
    auto s = snap({rev("a", 1, Verdict::healthy), rev("b", 2)}, "b");
    c.set(s);
    ASSERT_NE(decide(s, policy(), T0).action, Action::none) << c.name << ": the case must act when live";
    s.cache_not_live = "pods: watch failed";
    const auto d = decide(s, policy(), T0);
    EXPECT_EQ(d.action, Action::none) << c.name;
    EXPECT_EQ(d.reason, "cache_not_live") << c.name;
  }
}

TEST(Decide, DisabledDoesNothing) {
  auto s = snap({rev("a", 1, Verdict::healthy), rev("b", 2)}, "b");
  s.failure = Finding{"progress_deadline", "deadline"};
  auto p = policy();
  p.enabled = false;
  EXPECT_EQ(decide(s, p, T0).action, Action::none);
}

TEST(Decide, FailureRollsBackToNewestHealthyNotPrevious) {
  // a healthy(1), b failed(2), c current failing(3): target is a, not b.
  auto b = rev("b", 2, Verdict::failed);
  auto s = snap({rev("a", 1, Verdict::healthy), b, rev("c", 3)}, "c");
  s.failure = Finding{"pod_signal:crash_loop", "pod web-c-1 restarted 3 times."};
  auto d = decide(s, policy(), T0);
  ASSERT_EQ(d.action, Action::rollback);
  ASSERT_TRUE(d.target);
  EXPECT_EQ(d.target->hash, "a");
  EXPECT_EQ(d.reason, "pod_signal:crash_loop");
}

TEST(Decide, NewestHealthyWins) {
  auto s = snap({rev("a", 1, Verdict::healthy), rev("b", 4, Verdict::healthy), rev("c", 3, Verdict::healthy),
                 rev("d", 5)},
                "d");
  s.failure = Finding{"progress_deadline", "x"};
  auto d = decide(s, policy(), T0);
  ASSERT_EQ(d.action, Action::rollback);
  EXPECT_EQ(d.target->hash, "b");
}

TEST(Decide, NoHealthyRevisionHolds) {
  auto s = snap({rev("a", 1, Verdict::failed), rev("b", 2)}, "b");
  s.failure = Finding{"progress_deadline", "x"};
  auto d = decide(s, policy(), T0);
  EXPECT_EQ(d.action, Action::hold);
  EXPECT_EQ(d.reason, "no_healthy_revision");
  EXPECT_NE(d.message.find("revisionHistoryLimit cleanup deleted it"), std::string::npos) << d.message;
}

TEST(Decide, NoHealthyRevisionSaysWhyItMayBeGone) {
  // Ten alert rollbacks to v1 (revision 21 now), then release 22 completes: Kubernetes 1.20 deletes v1's ReplicaSet,
  // the oldest created (alert_latency bench, 2026-12-07). Left: failed revisions only. The hold must not claim that
  // nothing was ever verified.
  auto s = snap({rev("r9", 18, Verdict::failed), rev("r10", 20, Verdict::failed), rev("r11", 22)}, "r11");
  s.failure = Finding{"alert:HighErrorRate", "alert HighErrorRate firing"};
  auto d = decide(s, policy(), T0);
  EXPECT_EQ(d.action, Action::hold);
  EXPECT_EQ(d.reason, "no_healthy_revision");
  EXPECT_EQ(d.message.find("was ever verified"), std::string::npos) << d.message;
  EXPECT_NE(d.message.find("no revision verified healthy is left to roll back to"), std::string::npos) << d.message;
  // A first revision had nothing before it: that is what it says.
  auto first = snap({rev("a", 1)}, "a");
  first.failure = Finding{"progress_deadline", "x"};
  d = decide(first, policy(), T0);
  EXPECT_EQ(d.reason, "no_healthy_revision");
  EXPECT_NE(d.message.find("no revision was ever verified healthy"), std::string::npos) << d.message;
}

TEST(Decide, PausedHolds) {
  auto s = snap({rev("a", 1, Verdict::healthy), rev("b", 2)}, "b");
  s.failure = Finding{"progress_deadline", "x"};
  s.paused = true;
  auto d = decide(s, policy(), T0);
  EXPECT_EQ(d.action, Action::hold);
  EXPECT_EQ(d.reason, "paused");
}

TEST(Decide, DryRunStillDecidesButFlags) {
  auto s = snap({rev("a", 1, Verdict::healthy), rev("b", 2)}, "b");
  s.failure = Finding{"progress_deadline", "x"};
  auto p = policy();
  p.dry_run = true;
  s.rollbacks_in_flight = 99;  // dry-run takes no slot
  auto d = decide(s, p, T0);
  EXPECT_EQ(d.action, Action::rollback);
  EXPECT_TRUE(d.dry_run);
}

TEST(Decide, ConcurrencyLimitDefers) {
  auto s = snap({rev("a", 1, Verdict::healthy), rev("b", 2)}, "b");
  s.failure = Finding{"progress_deadline", "x"};
  s.rollbacks_in_flight = 3;
  auto d = decide(s, policy(), T0);
  EXPECT_EQ(d.action, Action::hold);
  EXPECT_EQ(d.reason, "rollback_limit");
  ASSERT_TRUE(d.recheck_at);
  EXPECT_GT(*d.recheck_at, T0);
  s.rollbacks_in_flight = 2;
  EXPECT_EQ(decide(s, policy(), T0).action, Action::rollback);
}

TEST(Decide, HoldSignalHolds) {
  auto s = snap({rev("a", 1, Verdict::healthy), rev("b", 2)}, "b");
  s.hold = Finding{"unschedulable", "pods unschedulable for 5m"};
  auto d = decide(s, policy(), T0);
  EXPECT_EQ(d.action, Action::hold);
  EXPECT_EQ(d.reason, "unschedulable");
}

TEST(Decide, BaselineOnFirstSight) {
  auto s = snap({rev("a", 1), rev("b", 2)}, "b");
  s.rollout_complete = true;
  s.baseline_eligible = true;
  auto d = decide(s, policy(), T0);
  EXPECT_EQ(d.action, Action::mark_healthy);
  EXPECT_EQ(d.reason, "baseline");
}

TEST(Decide, OnlyRevisionLeftWithoutVerdictIsBakedNotBaseline) {
  // revisionHistoryLimit 0 deleted the healthy v1: v2 is the only revision and has no verdict. observe() says it
  // is not eligible (the guard saw it start); it is baked like any release.
  auto s = snap({rev("b", 2)}, "b");
  s.rollout_complete = true;
  s.complete_since = T0;
  s.baseline_eligible = false;
  auto d = decide(s, policy(), T0);
  EXPECT_EQ(d.action, Action::none);
  EXPECT_EQ(d.reason, "baking");
  d = decide(s, policy(), T0 + 300s);
  EXPECT_EQ(d.action, Action::mark_healthy);
  EXPECT_EQ(d.reason, "baked");
}

TEST(Decide, ZeroPodsProveNothing) {
  // Complete at replicas 0 (or a DaemonSet with no eligible node): neither baseline nor healthy, however long.
  for (bool eligible : {true, false}) {
    auto s = snap({rev("a", 1, Verdict::healthy), rev("b", 2)}, "b");
    if (eligible) s = snap({rev("b", 2)}, "b");
    s.rollout_complete = true;
    s.complete_since = T0 - 1h;
    s.baseline_eligible = eligible;
    s.pods_expected = 0;
    auto d = decide(s, policy(), T0);
    EXPECT_EQ(d.action, Action::none) << eligible;
    EXPECT_EQ(d.reason, "no_pods") << eligible;
    s.pods_expected = 1;  // scaled up and complete again: judged now
    s.complete_since = T0;
    EXPECT_EQ(decide(s, policy(), T0).action, eligible ? Action::mark_healthy : Action::none) << eligible;
  }
  // A failure with zero pods expected still rolls back (e.g. the deadline of a scale-up that never came).
  auto s = snap({rev("a", 1, Verdict::healthy), rev("b", 2)}, "b");
  s.pods_expected = 0;
  s.failure = Finding{"pod_signal:crash_loop", "x"};
  EXPECT_EQ(decide(s, policy(), T0).action, Action::rollback);
}

TEST(Decide, CopiedRecordsOnTheWorkloadAreRemovedFirst) {
  auto s = snap({rev("a", 1, Verdict::healthy), rev("b", 2)}, "b");
  s.records_on_workload = true;
  s.failure = Finding{"pod_signal:crash_loop", "x"};
  s.status_current = false;  // even before the status is current: the copy spreads with every new ReplicaSet
  auto d = decide(s, policy(), T0);
  EXPECT_EQ(d.action, Action::remove_copied_records);
  auto p = policy();
  p.dry_run = true;  // dry-run never writes to a workload
  EXPECT_EQ(decide(s, p, T0).action, Action::none);
}

TEST(Decide, OnDeleteDaemonSetIsNotJudged) {
  auto s = snap({rev("a", 1, Verdict::healthy), rev("b", 2)}, "b");
  s.kind = Kind::daemonset;
  s.on_delete = true;
  s.failure = Finding{"pod_signal:crash_loop", "x"};
  s.rollout_complete = true;
  s.complete_since = T0 - 1h;
  auto d = decide(s, policy(), T0);
  EXPECT_EQ(d.action, Action::not_judged);
  EXPECT_EQ(d.reason, "on_delete");
  EXPECT_NE(d.message.find("OnDelete"), std::string::npos);
}

TEST(Decide, UnfitTargetIsSkipped) {
  // b was verified healthy, then a rollback to it failed (act marked it unfit): the next rollback goes to a.
  auto b = rev("b", 2, Verdict::healthy);
  b.verdict->verdict = Verdict::unfit;
  auto s = snap({rev("a", 1, Verdict::healthy), b, rev("c", 3)}, "c");
  s.failure = Finding{"pod_signal:crash_loop", "x"};
  auto d = decide(s, policy(), T0);
  ASSERT_EQ(d.action, Action::rollback);
  EXPECT_EQ(d.target->hash, "a");
  // With only the unfit one left: hold.
  s = snap({b, rev("c", 3)}, "c");
  s.failure = Finding{"pod_signal:crash_loop", "x"};
  d = decide(s, policy(), T0);
  EXPECT_EQ(d.action, Action::hold);
  EXPECT_EQ(d.reason, "no_healthy_revision");
}

TEST(Decide, InterruptedRollbackOfAPausedDeploymentHolds) {
  auto b = with_record(rev("b", 3, Verdict::failed), RollbackState::started, "a");
  auto s = snap({rev("a", 2, Verdict::healthy), b}, "b");
  s.paused = true;
  auto d = decide(s, policy(), T0);
  EXPECT_EQ(d.action, Action::hold);
  EXPECT_EQ(d.reason, "paused");
  s.paused = false;
  EXPECT_EQ(decide(s, policy(), T0).action, Action::resume_rollback);
}

TEST(Decide, WaitingRollbackHasAnEnd) {
  auto b = with_record(rev("b", 3, Verdict::failed), RollbackState::waiting, "a", T0);
  auto s = snap({rev("a", 4, Verdict::healthy), b}, "a");
  s.rollback_wait_limit = 600s;
  // No deadline, no progress: waits until the limit, then fails (never holds a slot forever).
  auto d = decide(s, policy(), T0 + 599s);
  EXPECT_EQ(d.action, Action::none);
  EXPECT_EQ(*d.recheck_at, T0 + 600s);
  d = decide(s, policy(), T0 + 600s);
  EXPECT_EQ(d.action, Action::rollback_failed);
  EXPECT_EQ(d.reason, "rollback_timeout");
  // The target's deadline passed while it was held (unschedulable): the rollback failed too.
  s.deadline_passed = true;
  s.hold = Finding{"unschedulable", "pods Unschedulable"};
  d = decide(s, policy(), T0 + 20s);
  EXPECT_EQ(d.action, Action::rollback_failed);
  EXPECT_EQ(d.reason, "unschedulable");
  // Completion wins over the limit.
  s.deadline_passed = false;
  s.hold.reset();
  s.rollout_complete = true;
  EXPECT_EQ(decide(s, policy(), T0 + 900s).action, Action::rollback_succeeded);
}

TEST(Decide, MessagesAreSentences) {
  auto s = snap({rev("a", 1, Verdict::healthy), rev("b", 2)}, "b");
  s.failure = Finding{"pod_signal:crash_loop", "pod web-b-1 container 0 waiting CrashLoopBackOff after 3 restarts"};
  auto d = decide(s, policy(), T0);
  ASSERT_EQ(d.action, Action::rollback);
  EXPECT_NE(d.message.find("after 3 restarts. Rolling back to revision 1 (a)"), std::string::npos) << d.message;
  EXPECT_EQ(d.message.back(), '.');
}

TEST(Decide, BakeTimeBoundaries) {
  auto s = snap({rev("a", 1, Verdict::healthy), rev("b", 2)}, "b");
  s.rollout_complete = true;
  s.complete_since = T0;
  auto p = policy();  // 300 s
  auto d = decide(s, p, T0 + 299s);
  EXPECT_EQ(d.action, Action::none);
  EXPECT_EQ(d.reason, "baking");
  ASSERT_TRUE(d.recheck_at);
  EXPECT_EQ(*d.recheck_at, T0 + 300s);
  EXPECT_EQ(decide(s, p, T0 + 300s).action, Action::mark_healthy);
  // A failure during the bake wins over completion.
  s.failure = Finding{"pod_signal:crash_loop", "x"};
  EXPECT_EQ(decide(s, p, T0 + 299s).action, Action::rollback);
}

TEST(Decide, HealthyCurrentIsLeftAlone) {
  auto s = snap({rev("a", 1, Verdict::healthy), rev("b", 2, Verdict::healthy)}, "b");
  s.failure = Finding{"pod_signal:crash_loop", "x"};
  EXPECT_EQ(decide(s, policy(), T0).action, Action::none);
}

TEST(Decide, KnownBadTemplateHoldsByDefault) {
  auto b = with_record(rev("b", 3, Verdict::failed), RollbackState::succeeded, "a");
  auto s = snap({rev("a", 2, Verdict::healthy), b}, "b");
  auto d = decide(s, policy(), T0);
  EXPECT_EQ(d.action, Action::hold);
  EXPECT_EQ(d.reason, "known_bad_template");
}

TEST(Decide, KnownBadTemplateRollbackIsRateLimited) {
  auto b = with_record(rev("b", 3, Verdict::failed), RollbackState::succeeded, "a", T0 - 10min);
  auto s = snap({rev("a", 2, Verdict::healthy), b}, "b");
  auto p = policy();
  p.on_known_bad = cg::config::KnownBadAction::rollback;
  p.known_bad_min_interval = 1h;
  auto d = decide(s, p, T0);
  EXPECT_EQ(d.action, Action::hold);
  EXPECT_EQ(d.reason, "known_bad_rate_limited");
  EXPECT_EQ(*d.recheck_at, T0 + 50min);
  d = decide(s, p, T0 + 50min);
  EXPECT_EQ(d.action, Action::rollback);
  EXPECT_EQ(d.target->hash, "a");
}

TEST(Decide, StartedRecordOnCurrentResumesPatch) {
  auto b = with_record(rev("b", 3, Verdict::failed), RollbackState::started, "a");
  auto s = snap({rev("a", 2, Verdict::healthy), b}, "b");
  auto d = decide(s, policy(), T0);
  EXPECT_EQ(d.action, Action::resume_rollback);
  EXPECT_EQ(d.target->hash, "a");
  EXPECT_EQ(d.record_owner->hash, "b");
}

TEST(Decide, StartedRecordAlreadyOnTargetConfirms) {
  auto b = with_record(rev("b", 3, Verdict::failed), RollbackState::started, "a");
  auto s = snap({rev("a", 4, Verdict::healthy), b}, "a");
  EXPECT_EQ(decide(s, policy(), T0).action, Action::confirm_patched);
}

TEST(Decide, StartedRecordWithMissingTargetHolds) {
  auto b = with_record(rev("b", 3, Verdict::failed), RollbackState::started, "gone");
  auto s = snap({b}, "b");
  auto d = decide(s, policy(), T0);
  EXPECT_EQ(d.action, Action::hold);
  EXPECT_EQ(d.reason, "target_missing");
}

TEST(Decide, WaitingRecordOutcomes) {
  auto b = with_record(rev("b", 3, Verdict::failed), RollbackState::waiting, "a");
  auto s = snap({rev("a", 4, Verdict::healthy), b}, "a");
  s.next_check = T0 + 7s;
  auto d = decide(s, policy(), T0);
  EXPECT_EQ(d.action, Action::none);
  EXPECT_EQ(d.reason, "rollback_waiting");
  EXPECT_EQ(*d.recheck_at, T0 + 7s);
  s.rollout_complete = true;
  EXPECT_EQ(decide(s, policy(), T0).action, Action::rollback_succeeded);
  s.failure = Finding{"progress_deadline", "x"};  // failure beats completion
  EXPECT_EQ(decide(s, policy(), T0).action, Action::rollback_failed);
}

TEST(Decide, SomeoneDeploysDuringRollback) {
  auto b = with_record(rev("b", 3, Verdict::failed), RollbackState::waiting, "a");
  auto s = snap({rev("a", 4, Verdict::healthy), b, rev("c", 5)}, "c");
  EXPECT_EQ(decide(s, policy(), T0).action, Action::supersede);
  b.rollback->state = RollbackState::started;
  s = snap({rev("a", 4, Verdict::healthy), b, rev("c", 5)}, "c");
  EXPECT_EQ(decide(s, policy(), T0).action, Action::supersede);
}

TEST(Decide, NeverASecondRollbackAfterFailedOne) {
  auto b = with_record(rev("b", 3, Verdict::failed), RollbackState::failed, "a");
  auto s = snap({rev("a", 4, Verdict::healthy), b}, "a");
  s.failure = Finding{"progress_deadline", "x"};
  auto d = decide(s, policy(), T0);
  EXPECT_EQ(d.action, Action::none);
  EXPECT_EQ(d.reason, "held_after_failed_rollback");
  // A new revision lifts the hold and is judged normally.
  s = snap({rev("a", 4, Verdict::healthy), b, rev("c", 5)}, "c");
  s.failure = Finding{"progress_deadline", "x"};
  d = decide(s, policy(), T0);
  EXPECT_EQ(d.action, Action::rollback);
  EXPECT_EQ(d.target->hash, "a");
}

TEST(Decide, NewestInFlightRecordWins) {
  auto b = with_record(rev("b", 3, Verdict::failed), RollbackState::waiting, "a", T0 - 100s);
  auto c = with_record(rev("c", 5, Verdict::failed), RollbackState::started, "a", T0 - 5s);
  auto s = snap({rev("a", 2, Verdict::healthy), b, c}, "c");
  auto d = decide(s, policy(), T0);
  EXPECT_EQ(d.action, Action::resume_rollback);
  EXPECT_EQ(d.record_owner->hash, "c");
}

TEST(RollbackTarget, SkipsFailedAndExcluded) {
  std::vector<Revision> revs{rev("a", 1, Verdict::healthy), rev("b", 2, Verdict::failed), rev("c", 3, Verdict::healthy)};
  EXPECT_EQ(rollback_target(revs, "c")->hash, "a");
  EXPECT_EQ(rollback_target(revs, "x")->hash, "c");
  EXPECT_FALSE(rollback_target({}, "x"));
}

TEST(Decide, MetricChecksGateTheHealthyVerdict) {
  auto s = snap({rev("a", 1, Verdict::healthy), rev("b", 2)}, "b");
  s.rollout_complete = true;
  s.complete_since = T0;
  s.metrics_required = true;
  s.metrics_passed = false;
  s.next_check = T0 + 400s;
  auto d = decide(s, policy(), T0 + 300s);
  EXPECT_EQ(d.action, Action::none);
  EXPECT_EQ(d.reason, "metrics_pending");
  s.metrics_passed = true;
  d = decide(s, policy(), T0 + 300s);
  EXPECT_EQ(d.action, Action::mark_healthy);
  EXPECT_NE(d.message.find("every metric check passed"), std::string::npos);
  // A trip is a failure like any other; blindness a hold.
  s.metrics_passed = false;
  s.failure = Finding{"metric:error-ratio", "error-ratio 0.51 > 0.05 in 3 of the last 5 evaluations"};
  d = decide(s, policy(), T0 + 10s);
  ASSERT_EQ(d.action, Action::rollback);
  EXPECT_EQ(d.reason, "metric:error-ratio");
  EXPECT_NE(d.message.find("error-ratio 0.51 > 0.05 in 3 of the last 5 evaluations."), std::string::npos);
  s.failure.reset();
  s.hold = Finding{"metrics_blind", "no decisive outcome"};
  d = decide(s, policy(), T0 + 10s);
  EXPECT_EQ(d.action, Action::hold);
  EXPECT_EQ(d.reason, "metrics_blind");
}

TEST(Decide, ACompleteDeploymentIsNeverPausedForBlindness) {
  // Issue #10 §3: with pause_when_blind, a Deployment with every pod updated and available was paused 15 s after
  // Prometheus stopped. Pausing stalls only a rollout in progress.
  struct Case {
    const char* what;
    bool complete;
    Action expected;
  };
  for (const Case& c : {Case{"rolling out", false, Action::pause_blind}, Case{"complete", true, Action::hold}}) {
    auto s = snap({rev("a", 1, Verdict::healthy), rev("b", 2)}, "b");
    s.hold = Finding{"metrics_blind", "no decisive outcome"};
    s.pause_when_blind = true;
    s.rollout_complete = c.complete;
    if (c.complete) s.complete_since = T0 - 1s;
    const auto d = decide(s, policy(), T0);
    EXPECT_EQ(d.action, c.expected) << c.what;
    EXPECT_EQ(d.reason, "metrics_blind") << c.what;
  }
}

TEST(Decide, PauseWhenBlindAndResume) {
  auto s = snap({rev("a", 1, Verdict::healthy), rev("b", 2)}, "b");
  s.hold = Finding{"metrics_blind", "no decisive outcome"};
  s.pause_when_blind = true;
  auto d = decide(s, policy(), T0);
  EXPECT_EQ(d.action, Action::pause_blind);
  s.guard_pause_note = true;  // paused by us: just hold
  EXPECT_EQ(decide(s, policy(), T0).action, Action::hold);
  s.hold.reset();
  s.status_current = false;  // our own pause bumped the generation: a stale status says nothing about blindness
  EXPECT_EQ(decide(s, policy(), T0).action, Action::none);
  s.status_current = true;
  s.metrics_required = true;  // decisive again: resume
  auto r = decide(s, policy(), T0);
  EXPECT_EQ(r.action, Action::resume_after_blind);
  EXPECT_EQ(r.reason, "metrics_restored");
  // No check applies any more (removed from the config, or canary-guard.io/checks: none): nothing to be blind
  // about, and a pause left behind would stop the Deployment for good.
  s.metrics_required = false;
  r = decide(s, policy(), T0);
  EXPECT_EQ(r.action, Action::resume_after_blind);
  EXPECT_EQ(r.reason, "metrics_not_applicable");
  // Dry-run never writes; a blind hold keeps the pause.
  auto dry = policy();
  dry.dry_run = true;
  EXPECT_NE(decide(s, dry, T0).action, Action::resume_after_blind);
  s.hold = Finding{"metrics_blind", "no decisive outcome"};
  EXPECT_EQ(decide(s, policy(), T0).action, Action::hold);
  s.hold.reset();
  s.metrics_required = true;
  s.failure = Finding{"pod_signal:crash_loop", "x"};  // a failure is rolled back; the rollback lifts the pause
  EXPECT_EQ(decide(s, policy(), T0).action, Action::rollback);
  // A person's pause is theirs: never paused or resumed by the guard.
  s = snap({rev("a", 1, Verdict::healthy), rev("b", 2)}, "b");
  s.hold = Finding{"metrics_blind", "no decisive outcome"};
  s.pause_when_blind = true;
  s.paused = true;
  EXPECT_EQ(decide(s, policy(), T0).action, Action::hold);
  s.pause_when_blind = false;
  s.paused = false;
  EXPECT_EQ(decide(s, policy(), T0).action, Action::hold);
}

// Alertmanager alerts (issue #12 §1): an alert that fired since the revision started fails a revision under bake or
// analysis; a verified revision is held (on-call decides) unless act_on_healthy; other evidence comes first.
TEST(Decide, AlertRollsBackARevisionNotYetVerified) {
  auto s = snap({rev("a", 1, Verdict::healthy), rev("b", 2)}, "b");
  s.alert = Finding{"alert:HighErrorRatio", "alert HighErrorRatio (severity page) firing since x: 5xx above 5%"};
  auto d = decide(s, policy(), T0);
  ASSERT_EQ(d.action, Action::rollback);
  EXPECT_EQ(d.reason, "alert:HighErrorRatio");
  EXPECT_EQ(d.target->hash, "a");
  EXPECT_NE(d.message.find("HighErrorRatio"), std::string::npos) << d.message;
}

TEST(Decide, AlertOnAVerifiedRevisionHoldsUnlessActOnHealthy) {
  auto s = snap({rev("a", 1, Verdict::healthy), rev("b", 2, Verdict::healthy)}, "b");
  s.alert = Finding{"alert:HighErrorRatio", "alert HighErrorRatio firing"};
  auto d = decide(s, policy(), T0);
  EXPECT_EQ(d.action, Action::hold);
  EXPECT_EQ(d.reason, "alert_on_healthy");
  EXPECT_NE(d.message.find("on-call decides"), std::string::npos) << d.message;
  s.act_on_healthy = true;
  d = decide(s, policy(), T0);
  ASSERT_EQ(d.action, Action::rollback);
  EXPECT_EQ(d.target->hash, "a");
  // The only healthy revision is the current one: nothing to go back to.
  auto lone = snap({rev("b", 2, Verdict::healthy)}, "b");
  lone.alert = s.alert;
  lone.act_on_healthy = true;
  d = decide(lone, policy(), T0);
  EXPECT_EQ(d.action, Action::hold);
  EXPECT_EQ(d.reason, "no_healthy_revision");
  // A verified revision's own probes never judge it, alert or not.
  auto probe_only = snap({rev("a", 1, Verdict::healthy), rev("b", 2, Verdict::healthy)}, "b");
  probe_only.failure = Finding{"pod_signal:crash_loop", "x"};
  probe_only.act_on_healthy = true;
  EXPECT_EQ(decide(probe_only, policy(), T0).action, Action::none);
}

// Issue #12 §1: a heartbeat that stops makes the alert channel blind; its silence is never healthy evidence. A baked
// revision is held unverified (never paused), a failing one still rolls back, a verified one is not touched.
TEST(Decide, AlertChannelBlindHoldsTheVerdictNotTheRollback) {
  auto s = snap({rev("a", 1, Verdict::healthy), rev("b", 2)}, "b");
  s.hold = Finding{"alerts_blind", "the alert channel is blind"};
  s.rollout_complete = true;
  s.complete_since = T0 - 1h;  // baked long ago
  s.pause_when_blind = true;
  auto d = decide(s, policy(), T0);
  EXPECT_EQ(d.action, Action::hold);
  EXPECT_EQ(d.reason, "alerts_blind");
  EXPECT_NE(d.message.find("not verified healthy until the heartbeat returns"), std::string::npos) << d.message;
  s.rollout_complete = false;  // rolling out: still never paused for the alert channel
  EXPECT_EQ(decide(s, policy(), T0).action, Action::hold);
  s.failure = Finding{"pod_signal:crash_loop", "x"};
  d = decide(s, policy(), T0);
  EXPECT_EQ(d.action, Action::rollback);
  EXPECT_EQ(d.reason, "pod_signal:crash_loop");
  auto verified = snap({rev("a", 1, Verdict::healthy), rev("b", 2, Verdict::healthy)}, "b");
  verified.hold = s.hold;
  verified.rollout_complete = true;
  EXPECT_EQ(decide(verified, policy(), T0).action, Action::none);
}

TEST(Decide, AlertYieldsToOtherEvidenceAndToHolds) {
  auto s = snap({rev("a", 1, Verdict::healthy), rev("b", 2)}, "b");
  s.alert = Finding{"alert:X", "alert X firing"};
  s.failure = Finding{"progress_deadline", "x"};
  EXPECT_EQ(decide(s, policy(), T0).reason, "progress_deadline");
  s.failure.reset();
  s.paused = true;
  EXPECT_EQ(decide(s, policy(), T0).reason, "paused");
  s.paused = false;
  s.status_current = false;
  EXPECT_EQ(decide(s, policy(), T0).action, Action::none);
  s.status_current = true;
  auto p = policy();
  p.dry_run = true;
  auto d = decide(s, p, T0);
  EXPECT_EQ(d.action, Action::rollback);
  EXPECT_TRUE(d.dry_run);
}
