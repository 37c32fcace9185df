// GET /analysis's JSON (daemon/app/analysis_json.*) and `status --daemon`'s merge (daemon/app/status_live.*): a
// value, no value, NaN and Inf; parsing hostile input never throws and drops only what is malformed; rows match by
// kind, namespace, name and current revision hash.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <sstream>

#include <nlohmann/json.hpp>

#include "daemon/app/analysis_json.hpp"
#include "daemon/app/status_live.hpp"

namespace cg = canary_guard;
using namespace canary_guard::app;
using cg::guard::AnalysisSnapshot;
using cg::guard::CheckSnapshot;
using cg::guard::Kind;
using cg::guard::WorkloadKey;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

const cg::TimePoint T0{std::chrono::seconds{1'800'000'000}};  // 2027-01-15T08:00:00Z

CheckSnapshot check(std::string name, std::optional<double> value, cg::probes::Outcome last = cg::probes::Outcome::pass) {
  CheckSnapshot c;
  c.name = std::move(name);
  c.last = last;
  c.value = value;
  c.detail = "error-ratio 0.031 <= 0.05";
  c.at = T0 + 250ms;
  c.window = "PPF";
  c.passed = true;
  return c;
}

AnalysisSnapshot entry(std::string name, std::string hash, std::vector<CheckSnapshot> checks,
                       Kind kind = Kind::deployment) {
  return AnalysisSnapshot{WorkloadKey{kind, "shop", std::move(name)}, std::move(hash), std::move(checks)};
}

StatusRow row(std::string kind, std::string name, std::string hash) {
  StatusRow r;
  r.kind = std::move(kind);
  r.ns = "shop";
  r.name = std::move(name);
  r.hash = std::move(hash);
  r.checks = "error-ratio=PPF!";
  return r;
}

}  // namespace

TEST(AnalysisJson, EmptySnapshotIsAnEmptyArray) { EXPECT_EQ(render_analysis({}), "[]\n"); }

TEST(AnalysisJson, RendersValueNullAndNonFinite) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  CheckSnapshot unevaluated;
  unevaluated.name = "p99";
  const auto text = render_analysis({entry("web", "6d8f7c9b5",
                                           {check("error-ratio", 0.031), check("no-data", std::nullopt, cg::probes::Outcome::no_data),
                                            check("nan", nan, cg::probes::Outcome::no_data), check("inf", inf), check("ninf", -inf),
                                            unevaluated}),
                                     entry("agent", "abc", {}, Kind::daemonset)});
  const json j = json::parse(text);
  ASSERT_TRUE(j.is_array());
  ASSERT_EQ(j.size(), 2u);
  EXPECT_EQ(j[0]["kind"], "Deployment");
  EXPECT_EQ(j[0]["namespace"], "shop");
  EXPECT_EQ(j[0]["workload"], "web");
  EXPECT_EQ(j[0]["revision_hash"], "6d8f7c9b5");
  const auto& c = j[0]["checks"];
  ASSERT_EQ(c.size(), 6u);
  EXPECT_EQ(c[0]["name"], "error-ratio");
  EXPECT_EQ(c[0]["last_outcome"], "pass");
  EXPECT_DOUBLE_EQ(c[0]["value"].get<double>(), 0.031);
  EXPECT_FALSE(c[0].contains("value_text"));
  EXPECT_EQ(c[0]["detail"], "error-ratio 0.031 <= 0.05");
  EXPECT_EQ(c[0]["at"], "2027-01-15T08:00:00.250Z");
  EXPECT_EQ(c[0]["window"], "PPF");
  EXPECT_EQ(c[0]["passed"], true);
  EXPECT_EQ(c[0]["tripped"], false);
  EXPECT_TRUE(c[1]["value"].is_null());
  EXPECT_EQ(c[1]["last_outcome"], "no_data");
  EXPECT_FALSE(c[1].contains("value_text"));
  EXPECT_TRUE(c[2]["value"].is_null());
  EXPECT_EQ(c[2]["value_text"], "NaN");
  EXPECT_TRUE(c[3]["value"].is_null());
  EXPECT_EQ(c[3]["value_text"], "+Inf");
  EXPECT_EQ(c[4]["value_text"], "-Inf");
  EXPECT_TRUE(c[5]["last_outcome"].is_null());
  EXPECT_TRUE(c[5]["at"].is_null());
  EXPECT_EQ(j[1]["kind"], "DaemonSet");
  EXPECT_TRUE(j[1]["checks"].is_array());
  EXPECT_TRUE(j[1]["checks"].empty());
}

