// Alertmanager webhook parsing, RFC 3339, idempotency and relevance (spec/probes.md §3.1, §3.2, §3.4).
#include <gtest/gtest.h>

#include "probes/alerts.hpp"

namespace canary_guard::probes {
namespace {

using namespace std::chrono_literals;

const char* kExample = R"({"version":"4","groupKey":"{}:{namespace=\"shop\", workload=\"checkout\"}",
 "truncatedAlerts":0,"status":"firing","receiver":"canary-guard",
 "groupLabels":{"namespace":"shop","workload":"checkout"},
 "commonLabels":{"alertname":"HighErrorRatio","namespace":"shop","workload":"checkout"},
 "commonAnnotations":{},"externalURL":"http://alertmanager.mon:9093","notification_reason":"new",
 "alerts":[{"status":"firing",
   "labels":{"alertname":"HighErrorRatio","namespace":"shop","workload":"checkout","severity":"page"},
   "annotations":{"summary":"5xx ratio above 5%"},
   "startsAt":"2024-11-21T10:00:00.123Z","endsAt":"0001-01-01T00:00:00Z",
   "generatorURL":"http://prometheus.mon:9090/graph?g0.expr=...","fingerprint":"3f1c0a9e7b2d4c11"}]})";

TimePoint at(std::int64_t unix_ms) { return TimePoint{std::chrono::milliseconds{unix_ms}}; }

TEST(AlertmanagerWebhook, ParsesTheSpecExample) {
  auto m = parse_alertmanager_webhook(kExample);
  ASSERT_TRUE(m) << m.error().front();
  EXPECT_EQ(m->version, "4");
  EXPECT_EQ(m->group_key, "{}:{namespace=\"shop\", workload=\"checkout\"}");
  EXPECT_EQ(m->status, "firing");
  EXPECT_EQ(m->receiver, "canary-guard");
  EXPECT_EQ(m->truncated_alerts, 0);
  EXPECT_EQ(m->group_labels, (KeyValues{{"namespace", "shop"}, {"workload", "checkout"}}));
  ASSERT_EQ(m->alerts.size(), 1u);
  const Alert& a = m->alerts[0];
  EXPECT_EQ(a.status, "firing");
  EXPECT_EQ(a.fingerprint, "3f1c0a9e7b2d4c11");
  EXPECT_EQ(a.starts_at, at(1732183200123));  // 2024-11-21T10:00:00.123Z
  EXPECT_FALSE(a.ends_at);                     // year-1 zero time: open
  EXPECT_EQ(*find_value(a.annotations, "summary"), "5xx ratio above 5%");
}

TEST(AlertmanagerWebhook, ResolvedAlertCarriesEnd) {
  std::string body = kExample;
  body.replace(body.find("0001-01-01T00:00:00Z"), 20, "2024-11-21T10:05:00Z");
  auto m = parse_alertmanager_webhook(body);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->alerts[0].ends_at, at(1732183500000));
}

TEST(AlertmanagerWebhook, ValidationErrorsAreListed) {
  auto m = parse_alertmanager_webhook(R"({"version":"3","status":"odd","truncatedAlerts":-1,
    "groupLabels":{"a":1},"alerts":[{"status":"x","labels":{},"startsAt":"yesterday","endsAt":"later"},
    7, {"status":"firing","labels":{"a":"b"},"startsAt":"2024-01-01T00:00:00Z","fingerprint":"f"}]})");
  ASSERT_FALSE(m);
  const std::vector<std::string> expected = {
      "version: must be \"4\", got \"3\"",
      "status: must be firing or resolved",
      "groupLabels: value of \"a\" is not a string",
      "truncatedAlerts: not a count",
      "alerts[0].status: must be firing or resolved",
      "alerts[0].labels: empty",
      "alerts[0].startsAt: not RFC3339",
      "alerts[0].endsAt: not RFC3339",
      "alerts[0].fingerprint: missing",
      "alerts[1]: not an object",
  };
  EXPECT_EQ(m.error(), expected);
}

TEST(AlertmanagerWebhook, Malformed) {
  for (const char* body : {"", "not json", "[]", "null", "{\"version\":\"4\"", R"({"version":"4","status":"firing"})",
                           R"({"version":"4","status":"firing","alerts":{}})",
                           R"({"version":4,"status":"firing","alerts":[]})"}) {
    auto m = parse_alertmanager_webhook(body);
    ASSERT_FALSE(m) << body;
    EXPECT_FALSE(m.error().empty()) << body;
  }
  EXPECT_TRUE(parse_alertmanager_webhook(R"({"version":"4","status":"resolved","alerts":[]})"));
  WebhookLimits small;
  small.max_body_bytes = 10;
  EXPECT_FALSE(parse_alertmanager_webhook(kExample, small));
  small = {};
  small.max_alerts = 0;
  EXPECT_FALSE(parse_alertmanager_webhook(kExample, small));
  std::string deep = R"({"version":"4","status":"firing","alerts":[],"x":)" + std::string(100, '[') +
                     std::string(100, ']') + "}";
  EXPECT_FALSE(parse_alertmanager_webhook(deep));
}

