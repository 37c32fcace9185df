// TOML loading: defaults, every key, the shipped example, and every kind of error with its exact line:column.
#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <sstream>

#include "config/config.hpp"

namespace canary_guard::config {
namespace {

using std::chrono::seconds;

Config load_ok(std::string_view toml) {
  auto r = load_string(toml, "t.toml");
  if (!r) {
    std::string all;
    for (const auto& d : r.error()) all += format(d) + "\n";
    ADD_FAILURE() << "unexpected diagnostics:\n" << all;
    return Config{};
  }
  return *r;
}

// Compares every field so that "equals the defaults" means something.
void expect_same(const Config& a, const Config& b) {
  EXPECT_EQ(a.kubernetes.kubeconfig, b.kubernetes.kubeconfig);
  EXPECT_EQ(a.kubernetes.context, b.kubernetes.context);
  EXPECT_EQ(a.selection.namespaces, b.selection.namespaces);
  EXPECT_EQ(a.selection.exclude_namespaces, b.selection.exclude_namespaces);
  EXPECT_EQ(a.selection.label_selector_text, b.selection.label_selector_text);
  EXPECT_EQ(a.selection.label_selector.requirements(), b.selection.label_selector.requirements());
  EXPECT_EQ(a.selection.mode, b.selection.mode);
  EXPECT_EQ(a.selection.kinds, b.selection.kinds);
  const Policy &p = a.defaults, &q = b.defaults;
  EXPECT_EQ(p.enabled, q.enabled);
  EXPECT_EQ(p.dry_run, q.dry_run);
  EXPECT_EQ(p.bake_time, q.bake_time);
  EXPECT_EQ(p.daemonset_progress_deadline, q.daemonset_progress_deadline);
  EXPECT_EQ(p.on_known_bad, q.on_known_bad);
  EXPECT_EQ(p.known_bad_min_interval, q.known_bad_min_interval);
  EXPECT_EQ(p.pods.crashloop_restarts, q.pods.crashloop_restarts);
  EXPECT_EQ(p.pods.crashloop_unready_restarts, q.pods.crashloop_unready_restarts);
  EXPECT_EQ(p.pods.image_pull_grace, q.pods.image_pull_grace);
  EXPECT_EQ(p.pods.config_error_grace, q.pods.config_error_grace);
  EXPECT_EQ(p.pods.oom_kills, q.pods.oom_kills);
  EXPECT_EQ(p.pods.schedule_grace, q.pods.schedule_grace);
  EXPECT_EQ(p.pods.unschedulable_is_failure, q.pods.unschedulable_is_failure);
  EXPECT_EQ(p.pods.ready_grace, q.pods.ready_grace);
  EXPECT_EQ(a.max_concurrent_rollbacks, b.max_concurrent_rollbacks);
  EXPECT_EQ(a.kubernetes.max_requests_in_flight, b.kubernetes.max_requests_in_flight);
  EXPECT_EQ(a.event_component, b.event_component);
  EXPECT_EQ(a.server.listen, b.server.listen);
  EXPECT_EQ(a.server.host, b.server.host);
  EXPECT_EQ(a.server.port, b.server.port);
  EXPECT_EQ(a.log.level, b.log.level);
  EXPECT_EQ(a.log.format, b.log.format);
}

TEST(ConfigLoad, EmptyFileGivesDocumentedDefaults) {
  const Config c = load_ok("");
  EXPECT_EQ(c.source_file, "t.toml");
  EXPECT_TRUE(c.selection.namespaces.empty());
  EXPECT_EQ(c.selection.exclude_namespaces, std::vector<std::string>{"kube-system"});
  EXPECT_TRUE(c.selection.label_selector.empty());
  EXPECT_EQ(c.selection.mode, SelectionMode::opt_out);
  EXPECT_EQ(c.selection.kinds, (std::vector<std::string>{"Deployment", "DaemonSet"}));
  EXPECT_TRUE(c.defaults.enabled);
  EXPECT_FALSE(c.defaults.dry_run);
  EXPECT_EQ(c.defaults.bake_time, seconds{300});
  EXPECT_EQ(c.defaults.daemonset_progress_deadline, seconds{600});
  EXPECT_EQ(c.defaults.on_known_bad, KnownBadAction::hold);
  EXPECT_EQ(c.defaults.known_bad_min_interval, seconds{3600});
  EXPECT_EQ(c.defaults.pods.crashloop_restarts, 3);
  EXPECT_EQ(c.defaults.pods.crashloop_unready_restarts, 2);
  EXPECT_EQ(c.defaults.pods.image_pull_grace, seconds{120});
  EXPECT_EQ(c.defaults.pods.config_error_grace, seconds{60});
  EXPECT_EQ(c.defaults.pods.oom_kills, 2);
  EXPECT_EQ(c.defaults.pods.schedule_grace, seconds{300});
  EXPECT_FALSE(c.defaults.pods.unschedulable_is_failure);
  EXPECT_EQ(c.defaults.pods.ready_grace, seconds{0});
  EXPECT_EQ(c.max_concurrent_rollbacks, 3);
  EXPECT_EQ(c.kubernetes.max_requests_in_flight, 32);
  EXPECT_EQ(c.event_component, "canary-guard");
  EXPECT_EQ(c.server.host, "127.0.0.1");
  EXPECT_EQ(c.server.port, 9464);
  EXPECT_EQ(c.log.level, LogLevel::info);
  EXPECT_EQ(c.log.format, LogFormat::text);
  // Comments, blank lines and empty sections change nothing.
  expect_same(load_ok("# nothing\n\n[guard]\n[pods]\n"), c);
}

TEST(ConfigLoad, ShippedExampleLoadsCleanAndStatesTheDefaults) {
  const std::string path = std::string(CG_SOURCE_DIR) + "/config/examples/canary-guard.toml";
  auto r = load_file(path);
  ASSERT_TRUE(r.has_value()) << (r.has_value() ? "" : format(r.error().front()));
  EXPECT_EQ(r->source_file, path);
  // The example documents the defaults; if one drifts, the example is lying.
  expect_same(*r, load_ok(""));
}

TEST(ConfigLoad, EveryKeyIsRead) {
  const Config c = load_ok(R"toml(
[kubernetes]
kubeconfig = "/etc/canary-guard/kubeconfig"
context = "prod"
max_requests_in_flight = 8
[selection]
namespaces = ["shop", "pay-1"]
exclude_namespaces = []
label_selector = "app.kubernetes.io/part-of=shop, tier notin (batch)"
mode = "opt-in"
kinds = ["DaemonSet"]
[guard]
dry_run = true
bake_time = "1h30m"
daemonset_progress_deadline = "20m"
max_concurrent_rollbacks = 7
on_known_bad = "rollback"
known_bad_min_interval = "2h"
event_component = "cg-eu"
[pods]
crashloop_restarts = 5
crashloop_unready_restarts = 0
image_pull_grace = "3m"
config_error_grace = "90s"
oom_kills = 1
schedule_grace = "10m"
unschedulable_is_failure = true
ready_grace = "45s"
[server]
listen = "[::1]:0"
[log]
level = "debug"
format = "json"
)toml");
  EXPECT_EQ(c.kubernetes.kubeconfig, "/etc/canary-guard/kubeconfig");
  EXPECT_EQ(c.kubernetes.context, "prod");
  EXPECT_EQ(c.kubernetes.max_requests_in_flight, 8);
  EXPECT_EQ(c.selection.namespaces, (std::vector<std::string>{"shop", "pay-1"}));
  EXPECT_TRUE(c.selection.exclude_namespaces.empty());
  EXPECT_EQ(c.selection.label_selector.to_string(), "app.kubernetes.io/part-of=shop,tier notin (batch)");
  EXPECT_EQ(c.selection.mode, SelectionMode::opt_in);
  EXPECT_FALSE(c.defaults.enabled);  // opt-in: nothing is guarded without the annotation
  EXPECT_EQ(c.selection.kinds, std::vector<std::string>{"DaemonSet"});
  EXPECT_TRUE(c.defaults.dry_run);
  EXPECT_EQ(c.defaults.bake_time, seconds{5400});
  EXPECT_EQ(c.defaults.daemonset_progress_deadline, seconds{1200});
  EXPECT_EQ(c.max_concurrent_rollbacks, 7);
  EXPECT_EQ(c.defaults.on_known_bad, KnownBadAction::rollback);
  EXPECT_EQ(c.defaults.known_bad_min_interval, seconds{7200});
  EXPECT_EQ(c.event_component, "cg-eu");
  EXPECT_EQ(c.defaults.pods.crashloop_restarts, 5);
  EXPECT_EQ(c.defaults.pods.crashloop_unready_restarts, 0);  // 0 = off is allowed
  EXPECT_EQ(c.defaults.pods.image_pull_grace, seconds{180});
  EXPECT_EQ(c.defaults.pods.config_error_grace, seconds{90});
  EXPECT_EQ(c.defaults.pods.oom_kills, 1);
  EXPECT_EQ(c.defaults.pods.schedule_grace, seconds{600});
  EXPECT_TRUE(c.defaults.pods.unschedulable_is_failure);
  EXPECT_EQ(c.defaults.pods.ready_grace, seconds{45});
  EXPECT_EQ(c.server.listen, "[::1]:0");
  EXPECT_EQ(c.server.host, "::1");
  EXPECT_EQ(c.server.port, 0);
  EXPECT_EQ(c.log.level, LogLevel::debug);
  EXPECT_EQ(c.log.format, LogFormat::json);
}

TEST(ConfigLoad, ListenAddresses) {
  const std::tuple<const char*, const char*, int> cases[] = {
      {"127.0.0.1:9464", "127.0.0.1", 9464}, {"0.0.0.0:80", "0.0.0.0", 80},   {"[::]:9464", "::", 9464},
      {"[fe80::1]:1", "fe80::1", 1},         {"localhost:65535", "localhost", 65535},
      {"metrics.example.com:9", "metrics.example.com", 9},
  };
  for (const auto& [listen, host, port] : cases) {
    const Config c = load_ok(std::string("[server]\nlisten = \"") + listen + "\"\n");
    EXPECT_EQ(c.server.host, host) << listen;
    EXPECT_EQ(c.server.port, port) << listen;
  }
}

TEST(ConfigLoad, ParseListenDirectly) {
  auto v6 = parse_listen("[::1]:9464");
  ASSERT_TRUE(v6.has_value());
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 9464);
  EXPECT_FALSE(parse_listen("").has_value());
  EXPECT_FALSE(parse_listen("[]:1").has_value());
  EXPECT_FALSE(parse_listen("1.2.3.4:123456").has_value());
  EXPECT_FALSE(parse_listen("1.2.3:80").has_value());
  EXPECT_FALSE(parse_listen("host:-1").has_value());
}

// Bytes flipped, deleted or duplicated at random in the example file: every variant either loads or yields
// diagnostics with a position inside the file, and nothing throws or crashes.
TEST(ConfigLoad, MutatedExampleNeverCrashes) {
  std::ifstream in(std::string(CG_SOURCE_DIR) + "/config/examples/canary-guard.toml", std::ios::binary);
  std::stringstream buf;
  buf << in.rdbuf();
  const std::string base = buf.str();
  ASSERT_FALSE(base.empty());
  const int total_lines = static_cast<int>(std::count(base.begin(), base.end(), '\n')) + 2;
  std::mt19937 rng(12345);
  const std::string alphabet = std::string("=[]\"'#.,-_ \n\t0123456789abcxyz{}\\\xff") + '\0';
  int failures = 0;
  for (int i = 0; i < 300; ++i) {
    std::string text = base;
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      const std::size_t pos = rng() % text.size();
      switch (rng() % 3) {
        case 0: text[pos] = alphabet[rng() % alphabet.size()]; break;
        case 1: text.erase(pos, 1 + rng() % 8); break;
        default: text.insert(pos, text.substr(rng() % text.size(), 1 + rng() % 16)); break;
      }
    }
    auto r = load_string(text, "m.toml");
    if (r) continue;
    ++failures;
    ASSERT_FALSE(r.error().empty());
    for (const auto& d : r.error()) {
      EXPECT_GE(d.line, 1) << format(d);
      EXPECT_LE(d.line, total_lines + 16) << format(d);
      EXPECT_FALSE(d.message.empty());
      EXPECT_EQ(d.message.find('\n'), std::string::npos) << format(d);
    }
  }
  EXPECT_GT(failures, 50);  // most edits land in comments, but many really do break the file
}

