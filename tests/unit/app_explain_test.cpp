// `canary-guard explain` rendering: the timeline text and JSON from an Explanation (no cluster).
#include <gtest/gtest.h>

#include <sstream>

#include <nlohmann/json.hpp>

#include "daemon/app/explain.hpp"

namespace canary_guard::app {
namespace {

using namespace std::chrono_literals;
const TimePoint T0{std::chrono::seconds{1'800'000'000}};  // 2027-01-15T08:00:00Z

Explanation rolled_back() {
  Explanation e;
  e.kind = "Deployment";
  e.ns = "shop";
  e.name = "web";
  e.current_hash = "aaa";
  ExplainRevision v2{2, "bbb", "web-bbb", T0, false,
                     guard::VerdictRecord{guard::Verdict::failed, "bbb", T0 + 8500ms, "alert:HighErrorRatio"},
                     guard::RollbackRecord{guard::RollbackState::succeeded, "bbb", "aaa", 1, T0 + 8500ms,
                                           "alert:HighErrorRatio"},
                     "error-ratio=PF"};
  ExplainRevision v1{1, "aaa", "web-aaa", T0 - 1h, true,
                     guard::VerdictRecord{guard::Verdict::healthy, "aaa", T0 - 59min, "baseline"}, std::nullopt, "-"};
  e.revisions = {v2, v1};
  e.events = {{T0 + 8s, "Warning", "RollbackStarted", "revision 2 (bbb) failed: alert HighErrorRatio ...", 1},
              {T0 + 11s, "Normal", "RollbackSucceeded", "revision 1 rolled out", 1}};
  return e;
}

TEST(Explain, TextTimeline) {
  std::ostringstream out;
  render_explain_text(rolled_back(), out);
  const std::string t = out.str();
  for (const char* want : {
           "deployment/web in namespace shop: on revision 1 (aaa)\n",
           "revision 2 (bbb, web-bbb)\n  started   2027-01-15T08:00:00Z\n",
           "  verdict   failed: alert:HighErrorRatio at 2027-01-15T08:00:08Z (detected 8.5 s after it started)\n",
           "  rollback  to revision 1 (aaa): succeeded, decided 2027-01-15T08:00:08Z because of alert:HighErrorRatio; "
           "restored in about 2.5 s\n",
           "  checks    error-ratio=PF",
           "revision 1 (aaa, web-aaa)  [current]\n",
           "  verdict   healthy: baseline",
           "events (canary-guard)\n  2027-01-15T08:00:08Z  Warning  RollbackStarted\n",
       })
    EXPECT_NE(t.find(want), std::string::npos) << "missing: " << want << "\nin:\n" << t;
}

TEST(Explain, UnderBakeLiveChecksAndNoEvents) {
  Explanation e;
  e.kind = "DaemonSet";
  e.ns = "ops";
  e.name = "agent";
  e.paused = false;
  e.revisions = {ExplainRevision{3, "ccc", "agent-ccc", T0, true, std::nullopt, std::nullopt, "-"}};
  LiveEntry live;
  live.checks = {LiveCheck{"error-ratio", "pass", 0.01, "", "0.01 <= 0.05", "", "P", true, false},
                 LiveCheck{"p99", "", std::nullopt, "", "", "", "", false, false}};
  e.live = live;
  std::ostringstream out;
  render_explain_text(e, out);
  const std::string t = out.str();
  EXPECT_NE(t.find("daemonset/agent in namespace ops: on revision 3 (ccc)"), std::string::npos) << t;
  EXPECT_NE(t.find("verdict   none yet (under bake or analysis)"), std::string::npos) << t;
  EXPECT_NE(t.find("live      error-ratio: pass value=0.01 (0.01 <= 0.05)"), std::string::npos) << t;
  EXPECT_NE(t.find("live      p99: not evaluated yet"), std::string::npos) << t;
  EXPECT_NE(t.find("events (canary-guard)\n  none\n"), std::string::npos) << t;
  Explanation empty;
  empty.kind = "Deployment";
  empty.ns = "x";
  empty.name = "y";
  std::ostringstream o2;
  render_explain_text(empty, o2);
  EXPECT_NE(o2.str().find("deployment/y in namespace x: no revisions found"), std::string::npos) << o2.str();
}

TEST(Explain, JsonCarriesDetectAndRestoreTimes) {
  std::ostringstream out;
  render_explain_json(rolled_back(), out);
  auto j = nlohmann::json::parse(out.str());
  EXPECT_EQ(j["kind"], "Deployment");
  ASSERT_EQ(j["revisions"].size(), 2u);
  EXPECT_DOUBLE_EQ(j["revisions"][0]["time_to_detect_seconds"].get<double>(), 8.5);
  EXPECT_DOUBLE_EQ(j["revisions"][0]["rollback"]["time_to_restore_seconds"].get<double>(), 2.5);
  EXPECT_EQ(j["revisions"][0]["rollback"]["reason"], "alert:HighErrorRatio");
  EXPECT_EQ(j["revisions"][1]["verdict"]["verdict"], "healthy");
  EXPECT_EQ(j["events"].size(), 2u);
}

TEST(Explain, WorkloadArgument) {
  EXPECT_EQ(parse_workload_arg("deployment/web")->first, "Deployment");
  EXPECT_EQ(parse_workload_arg("deploy/web")->second, "web");
  EXPECT_EQ(parse_workload_arg("DaemonSet/agent")->first, "DaemonSet");
  EXPECT_EQ(parse_workload_arg("ds/agent")->first, "DaemonSet");
  EXPECT_FALSE(parse_workload_arg("web"));
  EXPECT_FALSE(parse_workload_arg("deployment/"));
  EXPECT_FALSE(parse_workload_arg("statefulset/db"));
  EXPECT_FALSE(parse_workload_arg("deployment/a/b"));
}

}  // namespace
}  // namespace canary_guard::app
