// The Analyzer with a fake MetricSource on a manual clock: batching (one query per check for all workloads), series
// mapped back by namespace and revision label, k-of-n to a trip, restarts seeded from the annotation, errors.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include "daemon/guard/analyzer.hpp"

namespace cg = canary_guard;
namespace asio = boost::asio;
using namespace canary_guard::guard;
using namespace std::chrono_literals;

namespace {

const cg::TimePoint T0{std::chrono::seconds{1'800'000'000}};

struct FakeSource final : MetricSource {
  std::vector<std::string> queries;
  std::function<cg::Expected<cg::probes::QueryResult, cg::probes::QueryError>(const std::string&)> answer;
  asio::awaitable<cg::Expected<cg::probes::QueryResult, cg::probes::QueryError>> query(
      std::string promql, double, std::chrono::steady_clock::time_point) override {
    queries.push_back(promql);
    co_return answer(promql);
  }
};

cg::probes::Series series(std::string ns, std::string hash, double v) {
  cg::probes::Series s;
  s.labels = {{"namespace", std::move(ns)}, {"pod_template_hash", std::move(hash)}};
  s.samples = {{1.8e9, v}};
  return s;
}

struct Rig {
  asio::io_context ioc;
  cg::ManualClock clock{T0};
  cg::config::Config config;
  FakeSource source;
  std::vector<std::string> notified;
  std::vector<std::string> persisted;
  std::unique_ptr<Analyzer> analyzer;

  Rig() {
    config.prometheus.url = "http://127.0.0.1:9090";
    config.prometheus.eval_lag = 2s;
    cg::config::Check c;
    c.name = "error-ratio";
    c.query = R"(sum by (namespace, {{revision_label}}) (rate(x{namespace="{{namespace}}", {{revision_label}}="{{revision_hash}}"}[10s])))";
    c.max = 0.05;
    c.interval = 2s;
    c.failures = 3;
    c.of = 5;
    c.range_window = 10s;
    c.batchable = true;
    config.checks.push_back(c);
    analyzer = std::make_unique<Analyzer>(
        ioc, config, clock, source, [this](const WorkloadKey& k) { notified.push_back(k.str()); },
        [this](const WorkloadKey&, const std::string& obj, const std::string& text) {
          persisted.push_back(obj + " " + text);
        },
        nullptr);
  }
  AnalysisTarget target(std::string name, std::string hash) {
    AnalysisTarget t;
    t.key = WorkloadKey{Kind::deployment, "shop", name};
    t.vars = cg::config::CheckTarget{"shop", name, "Deployment", hash, ""};
    t.revision_object = name + "-" + hash;
    t.started = T0;
    t.first_ready = T0;
    t.checks = {&config.checks[0]};
    return t;
  }
  int round() {
    int n = -1;
    asio::co_spawn(ioc, [&]() -> asio::awaitable<void> { n = co_await analyzer->evaluate(config.checks[0]); },
                   asio::detached);
    ioc.run();
    ioc.restart();
    return n;
  }
};

}  // namespace

TEST(Analyzer, OneQueryForAllWorkloadsAndSeriesMappedBack) {
  Rig rig;
  rig.source.answer = [](const std::string&) {
    cg::probes::QueryResult r;
    r.series = {series("shop", "aaa", 0.01), series("shop", "bbb", 0.5)};
    return r;
  };
  for (int i = 0; i < 3; ++i) rig.analyzer->track(rig.target("w" + std::to_string(i), i == 1 ? "bbb" : i == 0 ? "aaa" : "ccc"));
  rig.clock.set(T0 + 11s);  // not warmed up yet: 10 s window + 2 s lag
  EXPECT_EQ(rig.round(), 0);
  rig.clock.set(T0 + 12s);
  EXPECT_EQ(rig.round(), 1);  // one query, three workloads
  ASSERT_EQ(rig.source.queries.size(), 1u);
  const auto& q = rig.source.queries[0];
  EXPECT_NE(q.find(R"(pod_template_hash=~")"), std::string::npos) << q;
  EXPECT_NE(q.find("aaa"), std::string::npos);
  EXPECT_NE(q.find("ccc"), std::string::npos);
  const auto* a = rig.analyzer->state(WorkloadKey{Kind::deployment, "shop", "w0"}, "aaa");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->checks.at("error-ratio").window, "P");
  const auto* b = rig.analyzer->state(WorkloadKey{Kind::deployment, "shop", "w1"}, "bbb");
  EXPECT_EQ(b->checks.at("error-ratio").window, "F");
  const auto* c = rig.analyzer->state(WorkloadKey{Kind::deployment, "shop", "w2"}, "ccc");
  EXPECT_EQ(c->checks.at("error-ratio").last, cg::probes::Outcome::no_data);  // no series for it
  EXPECT_EQ(c->checks.at("error-ratio").window, "");
}

TEST(Analyzer, TripsAtTheKthFailAndSurvivesARestart) {
  Rig rig;
  rig.source.answer = [](const std::string&) {
    cg::probes::QueryResult r;
    r.series = {series("shop", "bbb", 0.31)};
    return r;
  };
  rig.analyzer->track(rig.target("web", "bbb"));
  rig.clock.set(T0 + 20s);
  rig.round();
  rig.round();
  const WorkloadKey key{Kind::deployment, "shop", "web"};
  EXPECT_FALSE(rig.analyzer->state(key, "bbb")->checks.at("error-ratio").tripped);
  ASSERT_FALSE(rig.persisted.empty());
  const std::string last = rig.persisted.back();
  EXPECT_EQ(last, "web-bbb hash=bbb error-ratio=FF");
  // A new daemon (kill -9): seeded from the annotation, the third FAIL trips, not the fifth.
  Rig again;
  again.source.answer = rig.source.answer;
  auto t = again.target("web", "bbb");
  t.seed = last.substr(last.find(' ') + 1);
  again.analyzer->track(t);
  again.clock.set(T0 + 20s);
  again.round();
  const auto& st = again.analyzer->state(key, "bbb")->checks.at("error-ratio");
  EXPECT_TRUE(st.tripped);
  EXPECT_EQ(st.trip_detail, "error-ratio 0.31 > 0.05 in 3 of the last 5 evaluations");
  EXPECT_FALSE(again.notified.empty());
  // A tripped check is not queried again.
  again.round();
  EXPECT_EQ(again.source.queries.size(), 1u);
}

TEST(Analyzer, PrometheusDownIsAnErrorNotAFailure) {
  Rig rig;
  rig.source.answer = [](const std::string&) -> cg::Expected<cg::probes::QueryResult, cg::probes::QueryError> {
    return cg::unexpected(cg::probes::QueryError{cg::probes::ErrorClass::transient, "connection", "refused"});
  };
  rig.analyzer->track(rig.target("web", "bbb"));
  rig.clock.set(T0 + 20s);
  for (int i = 0; i < 6; ++i) rig.round();
  const auto* a = rig.analyzer->state(WorkloadKey{Kind::deployment, "shop", "web"}, "bbb");
  EXPECT_EQ(a->checks.at("error-ratio").window, "");
  EXPECT_FALSE(a->checks.at("error-ratio").tripped);
  EXPECT_FALSE(a->last_decisive);
  EXPECT_TRUE(rig.persisted.empty());
}

TEST(Analyzer, UnbatchableChecksRunOncePerWorkload) {
  Rig rig;
  rig.config.checks[0].batchable = false;
  rig.source.answer = [](const std::string&) {
    cg::probes::QueryResult r;
    r.series = {series("shop", "whatever", 0.01)};
    return r;
  };
  rig.analyzer->track(rig.target("a", "aaa"));
  rig.analyzer->track(rig.target("b", "bbb"));
  rig.clock.set(T0 + 20s);
  EXPECT_EQ(rig.round(), 2);
  EXPECT_EQ(rig.analyzer->state(WorkloadKey{Kind::deployment, "shop", "a"}, "aaa")->checks.at("error-ratio").window, "P");
}

TEST(Analyzer, UntrackStopsQueries) {
  Rig rig;
  rig.source.answer = [](const std::string&) { return cg::probes::QueryResult{}; };
  rig.analyzer->track(rig.target("web", "bbb"));
  rig.analyzer->untrack(WorkloadKey{Kind::deployment, "shop", "web"});
  rig.clock.set(T0 + 20s);
  EXPECT_EQ(rig.round(), 0);
  EXPECT_EQ(rig.analyzer->tracked(), 0u);
}

TEST(Analyzer, SnapshotCopiesLastOutcomeAndValueSortedByWorkload) {
  Rig rig;
  rig.source.answer = [](const std::string&) {
    cg::probes::QueryResult r;
    r.series = {series("shop", "aaa", 0.01), series("shop", "bbb", 0.5)};
    return r;
  };
  rig.analyzer->track(rig.target("web", "bbb"));
  rig.analyzer->track(rig.target("api", "aaa"));
  EXPECT_TRUE(rig.analyzer->snapshot().at(0).checks.at(0).last == std::nullopt);  // tracked, not evaluated yet
  rig.clock.set(T0 + 20s);
  rig.round();
  const auto snap = rig.analyzer->snapshot();
  ASSERT_EQ(snap.size(), 2u);
  EXPECT_EQ(snap[0].key.name, "api");
  EXPECT_EQ(snap[0].revision_hash, "aaa");
  ASSERT_EQ(snap[0].checks.size(), 1u);
  EXPECT_EQ(snap[0].checks[0].name, "error-ratio");
  EXPECT_EQ(snap[0].checks[0].last, cg::probes::Outcome::pass);
  EXPECT_DOUBLE_EQ(snap[0].checks[0].value.value_or(-1), 0.01);
  EXPECT_EQ(snap[0].checks[0].window, "P");
  EXPECT_TRUE(snap[0].checks[0].passed);
  EXPECT_EQ(snap[0].checks[0].at, T0 + 20s);
  EXPECT_EQ(snap[1].key.name, "web");
  EXPECT_EQ(snap[1].checks[0].last, cg::probes::Outcome::fail);
  EXPECT_DOUBLE_EQ(snap[1].checks[0].value.value_or(-1), 0.5);
  EXPECT_FALSE(snap[1].checks[0].passed);
  rig.analyzer->untrack(WorkloadKey{Kind::deployment, "shop", "web"});
  EXPECT_EQ(rig.analyzer->snapshot().size(), 1u);
}