struct BadInput {
  const char* name;
  const char* toml;
  int line;
  int column;
  const char* fragment;
};

TEST(ConfigLoad, EachProblemHasExactPositionAndMessage) {
  const BadInput cases[] = {
      // TOML syntax, reported by toml++ with its own position.
      {"syntax: missing value", "[guard]\ndry_run = \n", 2, 11, "expected value"},
      {"syntax: duplicate key", "[guard]\ndry_run = true\ndry_run = false\n", 3, 11, "redefine"},
      {"syntax: unterminated string", "[log]\nlevel = \"info\n", 2, 14, "string"},
      {"syntax: bad utf-8", "a = \"\xff\"\n", 1, 5, "utf-8"},
      // Unknown keys, with hints.
      {"unknown top-level key", "colour = 1\n", 1, 1, "unknown key \"colour\" (sections are"},
      {"misspelled section", "[gaurd]\n", 1, 2, "unknown key \"gaurd\"; did you mean [guard]?"},
      {"top-level key of a section", "\n\ndry_run = true\n", 3, 1, "unknown key \"dry_run\"; it belongs in [guard]"},
      {"misspelled key", "[guard]\n  dry_rn = true\n", 2, 3, "unknown key \"dry_rn\" in [guard]; did you mean \"dry_run\"?"},
      {"hyphen for underscore", "[guard]\nbake-time = \"5m\"\n", 2, 1, "did you mean \"bake_time\"?"},
      {"key in the wrong section", "[pods]\ndry_run = true\n", 2, 1, "unknown key \"dry_run\" in [pods]; it belongs in [guard]"},
      {"unknown sub-table", "[guard]\n[guard.extra]\n", 2, 8, "unknown key \"extra\" in [guard]"},
      {"dotted key", "[log]\nlevel.x = 1\n", 2, 1, "log.level: expected a string, found table"},
      // Sections of the wrong type.
      {"section not a table", "guard = 5\n", 1, 9, "guard: expected a table ([guard]), found integer 5"},
      {"array of tables", "[[pods]]\n", 1, 1, "pods: expected a table ([pods]), found array"},
      // Wrong types.
      {"bool as string", "[guard]\ndry_run = \"yes\"\n", 2, 11, "guard.dry_run: expected true or false, found string \"yes\""},
      {"int as string", "[guard]\nmax_concurrent_rollbacks = \"3\"\n", 2, 28, "expected an integer, found string \"3\""},
      {"int as float", "[pods]\noom_kills = 2.0\n", 2, 13, "pods.oom_kills: expected an integer, found float"},
      {"no request in flight", "[kubernetes]\nmax_requests_in_flight = 0\n", 2, 26,
       "kubernetes.max_requests_in_flight: must be at least 1, found 0"},
      {"string as int", "[kubernetes]\ncontext = 1\n", 2, 11, "kubernetes.context: expected a string, found integer 1"},
      {"array as string", "[selection]\nkinds = \"Deployment\"\n", 2, 9, "expected an array of strings"},
      {"array element type", "[selection]\nnamespaces = [\"a\", 2]\n", 2, 20, "selection.namespaces: expected a string, found integer 2"},
      // Durations.
      {"duration as integer", "[guard]\nbake_time = 300\n", 2, 13, "expected a duration string such as \"5m\", found integer 300 (durations need a unit, e.g. \"300s\")"},
      {"duration garbage", "[guard]\nbake_time = \"5 min\"\n", 2, 13, "guard.bake_time: invalid duration \"5 min\""},
      {"duration unit", "[pods]\nschedule_grace = \"5min\"\n", 2, 18, "unknown unit \"min\""},
      {"duration negative", "[pods]\nimage_pull_grace = \"-2m\"\n", 2, 20, "negative durations are not allowed"},
      {"duration zero", "[guard]\nbake_time = \"0s\"\n", 2, 13, "guard.bake_time: \"0s\" must be greater than 0s"},
      {"duration sub-second", "[pods]\nconfig_error_grace = \"1500ms\"\n", 2, 22, "is not a whole number of seconds"},
      {"duration overflow", "[guard]\nknown_bad_min_interval = \"99999999999999999999h\"\n", 2, 26, "out of range"},
      {"duration too long", "[guard]\ndaemonset_progress_deadline = \"8761h\"\n", 2, 31, "is too long"},
      {"duration fraction", "[pods]\nready_grace = \"1.5m\"\n", 2, 15, "fractions are not supported"},
      // Ranges.
      {"rollbacks zero", "[guard]\nmax_concurrent_rollbacks = 0\n", 2, 28, "must be at least 1, found 0"},
      {"rollbacks negative", "[guard]\nmax_concurrent_rollbacks = -4\n", 2, 28, "must be at least 1, found -4"},
      {"restarts zero", "[pods]\ncrashloop_restarts = 0\n", 2, 22, "pods.crashloop_restarts: must be at least 1"},
      {"unready restarts negative", "[pods]\ncrashloop_unready_restarts = -1\n", 2, 30,
       "pods.crashloop_unready_restarts: must be at least 0, found -1"},
      {"unready restarts as string", "[pods]\ncrashloop_unready_restarts = \"2\"\n", 2, 30,
       "pods.crashloop_unready_restarts: expected an integer"},
      {"oom too big", "[pods]\noom_kills = 2147483648\n", 2, 13, "must be at most 2147483647"},
      // Choices.
      {"mode", "[selection]\nmode = \"optin\"\n", 2, 8, "invalid value \"optin\" (one of \"opt-out\", \"opt-in\"); did you mean \"opt-in\"?"},
      {"on_known_bad", "[guard]\non_known_bad = \"ignore\"\n", 2, 16, "guard.on_known_bad: invalid value \"ignore\" (one of \"hold\", \"rollback\")"},
      {"log level", "[log]\nlevel = \"warning\"\n", 2, 9, "did you mean \"warn\"?"},
      {"log format", "[log]\nformat = \"JSON\"\n", 2, 10, "did you mean \"json\"?"},
      // Selection.
      {"selector syntax", "[selection]\nlabel_selector = \"app=web, bad key=x\"\n", 2, 32, "selection.label_selector: expected an operator"},
      {"selector key", "[selection]\nlabel_selector = \"-app=web\"\n", 2, 19, "invalid label key \"-app\""},
      {"selector with escapes points at string", "[selection]\nlabel_selector = \"a\\u003d-b\"\n", 2, 18, "invalid label value"},
      {"namespace name", "[selection]\nnamespaces = [\"shop\", \"Pay\"]\n", 2, 23, "\"Pay\" is not a valid namespace name"},
      {"excluded namespace name", "[selection]\nexclude_namespaces = [\"a_b\"]\n", 2, 23, "is not a valid namespace name"},
      {"namespace excluded by default", "[selection]\nnamespaces = [\"kube-system\"]\n", 2, 15, "is also in selection.exclude_namespaces (by default"},
      {"namespace excluded explicitly", "[selection]\nnamespaces = [\"a\"]\nexclude_namespaces = [\"a\"]\n", 2, 15, "\"a\" is also in selection.exclude_namespaces"},
      {"kind", "[selection]\nkinds = [\"Deployment\", \"Statefulset\"]\n", 2, 24, "\"Statefulset\" is not a supported kind"},
      {"kind case", "[selection]\nkinds = [\"deployment\"]\n", 2, 10, "did you mean \"Deployment\"?"},
      {"no kinds", "[selection]\nkinds = []\n", 2, 9, "selection.kinds: empty list would guard nothing"},
      // Server and events.
      {"listen no port", "[server]\nlisten = \"localhost\"\n", 2, 10, "expected host:port"},
      {"listen v6 no brackets", "[server]\nlisten = \"::1:9464\"\n", 2, 10, "an IPv6 address needs brackets"},
      {"listen bad v6", "[server]\nlisten = \"[::g]:1\"\n", 2, 10, "invalid IPv6 address \"::g\""},
      {"listen v6 no port", "[server]\nlisten = \"[::1]9464\"\n", 2, 10, "expected \":port\""},
      {"listen unclosed", "[server]\nlisten = \"[::1:80\"\n", 2, 10, "missing \"]\""},
      {"listen bad v4", "[server]\nlisten = \"300.1.1.1:80\"\n", 2, 10, "invalid IPv4 address \"300.1.1.1\""},
      {"listen port range", "[server]\nlisten = \"127.0.0.1:65536\"\n", 2, 10, "port 65536 out of range"},
      {"listen port text", "[server]\nlisten = \"127.0.0.1:http\"\n", 2, 10, "invalid port \"http\""},
      {"listen port empty", "[server]\nlisten = \"127.0.0.1:\"\n", 2, 10, "invalid port \"\""},
      {"listen no host", "[server]\nlisten = \":9464\"\n", 2, 10, "missing host"},
      {"listen bad host", "[server]\nlisten = \"bad_host:1\"\n", 2, 10, "invalid host name \"bad_host\""},
      {"event component empty", "[guard]\nevent_component = \"\"\n", 2, 19, "must be 1 to 128 characters without spaces"},
      {"event component space", "[guard]\nevent_component = \"canary guard\"\n", 2, 19, "without spaces"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto r = load_string(c.toml, "bad.toml");
    ASSERT_FALSE(r.has_value()) << "accepted:\n" << c.toml;
    ASSERT_EQ(r.error().size(), 1u) << format(r.error().front()) << " (+" << r.error().size() - 1 << " more)";
    const Diagnostic& d = r.error().front();
    EXPECT_EQ(d.file, "bad.toml");
    EXPECT_EQ(d.line, c.line) << format(d);
    EXPECT_EQ(d.column, c.column) << format(d);
    EXPECT_NE(d.message.find(c.fragment), std::string::npos) << format(d);
  }
}

TEST(ConfigLoad, ReportsEveryProblemInFileOrder) {
  const char* toml = R"toml([server]
listen = "nowhere"
[guard]
bake_time = 300
max_concurrent_rollbacks = 0
colour = "blue"
[selection]
mode = "sometimes"
label_selector = "a in ()"
[pods]
oom_kills = "two"
)toml";
  auto r = load_string(toml, "many.toml");
  ASSERT_FALSE(r.has_value());
  std::vector<std::string> got;
  for (const auto& d : r.error()) got.push_back(format(d));
  const std::vector<std::string> want_prefix = {
      "many.toml:2:10: error: server.listen:",
      "many.toml:4:13: error: guard.bake_time:",
      "many.toml:5:28: error: guard.max_concurrent_rollbacks:",
      "many.toml:6:1: error: unknown key \"colour\" in [guard]",
      "many.toml:8:8: error: selection.mode:",
      "many.toml:9:25: error: selection.label_selector: empty value list",
      "many.toml:11:13: error: pods.oom_kills:",
  };
  ASSERT_EQ(got.size(), want_prefix.size()) << ::testing::PrintToString(got);
  for (std::size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i].rfind(want_prefix[i], 0), 0u) << got[i];
}