// GET /api/v2/alerts as a start-up / takeover seed (issue #12 §1): only active alerts, as firing ones with the
// webhook's startsAt text (same idempotency key); suppressed and unprocessed ones are left out; a broken element is
// skipped and counted, never a failure of the whole listing.
TEST(ActiveAlerts, OnlyActiveOnesAsFiring) {
  const char* body = R"([
    {"labels":{"alertname":"A","namespace":"shop","workload":"web","severity":"page"},"annotations":{"summary":"s"},
     "startsAt":"2024-11-21T10:00:00.123Z","endsAt":"2024-11-21T10:05:00Z","updatedAt":"2024-11-21T10:00:01Z",
     "fingerprint":"aa","receivers":[{"name":"canary-guard"}],
     "status":{"state":"active","silencedBy":[],"inhibitedBy":[]}},
    {"labels":{"alertname":"B","namespace":"shop","workload":"web"},"startsAt":"2024-11-21T10:00:00Z",
     "fingerprint":"bb","status":{"state":"suppressed","silencedBy":["s1"],"inhibitedBy":[]}},
    {"labels":{"alertname":"C"},"startsAt":"2024-11-21T10:00:00Z","fingerprint":"cc","status":{"state":"unprocessed"}},
    {"labels":{"alertname":"D"},"startsAt":"not a time","fingerprint":"dd","status":{"state":"active"}},
    {"labels":{"alertname":"E"},"fingerprint":"ee"},
    42
  ])";
  auto r = parse_active_alerts(body);
  ASSERT_TRUE(r) << r.error();
  ASSERT_EQ(r->alerts.size(), 1u);
  const Alert& a = r->alerts[0];
  EXPECT_EQ(a.status, "firing");
  EXPECT_EQ(a.fingerprint, "aa");
  EXPECT_EQ(a.starts_at_text, "2024-11-21T10:00:00.123Z");
  EXPECT_FALSE(a.ends_at.has_value()) << "the API's endsAt of a firing alert is its expiry, not an end";
  EXPECT_EQ(r->skipped, 3u);  // D (bad startsAt), E (no status), 42 (no object)
  // The same alert as the webhook carries it has the same idempotency key: a later delivery is a duplicate.
  auto hook = parse_alertmanager_webhook(
      R"({"version":"4","status":"firing","alerts":[{"status":"firing","labels":{"alertname":"A","namespace":"shop","workload":"web","severity":"page"},"startsAt":"2024-11-21T10:00:00.123Z","endsAt":"0001-01-01T00:00:00Z","fingerprint":"aa"}]})");
  ASSERT_TRUE(hook);
  EXPECT_EQ(idempotency_key(hook->alerts[0]), idempotency_key(a));
  for (const char* bad : {"", "{}", "not json", "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]"})
    EXPECT_FALSE(parse_active_alerts(bad)) << bad;
  EXPECT_TRUE(parse_active_alerts("[]"));
}

TEST(Rfc3339, Forms) {
  struct Case {
    const char* text;
    std::optional<std::int64_t> unix_ms;
  };
  const std::vector<Case> cases = {
      {"1970-01-01T00:00:00Z", 0},
      {"2024-11-21T10:00:00Z", 1732183200000},
      {"2024-11-21T10:00:00.1Z", 1732183200100},
      {"2024-11-21T10:00:00.123456789Z", 1732183200123},
      {"2024-11-21T10:00:00,5Z", 1732183200500},
      {"2024-11-21t10:00:00z", 1732183200000},
      {"2024-11-21T11:30:00+01:30", 1732183200000},
      {"2024-11-21T08:00:00-02:00", 1732183200000},
      {"2024-02-29T00:00:00Z", 1709164800000},
      {"1969-12-31T23:59:59.999Z", -1},
      {"2023-02-29T00:00:00Z", std::nullopt},
      {"2024-13-01T00:00:00Z", std::nullopt},
      {"2024-11-21T24:00:00Z", std::nullopt},
      {"2024-11-21T10:60:00Z", std::nullopt},
      {"2024-11-21T10:00:60Z", std::nullopt},
      {"2024-11-21T10:00:00", std::nullopt},
      {"2024-11-21T10:00:00.Z", std::nullopt},
      {"2024-11-21T10:00:00+0100", std::nullopt},
      {"2024-11-21T10:00:00+01:00x", std::nullopt},
      {"2024-11-21 10:00:00Z", std::nullopt},
      {"24-11-21T10:00:00Z", std::nullopt},
      {"", std::nullopt},
  };
  for (const Case& c : cases) {
    auto t = parse_rfc3339(c.text);
    ASSERT_EQ(t.has_value(), c.unix_ms.has_value()) << c.text;
    if (t) {
      EXPECT_EQ(t->time_since_epoch().count(), *c.unix_ms) << c.text;
    }
  }
  auto zero = parse_rfc3339("0001-01-01T00:00:00Z");
  ASSERT_TRUE(zero);
  EXPECT_TRUE(is_zero_time(*zero));
  EXPECT_EQ(zero->time_since_epoch().count(), -62135596800000);
  EXPECT_FALSE(is_zero_time(*parse_rfc3339("0001-01-01T00:00:00.001Z")));
}

