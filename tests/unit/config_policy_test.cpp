// Per-workload view of the configuration: canary-guard.io/* annotation overrides and is_guarded().
#include <gtest/gtest.h>

#include "config/config.hpp"

namespace canary_guard::config {
namespace {

using std::chrono::seconds;

Config defaults() {
  auto r = load_string("", "t.toml");
  EXPECT_TRUE(r.has_value());
  return r.has_value() ? *r : Config{};
}

bool contains(const std::string& s, std::string_view part) { return s.find(part) != std::string::npos; }

TEST(ConfigPolicy, NoAnnotationsGivesDefaults) {
  const Config c = defaults();
  const Resolved r = resolve_policy(c, {});
  EXPECT_TRUE(r.problems.empty());
  EXPECT_TRUE(r.policy.enabled);
  EXPECT_EQ(r.policy.bake_time, c.defaults.bake_time);
  EXPECT_EQ(r.policy.pods.crashloop_restarts, c.defaults.pods.crashloop_restarts);
}

TEST(ConfigPolicy, ValidOverridesApply) {
  const Config c = defaults();
  const Resolved r = resolve_policy(c, {{"canary-guard.io/enabled", "false"},
                                        {"canary-guard.io/dry-run", "true"},
                                        {"canary-guard.io/bake-time", "15m"},
                                        {"canary-guard.io/progress-deadline", "30m"},
                                        {"canary-guard.io/on-known-bad", "rollback"},
                                        {"canary-guard.io/crashloop-restarts", "10"},
                                        {"canary-guard.io/image-pull-grace", "5m"},
                                        {"canary-guard.io/ready-grace", "0s"},
                                        {"app", "web"},  // not ours: ignored
                                        {"deployment.kubernetes.io/revision", "7"}});
  EXPECT_TRUE(r.problems.empty()) << ::testing::PrintToString(r.problems);
  EXPECT_FALSE(r.policy.enabled);
  EXPECT_TRUE(r.policy.dry_run);
  EXPECT_EQ(r.policy.bake_time, seconds{900});
  EXPECT_EQ(r.policy.daemonset_progress_deadline, seconds{1800});
  EXPECT_EQ(r.policy.on_known_bad, KnownBadAction::rollback);
  EXPECT_EQ(r.policy.pods.crashloop_restarts, 10);
  EXPECT_EQ(r.policy.pods.image_pull_grace, seconds{300});
  EXPECT_EQ(r.policy.pods.ready_grace, seconds{0});
  // Fields without an annotation keep the file's value.
  EXPECT_EQ(r.policy.known_bad_min_interval, c.defaults.known_bad_min_interval);
  EXPECT_EQ(r.policy.pods.oom_kills, c.defaults.pods.oom_kills);
}

TEST(ConfigPolicy, OverridesStartFromTheFileNotFromBuiltInDefaults) {
  auto loaded = load_string("[guard]\ndry_run = true\nbake_time = \"20m\"\n", "t.toml");
  ASSERT_TRUE(loaded.has_value());
  const Resolved kept = resolve_policy(*loaded, {{"canary-guard.io/bake-time", "soon"}});
  EXPECT_TRUE(kept.policy.dry_run);
  EXPECT_EQ(kept.policy.bake_time, seconds{1200});
  ASSERT_EQ(kept.problems.size(), 1u);
  EXPECT_TRUE(contains(kept.problems[0], "using the default 20m")) << kept.problems[0];
  const Resolved off = resolve_policy(*loaded, {{"canary-guard.io/dry-run", "false"}});
  EXPECT_FALSE(off.policy.dry_run);
}

struct BadAnnotation {
  const char* key;
  const char* value;
  const char* why;
};

TEST(ConfigPolicy, InvalidOverrideKeepsDefaultAndNamesAnnotationValueAndReason) {
  const BadAnnotation cases[] = {
      {"canary-guard.io/enabled", "yes", "expected \"true\" or \"false\"; using true"},
      {"canary-guard.io/enabled", "True", "expected \"true\" or \"false\""},
      {"canary-guard.io/dry-run", "", "expected \"true\" or \"false\"; using false"},
      {"canary-guard.io/bake-time", "300", "invalid duration: missing unit"},
      {"canary-guard.io/bake-time", "0s", "duration must be greater than 0s; using the default 5m"},
      {"canary-guard.io/bake-time", "-1m", "negative"},
      {"canary-guard.io/progress-deadline", "1.5h", "fractions"},
      {"canary-guard.io/progress-deadline", "9000h", "is too long (at most 8760h, one year); using the default 10m"},
      {"canary-guard.io/image-pull-grace", "500ms", "not a whole number of seconds; using the default 2m"},
      {"canary-guard.io/ready-grace", "soon", "invalid duration"},
      {"canary-guard.io/on-known-bad", "ignore", "expected \"hold\" or \"rollback\"; using the default hold"},
      {"canary-guard.io/crashloop-restarts", "0", "must be at least 1; using the default 3"},
      {"canary-guard.io/crashloop-restarts", "-2", "must be at least 1"},
      {"canary-guard.io/crashloop-restarts", "three", "expected a whole number"},
      {"canary-guard.io/crashloop-restarts", "3x", "expected a whole number"},
      {"canary-guard.io/crashloop-restarts", " 3", "expected a whole number"},
      {"canary-guard.io/crashloop-restarts", "", "expected a whole number"},
      {"canary-guard.io/crashloop-restarts", "2147483648", "number too large"},
      {"canary-guard.io/crashloop-restarts", "99999999999999999999", "expected a whole number"},
  };
  const Config c = defaults();
  const Policy& d = c.defaults;
  for (const auto& bad : cases) {
    SCOPED_TRACE(std::string(bad.key) + "=" + bad.value);
    const Resolved r = resolve_policy(c, {{bad.key, bad.value}});
    ASSERT_EQ(r.problems.size(), 1u) << ::testing::PrintToString(r.problems);
    const std::string& p = r.problems[0];
    EXPECT_TRUE(contains(p, std::string("annotation ") + bad.key + "=\"" + bad.value + "\" ignored: ")) << p;
    EXPECT_TRUE(contains(p, bad.why)) << p;
    // Every field still has the default.
    EXPECT_EQ(r.policy.enabled, d.enabled);
    EXPECT_EQ(r.policy.dry_run, d.dry_run);
    EXPECT_EQ(r.policy.bake_time, d.bake_time);
    EXPECT_EQ(r.policy.daemonset_progress_deadline, d.daemonset_progress_deadline);
    EXPECT_EQ(r.policy.on_known_bad, d.on_known_bad);
    EXPECT_EQ(r.policy.pods.crashloop_restarts, d.pods.crashloop_restarts);
    EXPECT_EQ(r.policy.pods.image_pull_grace, d.pods.image_pull_grace);
    EXPECT_EQ(r.policy.pods.ready_grace, d.pods.ready_grace);
  }
}

TEST(ConfigPolicy, ProblemTextIsBoundedAndPrintable) {
  const std::string huge(10'000, 'x');
  const Resolved r = resolve_policy(defaults(), {{"canary-guard.io/bake-time", "a\nb"},
                                                 {"canary-guard.io/on-known-bad", huge}});
  ASSERT_EQ(r.problems.size(), 2u);
  EXPECT_FALSE(contains(r.problems[0], "\n"));
  EXPECT_LT(r.problems[1].size(), 300u);
}

TEST(ConfigPolicy, UnknownAnnotationsAreReportedGuardWrittenOnesIgnored) {
  const Resolved r = resolve_policy(defaults(), {{"canary-guard.io/verdict", "failed"},
                                                 {"canary-guard.io/verdict-revision", "7"},
                                                 {"canary-guard.io/rollback", "{}"},
                                                 {"canary-guard.io/hold", "true"},
                                                 {"canary-guard.io/bake_time", "1m"},
                                                 {"canary-guard.io/dryrun", "true"},
                                                 {"canary-guard.io/colour", "blue"},
                                                 {"other.io/bake-time", "junk"}});
  ASSERT_EQ(r.problems.size(), 3u) << ::testing::PrintToString(r.problems);
  EXPECT_EQ(r.problems[0], "unknown annotation canary-guard.io/bake_time ignored; did you mean canary-guard.io/bake-time?");
  EXPECT_EQ(r.problems[1], "unknown annotation canary-guard.io/dryrun ignored; did you mean canary-guard.io/dry-run?");
  EXPECT_EQ(r.problems[2], "unknown annotation canary-guard.io/colour ignored");
  // Unknown keys change nothing.
  EXPECT_EQ(r.policy.bake_time, seconds{300});
  EXPECT_FALSE(r.policy.dry_run);
}

Config with(std::string_view toml) {
  auto r = load_string(toml, "t.toml");
  EXPECT_TRUE(r.has_value()) << (r.has_value() ? "" : format(r.error().front()));
  return r.has_value() ? *r : Config{};
}

struct GuardCase {
  const char* name;
  const char* ns;
  KeyValues labels;
  KeyValues annotations;
  const char* kind;
  bool opt_out;  // expected under mode = "opt-out"
  bool opt_in;   // expected under mode = "opt-in"
};

TEST(ConfigPolicy, IsGuardedOptInAndOptOut) {
  const std::string common = "[selection]\nnamespaces = []\nlabel_selector = \"app, tier!=cache\"\n";
  const Config out = with(common + "mode = \"opt-out\"\n");
  const Config in = with(common + "mode = \"opt-in\"\n");
  const KeyValues app{{"app", "web"}};
  const KeyValues on{{"canary-guard.io/enabled", "true"}};
  const KeyValues off{{"canary-guard.io/enabled", "false"}};
  const KeyValues junk{{"canary-guard.io/enabled", "yes"}};
  const GuardCase cases[] = {
      {"plain workload", "shop", app, {}, "Deployment", true, false},
      {"annotated true", "shop", app, on, "Deployment", true, true},
      {"annotated false", "shop", app, off, "Deployment", false, false},
      {"invalid annotation: doubt means no action", "shop", app, junk, "Deployment", false, false},
      {"daemonset", "shop", app, on, "DaemonSet", true, true},
      {"unsupported kind", "shop", app, on, "StatefulSet", false, false},
      {"excluded namespace beats annotation", "kube-system", app, on, "Deployment", false, false},
      {"selector: label missing", "shop", {}, on, "Deployment", false, false},
      {"selector: != excludes", "shop", {{"app", "web"}, {"tier", "cache"}}, on, "Deployment", false, false},
      {"selector: != allows other", "shop", {{"app", "web"}, {"tier", "front"}}, on, "Deployment", true, true},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(is_guarded(out, c.ns, c.labels, c.annotations, c.kind), c.opt_out);
    EXPECT_EQ(is_guarded(in, c.ns, c.labels, c.annotations, c.kind), c.opt_in);
  }
  // resolve_policy agrees on the annotation part and reports the invalid value.
  EXPECT_TRUE(resolve_policy(out, {}).policy.enabled);
  EXPECT_FALSE(resolve_policy(in, {}).policy.enabled);
  EXPECT_TRUE(resolve_policy(in, on).policy.enabled);
  EXPECT_FALSE(resolve_policy(out, off).policy.enabled);
  EXPECT_EQ(resolve_policy(in, junk).problems.size(), 1u);
}

TEST(ConfigPolicy, IsGuardedNamespacesAndKinds) {
  const Config listed = with("[selection]\nnamespaces = [\"shop\", \"pay\"]\nkinds = [\"DaemonSet\"]\n");
  EXPECT_TRUE(is_guarded(listed, "shop", {}, {}, "DaemonSet"));
  EXPECT_TRUE(is_guarded(listed, "pay", {}, {}, "DaemonSet"));
  EXPECT_FALSE(is_guarded(listed, "other", {}, {}, "DaemonSet"));
  EXPECT_FALSE(is_guarded(listed, "shop", {}, {}, "Deployment"));
  const Config all = with("[selection]\nexclude_namespaces = [\"kube-system\", \"monitoring\"]\n");
  EXPECT_TRUE(is_guarded(all, "anything", {}, {}, "Deployment"));
  EXPECT_FALSE(is_guarded(all, "monitoring", {}, {}, "Deployment"));
  EXPECT_FALSE(is_guarded(all, "kube-system", {}, {}, "DaemonSet"));
  const Config nothing_excluded = with("[selection]\nexclude_namespaces = []\n");
  EXPECT_TRUE(is_guarded(nothing_excluded, "kube-system", {}, {}, "DaemonSet"));
}

}  // namespace
}  // namespace canary_guard::config