TEST(AnalysisJson, RenderSurvivesBytesThatAreNotUtf8) {
  auto c = check("error-ratio", 1.0);
  c.detail = "prometheus said \xff\xfe";
  EXPECT_NO_THROW(json::parse(render_analysis({entry("web", "h", {c})})));
}

TEST(AnalysisJson, ParseReadsBackWhatRenderWrote) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  CheckSnapshot unevaluated;
  unevaluated.name = "p99";
  auto tripped = check("latency", 2.4, cg::probes::Outcome::fail);
  tripped.tripped = true;
  tripped.passed = false;
  auto parsed = parse_analysis_entries(render_analysis(
      {entry("web", "h1", {check("error-ratio", 0.031), check("nan", nan), tripped, unevaluated})}));
  ASSERT_TRUE(parsed);
  ASSERT_EQ(parsed->size(), 1u);
  const auto& e = (*parsed)[0];
  EXPECT_EQ(e.kind, "Deployment");
  EXPECT_EQ(e.ns, "shop");
  EXPECT_EQ(e.workload, "web");
  EXPECT_EQ(e.revision_hash, "h1");
  ASSERT_EQ(e.checks.size(), 4u);
  EXPECT_EQ(e.checks[0].last_outcome, "pass");
  EXPECT_DOUBLE_EQ(e.checks[0].value.value_or(-1), 0.031);
  EXPECT_EQ(e.checks[0].at, "2027-01-15T08:00:00.250Z");
  EXPECT_EQ(e.checks[0].window, "PPF");
  EXPECT_TRUE(e.checks[0].passed);
  EXPECT_FALSE(e.checks[1].value);
  EXPECT_EQ(e.checks[1].value_text, "NaN");
  EXPECT_TRUE(e.checks[2].tripped);
  EXPECT_EQ(e.checks[3].last_outcome, "");
  EXPECT_EQ(e.checks[3].at, "");
  EXPECT_EQ(live_checks_column(e.checks),
            "error-ratio=PPF! last=0.031 pass, nan=PPF! last=NaN pass, latency=PPF last=2.4 fail tripped, p99=- "
            "not-evaluated");
}

TEST(AnalysisJson, ParseRejectsWhatIsNotAnArray) {
  for (const char* body : {"", "garbage", "{\"kind\":\"Deployment\"}", "null", "42", "[", "[1,", "\"[]\"",
                           "<html>502 Bad Gateway</html>"}) {
    EXPECT_FALSE(parse_analysis_entries(body)) << body;
  }
  auto deep = std::string(100000, '[') + std::string(100000, ']');
  EXPECT_NO_THROW((void)parse_analysis_entries(deep));
}

TEST(AnalysisJson, ParseDropsMalformedEntriesOnly) {
  const std::string good =
      R"({"kind":"Deployment","namespace":"shop","workload":"web","revision_hash":"h1",
          "checks":[{"name":"error-ratio","last_outcome":"pass","value":0.5,"window":"P","passed":true,"tripped":false}]})";
  const std::vector<std::string> bad = {
      R"(1)", R"("x")", R"(null)", R"([])",
      R"({"namespace":"shop","workload":"web","revision_hash":"h1","checks":[]})",              // no kind
      R"({"kind":7,"namespace":"shop","workload":"web","revision_hash":"h1","checks":[]})",     // kind not a string
      R"({"kind":"Deployment","namespace":"shop","workload":"web","revision_hash":"","checks":[]})",  // empty hash
      R"({"kind":"Deployment","namespace":"shop","workload":"web","revision_hash":"h1"})",      // no checks
      R"({"kind":"Deployment","namespace":"shop","workload":"web","revision_hash":"h1","checks":{}})",
      R"({"kind":"Deployment","namespace":"shop","workload":"web","revision_hash":"h1","checks":[{"value":1}]})",
      R"({"kind":"Deployment","namespace":"shop","workload":"web","revision_hash":"h1","checks":[{"name":"a","value":"0.5"}]})",
      R"({"kind":"Deployment","namespace":"shop","workload":"web","revision_hash":"h1","checks":[{"name":"a","passed":"yes"}]})",
      R"({"kind":"Deployment","namespace":"shop","workload":"web","revision_hash":"h1","checks":[{"name":"a","window":["P"]}]})",
      R"({"kind":"Deployment","namespace":"shop","workload":"web","revision_hash":"h1","checks":[{"name":"a"}, 3]})",
  };
  std::string body = "[" + good;
  for (const auto& b : bad) body += "," + b;
  body += "]";
  auto parsed = parse_analysis_entries(body);
  ASSERT_TRUE(parsed);
  ASSERT_EQ(parsed->size(), 1u);
  EXPECT_EQ((*parsed)[0].workload, "web");
  // A number beyond a double's range is never read as infinity (nlohmann rejects the document).
  parsed = parse_analysis_entries(
      R"([{"kind":"Deployment","namespace":"shop","workload":"web","revision_hash":"h1","checks":[{"name":"a","last_outcome":"fail","value":1e999}]}])");
  EXPECT_TRUE(!parsed || !(*parsed)[0].checks[0].value);
}

