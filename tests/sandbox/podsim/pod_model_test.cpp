// Unit tests of podsim's pure model: tag parsing, per-behaviour container timelines, pod status JSON.
#include "tests/sandbox/podsim/pod_model.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

namespace canary_guard::podsim {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

const TimePoint kStart{seconds{1'700'000'000}};
// The old fixed timing (ready 1 s, one crash every 2 s, pull period 4 s): most tests below are about it.
const Timing kTiming = [] {
  Timing t;
  t.backoff = RestartBackoff::fixed;
  return t;
}();
const Timing kKubelet{};  // the default: ready 1 s, crashing containers run 1 s, kubelet back-off

TEST(ImageTag, Forms) {
  struct Case {
    std::string_view image, tag;
  };
  for (const auto& c : std::initializer_list<Case>{
           {"web:v1", "v1"},
           {"web", ""},
           {"", ""},
           {":", ""},
           {"registry:5000/web", ""},
           {"registry:5000/web:v2-crashloop", "v2-crashloop"},
           {"web:v1@sha256:abcd", "v1"},
           {"web@sha256:abcd", ""},
           {"a/b/c:slow5", "slow5"},
       })
    EXPECT_EQ(image_tag(c.image), c.tag) << c.image;
}

TEST(ParseBehaviour, Tokens) {
  struct Case {
    std::string_view image;
    Behaviour want;
  };
  const auto make = [](auto f) {
    Behaviour b;
    f(b);
    return b;
  };
  for (const auto& c : std::initializer_list<Case>{
           {"web:v1", {}},
           {"web", {}},
           {"web:crashloop", make([](Behaviour& b) { b.crashloop = true; })},
           {"web:v2-pullfail", make([](Behaviour& b) { b.pullfail = true; })},
           {"web:unready", make([](Behaviour& b) { b.unready = true; })},
           {"web:oom", make([](Behaviour& b) { b.oom = true; })},
           {"web:slow5", make([](Behaviour& b) { b.slow_seconds = 5; })},
           {"web:slow0", make([](Behaviour& b) { b.slow_seconds = 0; })},
           {"web:v2-errors30-latency400",
            make([](Behaviour& b) {
              b.error_percent = 30;
              b.latency_ms = 400;
            })},
           {"web:errors100", make([](Behaviour& b) { b.error_percent = 100; })},
           {"web:errors101", {}},                 // out of range: ignored
           {"web:errors-1", {}},                  // "errors" then "1": both ignored
           {"web:errors", {}},                    // no number
           {"web:errors3x", {}},                  // trailing garbage
           {"web:slow99999999999999999999", {}},  // overflow
           {"web:latency0", make([](Behaviour& b) { b.latency_ms = 0; })},
           {"web:CRASHLOOP", {}},  // tags are case-sensitive like image references
           {"web:v2-crash1", make([](Behaviour& b) { b.startup_crashes = 1; })},
           {"web:crash2-slow5",
            make([](Behaviour& b) {
              b.startup_crashes = 2;
              b.slow_seconds = 5;
            })},
           {"web:crash1000", make([](Behaviour& b) { b.startup_crashes = 1000; })},
           {"web:crash0", {}},     // zero crashes is no behaviour
           {"web:crash1001", {}},  // out of range
           {"web:crash", {}},
           {"web:--crashloop--", make([](Behaviour& b) { b.crashloop = true; })},
       })
    EXPECT_EQ(parse_behaviour(c.image), c.want) << c.image;
}

ContainerSnapshot at(std::string_view image, milliseconds elapsed) {
  return simulate_container(parse_behaviour(image), kStart, kStart + elapsed, kTiming, image);
}

TEST(SimulateContainer, DefaultReadyAfterDelay) {
  auto s = at("web:v1", milliseconds{999});
  EXPECT_EQ(s.kind, StateKind::running);
  EXPECT_FALSE(s.ready);
  EXPECT_TRUE(s.started);
  EXPECT_EQ(s.running_since, kStart);
  EXPECT_TRUE(at("web:v1", milliseconds{1000}).ready);
  // Clock before start (skew) counts as zero elapsed.
  EXPECT_FALSE(simulate_container({}, kStart, kStart - seconds{5}, kTiming, "web:v1").ready);
}

TEST(SimulateContainer, SlowAndUnready) {
  EXPECT_FALSE(at("web:slow5", milliseconds{4999}).ready);
  EXPECT_TRUE(at("web:slow5", milliseconds{5000}).ready);
  EXPECT_TRUE(at("web:slow0", milliseconds{0}).ready);
  const auto u = at("web:unready-slow1", seconds{3600});
  EXPECT_EQ(u.kind, StateKind::running);
  EXPECT_FALSE(u.ready);
}

TEST(SimulateContainer, CrashLoopRestartsClimb) {
  auto first = at("web:crashloop", milliseconds{999});
  EXPECT_EQ(first.kind, StateKind::running);
  EXPECT_EQ(first.restart_count, 0);
  EXPECT_FALSE(first.ready);

  struct Case {
    int ms;
    int restarts;
  };
  for (const auto& c : std::initializer_list<Case>{{1000, 1}, {2999, 1}, {3000, 2}, {5000, 3}, {21000, 11}}) {
    const auto s = at("web:crashloop", milliseconds{c.ms});
    EXPECT_EQ(s.kind, StateKind::waiting) << c.ms;
    EXPECT_EQ(s.reason, "CrashLoopBackOff") << c.ms;
    EXPECT_EQ(s.restart_count, c.restarts) << c.ms;
    ASSERT_TRUE(s.last_terminated) << c.ms;
    EXPECT_EQ(s.last_terminated->reason, "Error");
    EXPECT_EQ(s.last_terminated->exit_code, 1);
    EXPECT_LE(s.last_terminated->finished_at, kStart + milliseconds{c.ms});
    EXPECT_LE(s.last_terminated->started_at, s.last_terminated->finished_at);
    EXPECT_FALSE(s.ready);
  }
}

ContainerSnapshot at(std::string_view image, milliseconds elapsed, const Timing& t) {
  return simulate_container(parse_behaviour(image), kStart, kStart + elapsed, t, image);
}

struct Expect {
  std::int64_t ms;
  StateKind kind;
  int restarts;
  bool ready;
  std::string_view message;  // waiting message, or "" when running
};

void check_timeline(std::string_view image, const Timing& t, std::initializer_list<Expect> table) {
  for (const auto& e : table) {
    const auto s = at(image, milliseconds{e.ms}, t);
    SCOPED_TRACE(fmt::format("{} at {} ms", image, e.ms));
    EXPECT_EQ(s.kind, e.kind);
    EXPECT_EQ(s.restart_count, e.restarts);
    EXPECT_EQ(s.ready, e.ready);
    EXPECT_TRUE(s.started);
    if (e.kind == StateKind::waiting) {
      EXPECT_EQ(s.reason, "CrashLoopBackOff");
      EXPECT_EQ(s.message, fmt::format("back-off {} restarting failed container (simulated by podsim)", e.message));
    }
    // Every restart leaves the attempt before it in lastState, and it ended no later than now.
    ASSERT_EQ(s.last_terminated.has_value(), e.restarts > 0 || e.kind == StateKind::waiting);
    if (s.last_terminated) {
      EXPECT_LE(s.last_terminated->started_at, s.last_terminated->finished_at);
      EXPECT_LE(s.last_terminated->finished_at, kStart + milliseconds{e.ms});
    }
  }
}

constexpr auto kRun = StateKind::running;
constexpr auto kWait = StateKind::waiting;

// The kubelet restarts the first crash at once, then backs off 10 s, 20 s, 40 s ... capped at 5 min. Each attempt
// runs 1 s (crash_run). Exact boundaries: a restart happens at the first millisecond the back-off has passed.
TEST(KubeletBackoff, CrashLoopTimeline) {
  check_timeline("web:crashloop", kKubelet,
                 {
                     {0, kRun, 0, false, ""},
                     {999, kRun, 0, false, ""},
                     {1000, kRun, 1, false, ""},  // first crash: restarted at once
                     {1999, kRun, 1, false, ""},
                     {2000, kWait, 1, false, "10s"},
                     {11999, kWait, 1, false, "10s"},
                     {12000, kRun, 2, false, ""},
                     {13000, kWait, 2, false, "20s"},
                     {32999, kWait, 2, false, "20s"},
                     {33000, kRun, 3, false, ""},
                     {34000, kWait, 3, false, "40s"},
                     {74000, kRun, 4, false, ""},
                     {75000, kWait, 4, false, "1m20s"},
                     {155000, kRun, 5, false, ""},
                     {156000, kWait, 5, false, "2m40s"},
                     {316000, kRun, 6, false, ""},
                     {317000, kWait, 6, false, "5m0s"},  // 320 s capped at 300 s
                     {616999, kWait, 6, false, "5m0s"},
                     {617000, kRun, 7, false, ""},
                     {618000, kWait, 7, false, "5m0s"},
                     {918000, kRun, 8, false, ""},
                 });
  const auto s = at("web:crashloop", milliseconds{34000}, kKubelet);
  ASSERT_TRUE(s.last_terminated);
  EXPECT_EQ(s.last_terminated->reason, "Error");
  EXPECT_EQ(s.last_terminated->exit_code, 1);
  EXPECT_EQ(s.last_terminated->started_at, kStart + milliseconds{33000});
  EXPECT_EQ(s.last_terminated->finished_at, kStart + milliseconds{34000});
}

TEST(KubeletBackoff, CrashRunFromTiming) {
  Timing t = kKubelet;
  t.crash_run = seconds{5};
  check_timeline("web:crashloop", t,
                 {{4999, kRun, 0, false, ""}, {5000, kRun, 1, false, ""}, {10000, kWait, 1, false, "10s"},
                  {20000, kRun, 2, false, ""}, {25000, kWait, 2, false, "20s"}, {45000, kRun, 3, false, ""},
                  {50000, kWait, 3, false, "40s"}});
}

// flowcontrol.Backoff forgets a container whose last restart is more than 10 min (2 x max) before its next crash:
// a container that ran longer than that is restarted at once again; exactly 10 min is not longer.
TEST(KubeletBackoff, ResetAfterTenMinutesOfRunning) {
  Timing t = kKubelet;
  t.crash_run = milliseconds{600'001};
  check_timeline("web:crashloop", t,
                 {{600'000, kRun, 0, false, ""},
                  {600'001, kRun, 1, false, ""},
                  {1'200'002, kRun, 2, false, ""},  // second crash after > 10 min: at once again
                  {1'800'003, kRun, 3, false, ""}});
  t.crash_run = milliseconds{600'000};
  check_timeline("web:crashloop", t,
                 {{600'000, kRun, 1, false, ""},
                  {1'200'000, kWait, 1, false, "10s"},  // ran exactly 10 min: the back-off still applies
                  {1'210'000, kRun, 2, false, ""}});
}

// crash<N>: N exits at start-up, then the container runs for good and becomes Ready after the ready delay (or its
// slow<N>) counted from that last start.
TEST(KubeletBackoff, StartupCrashesThenRuns) {
  check_timeline("web:v2-crash1", kKubelet,
                 {{0, kRun, 0, false, ""},
                  {1000, kRun, 1, false, ""},  // restarted at once: never in CrashLoopBackOff
                  {1999, kRun, 1, false, ""},
                  {2000, kRun, 1, true, ""},
                  {3'600'000, kRun, 1, true, ""}});
  check_timeline("web:v2-crash2", kKubelet,
                 {{1000, kRun, 1, false, ""},
                  {2000, kWait, 1, false, "10s"},
                  {11999, kWait, 1, false, "10s"},
                  {12000, kRun, 2, false, ""},
                  {12999, kRun, 2, false, ""},
                  {13000, kRun, 2, true, ""},
                  {3'600'000, kRun, 2, true, ""}});
  check_timeline("web:crash2-slow5", kKubelet, {{16999, kRun, 2, false, ""}, {17000, kRun, 2, true, ""}});
  check_timeline("web:crash1-unready", kKubelet, {{3'600'000, kRun, 1, false, ""}});
  check_timeline("web:crash3", kKubelet,
                 {{13000, kWait, 2, false, "20s"}, {33000, kRun, 3, false, ""}, {34000, kRun, 3, true, ""}});
}

TEST(KubeletBackoff, OomKilledBacksOffToo) {
  const auto first = at("web:oom", milliseconds{1500}, kKubelet);
  EXPECT_EQ(first.kind, StateKind::running);
  EXPECT_EQ(first.restart_count, 1);
  ASSERT_TRUE(first.last_terminated);
  EXPECT_EQ(first.last_terminated->reason, "OOMKilled");
  EXPECT_EQ(first.last_terminated->exit_code, 137);
  const auto second = at("web:oom", milliseconds{2500}, kKubelet);
  EXPECT_EQ(second.kind, StateKind::waiting);
  EXPECT_EQ(second.reason, "CrashLoopBackOff");
  EXPECT_EQ(second.restart_count, 1);
  ASSERT_TRUE(second.last_terminated);
  EXPECT_EQ(second.last_terminated->reason, "OOMKilled");
  EXPECT_EQ(at("web:oom", milliseconds{12500}, kKubelet).restart_count, 2);
}

// The fixed timing for crash<N>: one crash per 2 s cycle, then running for good from the end of the Nth cycle.
TEST(SimulateContainer, FixedStartupCrashes) {
  struct Case {
    int ms;
    StateKind kind;
    int restarts;
    bool ready;
  };
  for (const auto& c : std::initializer_list<Case>{{999, kRun, 0, false},
                                                   {1000, kWait, 1, false},
                                                   {2999, kWait, 1, false},
                                                   {3000, kWait, 2, false},
                                                   {3999, kWait, 2, false},
                                                   {4000, kRun, 2, false},
                                                   {4999, kRun, 2, false},
                                                   {5000, kRun, 2, true}}) {
    const auto s = at("web:crash2", milliseconds{c.ms});
    EXPECT_EQ(s.kind, c.kind) << c.ms;
    EXPECT_EQ(s.restart_count, c.restarts) << c.ms;
    EXPECT_EQ(s.ready, c.ready) << c.ms;
  }
  const auto s = at("web:crash2", milliseconds{4000});
  ASSERT_TRUE(s.last_terminated);
  EXPECT_EQ(s.last_terminated->started_at, kStart + milliseconds{2000});
  EXPECT_EQ(s.last_terminated->finished_at, kStart + milliseconds{3000});
  EXPECT_EQ(s.running_since, kStart + milliseconds{4000});
}

TEST(SimulateContainer, PullFailAlternatesAndNeverStarts) {
  struct Case {
    int ms;
    std::string_view reason;
  };
  for (const auto& c : std::initializer_list<Case>{
           {0, "ErrImagePull"}, {3999, "ErrImagePull"}, {4000, "ImagePullBackOff"}, {8000, "ErrImagePull"}}) {
    const auto s = at("web:pullfail-crashloop", milliseconds{c.ms});  // pullfail wins
    EXPECT_EQ(s.kind, StateKind::waiting);
    EXPECT_EQ(s.reason, c.reason) << c.ms;
    EXPECT_FALSE(s.started);
    EXPECT_FALSE(s.ready);
    EXPECT_EQ(s.restart_count, 0);
  }
}

TEST(SimulateContainer, OomCycles) {
  const auto r0 = at("web:oom", milliseconds{500});
  EXPECT_EQ(r0.kind, StateKind::running);
  EXPECT_EQ(r0.restart_count, 0);
  EXPECT_FALSE(r0.last_terminated);
  const auto t0 = at("web:oom", milliseconds{1500});
  EXPECT_EQ(t0.kind, StateKind::terminated);
  EXPECT_EQ(t0.terminated.reason, "OOMKilled");
  EXPECT_EQ(t0.terminated.exit_code, 137);
  EXPECT_FALSE(t0.ready);
  const auto r2 = at("web:oom", milliseconds{4200});
  EXPECT_EQ(r2.kind, StateKind::running);
  EXPECT_EQ(r2.restart_count, 2);
  EXPECT_TRUE(r2.ready);
  ASSERT_TRUE(r2.last_terminated);
  EXPECT_EQ(r2.last_terminated->reason, "OOMKilled");
  EXPECT_EQ(r2.last_terminated->exit_code, 137);
}

SimPod make_pod(std::vector<std::string> images) {
  std::vector<ContainerSpec> cs;
  int i = 0;
  for (auto& img : images) cs.push_back({"c" + std::to_string(i++), img, parse_behaviour(img)});
  return SimPod({"ns", "p", "uid-1", "abc", ""}, std::move(cs), {},
                {"podsim-node-1", "10.0.0.1", "10.244.1.2", kStart, kStart});
}

const nlohmann::json* condition(const nlohmann::json& status, std::string_view type) {
  for (const auto& c : status["conditions"])
    if (c["type"] == type) return &c;
  return nullptr;
}

TEST(SimPod, ReadyTransitionIsRememberedAndChangesReported) {
  auto pod = make_pod({"web:v1"});
  EXPECT_TRUE(pod.advance(kStart, kTiming));  // first call always reports
  EXPECT_FALSE(pod.advance(kStart + milliseconds{500}, kTiming));
  EXPECT_FALSE(pod.ready());
  EXPECT_TRUE(pod.advance(kStart + milliseconds{1200}, kTiming));
  EXPECT_TRUE(pod.ready());
  EXPECT_FALSE(pod.advance(kStart + seconds{10}, kTiming));
  const auto st = pod.status_json();
  EXPECT_EQ(st["phase"], "Running");
  const auto* ready = condition(st, "Ready");
  ASSERT_NE(ready, nullptr);
  EXPECT_EQ((*ready)["status"], "True");
  EXPECT_EQ((*ready)["lastTransitionTime"], format_time(kStart + milliseconds{1200}));
  ASSERT_NE(condition(st, "ContainersReady"), nullptr);
  ASSERT_NE(condition(st, "PodScheduled"), nullptr);
  ASSERT_NE(condition(st, "Initialized"), nullptr);
  const auto& cs = st["containerStatuses"][0];
  EXPECT_EQ(cs["name"], "c0");
  EXPECT_EQ(cs["image"], "web:v1");
  EXPECT_EQ(cs["ready"], true);
  EXPECT_EQ(cs["started"], true);
  EXPECT_EQ(cs["restartCount"], 0);
  EXPECT_TRUE(cs["state"].contains("running"));
  EXPECT_FALSE(cs["imageID"].get<std::string>().empty());
  EXPECT_TRUE(pod.serving());
}

TEST(SimPod, MultiContainerEachByOwnTag) {
  auto pod = make_pod({"web:v1", "sidecar:unready", "x:errors20-latency300", "y:errors5"});
  pod.advance(kStart + seconds{5}, kTiming);
  EXPECT_FALSE(pod.ready());
  EXPECT_EQ(pod.phase(), "Running");
  EXPECT_EQ(pod.error_percent(), 20);
  EXPECT_EQ(pod.latency_ms(), 300);
  const auto st = pod.status_json();
  const auto* ready = condition(st, "Ready");
  EXPECT_EQ((*ready)["status"], "False");
  EXPECT_EQ((*ready)["reason"], "ContainersNotReady");
  EXPECT_EQ((*ready)["message"], "containers with unready status: [c1]");
  EXPECT_EQ(st["containerStatuses"][0]["ready"], true);
  EXPECT_EQ(st["containerStatuses"][1]["ready"], false);
}

TEST(SimPod, PullFailIsPendingAndNotServing) {
  auto pod = make_pod({"web:pullfail"});
  pod.advance(kStart + seconds{1}, kTiming);
  EXPECT_EQ(pod.phase(), "Pending");
  EXPECT_FALSE(pod.serving());
  EXPECT_EQ(pod.status_json()["containerStatuses"][0]["state"]["waiting"]["reason"], "ErrImagePull");
  EXPECT_TRUE(pod.advance(kStart + seconds{5}, kTiming));  // now ImagePullBackOff
  EXPECT_EQ(pod.status_json()["containerStatuses"][0]["state"]["waiting"]["reason"], "ImagePullBackOff");
}

TEST(SimPod, CrashLoopStatusJson) {
  auto pod = make_pod({"web:crashloop"});
  pod.advance(kStart + seconds{7}, kTiming);
  EXPECT_EQ(pod.phase(), "Running");
  EXPECT_FALSE(pod.serving());
  const auto cs = pod.status_json()["containerStatuses"][0];
  EXPECT_EQ(cs["state"]["waiting"]["reason"], "CrashLoopBackOff");
  EXPECT_EQ(cs["restartCount"], 4);
  EXPECT_EQ(cs["lastState"]["terminated"]["reason"], "Error");
  EXPECT_EQ(cs["lastState"]["terminated"]["exitCode"], 1);
}

TEST(SimPod, StartupCrashThenReady) {
  auto pod = make_pod({"web:v2-crash1"});
  pod.advance(kStart + milliseconds{1500}, kKubelet);
  EXPECT_FALSE(pod.ready());
  EXPECT_TRUE(pod.serving());
  auto cs = pod.status_json()["containerStatuses"][0];
  EXPECT_EQ(cs["restartCount"], 1);
  EXPECT_TRUE(cs["state"].contains("running"));
  EXPECT_EQ(cs["lastState"]["terminated"]["reason"], "Error");
  EXPECT_TRUE(pod.advance(kStart + seconds{2}, kKubelet));
  EXPECT_TRUE(pod.ready());
  EXPECT_EQ((*condition(pod.status_json(), "Ready"))["lastTransitionTime"], format_time(kStart + seconds{2}));
}

TEST(SimPod, ReadySeedKeepsTransitionTime) {
  std::vector<ContainerSpec> cs{{"c", "web:v1", {}}};
  SimPod pod({"ns", "p", "u", "", "rev"}, cs, {}, {"n", "h", "i", kStart, kStart},
             ConditionMemory{true, kStart + seconds{1}});
  pod.advance(kStart + seconds{100}, kTiming);
  EXPECT_EQ((*condition(pod.status_json(), "Ready"))["lastTransitionTime"], format_time(kStart + seconds{1}));
}

TEST(SimPod, InitContainersReportedCompleted) {
  std::vector<ContainerSpec> cs{{"c", "web:v1", {}}};
  std::vector<ContainerSpec> init{{"init", "busybox:1", {}}};
  SimPod pod({"ns", "p", "u", "", ""}, cs, init, {"n", "h", "i", kStart, kStart});
  pod.advance(kStart, kTiming);
  const auto st = pod.status_json();
  ASSERT_EQ(st["initContainerStatuses"].size(), 1u);
  EXPECT_EQ(st["initContainerStatuses"][0]["state"]["terminated"]["reason"], "Completed");
}

TEST(Time, FormatAndParse) {
  EXPECT_EQ(format_time(TimePoint{seconds{0}}), "1970-01-01T00:00:00Z");
  EXPECT_EQ(format_time(kStart + milliseconds{999}), "2023-11-14T22:13:20Z");
  EXPECT_EQ(parse_time("2023-11-14T22:13:20Z"), kStart);
  EXPECT_EQ(parse_time("2023-11-14T22:13:20.5Z"), kStart + milliseconds{500});
  EXPECT_EQ(parse_time("2023-11-14T23:13:20+01:00"), kStart);
  EXPECT_EQ(parse_time("2023-11-14T21:13:20-01:00"), kStart);
  for (std::string_view bad : {"", "2023-11-14", "2023-13-14T22:13:20Z", "2023-02-30T00:00:00Z",
                               "2023-11-14T22:13:20", "2023-11-14T22:13:20Zjunk", "2023-11-14T22:13:20.Z",
                               "abcd-11-14T22:13:20Z", "2023-11-14T24:00:00Z"})
    EXPECT_FALSE(parse_time(bad)) << bad;
}

}  // namespace
}  // namespace canary_guard::podsim