TEST(ConfigLoad, InvalidValueKeepsOtherSettingsCheckedInSameSection) {
  // One bad key must not hide problems in its neighbours.
  auto r = load_string("[pods]\ncrashloop_restarts = 0\noom_kills = 0\nready_grace = 5\n", "t.toml");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().size(), 3u);
}

TEST(ConfigLoad, FormatDiagnostic) {
  EXPECT_EQ(format(Diagnostic{"a.toml", 3, 7, "boom"}), "a.toml:3:7: error: boom");
  EXPECT_EQ(format(Diagnostic{"a.toml", 3, 0, "boom"}), "a.toml:3: error: boom");
  EXPECT_EQ(format(Diagnostic{"a.toml", 0, 0, "boom"}), "a.toml: error: boom");
}

TEST(ConfigLoad, FileErrorsAreDiagnostics) {
  auto missing = load_file("/nonexistent/canary-guard.toml");
  ASSERT_FALSE(missing.has_value());
  ASSERT_EQ(missing.error().size(), 1u);
  EXPECT_EQ(missing.error()[0].file, "/nonexistent/canary-guard.toml");
  EXPECT_EQ(missing.error()[0].line, 0);
  EXPECT_NE(missing.error()[0].message.find("cannot read"), std::string::npos);

  auto dir = load_file(CG_SOURCE_DIR);
  ASSERT_FALSE(dir.has_value());
  EXPECT_NE(dir.error()[0].message.find("not a regular file"), std::string::npos);

  auto big = load_string(std::string(kMaxConfigBytes + 1, '#'), "big.toml");
  ASSERT_FALSE(big.has_value());
  EXPECT_NE(big.error()[0].message.find("larger than 1 MiB"), std::string::npos);
}

