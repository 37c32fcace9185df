// The decision core and the pure probes include nothing but the standard library and project headers, and never
// read a clock (style.md §2, §4). This test reads their sources and fails on a forbidden include or clock read.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {

std::string read(const std::string& rel) {
  std::ifstream in(std::string(CG_SOURCE_DIR) + "/" + rel);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

const std::vector<std::string> kPure = {
    "daemon/guard/decide.hpp",   "daemon/guard/decide.cpp",   "daemon/guard/records.hpp",
    "daemon/guard/records.cpp",  "probes/rollout_status.hpp", "probes/rollout_status.cpp",
    "probes/rollout_probe.hpp",  "probes/rollout_probe.cpp",  "probes/pod_signals.hpp",
    "probes/pod_signals.cpp",    "probes/outcome.hpp",        "probes/objects.hpp",
    "daemon/guard/observe.hpp",  "daemon/guard/observe.cpp",  "daemon/guard/kind_rules.hpp",
    "daemon/guard/kind_rules.cpp", "daemon/guard/deployment_rules.cpp", "daemon/guard/daemonset_rules.cpp",
    "daemon/guard/workload_key.hpp",
    "daemon/guard/workload_key.cpp", "daemon/guard/rollback_slots.hpp", "daemon/guard/guard_metrics.hpp",
    "daemon/guard/object_ref.hpp",  "probes/metric_analysis.hpp", "probes/metric_analysis.cpp",
    "daemon/guard/analysis_view.hpp", "daemon/guard/analysis_view.cpp", "config/checks.hpp",         "config/checks.cpp",
};

}  // namespace

TEST(Architecture, DecisionCoreIsPure) {
  const std::vector<std::string> forbidden = {"boost/", "nlohmann/", "spdlog/", "prometheus/", "toml++", "yaml-cpp",
                                              "system_clock::now", "steady_clock::now", "time(nullptr)", "sleep"};
  for (const auto& f : kPure) {
    const std::string text = read(f);
    ASSERT_FALSE(text.empty()) << f << " missing";
    for (const auto& bad : forbidden) EXPECT_EQ(text.find(bad), std::string::npos) << f << " contains " << bad;
  }
}

TEST(Architecture, DependenciesPointOneWay) {
  // config <- probes <- daemon: config includes neither probes nor daemon; probes never include daemon.
  for (const char* f : {"config/config.hpp", "config/config.cpp", "config/load.cpp", "config/policy.hpp",
                        "config/checks.hpp", "config/checks.cpp"}) {
    const std::string text = read(f);
    EXPECT_EQ(text.find("#include \"probes/"), std::string::npos) << f;
    EXPECT_EQ(text.find("#include \"daemon/"), std::string::npos) << f;
  }
  for (const auto& f : kPure) {
    if (f.rfind("probes/", 0) == 0) {
      EXPECT_EQ(read(f).find("#include \"daemon/"), std::string::npos) << f;
    }
  }
}

TEST(Architecture, GuardDoesNotReachBackIntoTheApp) {
  // daemon/app wires the guard; the guard reports through interfaces it owns (guard_metrics.hpp).
  for (const char* f : {"daemon/guard/controller.hpp", "daemon/guard/controller.cpp", "daemon/guard/act.hpp",
                        "daemon/guard/act.cpp", "daemon/guard/kube_writer.cpp", "daemon/guard/observe.cpp",
                        "daemon/guard/decide.cpp", "daemon/guard/analyzer.hpp", "daemon/guard/analyzer.cpp"}) {
    const std::string text = read(f);
    ASSERT_FALSE(text.empty()) << f << " missing";
    EXPECT_EQ(text.find("#include \"daemon/app/"), std::string::npos) << f;
  }
}
