// SeriesFamily (daemon/app/series_family.hpp) and Metrics::render: the text exposition format exactly (escaping,
// NaN and infinities, stable order), series created at zero, removal by exact labels and by (namespace, workload)
// prefix without touching a neighbour whose name merely starts the same. promtool checks the whole /metrics of a
// running daemon in tests/e2e/test_monitoring.sh.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <set>
#include <sstream>

#include "daemon/app/metrics.hpp"
#include "daemon/app/series_family.hpp"

namespace canary_guard::app {
namespace {

std::string rendered(const SeriesFamily& f) {
  std::string out;
  f.render(out);
  return out;
}

TEST(SeriesFamily, RendersHelpTypeAndSortedLines) {
  SeriesFamily f("cg_x_total", "Things.\nMore \\ help.", SeriesFamily::Type::counter, {"namespace", "workload"});
  f.inc({"shop", "web-2"});
  f.inc({"shop", "web"}, 2.5);
  f.add({"alpha", "api"});
  EXPECT_EQ(rendered(f),
            "# HELP cg_x_total Things.\\nMore \\\\ help.\n"
            "# TYPE cg_x_total counter\n"
            "cg_x_total{namespace=\"alpha\",workload=\"api\"} 0\n"
            "cg_x_total{namespace=\"shop\",workload=\"web\"} 2.5\n"
            "cg_x_total{namespace=\"shop\",workload=\"web-2\"} 1\n");
}

TEST(SeriesFamily, EmptyFamilyRendersItsHeaderOnly) {
  SeriesFamily f("cg_g", "G.", SeriesFamily::Type::gauge, {"namespace"});
  EXPECT_EQ(rendered(f), "# HELP cg_g G.\n# TYPE cg_g gauge\n");
}

TEST(SeriesFamily, LabelValuesAreEscaped) {
  SeriesFamily f("cg_g", "G.", SeriesFamily::Type::gauge, {"probe"});
  f.set({"a\"b\\c\nd"}, 1);
  EXPECT_EQ(rendered(f), "# HELP cg_g G.\n# TYPE cg_g gauge\ncg_g{probe=\"a\\\"b\\\\c\\nd\"} 1\n");
}

TEST(SeriesFamily, SampleValues) {
  struct Case {
    double v;
    const char* text;
  } cases[] = {{0, "0"},
               {1, "1"},
               {-1, "-1"},
               {0.01, "0.01"},
               {1.8e9, "1800000000"},
               {1e-05, "1e-05"},
               {1765000000.25, "1765000000.25"},
               {1e20, "1e+20"},
               {-0.0, "0"},
               {1.0 / 3, "0.3333333333333333"},
               {std::numeric_limits<double>::quiet_NaN(), "NaN"},
               {std::numeric_limits<double>::infinity(), "+Inf"},
               {-std::numeric_limits<double>::infinity(), "-Inf"}};
  for (const auto& c : cases) {
    std::string out;
    append_sample_value(out, c.v);
    EXPECT_EQ(out, c.text) << c.v;
  }
}

TEST(SeriesFamily, CountersOnlyGoUpAndAddKeepsAValue) {
  SeriesFamily f("cg_c_total", "C.", SeriesFamily::Type::counter, {"namespace"});
  f.inc({"a"}, 3);
  f.inc({"a"}, -1);  // ignored
  f.inc({"a"}, std::numeric_limits<double>::quiet_NaN());  // ignored
  f.add({"a"});      // exists: left alone
  EXPECT_EQ(f.value({"a"}), 3);
  f.set({"a"}, 1);   // a gauge operation on any family: the caller decides
  EXPECT_EQ(f.value({"a"}), 1);
}

TEST(SeriesFamily, AWrongNumberOfValuesIsIgnoredNotACrash) {
  SeriesFamily f("cg_g", "G.", SeriesFamily::Type::gauge, {"namespace", "workload"});
  f.set({"only-one"}, 1);
  f.inc({"a", "b", "c"});
  EXPECT_FALSE(f.remove({"x"}));
  EXPECT_EQ(f.size(), 0u);
  EXPECT_EQ(f.value({"only-one"}), std::nullopt);
}

TEST(SeriesFamily, RemovalByExactLabelsAndByPrefix) {
  SeriesFamily f("cg_v", "V.", SeriesFamily::Type::gauge, {"namespace", "workload", "probe"});
  f.set({"shop", "web", "errors"}, 1);
  f.set({"shop", "web", "latency"}, 2);
  f.set({"shop", "web-2", "errors"}, 3);  // "web" is a prefix of its name, not of its labels
  f.set({"shop2", "web", "errors"}, 4);
  f.set({"sho", "pweb", "errors"}, 5);    // the separator keeps "sho"+"pweb" apart from "shop"+"web"
  EXPECT_TRUE(f.remove({"shop", "web", "latency"}));
  EXPECT_FALSE(f.remove({"shop", "web", "latency"}));
  f.set({"shop", "web", "latency"}, 2);
  EXPECT_EQ(f.remove_prefix({"shop", "web"}), 2u);
  EXPECT_EQ(f.size(), 3u);
  EXPECT_EQ(f.value({"shop", "web-2", "errors"}), 3);
  EXPECT_EQ(f.value({"shop2", "web", "errors"}), 4);
  EXPECT_EQ(f.value({"sho", "pweb", "errors"}), 5);
}

TEST(SeriesFamily, RemoveWorkloadMatchesNamespaceWorkloadAndKindWhereTheFamilyHasOne) {
  SeriesFamily with_kind("cg_r", "R.", SeriesFamily::Type::counter, {"namespace", "workload", "kind", "reason"});
  with_kind.add({"shop", "web", "Deployment", "alert"});
  with_kind.add({"shop", "web", "Deployment", "pod_signal"});
  with_kind.add({"shop", "web", "DaemonSet", "alert"});  // same name, other kind: kept
  with_kind.add({"shop", "web-2", "Deployment", "alert"});
  with_kind.add({"shop2", "web", "Deployment", "alert"});
  EXPECT_EQ(with_kind.remove_workload("shop", "web", "Deployment"), 2u);
  EXPECT_EQ(with_kind.size(), 3u);
  EXPECT_EQ(with_kind.value({"shop", "web", "DaemonSet", "alert"}), 0);
  EXPECT_EQ(with_kind.remove_workload("shop", "web", "Deployment"), 0u) << "nothing left to remove";

  SeriesFamily no_kind("cg_p", "P.", SeriesFamily::Type::counter, {"namespace", "workload", "reason"});
  no_kind.inc({"shop", "web", "crash_loop"});
  no_kind.inc({"shop", "web", "image_pull"});
  no_kind.inc({"shop", "web-2", "crash_loop"});
  EXPECT_EQ(no_kind.remove_workload("shop", "web", "Deployment"), 2u) << "no kind label: both kinds' series go";
  EXPECT_EQ(no_kind.value({"shop", "web-2", "crash_loop"}), 1);

  SeriesFamily kind_last("cg_a", "A.", SeriesFamily::Type::gauge, {"namespace", "workload", "kind"});
  kind_last.set({"shop", "web", "DaemonSet"}, 1);
  kind_last.set({"shop", "web", "Deployment"}, 1);
  EXPECT_EQ(kind_last.remove_workload("shop", "web", "DaemonSet"), 1u);
  EXPECT_EQ(kind_last.value({"shop", "web", "Deployment"}), 1);

  SeriesFamily other("cg_o", "O.", SeriesFamily::Type::counter, {"probe", "workload"});
  other.inc({"shop", "web"});
  EXPECT_EQ(other.remove_workload("shop", "web", "Deployment"), 0u) << "not led by namespace and workload";
  EXPECT_EQ(other.size(), 1u);
}

TEST(SeriesFamily, SetExistingNeverCreatesASeries) {
  SeriesFamily f("cg_g", "G.", SeriesFamily::Type::gauge, {"namespace", "workload"});
  EXPECT_FALSE(f.set_existing({"shop", "web"}, 0));
  EXPECT_EQ(f.size(), 0u);
  f.set({"shop", "web"}, 2);
  EXPECT_TRUE(f.set_existing({"shop", "web"}, 0));
  EXPECT_EQ(f.value({"shop", "web"}), 0);
}

// A deleted workload leaves no series behind in any per-workload family (R5.2), its counters included, however
// its series came to be; a same-named workload of the other kind keeps the series that carry a kind.
TEST(MetricsForget, ADeletedWorkloadLeavesNoSeriesInAnyTable) {
  Metrics m("1.2.3");
  m.rollout_active("shop", "web", "Deployment", false, 0);  // first sight, idle: its counters exist at 0
  m.rollout_active("shop", "web", "DaemonSet", false, 0);
  m.pod_signal("shop", "web", "crash_loop");
  m.rollback("shop", "web", "Deployment", "pod_signal:crash_loop");
  m.rollout_finished("shop", "web", "Deployment", "rolled_back");
  m.evaluation("shop", "web", "error-ratio", "fail");
  m.probe_value("shop", "web", "error-ratio", 0.5);
  m.last_decisive("shop", "web", 1.8e9);
  m.alerts_firing({{{"shop", "web"}, 1}});
  m.rollout_active("shop", "web-2", "Deployment", true, 1.8e9);
  m.pod_signal("shop", "web-2", "crash_loop");
  ASSERT_NE(m.render().find("canary_guard_pod_signals_total{namespace=\"shop\",workload=\"web\""), std::string::npos);

  m.forget_workload("shop", "web", "Deployment");
  m.alerts_firing({});  // the alert resolves after the workload was deleted: its gauge is not brought back
  const std::string body = m.render();
  std::istringstream in(body);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind('#', 0) == 0 || line.find("namespace=\"shop\",workload=\"web\"") == std::string::npos) continue;
    EXPECT_NE(line.find("kind=\"DaemonSet\""), std::string::npos) << "left behind: " << line;
  }
  EXPECT_EQ(m.workload_series("canary_guard_rollouts_total", {"shop", "web", "DaemonSet", "completed"}), 0);
  EXPECT_EQ(m.workload_series("canary_guard_pod_signals_total", {"shop", "web-2", "crash_loop"}), 1);
  EXPECT_EQ(m.workload_series("canary_guard_rollout_active", {"shop", "web-2", "Deployment"}), 1);
}