// Found with the config fuzz target (tests/fuzz/fuzz_config.cpp): toml++ 3.3 recurses once per dotted-key part, so a
// table header or key of ~40,000 parts (80 KB, well inside the 1 MiB bound) overflowed the stack and check-config
// died with SIGSEGV instead of printing a diagnostic. The loader now refuses keys of more than 32 parts first.
TEST(ConfigLoad, DeeplyDottedKeysAreADiagnosticNotACrash) {
  auto parts = [](int n) {
    std::string k = "a";
    for (int i = 1; i < n; ++i) k += ".a";
    return k;
  };
  const int deep = 200'000;  // 400 KB
  for (const std::string& text : {"[" + parts(deep) + "]\nx = 1\n", "[[" + parts(deep) + "]]\nx = 1\n",
                                  "[policy]\n" + parts(deep) + " = 1\n",
                                  "[" + std::string("\"q\" . ") + parts(deep) + "]\n"}) {
    auto r = load_string(text, "deep.toml");
    ASSERT_FALSE(r.has_value());
    ASSERT_EQ(r.error().size(), 1u);
    EXPECT_NE(r.error()[0].message.find("more than 32 parts"), std::string::npos) << format(r.error()[0]);
    EXPECT_GE(r.error()[0].line, 1);
  }
  // The bound itself, and what is not a key: dots in strings, comments, numbers and dates.
  auto at_bound = load_string("[" + parts(32) + "]\nx = 1\n", "t.toml");
  if (!at_bound) {
    EXPECT_EQ(at_bound.error()[0].message.find("more than 32 parts"), std::string::npos);
  }
  auto over = load_string("[" + parts(33) + "]\n", "t.toml");
  ASSERT_FALSE(over.has_value());
  EXPECT_EQ(format(over.error()[0]), "t.toml:1:2: error: a key with more than 32 parts (a.b.c...): not a canary-guard "
                                     "configuration, and deeper than the TOML parser can safely nest");
  const std::string dots(100, '.');
  auto not_keys = load_string("# " + dots + "\n[server]\nlisten = \"" + dots + "\" # " + dots + "\n", "t.toml");
  ASSERT_FALSE(not_keys.has_value());  // listen is not an address, but that is the only problem
  EXPECT_EQ(not_keys.error()[0].message.find("more than 32 parts"), std::string::npos);
}

}  // namespace
}  // namespace canary_guard::config

