// Prometheus query parsing, thresholds, k-of-n and PromQL templates (spec/probes.md §1, §2.5).
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "probes/prometheus.hpp"

namespace canary_guard::probes {
namespace {

std::string vector_body(const std::string& items, const std::string& extra = "") {
  return R"({"status":"success","data":{"resultType":"vector","result":[)" + items + "]}" + extra + "}";
}
std::string item(const std::string& value, const std::string& labels = R"("namespace":"shop")") {
  return R"({"metric":{)" + labels + R"(},"value":[1732200000.5,")" + value + R"("]})";
}

TEST(PrometheusParse, VectorWithLabels) {
  auto r = parse_query_response(200, R"({"status":"success","data":{"resultType":"vector","result":[
     {"metric":{"namespace":"shop","workload":"checkout"},"value":[1732200000.5,"0.0125"]}]}})");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->type, ResultType::vector);
  ASSERT_EQ(r->series.size(), 1u);
  EXPECT_EQ(r->series[0].labels, (KeyValues{{"namespace", "shop"}, {"workload", "checkout"}}));
  ASSERT_EQ(r->series[0].samples.size(), 1u);
  EXPECT_DOUBLE_EQ(r->series[0].samples[0].timestamp, 1732200000.5);
  EXPECT_DOUBLE_EQ(r->series[0].samples[0].value, 0.0125);
}

TEST(PrometheusParse, SampleValues) {
  const double inf = std::numeric_limits<double>::infinity();
  struct Case {
    const char* text;
    std::optional<double> value;  // NaN checked separately
  };
  const std::vector<Case> cases = {
      {"0", 0.0},        {"1", 1.0},         {"-1.5", -1.5},     {"1e-07", 1e-07},   {"1E+10", 1e10},
      {"+Inf", inf},     {"-Inf", -inf},     {"Inf", inf},       {"+inf", inf},      {"+1.5", 1.5},
      {"5e-324", 5e-324}, {"1.7976931348623157e+308", 1.7976931348623157e308},
      {"", std::nullopt}, {"+", std::nullopt}, {"abc", std::nullopt}, {"1.0 ", std::nullopt},
      {" 1", std::nullopt}, {"1,5", std::nullopt}, {"0x10", std::nullopt}, {"1e400", std::nullopt},
      {"nan(1)", std::nullopt}, {"++1", std::nullopt}, {"--1", std::nullopt}, {"+-1", std::nullopt},
  };
  for (const Case& c : cases) {
    auto v = parse_sample_value(c.text);
    EXPECT_EQ(v.has_value(), c.value.has_value()) << c.text;
    if (v && c.value) {
      EXPECT_EQ(*v, *c.value) << c.text;
    }
  }
  for (const char* nan : {"NaN", "nan", "NAN"}) {
    auto v = parse_sample_value(nan);
    ASSERT_TRUE(v) << nan;
    EXPECT_TRUE(std::isnan(*v));
  }
}

TEST(PrometheusParse, SpecialValuesInVector) {
  auto r = parse_query_response(200, vector_body(item("NaN") + "," + item("+Inf") + "," + item("-Inf") + "," +
                                                 item("1e-07")));
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->series.size(), 4u);
  EXPECT_TRUE(std::isnan(r->series[0].samples[0].value));
  EXPECT_EQ(r->series[1].samples[0].value, std::numeric_limits<double>::infinity());
  EXPECT_EQ(r->series[2].samples[0].value, -std::numeric_limits<double>::infinity());
  EXPECT_DOUBLE_EQ(r->series[3].samples[0].value, 1e-07);
}

TEST(PrometheusParse, EmptyAndNullResults) {
  for (const char* body : {R"({"status":"success","data":{"resultType":"vector","result":[]}})",
                           R"({"status":"success","data":{"resultType":"vector","result":null}})",
                           R"({"status":"success","data":{"resultType":"vector"}})",
                           R"({"status":"success","data":{"resultType":"matrix","result":[]}})",
                           R"({"status":"success","data":{"resultType":"scalar","result":null}})"}) {
    auto r = parse_query_response(200, body);
    ASSERT_TRUE(r) << body << ": " << r.error().message;
    EXPECT_TRUE(r->series.empty()) << body;
  }
}

