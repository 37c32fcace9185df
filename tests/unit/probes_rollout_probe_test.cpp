// The progress-deadline probe: controller condition, own timer, holds, stale status (spec/probes.md §4.3).
#include <gtest/gtest.h>

#include <limits>

#include "probes/rollout_probe.hpp"

namespace canary_guard::probes {
namespace {

using namespace std::chrono_literals;
const TimePoint kStart{std::chrono::seconds{1'700'000'000}};

DeploymentView rolling() {
  DeploymentView d;
  d.meta.name = "checkout";
  d.meta.generation = 2;
  d.observed_generation = 2;
  d.spec_replicas = 3;
  d.replicas = 4;
  d.updated_replicas = 1;
  d.available_replicas = 3;
  d.progress_deadline_seconds = 600;
  return d;
}

void make_complete(DeploymentView& d) { d.replicas = d.updated_replicas = d.available_replicas = d.spec_replicas; }

Condition cond(std::string type, std::string status, std::string reason, TimePoint t) {
  return Condition{std::move(type), std::move(status), std::move(reason), t, t};
}

TEST(DeploymentProgress, StaleStatusIsInconclusiveEvenPastDeadline) {
  auto d = rolling();
  d.meta.generation = 3;
  d.conditions = {cond("Progressing", "False", "ProgressDeadlineExceeded", kStart)};
  auto r = evaluate_deployment_progress(d, kStart, kStart + 1h);
  EXPECT_EQ(r.outcome, Outcome::inconclusive);
  EXPECT_EQ(r.reason, "stale_status");
  EXPECT_FALSE(r.hold);
  EXPECT_FALSE(next_deadline(d, kStart));
}

TEST(DeploymentProgress, CompletePasses) {
  auto d = rolling();
  make_complete(d);
  auto r = evaluate_deployment_progress(d, kStart, kStart + 1h);
  EXPECT_EQ(r.outcome, Outcome::pass);
  EXPECT_EQ(r.reason, "complete");
  // A leftover deadline condition does not fail a complete Deployment.
  d.conditions = {cond("Progressing", "False", "ProgressDeadlineExceeded", kStart)};
  EXPECT_EQ(evaluate_deployment_progress(d, kStart, kStart + 1h).outcome, Outcome::pass);
  // Old replicas still running: not complete.
  d.replicas = 4;
  EXPECT_NE(evaluate_deployment_progress(d, kStart, kStart + 1s).outcome, Outcome::pass);
}

TEST(DeploymentProgress, ControllerDeadlineFails) {
  auto d = rolling();
  d.conditions = {cond("Progressing", "False", "ProgressDeadlineExceeded", kStart + 10s)};
  auto r = evaluate_deployment_progress(d, kStart, kStart + 11s);
  EXPECT_EQ(r.outcome, Outcome::fail);
  EXPECT_EQ(r.reason, "progress_deadline");
  // Needs status False (unlike kubectl, which ignores it).
  d.conditions = {cond("Progressing", "Unknown", "ProgressDeadlineExceeded", kStart + 10s)};
  EXPECT_EQ(evaluate_deployment_progress(d, kStart, kStart + 11s).outcome, Outcome::inconclusive);
}

TEST(DeploymentProgress, StaleControllerDeadlineAfterUndoIsIgnored) {
  const TimePoint patch = kStart + 5s;
  auto d = rolling();
  d.conditions = {cond("Progressing", "False", "ProgressDeadlineExceeded", patch - 1ms)};
  auto r = evaluate_deployment_progress(d, patch, patch + 1s, patch);
  EXPECT_EQ(r.outcome, Outcome::inconclusive);
  EXPECT_EQ(r.reason, "progressing");
  d.conditions = {cond("Progressing", "False", "ProgressDeadlineExceeded", patch)};
  EXPECT_EQ(evaluate_deployment_progress(d, patch, patch + 1s, patch).outcome, Outcome::fail);
}

TEST(DeploymentProgress, OwnTimerExactBoundary) {
  auto d = rolling();  // deadline 600 s, no condition at all (controller late)
  ASSERT_EQ(next_deadline(d, kStart), kStart + 600s);
  auto before = evaluate_deployment_progress(d, kStart, kStart + 600s - 1ms);
  EXPECT_EQ(before.outcome, Outcome::inconclusive);
  EXPECT_EQ(before.reason, "progressing");
  auto at = evaluate_deployment_progress(d, kStart, kStart + 600s);
  EXPECT_EQ(at.outcome, Outcome::fail);
  EXPECT_EQ(at.reason, "progress_deadline");
}

TEST(DeploymentProgress, OwnTimerCountsFromLastProgress) {
  auto d = rolling();
  d.conditions = {cond("Progressing", "True", "ReplicaSetUpdated", kStart + 500s)};
  EXPECT_EQ(next_deadline(d, kStart), kStart + 1100s);
  EXPECT_EQ(evaluate_deployment_progress(d, kStart, kStart + 1099s).outcome, Outcome::inconclusive);
  EXPECT_EQ(evaluate_deployment_progress(d, kStart, kStart + 1100s).outcome, Outcome::fail);
  // A Progressing=True from before the revision start does not move the anchor back.
  d.conditions = {cond("Progressing", "True", "NewReplicaSetAvailable", kStart - 1h)};
  EXPECT_EQ(next_deadline(d, kStart), kStart + 600s);
}

// A person pauses a rolling update (the manual canary) for longer than progressDeadlineSeconds and resumes it. The
// controller times nothing out while paused and restarts the deadline at the resume (checkPausedConditions writes
// Progressing=Unknown DeploymentResumed; DeploymentTimedOut and requeueStuckDeployment count from its
// lastUpdateTime). The own timer follows exactly those rules. Deadline 10 s; v2 started at kStart, paused at +3 s,
// resumed at +40 s. The same conditions appear around the guard's own pause_when_blind pause and resume.
TEST(DeploymentProgress, PauseLongerThanTheDeadlineThenResumeRestartsTheDeadline) {
  const TimePoint paused_at = kStart + 3s, resumed_at = kStart + 40s;
  struct Row {
    const char* what;
    bool paused;
    Condition progressing;
    TimePoint now;
    Outcome outcome;
    const char* reason;
    std::optional<TimePoint> next;
  };
  const std::vector<Row> rows = {
      {"progressing before the pause", false, cond("Progressing", "True", "ReplicaSetUpdated", kStart + 2s),
       kStart + 5s, Outcome::inconclusive, "progressing", kStart + 12s},
      {"paused, well past the deadline", true, cond("Progressing", "Unknown", "DeploymentPaused", paused_at),
       kStart + 39s, Outcome::inconclusive, "paused", std::nullopt},
      {"just resumed", false, cond("Progressing", "Unknown", "DeploymentResumed", resumed_at), resumed_at,
       Outcome::inconclusive, "progressing", resumed_at + 10s},
      {"resumed, 1 ms before the new deadline", false, cond("Progressing", "Unknown", "DeploymentResumed", resumed_at),
       resumed_at + 10s - 1ms, Outcome::inconclusive, "progressing", resumed_at + 10s},
      {"resumed, no progress for a whole deadline", false,
       cond("Progressing", "Unknown", "DeploymentResumed", resumed_at), resumed_at + 10s, Outcome::fail,
       "progress_deadline", resumed_at + 10s},
      {"progress after the resume moves it again", false,
       cond("Progressing", "True", "ReplicaSetUpdated", resumed_at + 8s), resumed_at + 10s, Outcome::inconclusive,
       "progressing", resumed_at + 18s},
  };
  for (const auto& row : rows) {
    SCOPED_TRACE(row.what);
    auto d = rolling();
    d.progress_deadline_seconds = 10;
    d.paused = row.paused;
    d.conditions = {row.progressing};
    const auto r = evaluate_deployment_progress(d, kStart, row.now);
    EXPECT_EQ(r.outcome, row.outcome);
    EXPECT_EQ(r.reason, row.reason);
    EXPECT_EQ(next_deadline(d, kStart), row.next);
  }
}

TEST(DeploymentProgress, NoDeadlineNoTimer) {
  for (std::optional<std::int32_t> pds :
       {std::optional<std::int32_t>{}, std::optional<std::int32_t>{std::numeric_limits<std::int32_t>::max()},
        std::optional<std::int32_t>{0}}) {
    auto d = rolling();
    d.progress_deadline_seconds = pds;
    EXPECT_FALSE(next_deadline(d, kStart));
    EXPECT_FALSE(deployment_progress_deadline(d));
    EXPECT_EQ(evaluate_deployment_progress(d, kStart, kStart + 24h * 365).outcome, Outcome::inconclusive);
  }
  auto d = rolling();
  d.progress_deadline_seconds = std::numeric_limits<std::int32_t>::max() - 1;
  EXPECT_EQ(deployment_progress_deadline(d), std::chrono::seconds{std::numeric_limits<std::int32_t>::max() - 1});
}

TEST(DeploymentProgress, PausedHolds) {
  auto d = rolling();
  d.paused = true;
  d.conditions = {cond("Progressing", "False", "ProgressDeadlineExceeded", kStart)};
  auto r = evaluate_deployment_progress(d, kStart, kStart + 1h);
  EXPECT_EQ(r.outcome, Outcome::inconclusive);
  EXPECT_EQ(r.reason, "paused");
  EXPECT_TRUE(r.hold);
}

TEST(DeploymentProgress, ReplicaFailureHoldsUntilDeadline) {
  auto d = rolling();
  d.conditions = {cond("ReplicaFailure", "True", "FailedCreate", kStart)};
  auto r = evaluate_deployment_progress(d, kStart, kStart + 10s);
  EXPECT_EQ(r.outcome, Outcome::inconclusive);
  EXPECT_EQ(r.reason, "replica_failure");
  EXPECT_TRUE(r.hold);
  d.conditions[0].status = "False";
  EXPECT_FALSE(evaluate_deployment_progress(d, kStart, kStart + 10s).hold);
  d.conditions[0].status = "True";
  EXPECT_EQ(evaluate_deployment_progress(d, kStart, kStart + 600s).outcome, Outcome::fail);
}

TEST(DeploymentProgress, FarFutureDoesNotOverflow) {
  auto d = rolling();
  const TimePoint far{TimePoint::duration{std::numeric_limits<TimePoint::rep>::max() - 1000}};
  EXPECT_FALSE(next_deadline(d, far));
  EXPECT_EQ(evaluate_deployment_progress(d, far, far).outcome, Outcome::inconclusive);
  EXPECT_FALSE(add_saturating(far, 1001ms));
  EXPECT_TRUE(add_saturating(far, 1000ms));  // exactly the maximum still fits
  EXPECT_EQ(add_saturating(kStart, 1s), kStart + 1s);
}

DaemonSetView ds_rolling() {
  DaemonSetView ds;
  ds.meta.name = "agent";
  ds.meta.generation = 5;
  ds.observed_generation = 5;
  ds.update_strategy = "RollingUpdate";
  ds.desired_number_scheduled = 3;
  ds.updated_number_scheduled = 1;
  ds.number_available = 2;
  return ds;
}

TEST(DaemonSetProgress, Table) {
  config::Policy policy;  // daemonset_progress_deadline 600 s
  struct Case {
    const char* name;
    void (*mutate)(DaemonSetView&);
    Duration at;
    Outcome outcome;
    const char* reason;
  };
  const std::vector<Case> cases = {
      {"progressing", [](DaemonSetView&) {}, 599'999ms, Outcome::inconclusive, "progressing"},
      {"deadline exactly", [](DaemonSetView&) {}, 600s, Outcome::fail, "progress_deadline"},
      {"complete", [](DaemonSetView& d) { d.updated_number_scheduled = d.number_available = 3; }, 1h, Outcome::pass,
       "complete"},
      {"stale", [](DaemonSetView& d) { d.meta.generation = 6; }, 1h, Outcome::inconclusive, "stale_status"},
      {"on delete", [](DaemonSetView& d) { d.update_strategy = "OnDelete"; }, 1h, Outcome::inconclusive,
       "on_delete"},
      {"zero nodes", [](DaemonSetView& d) { d.desired_number_scheduled = d.updated_number_scheduled = d.number_available = 0; },
       1h, Outcome::pass, "complete"},
  };
  for (const Case& c : cases) {
    auto ds = ds_rolling();
    c.mutate(ds);
    auto r = evaluate_daemonset_progress(ds, policy, kStart, kStart + c.at);
    EXPECT_EQ(r.outcome, c.outcome) << c.name;
    EXPECT_EQ(r.reason, c.reason) << c.name;
  }
}

TEST(DaemonSetProgress, LastProgressMovesDeadline) {
  config::Policy policy;
  policy.daemonset_progress_deadline = 60s;
  auto ds = ds_rolling();
  EXPECT_EQ(next_deadline(ds, policy, kStart), kStart + 60s);
  EXPECT_EQ(next_deadline(ds, policy, kStart, kStart + 30s), kStart + 90s);
  EXPECT_EQ(next_deadline(ds, policy, kStart, kStart - 30s), kStart + 60s);
  EXPECT_EQ(evaluate_daemonset_progress(ds, policy, kStart, kStart + 60s, kStart + 30s).outcome,
            Outcome::inconclusive);
  EXPECT_EQ(evaluate_daemonset_progress(ds, policy, kStart, kStart + 90s, kStart + 30s).outcome, Outcome::fail);
  policy.daemonset_progress_deadline = 0s;  // disabled
  EXPECT_FALSE(next_deadline(ds, policy, kStart));
  EXPECT_EQ(evaluate_daemonset_progress(ds, policy, kStart, kStart + 24h).outcome, Outcome::inconclusive);
}

TEST(DaemonSetProgress, Progressed) {
  auto a = ds_rolling();
  auto b = a;
  EXPECT_FALSE(daemonset_progressed(a, b));
  b.number_available++;
  EXPECT_TRUE(daemonset_progressed(a, b));
  b = a;
  b.updated_number_scheduled++;
  EXPECT_TRUE(daemonset_progressed(a, b));
  b = a;
  b.number_available--;
  EXPECT_FALSE(daemonset_progressed(a, b));
}

TEST(DeploymentProgress, CompletedRolloutThatDipsIsNotTimedOut) {
  // isCompleteDeployment: Progressing reason NewReplicaSetAvailable and replicas == updatedReplicas. An HPA scales
  // 3 -> 5 long after the deadline: the controller never estimates progress again, and neither does the own timer.
  auto d = rolling();
  d.spec_replicas = 5;
  d.replicas = d.updated_replicas = 5;
  d.available_replicas = 3;
  d.conditions = {cond("Progressing", "True", "NewReplicaSetAvailable", kStart)};
  auto r = evaluate_deployment_progress(d, kStart, kStart + 1h);
  EXPECT_EQ(r.outcome, Outcome::inconclusive);
  EXPECT_EQ(r.reason, "available_dip");
  EXPECT_FALSE(r.hold);
  EXPECT_FALSE(next_deadline(d, kStart));
  // Old replicas still there (a rollout in progress): estimated as usual.
  d.replicas = 6;
  EXPECT_EQ(evaluate_deployment_progress(d, kStart, kStart + 1h).outcome, Outcome::fail);
  // The guard saw it complete before: no own timer either, whatever the reason says now.
  d.replicas = 5;
  d.conditions = {cond("Progressing", "True", "ReplicaSetUpdated", kStart)};
  EXPECT_EQ(evaluate_deployment_progress(d, kStart, kStart + 1h).outcome, Outcome::fail);
  EXPECT_EQ(evaluate_deployment_progress(d, kStart, kStart + 1h, std::nullopt, /*completed_before=*/true).reason,
            "available_dip");
  EXPECT_FALSE(next_deadline(d, kStart, /*completed_before=*/true));
}

TEST(DeploymentProgress, LaggingStatusStopsOnlyTheOwnTimer) {
  auto d = rolling();
  auto r = evaluate_deployment_progress(d, kStart, kStart + 601s, std::nullopt, false, /*status_lags=*/true);
  EXPECT_EQ(r.outcome, Outcome::inconclusive);
  EXPECT_EQ(r.reason, "progressing");
  d.conditions = {cond("Progressing", "False", "ProgressDeadlineExceeded", kStart + 600s)};
  EXPECT_EQ(evaluate_deployment_progress(d, kStart, kStart + 601s, std::nullopt, false, true).outcome, Outcome::fail);
}

TEST(DaemonSetProgress, CompletedBeforeIsNotTimedOut) {
  auto ds = ds_rolling();
  config::Policy p;
  p.daemonset_progress_deadline = std::chrono::seconds{30};
  EXPECT_EQ(evaluate_daemonset_progress(ds, p, kStart, kStart + 31s).outcome, Outcome::fail);
  auto r = evaluate_daemonset_progress(ds, p, kStart, kStart + 31s, std::nullopt, /*completed_before=*/true);
  EXPECT_EQ(r.outcome, Outcome::inconclusive);
  EXPECT_EQ(r.reason, "available_dip");
  EXPECT_FALSE(next_deadline(ds, p, kStart, std::nullopt, true));
  EXPECT_EQ(evaluate_daemonset_progress(ds, p, kStart, kStart + 31s, std::nullopt, false, /*status_lags=*/true).outcome,
            Outcome::inconclusive);
}

TEST(Outcome, Tokens) {
  EXPECT_EQ(to_string(Outcome::pass), "pass");
  EXPECT_EQ(to_string(Outcome::fail), "fail");
  EXPECT_EQ(to_string(Outcome::inconclusive), "inconclusive");
  EXPECT_EQ(to_string(Outcome::no_data), "no_data");
  EXPECT_EQ(to_string(Outcome::error), "error");
  EXPECT_TRUE(is_decisive(Outcome::pass));
  EXPECT_TRUE(is_decisive(Outcome::fail));
  EXPECT_FALSE(is_decisive(Outcome::no_data));
  EXPECT_FALSE(is_decisive(Outcome::error));
  EXPECT_FALSE(is_decisive(Outcome::inconclusive));
}

}  // namespace
}  // namespace canary_guard::probes