// [alertmanager] (issue #12): defaults, every key, and the errors with their positions.
TEST(ConfigAlertmanager, DefaultsKeysAndErrors) {
  auto c = canary_guard::config::load_string("", "t.toml");
  ASSERT_TRUE(c);
  EXPECT_FALSE(c->alertmanager.enabled());
  EXPECT_EQ(c->alertmanager.severities, (std::vector<std::string>{"critical", "page"}));
  EXPECT_EQ(c->alertmanager.workload_labels, (std::vector<std::string>{"workload", "deployment", "daemonset"}));
  EXPECT_EQ(c->alertmanager.alert_grace, std::chrono::seconds{30});
  c = canary_guard::config::load_string(
      "[alertmanager]\nurl = \"http://127.0.0.1:9093\"\nwebhook_token_file = \"/t\"\nworkload_labels = [\"app\"]\n"
      "severities = [\"critical\"]\nalert_grace = \"0s\"\nact_on_healthy = true\nheartbeat_alert = \"Watchdog\"\n"
      "runbook_url = \"https://runbooks/cg\"\nrepost_interval = \"30s\"\nown_alerts = false\n",
      "t.toml");
  ASSERT_TRUE(c) << canary_guard::config::format(c.error().front());
  EXPECT_TRUE(c->alertmanager.enabled());
  EXPECT_EQ(c->alertmanager.workload_labels, std::vector<std::string>{"app"});
  EXPECT_EQ(c->alertmanager.alert_grace, std::chrono::seconds{0});
  EXPECT_TRUE(c->alertmanager.act_on_healthy);
  EXPECT_EQ(c->alertmanager.heartbeat_timeout, std::chrono::minutes{5});
  EXPECT_FALSE(c->alertmanager.own_alerts);
  struct Row {
    std::string toml, want;
  };
  const std::vector<Row> rows = {
      {"[alertmanager]\nwebhook_token_file = \"/t\"\n", "t.toml:2:22: error: alertmanager.webhook_token_file: needs url"},
      {"[alertmanager]\nurl = \"ftp://x\"\n", "t.toml:2:7: error: alertmanager.url: \"ftp://x\" must start with http://"},
      {"[alertmanager]\nurl = \"https://am:9093\"\n", "https is not supported"},
      {"[alertmanager]\nworkload_labels = [\"a-b\"]\n", "t.toml:2:20: error: alertmanager.workload_labels: \"a-b\" is not a Prometheus label name"},
      {"[alertmanager]\nworkload_labels = []\n", "needs at least one label name"},
      {"[alertmanager]\nheartbeat_timeout = \"1m\"\n", "t.toml:2:21: error: alertmanager.heartbeat_timeout: needs heartbeat_alert"},
      {"[alertmanager]\nalert_grace = 30\n", "durations need a unit"},
      {"[alertmanager]\nseverity = [\"page\"]\n", "did you mean \"severities\"?"},
  };
  for (const auto& r : rows) {
    auto bad = canary_guard::config::load_string(r.toml, "t.toml");
    ASSERT_FALSE(bad) << r.toml;
    std::string all;
    for (const auto& d : bad.error()) all += canary_guard::config::format(d) + "\n";
    EXPECT_NE(all.find(r.want), std::string::npos) << "got: " << all;
  }
}