TEST(PrometheusParse, ScalarAndMatrix) {
  auto s = parse_query_response(200, R"({"status":"success","data":{"resultType":"scalar","result":[1.5,"NaN"]}})");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->type, ResultType::scalar);
  ASSERT_EQ(s->series.size(), 1u);
  EXPECT_TRUE(s->series[0].labels.empty());
  EXPECT_TRUE(std::isnan(s->series[0].samples[0].value));

  auto m = parse_query_response(200, R"({"status":"success","data":{"resultType":"matrix","result":[
     {"metric":{"a":"1"},"values":[[10,"1"],[30,"3"]]},{"metric":{},"values":[]}]}})");
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_EQ(m->type, ResultType::matrix);
  ASSERT_EQ(m->series.size(), 2u);
  ASSERT_EQ(m->series[0].samples.size(), 2u);  // the gap at t=20 is not padded
  EXPECT_EQ(m->series[0].samples[1].timestamp, 30);
  EXPECT_TRUE(m->series[1].samples.empty());
}

TEST(PrometheusParse, UnknownFieldsIgnored) {
  auto r = parse_query_response(
      200, R"({"status":"success","infos":["x"],"stats":{"a":1},"data":{"resultType":"vector","extra":1,"result":[
      {"metric":{"a":"b"},"value":[1,"2"],"other":true}]}})");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->series[0].samples[0].value, 2);
}

void expect_error(const Expected<QueryResult, QueryError>& r, ErrorClass cls, const std::string& type,
                  const std::string& what) {
  ASSERT_FALSE(r) << what;
  EXPECT_EQ(r.error().cls, cls) << what << ": " << r.error().message;
  EXPECT_EQ(r.error().type, type) << what << ": " << r.error().message;
}

TEST(PrometheusParse, UnsupportedResults) {
  expect_error(parse_query_response(200, R"({"status":"success","data":{"resultType":"string","result":[1,"x"]}})"),
               ErrorClass::config, "unsupported_result", "string");
  expect_error(parse_query_response(200, R"({"status":"success","data":{"resultType":"vector","result":[
      {"metric":{},"histogram":[1,{"count":"1"}]}]}})"),
               ErrorClass::config, "unsupported_result", "histogram");
  expect_error(parse_query_response(200, R"({"status":"success","data":{"resultType":"matrix","result":[
      {"metric":{},"histograms":[[1,{"count":"1"}]]}]}})"),
               ErrorClass::config, "unsupported_result", "histograms");
  expect_error(parse_query_response(200, R"({"status":"success","data":{"resultType":"streams","result":[]}})"),
               ErrorClass::parse, "parse", "unknown resultType");
}

TEST(PrometheusParse, WarningsArePartialUnlessAccepted) {
  const std::string body = vector_body(item("1"), R"(,"warnings":["partial data: remote store unavailable"])");
  auto r = parse_query_response(200, body);
  expect_error(r, ErrorClass::partial, "partial", "warnings");
  EXPECT_NE(r.error().message.find("remote store unavailable"), std::string::npos);
  auto ok = parse_query_response(200, body, ParseOptions{.accept_warnings = true});
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->warnings, std::vector<std::string>{"partial data: remote store unavailable"});
  EXPECT_EQ(ok->series.size(), 1u);
  EXPECT_TRUE(parse_query_response(200, vector_body(item("1"), R"(,"warnings":[])")));  // empty list: no warning
}

TEST(PrometheusParse, ErrorEnvelopes) {
  struct Case {
    int http;
    const char* error_type;
    ErrorClass cls;
    const char* type;
  };
  const std::vector<Case> cases = {
      {400, "bad_data", ErrorClass::config, "bad_data"},
      {422, "execution", ErrorClass::config, "execution"},
      {503, "timeout", ErrorClass::transient, "timeout"},
      {503, "canceled", ErrorClass::transient, "canceled"},
      {499, "canceled", ErrorClass::transient, "canceled"},
      {500, "internal", ErrorClass::transient, "internal"},
      {500, "unavailable", ErrorClass::transient, "unavailable"},
      {404, "not_found", ErrorClass::config, "not_found"},
      {500, "brand_new", ErrorClass::transient, "unknown"},
      {200, "execution", ErrorClass::config, "execution"},  // an error body wins even with 200
  };
  for (const Case& c : cases) {
    const std::string body = std::string(R"({"status":"error","errorType":")") + c.error_type +
                             R"(","error":"query timed out in query execution"})";
    auto r = parse_query_response(c.http, body);
    expect_error(r, c.cls, c.type, c.error_type);
    EXPECT_NE(r.error().message.find("query timed out"), std::string::npos);
  }
}