TEST(Idempotency, KeyNormalisesTime) {
  Alert a;
  a.fingerprint = "f";
  a.status = "firing";
  a.starts_at = *parse_rfc3339("2024-11-21T10:00:00.000Z");
  Alert b = a;
  b.starts_at = *parse_rfc3339("2024-11-21T11:00:00+01:00");
  EXPECT_EQ(idempotency_key(a), idempotency_key(b));
  b.status = "resolved";
  EXPECT_NE(idempotency_key(a), idempotency_key(b));
  b = a;
  b.starts_at += 1ms;
  EXPECT_NE(idempotency_key(a), idempotency_key(b));
  b = a;
  b.fingerprint = "g";
  EXPECT_NE(idempotency_key(a), idempotency_key(b));
}

AlertMatcher matcher(std::string ns, std::string workload) {
  AlertMatcher m;
  m.ns = std::move(ns);
  m.workload = std::move(workload);
  return m;
}

Alert alert(KeyValues labels, TimePoint starts, std::string status = "firing") {
  Alert a;
  a.labels = std::move(labels);
  a.starts_at = starts;
  a.status = std::move(status);
  a.fingerprint = "fp";
  return a;
}

TEST(AlertRelevance, R37) {
  const AlertMatcher m = matcher("shop", "checkout");
  const TimePoint t = at(0);
  struct Case {
    KeyValues labels;
    bool relevant;
  };
  const std::vector<Case> cases = {
      {{{"namespace", "shop"}, {"workload", "checkout"}, {"severity", "page"}}, true},
      {{{"namespace", "shop"}, {"deployment", "checkout"}, {"severity", "critical"}}, true},
      {{{"namespace", "shop"}, {"daemonset", "checkout"}, {"severity", "page"}}, true},
      {{{"namespace", "shop"}, {"workload", "other"}, {"deployment", "checkout"}, {"severity", "page"}}, true},
      {{{"namespace", "shop"}, {"workload", "checkout"}, {"severity", "warning"}}, false},
      {{{"namespace", "shop"}, {"workload", "checkout"}}, false},
      {{{"namespace", "shop2"}, {"workload", "checkout"}, {"severity", "page"}}, false},
      {{{"workload", "checkout"}, {"severity", "page"}}, false},
      {{{"namespace", "shop"}, {"pod", "checkout"}, {"severity", "page"}}, false},
  };
  for (std::size_t i = 0; i < cases.size(); ++i) EXPECT_EQ(is_relevant(alert(cases[i].labels, t), m), cases[i].relevant) << i;

  AlertMatcher any{"shop", "checkout", {}, {{"team", "pay"}}};
  EXPECT_FALSE(is_relevant(alert({{"namespace", "shop"}, {"workload", "checkout"}}, t), any));
  EXPECT_TRUE(is_relevant(alert({{"namespace", "shop"}, {"workload", "checkout"}, {"team", "pay"}}, t), any));
}

TEST(AlertEvaluation, R38StartBoundaryAndGrace) {
  const AlertMatcher m = matcher("shop", "checkout");
  const TimePoint start = at(1'700'000'000'000);
  const KeyValues labels{{"alertname", "HighErrorRatio"}, {"namespace", "shop"}, {"workload", "checkout"},
                         {"severity", "page"}};
  auto r = evaluate_alerts({alert(labels, start)}, m, start);
  EXPECT_EQ(r.outcome, Outcome::fail);
  EXPECT_EQ(r.reason, "alert");
  EXPECT_NE(r.detail.find("HighErrorRatio"), std::string::npos);

  r = evaluate_alerts({alert(labels, start - 1ms)}, m, start);
  EXPECT_EQ(r.outcome, Outcome::inconclusive);
  EXPECT_EQ(r.reason, "preexisting_alert");

  EXPECT_EQ(evaluate_alerts({alert(labels, start - 60s)}, m, start, 60s).outcome, Outcome::fail);
  EXPECT_EQ(evaluate_alerts({alert(labels, start - 60s - 1ms)}, m, start, 60s).outcome, Outcome::inconclusive);

  // Resolved and irrelevant alerts are ignored; silence never passes.
  r = evaluate_alerts({alert(labels, start + 1s, "resolved"),
                       alert({{"namespace", "shop"}, {"workload", "x"}, {"severity", "page"}}, start + 1s)},
                      m, start);
  EXPECT_EQ(r.outcome, Outcome::inconclusive);
  EXPECT_EQ(r.reason, "no_alert");
  EXPECT_EQ(evaluate_alerts({}, m, start).reason, "no_alert");

  // A fresh alert wins over a pre-existing one.
  r = evaluate_alerts({alert(labels, start - 1h), alert(labels, start + 1s), alert(labels, start + 2s)}, m, start);
  EXPECT_EQ(r.outcome, Outcome::fail);
  EXPECT_NE(r.detail.find("+1 more"), std::string::npos) << r.detail;
}

}  // namespace
}  // namespace canary_guard::probes