// [server] cert_file / key_file (issue #12 §4): TLS takes both or neither, and the error points at the one given.
TEST(ConfigServer, TlsFilesComeInPairs) {
  auto ok = canary_guard::config::load_string("[server]\ncert_file = \"/c.pem\"\nkey_file = \"/k.pem\"\n", "t.toml");
  ASSERT_TRUE(ok) << canary_guard::config::format(ok.error().front());
  EXPECT_EQ(ok->server.cert_file, "/c.pem");
  EXPECT_EQ(ok->server.key_file, "/k.pem");
  auto plain = canary_guard::config::load_string("", "t.toml");
  ASSERT_TRUE(plain);
  EXPECT_TRUE(plain->server.cert_file.empty());
  struct Row {
    std::string toml, want;
  };
  const std::vector<Row> rows = {
      {"[server]\ncert_file = \"/c.pem\"\n", "t.toml:2:13: error: server.cert_file: needs key_file"},
      {"[server]\nkey_file = \"/k.pem\"\n", "t.toml:2:12: error: server.key_file: needs cert_file"},
      {"[server]\ncert_file = 1\nkey_file = \"/k\"\n", "server.cert_file"},
  };
  for (const auto& r : rows) {
    auto bad = canary_guard::config::load_string(r.toml, "t.toml");
    ASSERT_FALSE(bad) << r.toml;
    std::string all;
    for (const auto& d : bad.error()) all += canary_guard::config::format(d) + "\n";
    EXPECT_NE(all.find(r.want), std::string::npos) << "got: " << all;
  }
}