TEST(StatusLive, MergesByKindNamespaceNameAndHash) {
  auto live = parse_analysis_entries(render_analysis({
      entry("web", "h2", {check("error-ratio", 0.031)}),                  // matches web's current revision
      entry("api", "old", {check("error-ratio", 0.9)}),                  // another revision of api: not merged
      entry("agent", "c1", {check("error-ratio", 0.2)}, Kind::daemonset), // a DaemonSet named like a Deployment row
  }));
  ASSERT_TRUE(live);
  std::vector<StatusRow> rows = {row("Deployment", "web", "h2"), row("Deployment", "api", "new"),
                                 row("Deployment", "agent", "c1"), row("DaemonSet", "agent", "c1"),
                                 row("Deployment", "nohash", "")};
  EXPECT_EQ(merge_live_analysis(rows, *live), 2u);
  ASSERT_TRUE(rows[0].checks_live);
  EXPECT_EQ(rows[0].checks, "error-ratio=PPF! last=0.031 pass");
  EXPECT_EQ(rows[0].checks_live->at(0).name, "error-ratio");
  EXPECT_FALSE(rows[1].checks_live);
  EXPECT_EQ(rows[1].checks, "error-ratio=PPF!");  // the persisted window stays
  EXPECT_FALSE(rows[2].checks_live);              // kind differs
  ASSERT_TRUE(rows[3].checks_live);
  EXPECT_EQ(rows[3].checks, "error-ratio=PPF! last=0.2 pass");
  EXPECT_FALSE(rows[4].checks_live);
}

TEST(StatusLive, ANamespaceMismatchIsNotMerged) {
  auto live = parse_analysis_entries(render_analysis({entry("web", "h2", {check("error-ratio", 0.031)})}));
  ASSERT_TRUE(live);
  std::vector<StatusRow> rows = {row("Deployment", "web", "h2")};
  rows[0].ns = "other";
  EXPECT_EQ(merge_live_analysis(rows, *live), 0u);
  EXPECT_EQ(rows[0].checks, "error-ratio=PPF!");
}

TEST(StatusLive, MalformedInputMergesNothing) {
  std::vector<StatusRow> rows = {row("Deployment", "web", "h2")};
  for (const char* body : {"garbage", "{}", R"([{"kind":"Deployment","namespace":"shop","workload":"web"}])"}) {
    auto live = parse_analysis_entries(body);
    if (live) {
      EXPECT_EQ(merge_live_analysis(rows, *live), 0u) << body;
    }
  }
  EXPECT_FALSE(rows[0].checks_live);
  EXPECT_EQ(rows[0].checks, "error-ratio=PPF!");
}

TEST(StatusLive, ColumnKeepsControlCharactersOffTheTerminal) {
  LiveCheck c;
  c.name = "evil\x1b[2J";
  c.last_outcome = "pass\n";
  c.value = 1;
  EXPECT_EQ(live_checks_column({c}), "evil?[2J=- last=1 pass?");
  EXPECT_EQ(live_checks_column({}), "-");
}

TEST(StatusJson, BytesThatAreNotUtf8InApiDataDoNotThrow) {
  // An annotation or message from the API server is not guaranteed UTF-8; `status -o json` must still print.
  std::vector<canary_guard::app::StatusRow> rows(1);
  rows[0].kind = "Deployment";
  rows[0].ns = "shop";
  rows[0].name = "web";
  rows[0].message = "bad byte \xff here";
  std::ostringstream out;
  EXPECT_NO_THROW(canary_guard::app::print_json(rows, out));
  auto j = nlohmann::json::parse(out.str(), nullptr, false);
  ASSERT_FALSE(j.is_discarded());
  EXPECT_NE(out.str().find("bad byte"), std::string::npos);
}
