// AlertStore: duplicates act once, resolved ends an alert, severities and workload labels, the bounds.
#include <gtest/gtest.h>

#include "daemon/guard/alert_store.hpp"

namespace canary_guard::guard {
namespace {

using namespace std::chrono_literals;
const TimePoint T0{std::chrono::seconds{1'800'000'000}};

probes::Alert alert(std::string fp, std::string status, TimePoint starts, probes::KeyValues labels) {
  probes::Alert a;
  a.fingerprint = std::move(fp);
  a.status = std::move(status);
  a.starts_at = starts;
  a.starts_at_text = "x";
  a.labels = std::move(labels);
  return a;
}

probes::KeyValues labels(std::string name, std::string severity = "page", std::string label = "workload") {
  return {{"alertname", "HighErrors"}, {"namespace", "shop"}, {std::move(label), std::move(name)},
          {"severity", std::move(severity)}};
}

probes::WebhookMessage msg(std::vector<probes::Alert> alerts) {
  probes::WebhookMessage m;
  m.version = "4";
  m.status = "firing";
  m.alerts = std::move(alerts);
  return m;
}

TEST(AlertStore, FiringAlertIsStoredAndTheReplayIsADuplicate) {
  AlertStore s({});
  auto a = alert("f1", "firing", T0, labels("web"));
  auto r = s.apply(msg({a}), T0);
  EXPECT_EQ(r.accepted, 1);
  EXPECT_EQ(r.workloads.size(), 1u);
  ASSERT_EQ(s.firing_for("shop", "web", Kind::deployment).size(), 1u);
  EXPECT_EQ(s.firing_for("shop", "web", Kind::daemonset).size(), 1u);  // "workload" names either kind
  EXPECT_TRUE(s.firing_for("shop", "api", Kind::deployment).empty());
  EXPECT_TRUE(s.firing_for("other", "web", Kind::deployment).empty());
  r = s.apply(msg({a}), T0 + 1s);  // Alertmanager HA peer, or a retry
  EXPECT_EQ(r.accepted, 0);
  EXPECT_EQ(r.duplicates, 1);
  EXPECT_TRUE(r.workloads.empty());  // nothing to reconcile again
}

TEST(AlertStore, ResolvedEndsItAndALateFiringCopyDoesNotRevive) {
  AlertStore s({});
  auto a = alert("f1", "firing", T0, labels("web"));
  s.apply(msg({a}), T0);
  auto res = alert("f1", "resolved", T0, labels("web"));
  auto r = s.apply(msg({res}), T0 + 5s);
  EXPECT_EQ(r.accepted, 1);
  EXPECT_TRUE(s.firing_for("shop", "web", Kind::deployment).empty());
  // Forget the firing key (as if evicted) and replay the firing copy: still not revived.
  AlertStoreOptions tiny;
  tiny.max_keys = 1;
  AlertStore t(tiny);
  t.apply(msg({a}), T0);
  t.apply(msg({res}), T0 + 1s);  // evicts the firing key
  r = t.apply(msg({a}), T0 + 2s);
  EXPECT_EQ(r.duplicates, 1);
  EXPECT_TRUE(t.firing_for("shop", "web", Kind::deployment).empty());
  // A new episode (later startsAt) of the same alert fires again.
  auto again = alert("f1", "firing", T0 + 1min, labels("web"));
  EXPECT_EQ(s.apply(msg({again}), T0 + 1min).accepted, 1);
  EXPECT_EQ(s.firing_for("shop", "web", Kind::deployment).size(), 1u);
}

TEST(AlertStore, OtherSeveritiesAndAlertsNamingNoWorkloadAreIgnored) {
  AlertStore s({});
  auto r = s.apply(msg({alert("f1", "firing", T0, labels("web", "warning")),
                        alert("f2", "firing", T0, {{"alertname", "X"}, {"severity", "page"}, {"namespace", "shop"}}),
                        alert("f3", "firing", T0, {{"alertname", "X"}, {"severity", "page"}, {"workload", "web"}}),
                        alert("f4", "firing", T0, labels("web", "")),
                        alert("f5", "firing", T0,
                              {{"alertname", "CanaryGuardRollbackFailed"}, {"namespace", "shop"}, {"workload", "web"},
                               {"severity", "page"}})}),
                   T0);
  EXPECT_EQ(r.ignored, 5);
  EXPECT_EQ(r.accepted, 0);
  EXPECT_EQ(s.firing_count(), 0u);
  ASSERT_EQ(r.ignored_why.size(), 5u);
  EXPECT_NE(r.ignored_why[4].find("reason=own_alert"), std::string::npos);
  EXPECT_NE(r.ignored_why[0].find("severity=warning"), std::string::npos);
  EXPECT_NE(r.ignored_why[1].find("no_workload_label"), std::string::npos);
  EXPECT_NE(r.ignored_why[3].find("severity=none"), std::string::npos);
  AlertStoreOptions any;
  any.severities.clear();
  AlertStore t(any);
  EXPECT_EQ(t.apply(msg({alert("f1", "firing", T0, labels("web", "info"))}), T0).accepted, 1);
}

TEST(AlertStore, KindLabelsNameOnlyThatKindAndTheFirstLabelWins) {
  AlertStore s({});
  s.apply(msg({alert("d", "firing", T0, labels("web", "page", "deployment")),
               alert("s", "firing", T0, labels("agent", "page", "daemonset"))}),
          T0);
  EXPECT_EQ(s.firing_for("shop", "web", Kind::deployment).size(), 1u);
  EXPECT_TRUE(s.firing_for("shop", "web", Kind::daemonset).empty());
  EXPECT_EQ(s.firing_for("shop", "agent", Kind::daemonset).size(), 1u);
  EXPECT_TRUE(s.firing_for("shop", "agent", Kind::deployment).empty());
  probes::KeyValues both = labels("web");
  both.emplace_back("deployment", "other");
  s.apply(msg({alert("b", "firing", T0, both)}), T0);
  EXPECT_EQ(s.firing_for("shop", "web", Kind::deployment).size(), 2u);  // "workload" comes first
}

TEST(AlertStore, HeartbeatIsCountedEveryTimeAndNeverStored) {
  AlertStoreOptions o;
  o.heartbeat_alert = "Watchdog";
  AlertStore s(o);
  EXPECT_FALSE(s.last_heartbeat());
  auto hb = alert("w", "firing", T0, {{"alertname", "Watchdog"}, {"severity", "none"}});
  EXPECT_TRUE(s.apply(msg({hb}), T0).heartbeat);
  EXPECT_TRUE(s.apply(msg({hb}), T0 + 1min).heartbeat);  // the same key again still proves the route
  EXPECT_EQ(*s.last_heartbeat(), T0 + 1min);
  EXPECT_EQ(s.firing_count(), 0u);
}

TEST(AlertStore, BoundsHoldAndForgetWorks) {
  AlertStoreOptions o;
  o.max_alerts = 3;
  AlertStore s(o);
  for (int i = 0; i < 5; ++i)
    s.apply(msg({alert("f" + std::to_string(i), "firing", T0, labels("w" + std::to_string(i)))}), T0 + std::chrono::seconds(i));
  EXPECT_EQ(s.firing_count(), 3u);
  EXPECT_TRUE(s.firing_for("shop", "w0", Kind::deployment).empty());  // the oldest went first
  EXPECT_TRUE(s.forget("f4"));
  EXPECT_FALSE(s.forget("f4"));
  EXPECT_EQ(s.firing_count(), 2u);
  EXPECT_EQ(s.firing_by_workload().size(), 2u);
}

}  // namespace
}  // namespace canary_guard::guard