// [leader_election] (issue #13 §1): client-go's timing rule is a config error with its position.
TEST(ConfigLeaderElection, DefaultsAndTheTimingRule) {
  auto c = canary_guard::config::load_string("[leader_election]\nenabled = true\n", "t.toml");
  ASSERT_TRUE(c);
  EXPECT_TRUE(c->leader_election.enabled);
  EXPECT_EQ(c->leader_election.lease_namespace, "canary-guard");
  EXPECT_EQ(c->leader_election.lease_duration, std::chrono::seconds{15});
  EXPECT_EQ(c->leader_election.renew_deadline, std::chrono::seconds{10});
  EXPECT_EQ(c->leader_election.retry_period, std::chrono::seconds{2});
  auto bad = canary_guard::config::load_string(
      "[leader_election]\nlease_duration = \"10s\"\nrenew_deadline = \"10s\"\nretry_period = \"2s\"\n", "t.toml");
  ASSERT_FALSE(bad);
  EXPECT_NE(canary_guard::config::format(bad.error().front()).find("t.toml:4:16: error: leader_election.lease_duration > "
                                                                   "renew_deadline > 1.2 x retry_period must hold"),
            std::string::npos)
      << canary_guard::config::format(bad.error().front());
  bad = canary_guard::config::load_string("[leader_election]\nrenew_deadline = \"2s\"\n", "t.toml");
  ASSERT_FALSE(bad);
  bad = canary_guard::config::load_string("[leader_election]\nlease_namespace = \"Bad_NS\"\n", "t.toml");
  ASSERT_FALSE(bad);
  EXPECT_NE(canary_guard::config::format(bad.error().front()).find("is not a Kubernetes name"), std::string::npos);
}
