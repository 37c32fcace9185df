// Pod fast-failure signals (spec/probes.md §4.2, §4.3): every reason, grace edges, baselines, deleted pods,
// init containers.
#include <gtest/gtest.h>

#include "probes/pod_signals.hpp"

namespace canary_guard::probes {
namespace {

using namespace std::chrono_literals;
const TimePoint kStart{std::chrono::seconds{1'700'000'000}};
const std::chrono::seconds kDeadline{600};

ContainerStateView waiting(std::string reason, std::int32_t restarts = 0, bool init = false) {
  ContainerStateView c;
  c.waiting_reason = std::move(reason);
  c.restart_count = restarts;
  c.init = init;
  return c;
}
ContainerStateView running(bool ready = true, std::int32_t restarts = 0) {
  ContainerStateView c;
  c.running = true;
  c.ready = ready;
  c.restart_count = restarts;
  return c;
}

PodView pod(std::string name, std::vector<ContainerStateView> containers, TimePoint created = kStart + 1s) {
  PodView p;
  p.meta.name = name;
  p.meta.uid = "uid-" + name;
  p.meta.ns = "shop";
  p.meta.created = created;
  p.phase = "Running";
  bool all_ready = true;
  for (const auto& c : containers) all_ready = all_ready && c.ready;
  p.conditions = {Condition{"PodScheduled", "True", "", created, created},
                  Condition{"Ready", all_ready ? "True" : "False", all_ready ? "" : "ContainersNotReady", created,
                            created}};
  p.containers = std::move(containers);
  return p;
}

struct Harness {
  PodSignalTracker tracker{kStart};
  config::PodPolicy policy;
  ProbeResult at(const std::vector<PodView>& pods, TimePoint now) {
    std::vector<const PodView*> ptrs;
    for (const auto& p : pods) ptrs.push_back(&p);
    tracker.observe(ptrs, now);
    return tracker.evaluate(policy, kDeadline, now);
  }
  ProbeResult eval(TimePoint now) const { return tracker.evaluate(policy, kDeadline, now); }
  std::optional<TimePoint> next(TimePoint now) const { return tracker.next_check(policy, kDeadline, now); }
};

TEST(PodSignals, EmptyPodListIsNoData) {
  Harness h;
  auto r = h.at({}, kStart);
  EXPECT_EQ(r.outcome, Outcome::no_data);
  EXPECT_FALSE(h.next(kStart));
}

TEST(PodSignals, HealthyAndBenignPodsPass) {
  Harness h;
  auto r = h.at({pod("a", {running()}), pod("b", {waiting("ContainerCreating")}),
                 pod("c", {waiting("PodInitializing")})},
                kStart);
  EXPECT_EQ(r.outcome, Outcome::pass);
  EXPECT_EQ(r.reason, "");
  // Benign waits stay benign forever (bounded by the rollout deadline, not here).
  EXPECT_EQ(h.eval(kStart + 24h).outcome, Outcome::pass);
}

TEST(PodSignals, InvalidImageFailsImmediately) {
  for (const char* reason : {"InvalidImageName", "ErrImageNeverPull"}) {
    Harness h;
    auto r = h.at({pod("a", {waiting(reason)})}, kStart);
    EXPECT_EQ(r.outcome, Outcome::fail) << reason;
    EXPECT_EQ(r.reason, "invalid_image") << reason;
    EXPECT_NE(r.detail.find(reason), std::string::npos);
  }
}

TEST(PodSignals, GraceSignalsFailOnlyAfterTheBoundary) {
  struct Case {
    const char* waiting_reason;
    const char* reason;
    std::chrono::seconds grace;
  };
  const std::vector<Case> cases = {
      {"ErrImagePull", "image_pull", 120s},
      {"ImagePullBackOff", "image_pull", 120s},
      {"CreateContainerConfigError", "config_error", 60s},
      {"CreateContainerError", "config_error", 60s},
      {"RunContainerError", "config_error", 60s},
      {"PreStartHookError", "config_error", 60s},
      {"PostStartHookError", "config_error", 60s},
      {"SomeRuntimeSpecificReason", "other", kDeadline},
  };
  for (const Case& c : cases) {
    Harness h;
    const std::vector<PodView> pods = {pod("a", {waiting(c.waiting_reason)})};
    auto r = h.at(pods, kStart);
    EXPECT_EQ(r.outcome, Outcome::inconclusive) << c.waiting_reason;
    EXPECT_EQ(r.reason, c.reason) << c.waiting_reason;
    EXPECT_EQ(h.next(kStart), kStart + c.grace + 1ms) << c.waiting_reason;
    // Exactly at the grace: not yet ("longer than").
    EXPECT_EQ(h.at(pods, kStart + c.grace).outcome, Outcome::inconclusive) << c.waiting_reason;
    auto f = h.at(pods, kStart + c.grace + 1ms);
    EXPECT_EQ(f.outcome, Outcome::fail) << c.waiting_reason;
    EXPECT_EQ(f.reason, c.reason) << c.waiting_reason;
    EXPECT_FALSE(h.next(kStart + c.grace + 1ms)) << c.waiting_reason;
  }
}

TEST(PodSignals, ImagePullPersistenceSpansBothReasonsAndResets) {
  Harness h;
  h.at({pod("a", {waiting("ErrImagePull")})}, kStart);
  h.at({pod("a", {waiting("ImagePullBackOff")})}, kStart + 60s);
  EXPECT_EQ(h.at({pod("a", {waiting("ErrImagePull")})}, kStart + 121s).outcome, Outcome::fail);

  Harness g;
  g.at({pod("a", {waiting("ErrImagePull")})}, kStart);
  g.at({pod("a", {waiting("ContainerCreating")})}, kStart + 60s);  // pulled, then a new failure: restart clock
  EXPECT_EQ(g.at({pod("a", {waiting("ErrImagePull")})}, kStart + 100s).outcome, Outcome::inconclusive);
  EXPECT_EQ(g.eval(kStart + 220s).outcome, Outcome::inconclusive);
  EXPECT_EQ(g.eval(kStart + 220s + 1ms).outcome, Outcome::fail);
}

TEST(PodSignals, GraceUsesPolicy) {
  Harness h;
  h.policy.image_pull_grace = 0s;
  const std::vector<PodView> pods = {pod("a", {waiting("ImagePullBackOff")})};
  EXPECT_EQ(h.at(pods, kStart).outcome, Outcome::inconclusive);
  EXPECT_EQ(h.at(pods, kStart + 1ms).outcome, Outcome::fail);
}

TEST(PodSignals, CrashLoopThreshold) {
  Harness h;
  auto r = h.at({pod("a", {waiting("CrashLoopBackOff", 2)})}, kStart);
  EXPECT_EQ(r.outcome, Outcome::inconclusive);
  EXPECT_EQ(r.reason, "crash_loop");
  r = h.at({pod("a", {waiting("CrashLoopBackOff", 3)})}, kStart + 40s);
  EXPECT_EQ(r.outcome, Outcome::fail);
  EXPECT_EQ(r.reason, "crash_loop");
  // Restarts alone, while running, are not CrashLoopBackOff.
  EXPECT_EQ(h.at({pod("a", {running(true, 5)})}, kStart + 60s).outcome, Outcome::pass);
}

TEST(PodSignals, PodOfThisRevisionSeenLateKeepsAllRestarts) {
  Harness h;  // created after the revision start: baseline 0 even on a late first sighting
  EXPECT_EQ(h.at({pod("a", {waiting("CrashLoopBackOff", 3)})}, kStart + 5min).outcome, Outcome::fail);
}

TEST(PodSignals, PodFromBeforeTheRevisionUsesFirstSightingBaseline) {
  Harness h;
  const TimePoint old = kStart - 1h;
  EXPECT_EQ(h.at({pod("a", {waiting("CrashLoopBackOff", 5)}, old)}, kStart).outcome, Outcome::inconclusive);
  EXPECT_EQ(h.at({pod("a", {waiting("CrashLoopBackOff", 7)}, old)}, kStart + 1min).outcome, Outcome::inconclusive);
  EXPECT_EQ(h.at({pod("a", {waiting("CrashLoopBackOff", 8)}, old)}, kStart + 2min).outcome, Outcome::fail);
  // A pod created exactly at the revision start belongs to the revision.
  Harness g;
  EXPECT_EQ(g.at({pod("b", {waiting("CrashLoopBackOff", 3)}, kStart)}, kStart).outcome, Outcome::fail);
}

TEST(PodSignals, CrashLoopThresholdFromPolicy) {
  Harness h;
  h.policy.crashloop_restarts = 1;
  EXPECT_EQ(h.at({pod("a", {waiting("CrashLoopBackOff", 1)})}, kStart).outcome, Outcome::fail);
}

// crashloop_unready_restarts (default 2): CrashLoopBackOff after 2 restarts in a pod of the revision that was never
// Ready fails at once; the evidence for "never Ready" is a Ready=False seen before any restart whose
// lastTransitionTime has not moved since. Timelines follow the kubelet's back-off (first restart at once, then
// 10 s, 20 s ...) for a container that runs 1 s per attempt; the pod is created at 1 s and Ready=False since 1 s.
TEST(PodSignals, CrashLoopNeverReadyRule) {
  struct Sighting {
    std::chrono::milliseconds at;
    ContainerStateView c;
    std::string ready;  // Ready condition status; "" = no Ready condition
    std::chrono::milliseconds ready_since = 1s;
  };
  struct Case {
    std::string name;
    std::vector<Sighting> sightings;
    Outcome want;
    std::int32_t unready_restarts = 2;
    std::int32_t restarts = 3;
    TimePoint created = kStart + 1s;
  };
  const auto clbo = [](std::int32_t n) { return waiting("CrashLoopBackOff", n); };
  const std::vector<Case> cases = {
      {"crash loop, never Ready: fails after 2 restarts",
       {{1s, running(false), "False"}, {2s, running(false, 1), "False"}, {3s, clbo(1), "False"},
        {12s, running(false, 2), "False"}, {13s, clbo(2), "False"}},
       Outcome::fail},
      {"boundary: back-off after 1 restart is not yet",
       {{1s, running(false), "False"}, {2s, running(false, 1), "False"}, {3s, clbo(1), "False"}},
       Outcome::inconclusive},
      {"boundary: running after its 2nd restart is no CrashLoopBackOff",
       {{1s, running(false), "False"}, {3s, clbo(1), "False"}, {12s, running(false, 2), "False"}},
       Outcome::pass},
      {"crashes once at start-up, then Ready",
       {{1s, running(false), "False"}, {2s, running(false, 1), "False"}, {3s, running(true, 1), "True", 3s}},
       Outcome::pass},
      {"crashes twice at start-up, then Ready",
       {{1s, running(false), "False"}, {2s, running(false, 1), "False"}, {3s, clbo(1), "False"},
        {12s, running(false, 2), "False"}, {13s, running(true, 2), "True", 13s}},
       Outcome::pass},
      {"was Ready, then 2 restarts: only crashloop_restarts applies",
       {{1s, running(false), "False"}, {3s, running(true), "True", 3s}, {60s, running(false, 1), "False", 60s},
        {61s, clbo(1), "False", 60s}, {72s, clbo(2), "False", 60s}},
       Outcome::inconclusive},
      {"was Ready, then 3 restarts: crashloop_restarts fails it",
       {{1s, running(false), "False"}, {3s, running(true), "True", 3s}, {61s, clbo(1), "False", 60s},
        {93s, clbo(3), "False", 60s}},
       Outcome::fail},
      {"Ready between two sightings (transition time moved)",
       {{1s, running(false), "False"}, {13s, clbo(2), "False", 10s}},
       Outcome::inconclusive},
      {"first seen after a restart (guard restarted): no evidence",
       {{3s, clbo(1), "False"}, {13s, clbo(2), "False"}},
       Outcome::inconclusive},
      {"first seen at 2 restarts: no evidence", {{13s, clbo(2), "False"}}, Outcome::inconclusive},
      {"Ready condition appears only after the first restart",
       {{1s, running(false), ""}, {2s, running(false, 1), "False"}, {13s, clbo(2), "False"}},
       Outcome::inconclusive},
      {"no Ready condition at all", {{1s, running(false), ""}, {13s, clbo(2), ""}}, Outcome::inconclusive},
      {"Ready Unknown (node lost) is no evidence",
       {{1s, running(false), "False"}, {13s, clbo(2), "Unknown", 12s}},
       Outcome::inconclusive},
      {"rule off (0)",
       {{1s, running(false), "False"}, {13s, clbo(2), "False"}},
       Outcome::inconclusive,
       0},
      {"threshold 3: 2 restarts are not enough",
       {{1s, running(false), "False"}, {13s, clbo(2), "False"}},
       Outcome::inconclusive,
       3},
      {"threshold 1: one restart in back-off is enough",
       {{1s, running(false), "False"}, {3s, clbo(1), "False"}},
       Outcome::fail,
       1},
      {"pod from before the revision, first seen after restarts: no evidence",
       {{1s, running(false, 5), "False"}, {13s, clbo(7), "False"}},
       Outcome::inconclusive,
       2,
       3,
       kStart - 1h},
      {"pod from before the revision (a lagging revision start), never restarted, never Ready: evidence",
       {{1s, running(false), "False"}, {13s, clbo(2), "False"}},
       Outcome::fail,
       2,
       3,
       kStart - 1s},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Harness h;
    h.policy.crashloop_unready_restarts = c.unready_restarts;
    h.policy.crashloop_restarts = c.restarts;
    ProbeResult r;
    for (const Sighting& s : c.sightings) {
      PodView p = pod("a", {s.c}, c.created);
      p.conditions.pop_back();  // the helper's Ready; replaced as the sighting says
      if (!s.ready.empty())
        p.conditions.push_back(Condition{"Ready", s.ready, s.ready == "True" ? "" : "ContainersNotReady",
                                         kStart + s.ready_since, kStart + s.ready_since});
      r = h.at({p}, kStart + s.at);
    }
    EXPECT_EQ(r.outcome, c.want) << r.detail;
    if (r.outcome == Outcome::fail) {
      EXPECT_EQ(r.reason, "crash_loop");
    }
  }
}

// The guard's revision start may carry milliseconds; creationTimestamp has whole seconds. A pod created in the same
// second belongs to the revision (all its restarts count: baseline 0); one a second earlier does not (baseline = its
// restartCount when first seen, here 1).
TEST(PodSignals, RevisionStartWithMillisecondsAndPodsWithWholeSeconds) {
  struct Case {
    std::chrono::milliseconds created;  // relative to kStart; the revision started at kStart + 500 ms
    Outcome want;
  };
  for (const Case& c : {Case{0ms, Outcome::fail}, Case{1000ms, Outcome::fail}, Case{-1000ms, Outcome::inconclusive}}) {
    PodSignalTracker t{kStart + 500ms};
    config::PodPolicy policy;
    PodView p = pod("a", {running(false, 1)}, kStart + c.created);
    t.observe({&p}, kStart + 1s);
    p.containers = {waiting("CrashLoopBackOff", 3)};
    t.observe({&p}, kStart + 13s);
    EXPECT_EQ(t.evaluate(policy, kDeadline, kStart + 13s).outcome, c.want) << c.created.count();
  }
}

TEST(PodSignals, CrashLoopNeverReadyDetail) {
  Harness h;
  PodView p = pod("a", {running(false)});
  h.at({p}, kStart + 1s);
  p.containers = {waiting("CrashLoopBackOff", 2)};
  const auto r = h.at({p}, kStart + 13s);
  EXPECT_EQ(r.outcome, Outcome::fail);
  EXPECT_EQ(r.detail, "pod a container 0 waiting CrashLoopBackOff after 2 restarts, never Ready");
  // The classic threshold says nothing about Ready.
  p.containers = {waiting("CrashLoopBackOff", 3)};
  EXPECT_EQ(h.at({p}, kStart + 34s).detail, "pod a container 0 waiting CrashLoopBackOff after 3 restarts");
}

ContainerStateView oom(std::int32_t restarts, std::string waiting_reason = "CrashLoopBackOff") {
  auto c = waiting(std::move(waiting_reason), restarts);
  c.last_terminated_reason = "OOMKilled";
  c.last_exit_code = 137;
  return c;
}

TEST(PodSignals, OomKilledTwiceFails) {
  Harness h;
  h.policy.crashloop_restarts = 100;  // isolate the OOM rule
  EXPECT_EQ(h.at({pod("a", {oom(1)})}, kStart).outcome, Outcome::inconclusive);
  // Re-observing the same restart does not count again.
  EXPECT_EQ(h.at({pod("a", {oom(1)})}, kStart + 5s).outcome, Outcome::inconclusive);
  auto r = h.at({pod("a", {oom(2)})}, kStart + 30s);
  EXPECT_EQ(r.outcome, Outcome::fail);
  EXPECT_EQ(r.reason, "oom_killed");
  // The count sticks even once the container runs again.
  auto c = running(true, 2);
  c.last_terminated_reason = "OOMKilled";
  EXPECT_EQ(h.at({pod("a", {c})}, kStart + 60s).reason, "oom_killed");
}

TEST(PodSignals, OomWithErrorRestartInBetween) {
  Harness h;
  h.policy.crashloop_restarts = 100;
  h.at({pod("a", {oom(1)})}, kStart);
  auto e = waiting("CrashLoopBackOff", 2);
  e.last_terminated_reason = "Error";
  h.at({pod("a", {e})}, kStart + 10s);
  EXPECT_EQ(h.eval(kStart + 10s).outcome, Outcome::inconclusive);
  EXPECT_EQ(h.at({pod("a", {oom(3)})}, kStart + 30s).outcome, Outcome::fail);
}

TEST(PodSignals, OomBeforeRevisionNotCounted) {
  Harness h;
  h.policy.crashloop_restarts = 100;
  const TimePoint old = kStart - 1h;
  h.at({pod("a", {oom(4)}, old)}, kStart);
  EXPECT_EQ(h.eval(kStart).outcome, Outcome::inconclusive);
  h.at({pod("a", {oom(5)}, old)}, kStart + 10s);
  EXPECT_EQ(h.eval(kStart + 10s).outcome, Outcome::inconclusive);
  h.at({pod("a", {oom(6)}, old)}, kStart + 20s);
  EXPECT_EQ(h.eval(kStart + 20s).reason, "oom_killed");
}

PodView unschedulable(std::string name) {
  PodView p = pod(std::move(name), {});
  p.phase = "Pending";
  p.conditions = {Condition{"PodScheduled", "False", "Unschedulable", kStart, kStart}};
  return p;
}

TEST(PodSignals, UnschedulableHoldsAfterGrace) {
  Harness h;
  const std::vector<PodView> pods = {unschedulable("a")};
  auto r = h.at(pods, kStart);
  EXPECT_EQ(r.outcome, Outcome::inconclusive);
  EXPECT_EQ(r.reason, "unschedulable");
  EXPECT_FALSE(r.hold);
  EXPECT_EQ(h.next(kStart), kStart + 300s + 1ms);
  EXPECT_FALSE(h.at(pods, kStart + 300s).hold);
  r = h.at(pods, kStart + 300s + 1ms);
  EXPECT_EQ(r.outcome, Outcome::inconclusive);
  EXPECT_TRUE(r.hold);
  EXPECT_FALSE(h.next(kStart + 300s + 1ms));
}

TEST(PodSignals, UnschedulableFailsOnlyWhenConfigured) {
  Harness h;
  h.policy.unschedulable_is_failure = true;
  const std::vector<PodView> pods = {unschedulable("a")};
  EXPECT_EQ(h.at(pods, kStart).outcome, Outcome::inconclusive);
  auto r = h.at(pods, kStart + 300s + 1ms);
  EXPECT_EQ(r.outcome, Outcome::fail);
  EXPECT_EQ(r.reason, "unschedulable");
  // Scheduling resets the clock.
  Harness g;
  g.at(pods, kStart);
  g.at({pod("a", {waiting("ContainerCreating")})}, kStart + 200s);
  g.at(pods, kStart + 250s);
  EXPECT_FALSE(g.eval(kStart + 301s).hold);
  EXPECT_TRUE(g.eval(kStart + 550s + 1ms).hold);
}

TEST(PodSignals, NotReadyDefaultGraceIsHalfTheDeadline) {
  Harness h;  // ready_grace 0 -> 300 s
  const std::vector<PodView> pods = {pod("a", {running(false)})};
  EXPECT_EQ(h.at(pods, kStart).outcome, Outcome::pass);  // within grace: no signal yet
  EXPECT_EQ(h.next(kStart), kStart + 300s + 1ms);
  EXPECT_EQ(h.at(pods, kStart + 300s).outcome, Outcome::pass);
  auto r = h.at(pods, kStart + 300s + 1ms);
  EXPECT_EQ(r.outcome, Outcome::fail);
  EXPECT_EQ(r.reason, "not_ready");
  // Becoming Ready clears it.
  EXPECT_EQ(h.at({pod("a", {running(true)})}, kStart + 301s).outcome, Outcome::pass);
  EXPECT_EQ(h.at(pods, kStart + 302s).outcome, Outcome::pass);
}

TEST(PodSignals, NotReadyExplicitGraceAndContainersReady) {
  Harness h;
  h.policy.ready_grace = 10s;
  PodView p = pod("a", {running(true)});
  p.conditions.push_back(Condition{"ContainersReady", "False", "ContainersNotReady", kStart, kStart});
  EXPECT_EQ(h.at({p}, kStart).outcome, Outcome::pass);
  EXPECT_EQ(h.at({p}, kStart + 10s + 1ms).reason, "not_ready");
}

TEST(PodSignals, NotReadyIgnoredWhileAContainerWaits) {
  Harness h;
  h.policy.ready_grace = 10s;
  const std::vector<PodView> pods = {pod("a", {running(false), waiting("ContainerCreating")})};
  h.at(pods, kStart);
  EXPECT_EQ(h.at(pods, kStart + 1h).outcome, Outcome::pass);
  EXPECT_FALSE(h.next(kStart + 1h));
  // Ready=Unknown (node lost) is not evidence.
  PodView u = pod("b", {running(false)});
  u.conditions[1].status = "Unknown";
  Harness g;
  g.policy.ready_grace = 10s;
  g.at({u}, kStart);
  EXPECT_EQ(g.at({u}, kStart + 1h).outcome, Outcome::pass);
}

TEST(PodSignals, DeletedPodsAreSkippedAndForgotten) {
  Harness h;
  PodView p = pod("a", {waiting("InvalidImageName")});
  p.meta.deleted = kStart;
  EXPECT_EQ(h.at({p}, kStart).outcome, Outcome::no_data);
  EXPECT_EQ(h.tracker.tracked_pods(), 0u);

  PodView q = pod("b", {waiting("ErrImagePull")});
  h.at({q}, kStart);
  EXPECT_EQ(h.tracker.tracked_pods(), 1u);
  q.meta.deleted = kStart + 10s;
  EXPECT_EQ(h.at({q}, kStart + 10s).outcome, Outcome::no_data);
  EXPECT_EQ(h.tracker.tracked_pods(), 0u);
  // A pod that vanished from the list is forgotten too.
  h.at({pod("c", {running()})}, kStart + 20s);
  EXPECT_EQ(h.at({}, kStart + 30s).outcome, Outcome::no_data);
}

TEST(PodSignals, NullAndDuplicatePointersAreHarmless) {
  PodSignalTracker t{kStart};
  PodView p = pod("a", {waiting("InvalidImageName")});
  t.observe({nullptr, &p, &p}, kStart);
  EXPECT_EQ(t.tracked_pods(), 1u);
  EXPECT_EQ(t.evaluate({}, kDeadline, kStart).reason, "invalid_image");
}

TEST(PodSignals, InitContainersAreChecked) {
  Harness h;
  auto r = h.at({pod("a", {waiting("CrashLoopBackOff", 3, /*init=*/true), waiting("PodInitializing")})}, kStart);
  EXPECT_EQ(r.outcome, Outcome::fail);
  EXPECT_EQ(r.reason, "crash_loop");
  EXPECT_NE(r.detail.find("init container 0"), std::string::npos) << r.detail;

  // Init and main containers are tracked separately even at the same index: the main container's benign wait
  // does not reset the init container's image-pull clock.
  Harness g;
  g.at({pod("a", {waiting("ErrImagePull", 0, true), waiting("PodInitializing")})}, kStart);
  g.at({pod("a", {waiting("ImagePullBackOff", 0, true), waiting("PodInitializing")})}, kStart + 60s);
  auto f = g.at({pod("a", {waiting("ImagePullBackOff", 0, true), waiting("PodInitializing")})}, kStart + 121s);
  EXPECT_EQ(f.outcome, Outcome::fail);
  EXPECT_EQ(f.reason, "image_pull");
}

TEST(PodSignals, WorstSignalWinsAndOthersAreCounted) {
  Harness h;
  auto r = h.at({pod("a", {waiting("CrashLoopBackOff", 9)}), pod("b", {waiting("InvalidImageName")}),
                 pod("c", {waiting("ErrImagePull")})},
                kStart);
  EXPECT_EQ(r.outcome, Outcome::fail);
  EXPECT_EQ(r.reason, "invalid_image");
  EXPECT_NE(r.detail.find("(+1 more)"), std::string::npos) << r.detail;
  // FAIL beats HOLD.
  Harness g;
  g.at({unschedulable("a"), pod("b", {waiting("CrashLoopBackOff", 3)})}, kStart);
  auto f = g.eval(kStart + 1h);
  EXPECT_EQ(f.outcome, Outcome::fail);
  EXPECT_FALSE(f.hold);
}

TEST(PodSignals, NextCheckIsEarliestPendingTimer) {
  Harness h;
  h.at({pod("a", {waiting("CreateContainerConfigError")})}, kStart);
  h.at({pod("a", {waiting("CreateContainerConfigError")}), pod("b", {waiting("ErrImagePull")})}, kStart + 30s);
  EXPECT_EQ(h.next(kStart + 30s), kStart + 60s + 1ms);
  EXPECT_EQ(h.next(kStart + 61s), kStart + 150s + 1ms);  // a is already due: only b's timer remains
}

TEST(PodSignals, HugeDeadlineDoesNotOverflow) {
  PodSignalTracker t{kStart};
  PodView p = pod("a", {waiting("Weird")});
  t.observe({&p}, kStart);
  const auto huge = std::chrono::seconds::max();
  EXPECT_EQ(t.evaluate({}, huge, kStart + 24h * 365).outcome, Outcome::inconclusive);
  EXPECT_FALSE(t.next_check({}, huge, kStart));
}

TEST(PodSignals, ClosedReasonTokens) {
  EXPECT_EQ(to_string(PodSignal::crash_loop), "crash_loop");
  EXPECT_EQ(to_string(PodSignal::image_pull), "image_pull");
  EXPECT_EQ(to_string(PodSignal::invalid_image), "invalid_image");
  EXPECT_EQ(to_string(PodSignal::config_error), "config_error");
  EXPECT_EQ(to_string(PodSignal::oom_killed), "oom_killed");
  EXPECT_EQ(to_string(PodSignal::not_ready), "not_ready");
  EXPECT_EQ(to_string(PodSignal::unschedulable), "unschedulable");
  EXPECT_EQ(to_string(PodSignal::other), "other");
  EXPECT_EQ(classify_waiting_reason(""), WaitingClass::none);
  EXPECT_EQ(classify_waiting_reason("crashloopbackoff"), WaitingClass::unknown);  // reasons are case-sensitive
}

}  // namespace
}  // namespace canary_guard::probes