// Every sample line of the exposition: `name{labels} value` or `name value`, each family announced by HELP and TYPE
// before its samples, no family announced twice.
TEST(MetricsRender, OneWellFormedExpositionWithTheWorkloadTables) {
  Metrics m("1.2.3", "abc123");
  m.rollout_active("shop", "web", "Deployment", true, 1.8e9);
  m.rollback("shop", "web", "Deployment", "pod_signal:crash_loop");
  m.evaluation("shop", "web", "error-ratio", "pass");
  m.probe_value("shop", "web", "error-ratio", std::numeric_limits<double>::quiet_NaN());
  m.last_decisive("shop", "web", 1.8e9);
  m.alerts_firing({{{"shop", "web"}, 2}});
  const std::string body = m.render();

  std::istringstream in(body);
  std::string line, announced;
  std::set<std::string> families;
  int samples = 0;
  while (std::getline(in, line)) {
    ASSERT_FALSE(line.empty());
    if (line.rfind("# HELP ", 0) == 0) {
      const std::string name = line.substr(7, line.find(' ', 7) - 7);
      EXPECT_TRUE(families.insert(name).second) << "announced twice: " << name;
      announced = name;
      continue;
    }
    if (line.rfind("# TYPE ", 0) == 0) {
      EXPECT_EQ(line.substr(7, announced.size()), announced);
      continue;
    }
    ++samples;
    const std::string name = line.substr(0, line.find_first_of("{ "));
    EXPECT_EQ(name.rfind(announced, 0), 0u) << "sample of another family than announced: " << line;
  }
  EXPECT_GT(samples, 50);
  EXPECT_NE(body.find("canary_guard_rollbacks_total{namespace=\"shop\",workload=\"web\",kind=\"Deployment\","
                      "reason=\"pod_signal\"} 1\n"),
            std::string::npos);
  EXPECT_NE(body.find("canary_guard_rollbacks_total{namespace=\"shop\",workload=\"web\",kind=\"Deployment\","
                      "reason=\"alert\"} 0\n"),
            std::string::npos)
      << "the workload's counters exist at zero from its first sight";
  EXPECT_NE(body.find("canary_guard_probe_value{namespace=\"shop\",workload=\"web\",probe=\"error-ratio\"} NaN\n"),
            std::string::npos);
  EXPECT_NE(body.find("canary_guard_alerts_firing{namespace=\"shop\",workload=\"web\"} 2\n"), std::string::npos);
  EXPECT_NE(body.find("canary_guard_build_info{"), std::string::npos);
  EXPECT_NE(body.find("process_start_time_seconds"), std::string::npos);

  // Forgotten workloads leave no series behind (R5.2).
  m.forget_workload("shop", "web", "Deployment");
  m.forget_analysis("shop", "web");
  m.alerts_firing({});
  EXPECT_EQ(m.workload_series("canary_guard_rollout_active", {"shop", "web", "Deployment"}), std::nullopt);
  EXPECT_EQ(m.workload_series("canary_guard_rollbacks_total", {"shop", "web", "Deployment", "pod_signal"}),
            std::nullopt);
  EXPECT_EQ(m.workload_series("canary_guard_probe_value", {"shop", "web", "error-ratio"}), std::nullopt);
  EXPECT_EQ(m.workload_series("canary_guard_last_decisive_evaluation_timestamp_seconds", {"shop", "web"}),
            std::nullopt);
  EXPECT_EQ(m.workload_series("canary_guard_alerts_firing", {"shop", "web"}), std::nullopt)
      << "forgotten with its workload, not brought back at 0 when the alert resolves";
}