TEST(PrometheusParse, NonJsonAndHttpErrors) {
  struct Case {
    int http;
    std::string body;
    ErrorClass cls;
    const char* type;
  };
  const std::vector<Case> cases = {
      {503, "Service Unavailable", ErrorClass::transient, "http"},
      {404, "404 page not found", ErrorClass::config, "http"},
      {502, "<html><body>Bad Gateway</body></html>", ErrorClass::transient, "http"},
      {504, "", ErrorClass::transient, "http"},
      {429, "slow down", ErrorClass::transient, "http"},
      {401, "Unauthorized", ErrorClass::config, "http"},
      {200, "Service Unavailable", ErrorClass::parse, "parse"},
      {200, "", ErrorClass::parse, "parse"},
      {200, "null", ErrorClass::parse, "parse"},
      {200, "[]", ErrorClass::parse, "parse"},
      {200, "\"success\"", ErrorClass::parse, "parse"},
      {500, vector_body(item("1")), ErrorClass::transient, "http"},  // success body, failed status
      {302, "", ErrorClass::config, "http"},
  };
  for (const Case& c : cases) expect_error(parse_query_response(c.http, c.body), c.cls, c.type, c.body);
}

TEST(PrometheusParse, TruncatedAndMalformedJson) {
  const std::string full = vector_body(item("0.5"));
  for (std::size_t cut : {std::size_t{1}, full.size() / 2, full.size() - 1}) {
    expect_error(parse_query_response(200, full.substr(0, cut)), ErrorClass::parse, "parse",
                 "truncated at " + std::to_string(cut));
  }
  const std::vector<std::string> malformed = {
      R"({"status":"success"})",                                                        // no data
      R"({"data":{"resultType":"vector","result":[]}})",                                // no status
      R"({"status":"weird","data":{"resultType":"vector","result":[]}})",               // bad status
      R"({"status":"success","data":[]})",                                              // data not object
      R"({"status":"success","data":{"result":[]}})",                                   // no resultType
      R"({"status":"success","data":{"resultType":"vector","result":{}}})",             // result not array
      R"({"status":"success","data":{"resultType":"vector","result":[1]}})",            // item not object
      vector_body(R"({"metric":{},"value":[1,0.5]})"),                                  // value not a string
      vector_body(R"({"metric":{},"value":["1","0.5"]})"),                              // time not a number
      vector_body(R"({"metric":{},"value":[1]})"),                                      // short pair
      vector_body(R"({"metric":{},"value":[1,"x"]})"),                                  // not a number
      vector_body(R"({"metric":{}})"),                                                  // no value
      vector_body(R"({"metric":{"a":1},"value":[1,"1"]})"),                             // label not a string
      vector_body(R"({"metric":[],"value":[1,"1"]})"),                                  // metric not object
      R"({"status":"success","data":{"resultType":"matrix","result":[{"metric":{}}]}})",  // no values
      R"({"status":"success","data":{"resultType":"scalar","result":[1]}})",
      R"({"status":"success","warnings":"x","data":{"resultType":"vector","result":[]}})",
      "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[]}}\xff",
  };
  for (const auto& body : malformed) expect_error(parse_query_response(200, body), ErrorClass::parse, "parse", body);
}

TEST(PrometheusParse, Bounds) {
  std::string deep(100, '[');
  deep += std::string(100, ']');
  expect_error(parse_query_response(200, deep), ErrorClass::parse, "parse", "deep");
  // Brackets inside strings do not count towards depth.
  auto ok = parse_query_response(200, vector_body(item("1", "\"a\":\"" + std::string(200, '[') + "\\\"[\"")));
  ASSERT_TRUE(ok) << ok.error().message;
  ParseOptions small;
  small.max_body_bytes = 10;
  expect_error(parse_query_response(200, vector_body(item("1")), small), ErrorClass::parse, "too_large", "size");
}

