// The HTTP routing (Router), POST /v1/alertmanager (AlertWebhook: token, parsing, duplicates, rotation) and the
// re-check's reading of GET /api/v2/alerts (judge_alert_listing). No sockets: requests in, responses out.
#include <gtest/gtest.h>

#include <fstream>

#include "config/clock.hpp"
#include "daemon/app/alertmanager_client.hpp"
#include "daemon/app/http_server.hpp"
#include "daemon/app/webhook.hpp"

namespace canary_guard::app {
namespace {

using guard::AlertStatus;

struct FixedClock : Clock {
  TimePoint t{std::chrono::seconds{1'800'000'000}};
  TimePoint now() const override { return t; }
};

const char* kBody = R"({"version":"4","groupKey":"g","truncatedAlerts":0,"status":"firing","receiver":"cg",
 "groupLabels":{},"commonLabels":{},"commonAnnotations":{},"externalURL":"http://am",
 "alerts":[{"status":"firing","labels":{"alertname":"HighErrors","namespace":"shop","workload":"web","severity":"page"},
   "annotations":{"summary":"5xx above 5%"},"startsAt":"2027-01-15T08:00:00Z","endsAt":"0001-01-01T00:00:00Z",
   "generatorURL":"http://prom","fingerprint":"aaaa000011112222"}]})";

std::string write_token(const std::string& name, const std::string& text) {
  const std::string path = ::testing::TempDir() + name;
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
  return path;
}

HttpRequest post(std::string auth, std::string body) {
  return HttpRequest{"POST", "/v1/alertmanager", std::move(auth), "application/json", std::move(body)};
}

TEST(Router, RoutesByPathAndMethod) {
  Router r;
  r.add("GET", "/a", [](const HttpRequest&) { return HttpResponse{200, "text/plain", "A"}; });
  r.add("POST", "/b", [](const HttpRequest& q) { return HttpResponse{202, "text/plain", q.body}; });
  EXPECT_EQ(r.route({"GET", "/a"}).body, "A");
  EXPECT_EQ(r.route({"GET", "/a?x=1"}).body, "A");  // the query does not take part
  EXPECT_EQ(r.route({"HEAD", "/a"}).status, 200);
  EXPECT_EQ(r.route({"POST", "/a"}).status, 405);
  EXPECT_EQ(r.route({"GET", "/b"}).status, 405);
  EXPECT_EQ(r.route({"POST", "/b", "", "", "x"}).body, "x");
  EXPECT_EQ(r.route({"GET", "/c"}).status, 404);
  EXPECT_EQ(r.route({"GET", "/a/"}).status, 404);
  EXPECT_EQ(r.route({"GET", ""}).status, 404);
}

TEST(SecretsEqual, ComparesWholeValues) {
  EXPECT_TRUE(secrets_equal("s3cret", "s3cret"));
  EXPECT_FALSE(secrets_equal("s3cret", "s3cre"));
  EXPECT_FALSE(secrets_equal("s3cret", "s3cret "));
  EXPECT_FALSE(secrets_equal("", "x"));
  EXPECT_TRUE(secrets_equal("", ""));
}

struct WebhookRig {
  FixedClock clock;
  guard::AlertStore store{guard::AlertStoreOptions{}};
  std::set<std::pair<std::string, std::string>> changed;
  int calls = 0;
  AlertWebhook hook;
  explicit WebhookRig(const std::string& token_path)
      : hook(token_path, store, clock, nullptr, [this](const auto& w) {
          changed.insert(w.begin(), w.end());
          ++calls;
        }) {}
};

TEST(AlertWebhook, TokenBodyAndDuplicates) {
  const auto path = write_token("cg-token-1", "t0ken\n");
  WebhookRig rig(path);
  EXPECT_EQ(rig.hook.handle(post("", kBody)).status, 401);
  EXPECT_EQ(rig.hook.handle(post("Bearer wrong", kBody)).status, 401);
  EXPECT_EQ(rig.hook.handle(post("Basic t0ken", kBody)).status, 401);
  EXPECT_EQ(rig.hook.handle(post("Bearer ", kBody)).status, 401);
  EXPECT_EQ(rig.hook.handle(post("Bearer t0ken\n", kBody)).status, 401);
  EXPECT_EQ(rig.calls, 0);
  EXPECT_EQ(rig.store.firing_count(), 0u);
  EXPECT_EQ(rig.hook.handle(post("Bearer t0ken", "{")).status, 400);
  EXPECT_EQ(rig.hook.handle(post("Bearer t0ken", R"({"version":"3","status":"firing","alerts":[]})")).status, 400);
  EXPECT_EQ(rig.hook.handle(post("Bearer t0ken", "")).status, 400);
  auto ok = rig.hook.handle(post("Bearer t0ken", kBody));
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(rig.calls, 1);
  EXPECT_EQ(rig.changed.count({"shop", "web"}), 1u);
  ASSERT_EQ(rig.store.firing_count(), 1u);
  // A replay is accepted (200: Alertmanager must not retry) and acts on nothing.
  EXPECT_EQ(rig.hook.handle(post("Bearer t0ken", kBody)).status, 200);
  EXPECT_EQ(rig.calls, 1);
}

TEST(AlertWebhook, TokenRotationWithoutRestartAndAnUnreadableFile) {
  const auto path = write_token("cg-token-2", "first");
  WebhookRig rig(path);
  EXPECT_EQ(rig.hook.handle(post("Bearer first", kBody)).status, 200);
  write_token("cg-token-2", "second-token");
  EXPECT_EQ(rig.hook.handle(post("Bearer first", kBody)).status, 401);
  EXPECT_EQ(rig.hook.handle(post("Bearer second-token", kBody)).status, 200);
  std::remove(path.c_str());
  EXPECT_EQ(rig.hook.handle(post("Bearer second-token", kBody)).status, 503);  // Alertmanager retries a 5xx
  write_token("cg-token-2", "\n");
  EXPECT_EQ(rig.hook.handle(post("Bearer ", kBody)).status, 503);  // an empty token never matches
}

TEST(AlertListing, ActiveSilencedInhibitedAbsentAndNonsense) {
  const std::string fp = "aaaa000011112222";
  auto with = [&](const std::string& status) {
    return R"([{"fingerprint":"bbbb","status":{"state":"active"}},{"fingerprint":")" + fp +
           R"(","labels":{"alertname":"X"},"status":)" + status + "}]";
  };
  struct Row {
    std::string body;
    AlertStatus want;
    std::string detail;
  };
  const std::vector<Row> rows = {
      {with(R"({"state":"active","silencedBy":[],"inhibitedBy":[]})"), AlertStatus::active, "active"},
      {with(R"({"state":"suppressed","silencedBy":["s-1"],"inhibitedBy":[]})"), AlertStatus::gone, "silenced by s-1"},
      {with(R"({"state":"suppressed","silencedBy":[],"inhibitedBy":["i-9"]})"), AlertStatus::gone, "inhibited by i-9"},
      {with(R"({"state":"unprocessed"})"), AlertStatus::unknown, "alert state unprocessed"},
      {with(R"({})"), AlertStatus::unknown, "alert without a state"},
      {with(R"("x")"), AlertStatus::unknown, "alert without a status"},
      {R"([{"fingerprint":"bbbb","status":{"state":"active"}}])", AlertStatus::gone,
       "not among Alertmanager's alerts (resolved or expired)"},
      {"[]", AlertStatus::gone, "not among Alertmanager's alerts (resolved or expired)"},
      {"{}", AlertStatus::unknown, "Alertmanager's answer is not a JSON array"},
      {"<html>", AlertStatus::unknown, "Alertmanager's answer is not a JSON array"},
      {"", AlertStatus::unknown, "Alertmanager's answer is not a JSON array"},
  };
  for (const auto& r : rows) {
    auto c = judge_alert_listing(r.body, fp);
    EXPECT_EQ(c.status, r.want) << r.body;
    EXPECT_EQ(c.detail, r.detail) << r.body;
  }
}

TEST(AlertListing, MatcherIsQuotedEscapedAndPercentEncoded) {
  EXPECT_EQ(matcher_query("alertname", "High"), "alertname%3D%22High%22");
  EXPECT_EQ(matcher_query("namespace", "a\"b\\c d"), "namespace%3D%22a%5C%22b%5C%5Cc%20d%22");
}

}  // namespace
}  // namespace canary_guard::app

// Alertmanager's `receiver` parameter is a regular expression: the name is anchored and its metacharacters escaped.
TEST(AlertmanagerQuery, ReceiverIsAnExactMatch) {
  EXPECT_EQ(canary_guard::app::receiver_query("canary-guard"), "%5Ecanary-guard%24");
  EXPECT_EQ(canary_guard::app::receiver_query("team.a"), "%5Eteam%5C.a%24");
  EXPECT_EQ(canary_guard::app::receiver_query("ns-(x)"), "%5Ens-%5C%28x%5C%29%24");
}