TEST(MetricsRender, AResolvedAlertLeavesTheGaugeOfAGuardedWorkloadAtZeroAndNoOtherBehind) {
  Metrics m("1.2.3");
  m.rollout_active("shop", "web", "Deployment", false, 0);  // guarded: seen by the controller
  m.alerts_firing({{{"shop", "web"}, 2}, {{"shop", "not-guarded"}, 1}});
  EXPECT_EQ(m.workload_series("canary_guard_alerts_firing", {"shop", "not-guarded"}), 1) << "shown while it fires";
  m.alerts_firing({});
  EXPECT_EQ(m.workload_series("canary_guard_alerts_firing", {"shop", "web"}), 0);
  EXPECT_EQ(m.workload_series("canary_guard_alerts_firing", {"shop", "not-guarded"}), std::nullopt)
      << "a name from a webhook body that no guarded workload has is not kept for ever";
}

TEST(SeriesFamily, HasPrefix) {
  SeriesFamily f("cg_a", "A.", SeriesFamily::Type::gauge, {"namespace", "workload", "kind"});
  f.set({"shop", "web-2", "Deployment"}, 1);
  EXPECT_FALSE(f.has_prefix({"shop", "web"})) << "web is a prefix of web-2's name, not of its labels";
  EXPECT_TRUE(f.has_prefix({"shop", "web-2"}));
  EXPECT_TRUE(f.has_prefix({"shop"}));
  EXPECT_FALSE(f.has_prefix({"shop", "web-2", "Deployment", "extra"}));
}

}  // namespace
}  // namespace canary_guard::app