TEST(PrometheusParse, ToProbeResult) {
  auto r = to_probe_result(QueryError{ErrorClass::transient, "timeout", "slow"});
  EXPECT_EQ(r.outcome, Outcome::error);
  EXPECT_EQ(r.reason, "transient");
  EXPECT_EQ(to_string(ErrorClass::config), "config");
  EXPECT_EQ(to_string(ErrorClass::partial), "partial");
  EXPECT_EQ(to_string(ErrorClass::parse), "parse");
}

QueryResult values(std::vector<double> vs) {
  QueryResult r;
  int i = 0;
  for (double v : vs) r.series.push_back(Series{{{"pod", std::to_string(i++)}}, {Sample{1, v}}});
  return r;
}

TEST(Threshold, InclusiveBoundsAndInf) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  struct Case {
    std::vector<double> vs;
    Threshold t;
    Outcome outcome;
    const char* reason;
  };
  const std::vector<Case> cases = {
      {{0.05}, {std::nullopt, 0.05}, Outcome::pass, "within_threshold"},
      {{0.0500001}, {std::nullopt, 0.05}, Outcome::fail, "threshold"},
      {{0.95}, {0.95, std::nullopt}, Outcome::pass, "within_threshold"},
      {{0.9499}, {0.95, std::nullopt}, Outcome::fail, "threshold"},
      {{1, 2}, {1.0, 2.0}, Outcome::pass, "within_threshold"},
      {{inf}, {std::nullopt, 1.0}, Outcome::fail, "threshold"},
      {{inf}, {0.0, std::nullopt}, Outcome::pass, "within_threshold"},
      {{-inf}, {0.0, std::nullopt}, Outcome::fail, "threshold"},
      {{0.01, 0.5, 0.02}, {std::nullopt, 0.05}, Outcome::fail, "threshold"},  // any_fail
      {{0.01, nan}, {std::nullopt, 0.05}, Outcome::pass, "within_threshold"},  // NaN series skipped
      {{nan, 0.5}, {std::nullopt, 0.05}, Outcome::fail, "threshold"},
      {{nan, nan}, {std::nullopt, 0.05}, Outcome::no_data, "nan"},
      {{}, {std::nullopt, 0.05}, Outcome::no_data, "empty"},
      {{1}, {}, Outcome::error, "config"},
  };
  for (std::size_t i = 0; i < cases.size(); ++i) {
    auto ev = evaluate_threshold(values(cases[i].vs), cases[i].t);
    EXPECT_EQ(ev.result.outcome, cases[i].outcome) << "case " << i;
    EXPECT_EQ(ev.result.reason, cases[i].reason) << "case " << i;
  }
}

TEST(Threshold, CountsAndWorstValue) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  auto ev = evaluate_threshold(values({0.01, 0.5, nan, 0.2}), {std::nullopt, 0.05});
  EXPECT_EQ(ev.series_judged, 3u);
  EXPECT_EQ(ev.series_failed, 2u);
  EXPECT_EQ(ev.series_nan, 1u);
  EXPECT_EQ(ev.value, 0.5);
  EXPECT_NE(ev.result.detail.find("pod=\"1\""), std::string::npos) << ev.result.detail;
  EXPECT_NE(ev.result.detail.find("2 series failed"), std::string::npos) << ev.result.detail;
  auto low = evaluate_threshold(values({0.99, 0.9}), {0.95, std::nullopt});
  EXPECT_EQ(low.value, 0.9);
}

TEST(Threshold, MatrixUsesLatestSample) {
  QueryResult r;
  r.type = ResultType::matrix;
  r.series.push_back(Series{{}, {Sample{1, 0.9}, Sample{2, 0.01}}});
  EXPECT_EQ(evaluate_threshold(r, {std::nullopt, 0.05}).result.outcome, Outcome::pass);
  r.series[0].samples = {Sample{1, 0.01}, Sample{2, 0.9}};
  EXPECT_EQ(evaluate_threshold(r, {std::nullopt, 0.05}).result.outcome, Outcome::fail);
}

