// The daemon's own alerts as posted to Alertmanager (alerts_payload) and [[notify]] bodies (render_notice).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "daemon/app/notifications.hpp"
#include "daemon/app/pager.hpp"
#include "daemon/app/process_metrics.hpp"

namespace canary_guard::app {
namespace {

using namespace std::chrono_literals;
const TimePoint T0{std::chrono::seconds{1'800'000'000}};  // 2027-01-15T08:00:00Z

TEST(Pager, PayloadFollowsR310) {
  PageEntry active{guard::WorkloadKey{guard::Kind::deployment, "shop", "web"},
                   guard::Page{"CanaryGuardRollback", "warning", "alert", "s", "d", T0 - 10s}, true, {}};
  PageEntry ended{guard::WorkloadKey{guard::Kind::daemonset, "ops", "agent"},
                  guard::Page{"CanaryGuardBlind", "warning", "metrics_blind", "s2", "d2", T0 - 60s}, false, T0 - 1s};
  auto j = nlohmann::json::parse(alerts_payload({&active, &ended}, T0, 60s, "https://runbooks/cg"));
  ASSERT_TRUE(j.is_array());
  ASSERT_EQ(j.size(), 2u);
  EXPECT_EQ(j[0]["labels"], (nlohmann::json{{"alertname", "CanaryGuardRollback"}, {"namespace", "shop"},
                                            {"workload", "web"}, {"kind", "Deployment"}, {"severity", "warning"},
                                            {"reason", "alert"}}));
  EXPECT_EQ(j[0]["annotations"]["runbook_url"], "https://runbooks/cg");
  EXPECT_EQ(j[0]["startsAt"], "2027-01-15T07:59:50.000Z");
  EXPECT_EQ(j[0]["endsAt"], "2027-01-15T08:03:00.000Z");  // now + 3 x repost
  EXPECT_EQ(j[1]["labels"]["kind"], "DaemonSet");
  EXPECT_EQ(j[1]["endsAt"], "2027-01-15T07:59:59.000Z");  // resolved: the end
  EXPECT_FALSE(nlohmann::json::parse(alerts_payload({&active}, T0, 60s, ""))[0]["annotations"].contains("runbook_url"));
  // A condition that "began" after it ended still has startsAt <= endsAt (Alertmanager refuses the opposite).
  ended.page.since = T0;
  auto k = nlohmann::json::parse(alerts_payload({&ended}, T0, 60s, ""));
  EXPECT_EQ(k[0]["startsAt"], k[0]["endsAt"]);
}

TEST(Notifications, JsonAndSlackBodies) {
  Notice n{"RollbackStarted", guard::WorkloadKey{guard::Kind::deployment, "shop", "web"}, "warning",
           "revision 2 failed: \"quoted\" text", T0};
  auto j = nlohmann::json::parse(render_notice(n, config::NotifyFormat::json));
  EXPECT_EQ(j["event"], "RollbackStarted");
  EXPECT_EQ(j["namespace"], "shop");
  EXPECT_EQ(j["workload"], "web");
  EXPECT_EQ(j["kind"], "Deployment");
  EXPECT_EQ(j["message"], "revision 2 failed: \"quoted\" text");
  EXPECT_EQ(j["time"], "2027-01-15T08:00:00.000Z");
  auto s = nlohmann::json::parse(render_notice(n, config::NotifyFormat::slack));
  ASSERT_TRUE(s.contains("text"));
  EXPECT_NE(s["text"].get<std::string>().find("*RollbackStarted* Deployment `shop/web`"), std::string::npos) << s["text"];
}

TEST(ProcessMetrics, TheStandardSeriesAreThere) {
  std::set<std::string> names;
  for (const auto& f : process_families()) {
    names.insert(f.name);
    ASSERT_EQ(f.metric.size(), 1u);
  }
  for (const char* n : {"process_cpu_seconds_total", "process_resident_memory_bytes", "process_virtual_memory_bytes",
                        "process_open_fds", "process_max_fds", "process_start_time_seconds"})
    EXPECT_TRUE(names.count(n)) << n;
  for (const auto& f : process_families())
    if (f.name == "process_resident_memory_bytes") {
      EXPECT_GT(f.metric[0].gauge.value, 1e6);
    }
}

}  // namespace
}  // namespace canary_guard::app
