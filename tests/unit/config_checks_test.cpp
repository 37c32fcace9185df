// [prometheus], [analysis], [vars] and [[check]]: loading with line:column errors, template rendering (escaping,
// batching), range windows and the batchable heuristic.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>

#include "config/check.hpp"
#include "config/checks.hpp"
#include "config/config.hpp"

namespace canary_guard::config {
namespace {

using std::chrono::seconds;

constexpr std::string_view kProm = "[prometheus]\nurl = \"http://127.0.0.1:9090\"\n";  // lines 1-2

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

std::string all_errors(std::string_view toml) {
  auto r = load_string(toml, "t.toml");
  if (r) return "";
  std::string all;
  for (const auto& d : r.error()) all += format(d) + "\n";
  return all;
}

Check check_with(std::string query) {
  Check c;
  c.name = "t";
  c.query = std::move(query);
  return c;
}

const CheckTarget kTarget{"shop", "checkout", "Deployment", "5d8f7c9b4", "6c7d8e9f0"};

TEST(ConfigChecks, DefaultsWithoutTheSections) {
  const Config c = load_ok("");
  EXPECT_EQ(c.prometheus.url, "");
  EXPECT_EQ(c.prometheus.timeout, seconds{10});
  EXPECT_EQ(c.prometheus.eval_lag, seconds{30});
  EXPECT_FALSE(c.prometheus.accept_warnings);
  EXPECT_FALSE(c.analysis.max_blind.has_value());
  EXPECT_FALSE(c.analysis.pause_when_blind);
  EXPECT_TRUE(c.analysis.batch);
  EXPECT_TRUE(c.checks.empty());
}

TEST(ConfigChecks, EveryKeyIsReadAndDefaultsFillTheRest) {
  const Config c = load_ok(R"toml(
[prometheus]
url = "https://prom.example:9090/prefix"
timeout = "20s"
eval_lag = "0s"
bearer_token_file = "/run/token"
ca_file = "/etc/ca.pem"
accept_warnings = true
[analysis]
max_blind = "1m"
pause_when_blind = true
batch = false
[vars]
job = "web"
env = "prod"
[[check]]
name = "error-ratio"
query = 'sum by (namespace, {{ revision_label }}) (rate(x{job="{{vars.job}}",env="{{vars.env}}",h="{{revision_hash}}"}[2m]))'
max = 0.05
min = 0
interval = "10s"
failures = 2
of = 4
initial_delay = "30s"
on_no_data = "fail"
on_error = "fail"
namespaces = ["shop"]
kinds = ["DaemonSet"]
selector = "app=web"
[check.min_samples]
query = 'sum by (namespace, {{revision_label}}) (increase(x{h="{{revision_hash}}"}[1m]))'
min = 20
[check.compare]
max_ratio = 1.5
margin = 0.01
direction = "decrease"
[check.vars]
env = "staging"
[[check]]
name = "defaults"
query = "up"
min = 1
)toml");
  EXPECT_EQ(c.prometheus.url, "https://prom.example:9090/prefix");
  EXPECT_EQ(c.prometheus.timeout, seconds{20});
  EXPECT_EQ(c.prometheus.eval_lag, seconds{0});
  EXPECT_EQ(c.prometheus.bearer_token_file, "/run/token");
  EXPECT_EQ(c.prometheus.ca_file, "/etc/ca.pem");
  EXPECT_TRUE(c.prometheus.accept_warnings);
  EXPECT_EQ(c.analysis.max_blind, Millis{60'000});
  EXPECT_TRUE(c.analysis.pause_when_blind);
  EXPECT_FALSE(c.analysis.batch);
  ASSERT_EQ(c.checks.size(), 2u);
  const Check& a = c.checks[0];
  EXPECT_EQ(a.name, "error-ratio");
  EXPECT_EQ(a.max, 0.05);
  EXPECT_EQ(a.min, 0.0);
  EXPECT_EQ(a.interval, seconds{10});
  EXPECT_EQ(a.failures, 2);
  EXPECT_EQ(a.of, 4);
  EXPECT_EQ(a.initial_delay, seconds{30});
  EXPECT_EQ(a.on_no_data, OnOutcome::fail);
  EXPECT_EQ(a.on_error, OnOutcome::fail);
  EXPECT_EQ(a.namespaces, std::vector<std::string>{"shop"});
  EXPECT_EQ(a.kinds, std::vector<std::string>{"DaemonSet"});
  EXPECT_EQ(a.selector.to_string(), "app=web");
  ASSERT_TRUE(a.min_samples.has_value());
  EXPECT_EQ(a.min_samples->min, 20);
  ASSERT_TRUE(a.compare.has_value());
  EXPECT_EQ(a.compare->max_ratio, 1.5);
  EXPECT_EQ(a.compare->margin, 0.01);
  EXPECT_EQ(a.compare->direction, CompareDirection::decrease);
  // [check.vars] overrides [vars]; the rest of [vars] is inherited.
  EXPECT_EQ(a.vars, (std::map<std::string, std::string, std::less<>>{{"env", "staging"}, {"job", "web"}}));
  EXPECT_EQ(a.range_window, seconds{120});
  EXPECT_TRUE(a.batchable) << a.not_batchable_reason;
  EXPECT_EQ(a.line, 16);
  EXPECT_EQ(a.column, 1);

  const Check& d = c.checks[1];
  EXPECT_EQ(d.min, 1.0);
  EXPECT_FALSE(d.max.has_value());
  EXPECT_EQ(d.interval, seconds{5});
  EXPECT_EQ(d.failures, 3);
  EXPECT_EQ(d.of, 5);
  EXPECT_EQ(d.initial_delay, seconds{0});
  EXPECT_EQ(d.on_no_data, OnOutcome::ignore);
  EXPECT_EQ(d.on_error, OnOutcome::ignore);
  EXPECT_TRUE(d.namespaces.empty());
  EXPECT_TRUE(d.kinds.empty());
  EXPECT_TRUE(d.selector.empty());
  EXPECT_FALSE(d.min_samples.has_value());
  EXPECT_FALSE(d.compare.has_value());
  EXPECT_EQ(d.vars, (std::map<std::string, std::string, std::less<>>{{"env", "prod"}, {"job", "web"}}));
  EXPECT_EQ(d.range_window, seconds{0});
  EXPECT_TRUE(d.batchable);
}

struct BadCase {
  std::string toml;       // appended after kProm (lines 1-2) unless it starts with '!'
  std::string expected;   // the one diagnostic, "line:col: error: message" (prefix match)
};

TEST(ConfigChecks, EveryValidationErrorWithItsPosition) {
  const std::string ok_check = "[[check]]\nname = \"c\"\nquery = \"up\"\nmax = 1\n";  // lines 3-6
  const std::vector<BadCase> cases = {
      {"!" "[prometheus]\nurl = \"prom:9090\"\n", "2:7: error: prometheus.url: \"prom:9090\" must start with http:// or https://"},
      {"!" "[prometheus]\nurl = \"ftp://x\"\n", "2:7: error: prometheus.url: \"ftp://x\" must start with"},
      {"!" "[prometheus]\nurl = \"http://\"\n", "2:7: error: prometheus.url: \"http://\" has no host"},
      {"!" "[prometheus]\nurl = \"http://p\"\nbearer_token_file = \"/t\"\nbasic_auth_user = \"u\"\n"
       "basic_auth_password_file = \"/p\"\n",
       "3:21: error: prometheus.bearer_token_file: cannot be combined with basic auth"},
      {"!" "[prometheus]\nurl = \"http://p\"\nbasic_auth_user = \"u\"\n", "3:19: error: prometheus.basic_auth_user: needs basic_auth_password_file"},
      {"!" "[prometheus]\nurl = \"http://p\"\ntimeout = \"0s\"\n", "3:11: error: prometheus.timeout: \"0s\" must be greater than 0s"},
      {"!" "[prometheus]\nurl = \"http://p\"\ntimout = \"1s\"\n", "3:1: error: unknown key \"timout\" in [prometheus]; did you mean \"timeout\"?"},
      {"!" "[analysis]\nmax_blnd = \"1m\"\n", "2:1: error: unknown key \"max_blnd\" in [analysis]; did you mean \"max_blind\"?"},
      {"!" "[analysis]\nbatch = 1\n", "2:9: error: analysis.batch: expected true or false, found integer 1"},
      {"!" "[prometheus]\nurl = \"\"\n[[check]]\nname = \"c\"\nquery = \"up\"\nmax = 1\n", "3:1: error: checks need [prometheus] url"},
      {"!" "[[check]]\nname = \"c\"\nquery = \"up\"\nmax = 1\n", "1:1: error: checks need [prometheus] url"},
      {"!" "[vars]\nx = 1\n", "2:5: error: vars.x: expected a string, found integer 1"},
      {"!" "[vars]\n\"a-b\" = \"1\"\n", "2:1: error: vars: invalid variable name \"a-b\""},
      {"!" "query = 1\n", "1:1: error: unknown key \"query\"; it belongs in [[check]]"},
      {"!" "chek = 1\n", "1:1: error: unknown key \"chek\"; did you mean [[check]]?"},
      {"[check]\nname = \"c\"\n", "3:1: error: check: expected [[check]] tables, found table"},
      {"[[check]]\nname = \"Bad Name\"\nquery = \"up\"\nmax = 1\n", "4:8: error: check[1].name: \"Bad Name\" is not a valid check name"},
      {"[[check]]\nname = \"" + std::string(64, 'a') + "\"\nquery = \"up\"\nmax = 1\n", "4:8: error: check[1].name: \"aaaa"},
      {"[[check]]\nname = \"\"\nquery = \"up\"\nmax = 1\n", "4:8: error: check[1].name: \"\" is not a valid check name"},
      {ok_check + "[[check]]\nname = \"c\"\nquery = \"up\"\nmax = 1\n", "8:8: error: check[2].name: duplicate check name \"c\" (first at line 3)"},
      {"[[check]]\nquery = \"up\"\nmax = 1\n", "3:1: error: check[1].name: missing; every [[check]] needs a name"},
      {"[[check]]\nname = \"c\"\nmax = 1\n", "3:1: error: check.c.query: missing; every [[check]] needs a query"},
      {"[[check]]\nname = \"c\"\nquery = \"\"\nmax = 1\n", "5:9: error: check.c.query: is empty"},
      {"[[check]]\nname = \"c\"\nquery = \"up\"\n", "3:1: error: check.c: needs min, max or both"},
      {"[[check]]\nname = \"c\"\nquery = \"up\"\nmin = 2\nmax = 1\n", "6:7: error: check.c.min: 2.000000 is greater than max 1.000000"},
      {"[[check]]\nname = \"c\"\nquery = \"up\"\nmax = \"0.05\"\n", "6:7: error: check.c.max: expected a number, found string \"0.05\" (write the number without quotes)"},
      {"[[check]]\nname = \"c\"\nquery = \"up\"\nmax = \"low\"\n", "6:7: error: check.c.max: expected a number, found string \"low\""},
      {"[[check]]\nname = \"c\"\nquery = \"up\"\nmax = nan\n", "6:7: error: check.c.max: expected a number, found float"},
      {"[[check]]\nname = \"c\"\nquery = \"up\"\nmax = 1\ninterval = \"500ms\"\n", "7:12: error: check.c.interval: \"500ms\" must be at least 1s"},
      {"[[check]]\nname = \"c\"\nquery = \"up\"\nmax = 1\ninterval = \"0s\"\n", "7:12: error: check.c.interval: \"0s\" must be at least 1s"},
      {"[[check]]\nname = \"c\"\nquery = \"up\"\nmax = 1\ninterval = 5\n", "7:12: error: check.c.interval: expected a duration string"},
      {"[[check]]\nname = \"c\"\nquery = \"up\"\nmax = 1\nfailures = 0\n", "7:12: error: check.c.failures: must be at least 1, found 0"},
      {"[[check]]\nname = \"c\"\nquery = \"up\"\nmax = 1\nfailures = 3\nof = 2\n", "8:6: error: check.c.of: 2 is less than failures 3"},
      {"[[check]]\nname = \"c\"\nquery = \"up\"\nmax = 1\nfailures = 6\n", "7:12: error: check.c.failures: 6 is more than of (default 5)"},
      {"[[check]]\nname = \"c\"\nquery = \"up\"\nmax = 1\nof = 101\n", "7:6: error: check.c.of: must be at most 100, found 101"},
      {"[[check]]\nname = \"c\"\nquery = \"up\"\nmax = 1\non_no_data = \"skip\"\n", "7:14: error: check.c.on_no_data: invalid value \"skip\" (one of \"ignore\", \"fail\")"},
      {"[[check]]\nname = \"c\"\nquery = \"up\"\nmax = 1\non_error = \"failed\"\n", "7:12: error: check.c.on_error: invalid value \"failed\" (one of \"ignore\", \"fail\"); did you mean \"fail\"?"},
      {"[[check]]\nname = \"c\"\nquery = \"up\"\nmax = 1\nkinds = [\"StatefulSet\"]\n", "7:10: error: check.c.kinds: \"StatefulSet\" is not a supported kind"},
      {"[[check]]\nname = \"c\"\nquery = \"up\"\nmax = 1\nnamespaces = [\"Shop\"]\n", "7:15: error: check.c.namespaces: \"Shop\" is not a valid namespace name"},
      {"[[check]]\nname = \"c\"\nquery = \"up\"\nmax = 1\nselector = \"app in (a\"\n", "7:22: error: check.c.selector: expected"},
      {"[[check]]\nname = \"c\"\nquery = \"up\"\nmax = 1\nmaxx = 1\n", "7:1: error: unknown key \"maxx\" in [[check]]; did you mean \"max\"?"},
      // A compare-mode key written where a threshold check would ignore it says where it belongs.
      {"[[check]]\nname = \"c\"\nquery = \"up\"\nmax = 1\nmax_ratio = 1.5\n",
       "7:1: error: unknown key \"max_ratio\" in [[check]]; it belongs in [check.compare]"},
      {"[[check]]\nname = \"c\"\nquery = \"up\"\nmax = 1\n[check.min_samples]\nquery = \"y\"\nmin = 1\nmargin = 0.1\n",
       "10:1: error: unknown key \"margin\" in [check.min_samples]; it belongs in [check.compare]"},
      // Field names of the canary-guard.io/analysis record are not check names.
      {"[[check]]\nname = \"stable\"\nquery = \"up\"\nmax = 1\n", "4:8: error: check[1].name: \"stable\" is reserved"},
      {"[[check]]\nname = \"rollout\"\nquery = \"up\"\nmax = 1\n", "4:8: error: check[1].name: \"rollout\" is reserved"},
      {"[[check]]\nname = \"c\"\nquery = 'x{a=\"{{nope}}\"}'\nmax = 1\n", "5:15: error: check.c.query: unknown template variable \"nope\""},
      {"[[check]]\nname = \"c\"\nquery = 'x{a=\"{{ namespace\"}'\nmax = 1\n", "5:15: error: check.c.query: malformed \"{{\""},
      {"[[check]]\nname = \"c\"\nquery = 'x{a=\"{{}}\"}'\nmax = 1\n", "5:15: error: check.c.query: malformed \"{{\""},
      {"[[check]]\nname = \"c\"\nquery = 'x{a=\"{{vars.none}}\"}'\nmax = 1\n", "5:15: error: check.c.query: unknown template variable \"vars.none\""},
      // A multi-line query: the position of the value is good enough.
      {"[[check]]\nname = \"c\"\nquery = '''\nx{a=\"{{nope}}\"}'''\nmax = 1\n", "5:9: error: check.c.query: unknown template variable"},
      {"[[check]]\nname = \"c\"\nquery = \"up\"\nmax = 1\n[check.min_samples]\nquery = 'y{{bad}}'\nmin = 1\n",
       "8:11: error: check.c.min_samples.query: unknown template variable \"bad\""},
      {"[[check]]\nname = \"c\"\nquery = \"up\"\nmax = 1\n[check.min_samples]\nmin = 1\n", "7:1: error: check.c.min_samples.query: missing"},
      {"[[check]]\nname = \"c\"\nquery = \"up\"\nmax = 1\n[check.min_samples]\nquery = \"y\"\nmin = -1\n", "9:7: error: check.c.min_samples.min: must not be negative"},
      {"[[check]]\nname = \"c\"\nquery = \"up\"\nmax = 1\n[check.min_samples]\nquery = \"y\"\nmin = 1\nmax = 2\n",
       "10:1: error: unknown key \"max\" in [check.min_samples]"},
      {"[[check]]\nname = \"c\"\nquery = 'x{h=\"{{revision_hash}}\"}'\nmax = 1\n[check.compare]\nmax_ratio = 0\n",
       "8:13: error: check.c.compare.max_ratio: must be greater than 0"},
      {"[[check]]\nname = \"c\"\nquery = 'x{h=\"{{revision_hash}}\"}'\nmax = 1\n[check.compare]\nmax_ratio = -1.5\n",
       "8:13: error: check.c.compare.max_ratio: must be greater than 0"},
      {"[[check]]\nname = \"c\"\nquery = 'x{h=\"{{revision_hash}}\"}'\nmax = 1\n[check.compare]\ndirection = \"up\"\n",
       "8:13: error: check.c.compare.direction: invalid value \"up\" (one of \"increase\", \"decrease\")"},
      {"[[check]]\nname = \"c\"\nquery = \"up\"\nmax = 1\n[check.compare]\nmax_ratio = 2\n",
       "7:1: error: check.c.compare: the query must select the revision with {{revision_hash}}"},
      // Compare mode runs min_samples for both sides: a query that cannot tell them apart is refused.
      {"[[check]]\nname = \"c\"\nquery = 'x{h=\"{{revision_hash}}\"}'\nmax = 1\n[check.min_samples]\n"
       "query = 'sum(n)'\nmin = 20\n[check.compare]\nmax_ratio = 2\n",
       "8:9: error: check.c.min_samples.query: with [check.compare] it must select the revision with {{revision_hash}}"},
      {"[[check]]\nname = \"c\"\nquery = \"up\"\nmax = 1\n[check.vars]\nx = true\n", "8:5: error: check.c.vars.x: expected a string, found boolean true"},
  };
  for (const auto& c : cases) {
    const bool own = !c.toml.empty() && c.toml.front() == '!';
    const std::string toml = own ? c.toml.substr(1) : std::string(kProm) + c.toml;
    auto r = load_string(toml, "t.toml");
    ASSERT_FALSE(r.has_value()) << toml;
    ASSERT_EQ(r.error().size(), 1u) << toml << "\n" << all_errors(toml);
    const std::string got = format(r.error()[0]);
    EXPECT_EQ(got.rfind("t.toml:" + c.expected, 0), 0u) << toml << "\ngot:      " << got << "\nexpected: " << c.expected;
  }
}

TEST(ConfigChecks, AllProblemsOfOneCheckAreReported) {
  const std::string toml = std::string(kProm) + "[[check]]\nname = \"c\"\nquery = '{{x}}'\nmin = 3\nmax = 1\nof = 0\n";
  auto r = load_string(toml, "t.toml");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().size(), 3u) << all_errors(toml);
}

TEST(ConfigChecks, RenderTemplateBothSpellingsAndEveryVariable) {
  Check c = check_with("");
  c.interval = Millis{90'000};
  c.vars = {{"job", "api"}};
  const std::string tmpl =
      "x{namespace=\"{{namespace}}\",w=\"{{ workload }}\",k=\"{{kind}}\",{{revision_label}}=\"{{ revision_hash }}\","
      "s=\"{{stable_hash}}\",j=\"{{vars.job}}\"}[{{interval}}]";
  auto r = render_template(tmpl, c, kTarget);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(*r, "x{namespace=\"shop\",w=\"checkout\",k=\"Deployment\",pod_template_hash=\"5d8f7c9b4\","
                "s=\"6c7d8e9f0\",j=\"api\"}[1m30s]");
  CheckTarget ds = kTarget;
  ds.kind = "DaemonSet";
  EXPECT_EQ(*render_template("{{revision_label}}", c, ds), "controller_revision_hash");
  EXPECT_EQ(revision_label_for("Deployment"), "pod_template_hash");
  EXPECT_EQ(revision_label_for("DaemonSet"), "controller_revision_hash");
  // Text without variables passes through; single braces are PromQL.
  EXPECT_EQ(*render_template("sum(x{a=\"b\"}) by (c)", c, kTarget), "sum(x{a=\"b\"}) by (c)");
}

TEST(ConfigChecks, RenderTemplateErrorsCarryTheOffset) {
  const Check c = check_with("");
  struct Case {
    std::string tmpl;
    std::size_t offset;
    std::string message_start;
  };
  const std::vector<Case> cases = {
      {"x{a=\"{{nope}}\"}", 5, "unknown template variable \"nope\""},
      {"abc {{vars.missing}}", 4, "unknown template variable \"vars.missing\""},
      {"abc {{namespace", 4, "malformed \"{{\""},
      {"{{ }}", 0, "malformed \"{{\""},
      {"{{name space}}", 0, "malformed \"{{\""},
      {"ok {{namespace}} {{vars.}}", 17, "unknown template variable \"vars.\""},
  };
  for (const auto& k : cases) {
    auto r = render_template(k.tmpl, c, kTarget);
    ASSERT_FALSE(r.has_value()) << k.tmpl;
    EXPECT_EQ(r.error().offset, k.offset) << k.tmpl;
    EXPECT_EQ(r.error().message.rfind(k.message_start, 0), 0u) << k.tmpl << ": " << r.error().message;
  }
}

TEST(ConfigChecks, LabelValuesCannotInjectPromQL) {
  const Check c = check_with("");
  CheckTarget t = kTarget;
  t.ns = "a\"} or vector(1) #";
  EXPECT_EQ(*render_template("x{namespace=\"{{namespace}}\"}", c, t), "x{namespace=\"a\\\"} or vector(1) #\"}");
  t.ns = "back\\slash\nnew\ttab\x01\x7f";
  EXPECT_EQ(*render_template("\"{{namespace}}\"", c, t), "\"back\\\\slash\\nnew\\ttab\\x01\\x7f\"");
  // vars values are escaped the same way.
  Check v = check_with("");
  v.vars = {{"x", "\"}"}};
  EXPECT_EQ(*render_template("\"{{vars.x}}\"", v, kTarget), "\"\\\"}\"");
}

TEST(ConfigChecks, RenderBatchAlternationsAndMatcherRewrite) {
  const Check c = check_with("");
  const std::vector<CheckTarget> targets = {
      {"shop", "checkout", "Deployment", "aaa", "sss"},
      {"shop", "cart", "Deployment", "bbb", ""},
      {"pay.eu", "api", "Deployment", "ccc", "ttt"},
  };
  struct Case {
    std::string tmpl, want;
  };
  const std::vector<Case> cases = {
      // = becomes =~ over the regex-quoted values, each distinct value once.
      {"x{namespace=\"{{namespace}}\",{{revision_label}}=\"{{revision_hash}}\"}",
       "x{namespace=~\"shop|pay\\\\.eu\",pod_template_hash=~\"aaa|bbb|ccc\"}"},
      {"x{h = \"{{revision_hash}}\"}", "x{h =~\"aaa|bbb|ccc\"}"},
      // =~ values are grouped per workload; an empty stable_hash selects what cart's own query selects.
      {"x{h=~\"{{stable_hash}}\"}", "x{h=~\"(?:sss)|(?:)|(?:ttt)\"}"},
      // Not a whole matcher value: each workload's whole value is alternated, not the variable alone (this test
      // expected x{h="p-aaa|bbb|ccc"} before, which selects "p-aaa|bbb|ccc" literally).
      {"x{h=\"p-{{revision_hash}}\"}", "x{h=~\"p-aaa|p-bbb|p-ccc\"}"},
      {"x{pod=~\"{{workload}}-.*\"}", "x{pod=~\"(?:checkout-.*)|(?:cart-.*)|(?:api-.*)\"}"},
      {"x{job=\"{{namespace}}/{{workload}}\"}", "x{job=~\"shop/checkout|shop/cart|pay\\\\.eu/api\"}"},
      // kind and revision_label have one value per batch.
      {"x{k=\"{{kind}}\"}", "x{k=\"Deployment\"}"},
  };
  for (const auto& k : cases) {
    auto r = render_batch(k.tmpl, c, targets);
    ASSERT_TRUE(r.has_value()) << k.tmpl << ": " << r.error().message;
    EXPECT_EQ(*r, k.want) << k.tmpl;
  }
  // Regex metacharacters are quoted, then string-escaped (so the backslash doubles).
  const std::vector<CheckTarget> odd = {{"a", "w", "Deployment", "1.2+3*?()|[]{}^$\\\"", ""}};
  EXPECT_EQ(*render_batch("x{h=\"{{revision_hash}}\"}", c, odd),
            "x{h=~\"1\\\\.2\\\\+3\\\\*\\\\?\\\\(\\\\)\\\\|\\\\[\\\\]\\\\{\\\\}\\\\^\\\\$\\\\\\\\\\\"\"}");
  // In a regex matcher a workload's name is a name, not a pattern, also in its own query: "a.b" never selects "aXb".
  const CheckTarget dotted{"shop", "a.b", "Deployment", "h", ""};
  EXPECT_EQ(*render_template("x{pod=~\"{{workload}}-.*\", job=\"{{workload}}\"}", c, dotted),
            "x{pod=~\"a\\\\.b-.*\", job=\"a.b\"}");
  // Negative matchers and values outside matchers cannot be alternated per workload: no batch (the loader marks
  // such checks unbatchable, so they run once per workload).
  EXPECT_FALSE(render_batch("x{workload!=\"{{workload}}\"}", c, targets).has_value());
  EXPECT_FALSE(render_batch("x{h!~\"{{stable_hash}}\"}", c, targets).has_value());
  EXPECT_FALSE(render_batch("\"{{revision_hash}}\"", c, targets).has_value());
  EXPECT_FALSE(render_batch("x", c, {}).has_value());
  EXPECT_FALSE(render_batch("x", c, {targets[0], {"a", "b", "DaemonSet", "h", ""}}).has_value());
  EXPECT_FALSE(render_batch("{{nope}}", c, targets).has_value());
}

// ---- Batching must not change what a query selects (issue #10 §1) ----
// A tiny evaluator of the label matchers of a rendered query, independent of the renderer: each {...} block is one
// vector selector; a series is selected by a block when every matcher accepts its label (absent = ""), regexes
// fully anchored as in Prometheus. ECMAScript std::regex stands in for RE2 (the patterns here use the common
// subset: literals, escapes, groups, alternation, . * +).
namespace batch_property {

using Labels = std::map<std::string, std::string>;

struct Matcher {
  std::string label, op, value;  // value decoded from its PromQL string literal
};

std::string decode_literal(std::string_view s, char quote) {
  if (quote == '`') return std::string(s);
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\' || i + 1 == s.size()) {
      out += s[i];
      continue;
    }
    const char e = s[++i];
    if (e == 'n') out += '\n';
    else if (e == 't') out += '\t';
    else if (e == 'x' && i + 2 < s.size()) {
      out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else out += e;  // \\ \" \'
  }
  return out;
}

// The matchers of every {...} block, in order; blocks inside string literals are not blocks.
std::vector<std::vector<Matcher>> selectors(std::string_view q) {
  std::vector<std::vector<Matcher>> out;
  std::size_t i = 0;
  auto skip = [&] {
    while (i < q.size() && (q[i] == ' ' || q[i] == ',' || q[i] == '\n')) ++i;
  };
  auto literal = [&](std::string& value) {
    const char quote = q[i++];
    const std::size_t begin = i;
    while (i < q.size() && q[i] != quote) i += (q[i] == '\\' && quote != '`') ? 2 : 1;
    value = decode_literal(q.substr(begin, i - begin), quote);
    ++i;
  };
  while (i < q.size()) {
    if (q[i] == '"' || q[i] == '\'' || q[i] == '`') {
      std::string ignored;
      literal(ignored);
      continue;
    }
    if (q[i++] != '{') continue;
    std::vector<Matcher> block;
    for (skip(); i < q.size() && q[i] != '}'; skip()) {
      Matcher m;
      while (i < q.size() && (std::isalnum(static_cast<unsigned char>(q[i])) || q[i] == '_')) m.label += q[i++];
      skip();
      while (i < q.size() && (q[i] == '=' || q[i] == '!' || q[i] == '~')) m.op += q[i++];
      skip();
      if (m.label.empty() || m.op.empty() || i >= q.size()) return {};  // not a selector this evaluator reads
      literal(m.value);
      block.push_back(std::move(m));
    }
    ++i;
    out.push_back(std::move(block));
  }
  return out;
}

bool accepts(const Matcher& m, const Labels& s) {
  const auto it = s.find(m.label);
  const std::string v = it == s.end() ? "" : it->second;
  if (m.op == "=") return v == m.value;
  if (m.op == "!=") return v != m.value;
  const bool match = std::regex_match(v, std::regex("^(?:" + m.value + ")$"));
  return m.op == "=~" ? match : !match;
}

bool selects(const std::vector<Matcher>& block, const Labels& s) {
  return std::all_of(block.begin(), block.end(), [&](const Matcher& m) { return accepts(m, s); });
}

// Series that belong to a workload carry its namespace and revision label, and names made from its own names
// (exact, prefixed, suffixed, joined, near misses).
std::vector<Labels> series_of(const CheckTarget& t) {
  const std::vector<std::string> names = {t.workload,
                                          t.workload + "-" + t.revision_hash + "-x1",
                                          t.workload + "-1",
                                          t.workload + ".x",
                                          "x" + t.workload + "-1",
                                          t.workload + "x",
                                          t.ns + "/" + t.workload,
                                          "p|./" + t.ns + "/" + t.workload,
                                          t.ns + "/" + t.workload + "x",
                                          "",
                                          "other"};
  std::vector<Labels> out;
  for (const auto& pod : names)
    for (const auto& job : names)
      out.push_back({{"namespace", t.ns}, {"pod_template_hash", t.revision_hash}, {"k", t.kind}, {"pod", pod},
                     {"job", job}});
  return out;
}

}  // namespace batch_property

TEST(ConfigChecks, BatchSelectsForEveryWorkloadExactlyWhatItsOwnQuerySelects) {
  using namespace batch_property;
  Check c = check_with("");
  c.vars = {{"prefix", "p|."}};
  const std::vector<std::vector<CheckTarget>> target_sets = {
      {{"shop", "web", "Deployment", "h1", ""}, {"shop", "api", "Deployment", "h2", ""},
       {"pay", "web", "Deployment", "h3", ""}},
      // Regex metacharacters and string escapes in names (not valid Kubernetes names; the escaping must hold anyway).
      {{"n.s", "a.b", "Deployment", "h.1", ""}, {"n+s", "a|b", "Deployment", "h(2)", ""},
       {"n", "c\\d\"e", "Deployment", "h[3]", ""}},
  };
  struct Case {
    std::string tmpl;
    bool batchable;
  };
  const std::vector<Case> cases = {
      {R"(x{namespace="{{namespace}}", {{revision_label}}="{{revision_hash}}"})", true},
      {R"(x{pod=~"{{workload}}-.*"})", true},                      // variable, then a literal suffix
      {R"(x{pod=~".*{{workload}}"})", true},                       // a literal prefix
      {R"(x{job="{{namespace}}/{{workload}}"})", true},            // two variables in one literal
      {R"(x{pod=~"{{workload}}-{{revision_hash}}-.*", namespace="{{namespace}}"})", true},
      {R"(x{job = "{{namespace}}/{{workload}}" , pod=~'{{workload}}-.*'})", true},  // spaces, single quotes
      {R"(x{pod=~"{{workload}}\\..*"})", true},                    // an escape in the template's literal
      {R"(x{pod="{{workload}}"} / y{job="{{namespace}}/{{workload}}"})", true},
      {R"(x{job="{{vars.prefix}}/{{namespace}}/{{workload}}"})", true},
      {R"(x{k="{{kind}}", pod="{{workload}}"})", true},
      {R"(x{pod="{{workload}}"})", true},
      {R"(sum by (namespace, {{revision_label}}) (rate(x{job=~"{{namespace}}/.+", pod=~"{{workload}}-.*"}[1m])))", true},
      // Negative matchers cannot be alternated per workload (one workload's value would exclude another's series).
      {R"(x{job=~"{{namespace}}/.+", pod!="{{workload}}"})", false},
      {R"(x{pod!~"{{workload}}-.*"})", false},
      // A per-workload value that is not a matcher value.
      {R"(label_replace(x{pod="a"}, "w", "{{workload}}", "", ""))", false},
  };
  for (const auto& k : cases) {
    const Batchability b = batchability_of(k.tmpl);
    EXPECT_EQ(b.batchable, k.batchable) << k.tmpl << ": " << b.reason;
    for (const auto& targets : target_sets) {
      auto batch = render_batch(k.tmpl, c, targets);
      if (!k.batchable) {
        EXPECT_FALSE(batch.has_value()) << k.tmpl << " rendered as a batch: " << (batch ? *batch : "");
        continue;
      }
      ASSERT_TRUE(batch.has_value()) << k.tmpl << ": " << batch.error().message;
      const auto batch_sel = selectors(*batch);
      std::size_t selected = 0;
      for (const auto& t : targets) {
        auto one = render_template(k.tmpl, c, t);
        ASSERT_TRUE(one.has_value()) << k.tmpl;
        const auto one_sel = selectors(*one);
        ASSERT_FALSE(one_sel.empty()) << *one;
        ASSERT_EQ(batch_sel.size(), one_sel.size()) << *batch << " vs " << *one;
        for (const Labels& s : series_of(t))
          for (std::size_t i = 0; i < one_sel.size(); ++i) {
            const bool want = selects(one_sel[i], s);
            selected += want;
            EXPECT_EQ(selects(batch_sel[i], s), want)
                << "template " << k.tmpl << "\n batch  " << *batch << "\n single " << *one << "\n series pod=\""
                << s.at("pod") << "\" job=\"" << s.at("job") << "\" namespace=" << s.at("namespace");
          }
      }
      EXPECT_GT(selected, 0u) << k.tmpl << ": the table must exercise selection, not only rejection";
    }
  }
}

TEST(ConfigChecks, RangeWindow) {
  struct Case {
    std::string query;
    Millis want;
  };
  const Millis interval{15'000};
  const std::vector<Case> cases = {
      {"up", Millis{0}},
      {"rate(x[30s])", Millis{30'000}},
      {"rate(x[30s]) / rate(y[5m])", Millis{300'000}},
      {"rate(x[1h30m])", Millis{5'400'000}},
      {"rate(x[1d])", Millis{86'400'000}},
      {"rate(x[2w])", Millis{14LL * 86'400'000}},
      {"rate(x[500ms])", Millis{500}},
      {"max_over_time(rate(x[1m])[10m:30s])", Millis{600'000}},
      {"rate(x[{{interval}}])", interval},
      {"rate(x[{{ interval }}]) + rate(y[5s])", interval},
      {"x{path=~\"/a[0-9]{2}/[1h]\"}", Millis{0}},  // inside a string: not a range
      {"x[nonsense]", Millis{0}},
  };
  for (const auto& c : cases) EXPECT_EQ(range_window_of(c.query, interval), c.want) << c.query;
}

// The two queries of config/examples/canary-guard.toml.
constexpr std::string_view kErrorRatio =
    "sum by (namespace, {{revision_label}}) (rate(http_requests_total{namespace=\"{{namespace}}\", "
    "{{revision_label}}=\"{{revision_hash}}\", code=~\"5..\"}[30s]))\n/\n"
    "sum by (namespace, {{revision_label}}) (rate(http_requests_total{namespace=\"{{namespace}}\", "
    "{{revision_label}}=\"{{revision_hash}}\"}[30s]))";
constexpr std::string_view kP99 =
    "histogram_quantile(0.99, sum by (le, namespace, {{revision_label}}) "
    "(rate(http_request_duration_seconds_bucket{namespace=\"{{namespace}}\", "
    "{{revision_label}}=\"{{revision_hash}}\"}[30s])))";

TEST(ConfigChecks, BatchableHeuristic) {
  struct Case {
    std::string query;
    bool batchable;
    std::vector<std::string> reason_parts;
  };
  const std::vector<Case> cases = {
      {std::string(kErrorRatio), true, {}},
      {std::string(kP99), true, {}},
      {"sum(rate(x[1m]))", false, {"sum at offset 0", "no by (...) clause", "loses namespace and the revision label"}},
      {"rate(x[1m])", true, {}},
      {"sum without (pod) (rate(x[1m]))", true, {}},
      {"sum without (pod, namespace) (rate(x[1m]))", false, {"groups without (pod, namespace)", "loses namespace"}},
      {"sum without (pod_template_hash) (x)", false, {"loses the revision label"}},
      {"sum by (namespace) (x)", false, {"groups by (namespace)", "loses the revision label"}},
      {"sum by (pod_template_hash) (x)", false, {"loses namespace"}},
      {"sum(x) by (namespace, controller_revision_hash)", true, {}},
      {"sum(x) by (namespace)", false, {"loses the revision label"}},
      {"sum by (namespace, {{ revision_label }}) (x)", true, {}},
      {"max(sum by (namespace, {{revision_label}}) (x))", false, {"max at offset 0"}},
      {"avg by (namespace, pod_template_hash) (x) / count(y)", false, {"count at offset"}},
      {"quantile(0.9, x)", false, {"quantile"}},
      {"max_over_time(x[5m]) + sum_of_things + x{sum=\"a\"}", true, {}},
      {"x{q=\"sum(y)\"}", true, {}},  // inside a string
      {"topk by (namespace, pod_template_hash) (1, x)", true, {}},
  };
  for (const auto& c : cases) {
    const Batchability b = batchability_of(c.query);
    EXPECT_EQ(b.batchable, c.batchable) << c.query << ": " << b.reason;
    if (c.batchable) {
      EXPECT_EQ(b.reason, "") << c.query;
    }
    for (const auto& part : c.reason_parts) EXPECT_NE(b.reason.find(part), std::string::npos) << b.reason;
  }
}

TEST(ConfigChecks, LoaderSetsBatchableAndUsesTheMinSamplesQueryToo) {
  const Config c = load_ok(std::string(kProm) +
                           "[[check]]\nname = \"a\"\nquery = 'sum(rate(x[1m]))'\nmax = 1\n"
                           "[[check]]\nname = \"b\"\nquery = 'rate(x[1m])'\nmax = 1\n"
                           "[check.min_samples]\nquery = 'sum(increase(x[2m]))'\nmin = 10\n");
  ASSERT_EQ(c.checks.size(), 2u);
  EXPECT_FALSE(c.checks[0].batchable);
  EXPECT_NE(c.checks[0].not_batchable_reason.find("loses namespace and the revision label"), std::string::npos);
  EXPECT_FALSE(c.checks[1].batchable);
  EXPECT_EQ(c.checks[1].not_batchable_reason.rfind("min_samples query: ", 0), 0u) << c.checks[1].not_batchable_reason;
}

TEST(ConfigChecks, UsesVariable) {
  EXPECT_TRUE(uses_variable("x{h=\"{{ revision_hash }}\"}", "revision_hash"));
  EXPECT_FALSE(uses_variable("x{h=\"{{stable_hash}}\"}", "revision_hash"));
  EXPECT_FALSE(uses_variable("x{h=\"{{revision_hash\"}", "revision_hash"));
}

// The commented-out [prometheus], [analysis] and [[check]] examples in the shipped file load once uncommented.
TEST(ConfigChecks, ShippedExampleChecksLoadWhenUncommented) {
  std::ifstream in(std::string(CG_SOURCE_DIR) + "/config/examples/canary-guard.toml", std::ios::binary);
  ASSERT_TRUE(in);
  std::string text, line;
  bool in_block = false;
  int uncommented = 0;
  while (std::getline(in, line)) {
    // The example block is marked; inside it "#: " lines are settings to uncomment.
    if (line.rfind("# --- metric analysis example", 0) == 0) in_block = !in_block;
    if (in_block && line.rfind("#: ", 0) == 0) {
      line = line.substr(3);
      ++uncommented;
    } else if (in_block && line == "#:") {
      line.clear();
    }
    text += line + "\n";
  }
  EXPECT_GT(uncommented, 10);
  const Config c = load_ok(text);
  ASSERT_EQ(c.checks.size(), 2u);
  EXPECT_EQ(c.prometheus.url, "http://127.0.0.1:9090");
  for (const Check& ch : c.checks) {
    EXPECT_TRUE(ch.batchable) << ch.name << ": " << ch.not_batchable_reason;
    EXPECT_EQ(ch.range_window, seconds{30}) << ch.name;
  }
}

std::string write_temp(const std::string& name, const std::string& text) {
  const std::string path = ::testing::TempDir() + name;
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

TEST(ConfigChecks, CheckConfigPrintsEachCheck) {
  const std::string path = write_temp(
      "cg-checks.toml", std::string(kProm) +
                            "[[check]]\nname = \"ratio\"\nquery = 'x{namespace=\"{{namespace}}\",{{revision_label}}="
                            "\"{{revision_hash}}\"}[1m]'\nmax = 0.05\n"
                            "[[check]]\nname = \"total\"\nquery = 'sum(rate(x[1m]))'\nmin = 1\n");
  std::ostringstream out, err;
  ASSERT_EQ(check_config_main(path, out, err), 0) << err.str();
  const std::string s = out.str();
  for (const std::string& part :
       {std::string("prometheus: url=http://127.0.0.1:9090 timeout=10s eval_lag=30s auth=none"),
        "check ratio (" + path + ":3): max=0.05 interval=5s failures=3 of=5 initial_delay=0s on_no_data=ignore "
        "on_error=ignore range_window=1m",
        std::string("  query for default/example: x{namespace=\"default\",pod_template_hash=\"0123456789\"}[1m]"),
        std::string("  batch query for default/example and shop/checkout: "
                    "x{namespace=~\"default|shop\",pod_template_hash=~\"0123456789|9876543210\"}[1m]"),
        "check total (" + path + ":7): not batchable: sum at offset 0 of the query has no by (...) clause, so its "
        "result loses namespace and the revision label",
        std::string("; it runs once per workload\n")})
    EXPECT_NE(s.find(part), std::string::npos) << part << "\nnot in:\n" << s;
}

// Compare mode judges against the stable revision: it needs no absolute bound. Its timing is checked against a
// typical small rollout (config.hpp comparisons_in_rollout): a warning, never a refusal.
TEST(ConfigChecks, CompareTimingWarnsWhenATypicalRolloutGivesTooFewComparisons) {
  auto load = [](const std::string& check_lines) {
    return load_string(std::string(kProm) + "[[check]]\nname = \"c\"\nquery = 'rate(x{h=\"{{revision_hash}}\"}[1m])'\n" +
                           check_lines + "[check.compare]\nmax_ratio = 2\n",
                       "t.toml");
  };
  auto ok = load("");
  ASSERT_TRUE(ok) << format(ok.error().front());
  EXPECT_FALSE(ok->checks[0].min || ok->checks[0].max);
  EXPECT_TRUE(ok->warnings.empty()) << format_warning(ok->warnings.front());  // defaults: 6 comparisons in 30 s
  EXPECT_EQ(comparisons_in_rollout(ok->checks[0], ok->prometheus.eval_lag, kTypicalRollout), 6);
  struct Row {
    std::string lines;
    long comparisons;
    bool warns;
  } rows[] = {
      {"interval = \"10s\"\n", 3, false},                      // exactly failures (3): enough
      {"interval = \"11s\"\n", 3, false},                      // 0, 11, 22 s into the 30 s
      {"interval = \"15s\"\n", 2, true},
      {"initial_delay = \"90s\"\n", 6, false},                 // no later than eval_lag + window: no cost
      {"initial_delay = \"105s\"\n", 3, false},
      {"initial_delay = \"106s\"\n", 3, false},
      {"initial_delay = \"111s\"\n", 2, true},
      {"initial_delay = \"2m\"\n", 0, true},                   // the stable series left the range at 120 s
  };
  for (const Row& r : rows) {
    auto c = load(r.lines);
    ASSERT_TRUE(c) << r.lines << format(c.error().front());
    EXPECT_EQ(comparisons_in_rollout(c->checks[0], c->prometheus.eval_lag, kTypicalRollout), r.comparisons) << r.lines;
    EXPECT_EQ(!c->warnings.empty(), r.warns) << r.lines;
    if (r.warns) {
      const std::string w = format_warning(c->warnings.front());
      EXPECT_EQ(w.rfind("t.toml:3:1: warning: check.c: a rollout of 30s gives only ", 0), 0u) << w;
    }
  }
  // A threshold check is never warned about: it judges the new revision alone, for the whole bake.
  auto threshold = load_string(std::string(kProm) + "[[check]]\nname = \"c\"\nquery = \"up\"\nmax = 1\ninitial_delay = \"10m\"\n", "t.toml");
  ASSERT_TRUE(threshold);
  EXPECT_TRUE(threshold->warnings.empty());
}

}  // namespace
}  // namespace canary_guard::config