TEST(Threshold, MinSamples) {
  const Threshold t{std::nullopt, 0.05};
  auto bad = values({0.9});
  EXPECT_EQ(evaluate_threshold(bad, t, MinSamples{100, 99.0}).result.reason, "min_samples");
  EXPECT_EQ(evaluate_threshold(bad, t, MinSamples{100, std::nullopt}).result.outcome, Outcome::no_data);
  EXPECT_EQ(evaluate_threshold(bad, t, MinSamples{100, std::numeric_limits<double>::quiet_NaN()}).result.outcome,
            Outcome::no_data);
  EXPECT_EQ(evaluate_threshold(bad, t, MinSamples{100, 100.0}).result.outcome, Outcome::fail);  // inclusive
  const double nan = std::numeric_limits<double>::quiet_NaN();
  EXPECT_EQ(sum_of_values(values({1, nan, 2})), 3.0);
  EXPECT_FALSE(sum_of_values(values({nan})));
  EXPECT_FALSE(sum_of_values(QueryResult{}));
}

TEST(KOfN, DefaultThreeOfFive) {
  KOfNWindow w;
  EXPECT_FALSE(w.add(Outcome::fail));
  EXPECT_FALSE(w.add(Outcome::pass));
  EXPECT_FALSE(w.add(Outcome::fail));
  for (Outcome o : {Outcome::error, Outcome::no_data, Outcome::inconclusive}) EXPECT_FALSE(w.add(o));
  EXPECT_EQ(w.size(), 3);
  EXPECT_TRUE(w.add(Outcome::fail));  // F P F F
  EXPECT_EQ(w.fails(), 3);
  w.add(Outcome::pass);  // F P F F P
  EXPECT_TRUE(w.tripped());
  w.add(Outcome::pass);  // P F F P P: first F left the window
  EXPECT_FALSE(w.tripped());
  EXPECT_EQ(w.fails(), 2);
  EXPECT_EQ(w.size(), 5);
  w.clear();
  EXPECT_EQ(w.size(), 0);
  EXPECT_EQ(w.fails(), 0);
}

TEST(KOfN, Clamping) {
  KOfNWindow one(0, 0);
  EXPECT_EQ(one.k(), 1);
  EXPECT_EQ(one.n(), 1);
  EXPECT_TRUE(one.add(Outcome::fail));
  EXPECT_FALSE(one.add(Outcome::pass));
  KOfNWindow big(9, 4);
  EXPECT_EQ(big.k(), 4);
}

TEST(PromqlTemplate, RendersAndEscapes) {
  TemplateVars vars{{"namespace", "shop"}, {"workload", "check\"out"}, {"interval", "5m"}, {"vars.team", "a\\b"}};
  auto r = render_promql(
      R"(sum(rate(http_requests_total{namespace="${namespace}",workload="${workload}",team="${vars.team}"}[${interval}])) $x ${)"
      R"(namespace})",
      vars);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(*r,
            R"(sum(rate(http_requests_total{namespace="shop",workload="check\"out",team="a\\b"}[5m])) $x shop)");
  EXPECT_EQ(escape_promql_string("a\nb\tc\x01\x7f"), "a\\nb\\tc\\x01\\x7f");
  EXPECT_EQ(*render_promql("$", vars), "$");
  EXPECT_EQ(*render_promql("", vars), "");
}

TEST(PromqlTemplate, Errors) {
  TemplateVars vars{{"namespace", "shop"}};
  struct Case {
    const char* tmpl;
    std::size_t offset;
    const char* message;
  };
  const std::vector<Case> cases = {
      {"x ${nope}", 2, "unknown variable \"nope\""},
      {"${namespace", 0, "unterminated ${"},
      {"a${}", 1, "empty variable name"},
      {"${name space}", 0, "invalid variable name \"name space\""},
      {"${vars.missing}", 0, "unknown variable \"vars.missing\""},
  };
  for (const Case& c : cases) {
    auto r = render_promql(c.tmpl, vars);
    ASSERT_FALSE(r) << c.tmpl;
    EXPECT_EQ(r.error().offset, c.offset) << c.tmpl;
    EXPECT_EQ(r.error().message, c.message) << c.tmpl;
  }
}

}  // namespace
}  // namespace canary_guard::probes
