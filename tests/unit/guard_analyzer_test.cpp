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
      std::string promql, double, std::chrono::milliseconds) override {
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
    t.rollout = 1;
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
  EXPECT_EQ(last, "web-bbb hash=bbb rollout=1 decisive=2027-01-15T08:00:20Z error-ratio=FF@" +
                      cg::probes::check_fingerprint(rig.config.checks[0]));
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

namespace {

cg::Expected<cg::probes::QueryResult, cg::probes::QueryError> refused(const std::string&) {
  return cg::unexpected(cg::probes::QueryError{cg::probes::ErrorClass::transient, "connection", "refused"});
}

bool blind(Rig& rig, const WorkloadKey& key, const std::string& hash) {
  const auto* a = rig.analyzer->state(key, hash);
  return a && cg::probes::summarize({&rig.config.checks[0]}, *a, max_blind(rig.config), rig.config.prometheus.eval_lag,
                                    rig.clock.now())
                  .blind;
}

}  // namespace

// Issue #10 §2, the reported case: v2 got one PASS, v3 replaced it, then v2's template was deployed again (a new
// rollout: its revision number went up) with Prometheus down. The earlier rollout's PASS is no evidence: v2 is
// never "every check passed", and it goes blind instead. The same for a restart with an edited check.
TEST(Analyzer, RecordOfAnEarlierRolloutOrAnotherDefinitionIsNeverAPass) {
  struct Row {
    const char* what;
    std::int64_t second_rollout;
    bool edit_check;
    bool passed;
  };
  for (const Row& r : {Row{"same rollout (a restart)", 2, false, true}, Row{"template deployed again", 4, false, false},
                       Row{"restart with an edited check", 2, true, false}}) {
    Rig rig;
    rig.source.answer = [](const std::string&) {
      cg::probes::QueryResult q;
      q.series = {series("shop", "v2", 0.01)};
      return q;
    };
    auto v2 = rig.target("web", "v2");
    v2.rollout = 2;
    rig.analyzer->track(v2);
    rig.clock.set(T0 + 20s);
    rig.round();
    ASSERT_FALSE(rig.persisted.empty()) << r.what;
    const std::string record = rig.persisted.back().substr(rig.persisted.back().find(' ') + 1);
    // v3 replaces v2 before its bake ends.
    rig.analyzer->track(rig.target("web", "v3"));
    // v2 again (or a restarted daemon), Prometheus down for the whole rollout.
    Rig again;
    if (r.edit_check) again.config.checks[0].max = 0.5;
    again.source.answer = refused;
    auto back = again.target("web", "v2");
    back.rollout = r.second_rollout;
    back.seed = record;
    rig.analyzer->track(back);
    again.analyzer->track(back);
    const WorkloadKey key{Kind::deployment, "shop", "web"};
    for (int i = 0; i < 20; ++i) {
      again.clock.advance(2s);
      again.round();
    }
    for (Rig* x : {&rig, &again}) {
      const auto* a = x->analyzer->state(key, "v2");
      ASSERT_TRUE(a) << r.what;
      const auto s = cg::probes::summarize({&x->config.checks[0]}, *a, max_blind(x->config),
                                           x->config.prometheus.eval_lag, again.clock.now());
      EXPECT_EQ(s.all_passed, r.passed) << r.what;
      EXPECT_EQ(a->checks.at("error-ratio").window, r.passed ? "P" : "") << r.what;
    }
    EXPECT_TRUE(blind(again, key, "v2")) << r.what;
  }
}

// Issue #10 §2: a restart while blind does not make the new daemon less blind: the record says blind (written when
// reconcile judged it so), or the guard's own blind pause for this revision is on the Deployment.
TEST(Analyzer, ARestartWhileBlindStaysBlind) {
  struct Row {
    const char* what;
    bool judged_blind;   // reconcile told the first daemon it was blind before the kill
    bool pause_note;     // the Deployment carries the guard's own blind pause for this revision
    bool blind_after;
  };
  for (const Row& r : {Row{"recorded blind", true, false, true}, Row{"paused blind, record lost", false, true, true},
                       Row{"both", true, true, true}, Row{"not blind", false, false, false}}) {
    Rig rig;
    rig.source.answer = [](const std::string&) {
      cg::probes::QueryResult q;
      q.series = {series("shop", "bbb", 0.01)};
      return q;
    };
    auto t = rig.target("web", "bbb");
    rig.analyzer->track(t);
    rig.clock.set(T0 + 20s);
    rig.round();  // one PASS
    rig.source.answer = refused;
    for (int i = 0; i < 8; ++i) {
      rig.clock.advance(2s);
      rig.round();
    }
    const WorkloadKey key{Kind::deployment, "shop", "web"};
    EXPECT_TRUE(blind(rig, key, "bbb")) << r.what;
    if (r.judged_blind) {
      t.blind = true;
      rig.analyzer->track(t);
    }
    const std::string record = rig.persisted.back().substr(rig.persisted.back().find(' ') + 1);
    EXPECT_EQ(record.find(" blind=1") != std::string::npos, r.judged_blind) << r.what;
    // kill -9; the new daemon starts a minute later and its first query is refused too.
    Rig again;
    again.source.answer = refused;
    again.clock.set(rig.clock.now() + 1min);
    auto t2 = again.target("web", "bbb");
    t2.started = again.clock.now();  // a restarted daemon counts the revision's start from its own
    t2.seed = record;
    t2.paused_blind = r.pause_note;
    again.analyzer->track(t2);
    EXPECT_EQ(blind(again, key, "bbb"), r.blind_after) << r.what;
    again.clock.advance(2s);
    again.round();
    EXPECT_EQ(blind(again, key, "bbb"), r.blind_after) << r.what;
    EXPECT_TRUE(again.notified.empty()) << r.what;
  }
}

// Issue #10 §2: when outcomes return after a blind spell, the workload is judged again at once, whatever the
// outcomes were before (a PASS after a PASS included); a non-decisive outcome does not end the spell.
TEST(Analyzer, OutcomesAfterABlindSpellAreJudgedAtOnce) {
  struct Row {
    const char* what;
    std::optional<double> before;  // value before Prometheus went down (nullopt: no outcome at all)
    std::optional<double> after;   // value when it is back (nullopt: an empty result, NO_DATA)
    bool requeued;
  };
  for (const Row& r : {Row{"PASS after PASS", 0.01, 0.01, true}, Row{"FAIL after PASS", 0.01, 0.5, true},
                       Row{"PASS with nothing before", std::nullopt, 0.01, true},
                       Row{"PASS after FAIL", 0.5, 0.01, true}, Row{"no data after PASS", 0.01, std::nullopt, false}}) {
    Rig rig;
    auto answer_with = [](std::optional<double> v) {
      return [v](const std::string&) -> cg::Expected<cg::probes::QueryResult, cg::probes::QueryError> {
        cg::probes::QueryResult q;
        if (v) q.series = {series("shop", "bbb", *v)};
        return q;
      };
    };
    rig.analyzer->track(rig.target("web", "bbb"));
    rig.clock.set(T0 + 20s);
    if (r.before) {
      rig.source.answer = answer_with(r.before);
      rig.round();
    }
    rig.source.answer = refused;
    for (int i = 0; i < 8; ++i) {
      rig.clock.advance(2s);
      rig.round();
    }
    const WorkloadKey key{Kind::deployment, "shop", "web"};
    ASSERT_TRUE(blind(rig, key, "bbb")) << r.what;
    auto t = rig.target("web", "bbb");
    t.blind = true;  // reconcile saw it blind
    rig.analyzer->track(t);
    rig.notified.clear();
    rig.persisted.clear();
    rig.source.answer = answer_with(r.after);
    rig.clock.advance(2s);
    rig.round();
    EXPECT_EQ(!rig.notified.empty(), r.requeued) << r.what;
    EXPECT_EQ(blind(rig, key, "bbb"), !r.requeued) << r.what;
    if (r.requeued) {
      ASSERT_FALSE(rig.persisted.empty()) << r.what;
      EXPECT_EQ(rig.persisted.back().find("blind=1"), std::string::npos) << r.what;  // a restart now is not blind
    }
  }
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

// Low traffic is not evidence in compare mode either (spec R1.10): both sides need min_samples, batched or not;
// exactly at the minimum is enough.
TEST(Analyzer, CompareNeedsMinSamplesOnBothSides) {
  using cg::probes::Outcome;
  struct Row {
    double new_count, stable_count;
    Outcome want;
  };
  const Row rows[] = {
      {2, 100, Outcome::no_data},   // one 5xx in two requests of the first new pod
      {100, 2, Outcome::no_data},   // the stable side is the one without traffic
      {19, 20, Outcome::no_data},   // one below, at the boundary
      {20, 19, Outcome::no_data},
      {20, 20, Outcome::fail},      // both at the minimum: judged (0.5 > 0 x 1.5 + 0.01)
      {-1, 100, Outcome::no_data},  // -1: the min_samples query returned nothing for that side
      {100, -1, Outcome::no_data},
  };
  for (const bool batch : {true, false})
    for (const Row& row : rows) {
      Rig rig;
      auto& c = rig.config.checks[0];
      c.batchable = batch;
      c.compare = cg::config::CompareSpec{1.5, 0.01, cg::config::CompareDirection::increase};
      c.max = 1.0;
      c.min_samples = cg::config::MinSamplesSpec{
          R"(sum by (namespace, {{revision_label}}) (increase(n{namespace="{{namespace}}", {{revision_label}}="{{revision_hash}}"}[10s])))",
          20};
      rig.source.answer = [row](const std::string& q) {
        const bool counts = q.find("increase") != std::string::npos;
        cg::probes::QueryResult r;
        if (q.find("new1") != std::string::npos && (!counts || row.new_count >= 0))
          r.series.push_back(series("shop", "new1", counts ? row.new_count : 0.5));
        if (q.find("old1") != std::string::npos && (!counts || row.stable_count >= 0))
          r.series.push_back(series("shop", "old1", counts ? row.stable_count : 0.0));
        return r;
      };
      auto t = rig.target("web", "new1");
      t.vars.stable_hash = "old1";
      rig.analyzer->track(t);
      rig.clock.set(T0 + 20s);
      rig.round();
      const auto* a = rig.analyzer->state(WorkloadKey{Kind::deployment, "shop", "web"}, "new1");
      ASSERT_TRUE(a);
      EXPECT_EQ(a->checks.at("error-ratio").last, row.want)
          << (batch ? "batched" : "one query per workload") << " new=" << row.new_count
          << " stable=" << row.stable_count << ": " << a->checks.at("error-ratio").last_detail;
    }
}

// Compare mode judges against the revision this rollout replaced for the whole analysis: reconcile stops naming it
// once its last pod is gone (a rolling update of 40 s is over before the first comparison with the default eval_lag
// of 30 s), but its series are still in Prometheus at the evaluation time, and a restart must not forget it.
TEST(Analyzer, TheStableSideIsTheReplacedRevisionForTheWholeAnalysis) {
  using cg::probes::Outcome;
  for (const bool batch : {true, false}) {
    Rig rig;
    auto& c = rig.config.checks[0];
    c.batchable = batch;
    c.compare = cg::config::CompareSpec{1.5, 0.005, cg::config::CompareDirection::increase};
    c.max = 1.0;
    rig.source.answer = [](const std::string& q) {
      cg::probes::QueryResult r;
      if (q.find("new1") != std::string::npos) r.series.push_back(series("shop", "new1", 0.06));
      if (q.find("old1") != std::string::npos) r.series.push_back(series("shop", "old1", 0.02));
      if (q.find("older") != std::string::npos) r.series.push_back(series("shop", "older", 0.9));
      return r;
    };
    const WorkloadKey key{Kind::deployment, "shop", "web"};
    auto t = rig.target("web", "new1");
    t.vars.stable_hash = "old1";
    rig.analyzer->track(t);
    rig.clock.set(T0 + 20s);
    rig.round();
    ASSERT_EQ(rig.analyzer->state(key, "new1")->checks.at("error-ratio").window, "F") << batch;
    // The old pods are gone: reconcile names no stable revision any more (then, a scale-up of an older one).
    t.vars.stable_hash = "";
    rig.analyzer->track(t);
    rig.round();
    t.vars.stable_hash = "older";
    rig.analyzer->track(t);
    rig.round();
    const auto* a = rig.analyzer->state(key, "new1");
    EXPECT_EQ(a->stable, "old1");
    EXPECT_EQ(a->checks.at("error-ratio").window, "FFF") << batch << ": " << a->checks.at("error-ratio").last_detail;
    EXPECT_TRUE(a->checks.at("error-ratio").tripped);
    for (const auto& q : rig.source.queries) EXPECT_EQ(q.find("older"), std::string::npos) << q;
    // A restart after the old pods are gone, with the record of the first FAIL: it names the stable side.
    ASSERT_FALSE(rig.persisted.empty());
    const std::string last = rig.persisted.front();
    EXPECT_NE(last.find(" stable=old1 "), std::string::npos) << last;
    Rig again;
    again.config.checks[0] = c;
    again.source.answer = rig.source.answer;
    auto t2 = again.target("web", "new1");
    t2.checks = {&again.config.checks[0]};
    t2.seed = last.substr(last.find(' ') + 1);
    again.analyzer->track(t2);
    again.clock.set(T0 + 30s);
    again.round();
    const auto* b = again.analyzer->state(key, "new1");
    ASSERT_TRUE(b);
    EXPECT_EQ(b->stable, "old1");
    EXPECT_EQ(b->checks.at("error-ratio").last, Outcome::fail) << b->checks.at("error-ratio").last_detail;
    EXPECT_EQ(b->checks.at("error-ratio").window, "FF");
  }
}

// The daemon's own budget is not a Prometheus error: a slow Prometheus (each query takes 0.9 s; four queries in a
// round of a 2 s interval) must not turn the later queries of a round into "evaluation slot already over", an ERROR
// that on_error = "fail" would count as a FAIL. The source behaves like the client: a query fails when it cannot
// finish within the timeout it is given. Simulated time: the source advances the manual clock.
struct SlowSource final : MetricSource {
  cg::ManualClock* clock = nullptr;
  std::chrono::milliseconds cost{900};
  std::vector<std::chrono::milliseconds> timeouts;
  asio::awaitable<cg::Expected<cg::probes::QueryResult, cg::probes::QueryError>> query(
      std::string, double, std::chrono::milliseconds timeout) override {
    timeouts.push_back(timeout);
    if (timeout < cost)
      co_return cg::unexpected(cg::probes::QueryError{cg::probes::ErrorClass::transient, "timeout", "query timed out"});
    clock->advance(cost);
    cg::probes::QueryResult r;
    r.series = {series("shop", "whatever", 0.01)};
    co_return r;
  }
};

struct RoundMetrics final : AnalysisMetrics {
  std::vector<std::pair<std::string, bool>> rounds;
  void evaluation(const std::string&, const std::string&, const std::string&, std::string_view) override {}
  void probe_error(const std::string&, std::string_view) override {}
  void probe_value(const std::string&, const std::string&, const std::string&, double) override {}
  void last_decisive(const std::string&, const std::string&, double) override {}
  void forget_analysis(const std::string&, const std::string&) override {}
  void analysis_round(const std::string& probe, bool overrun) override { rounds.emplace_back(probe, overrun); }
};

TEST(Analyzer, EachQueryGetsItsOwnTimeoutAndASlowRoundIsNoOutcome) {
  Rig rig;
  SlowSource slow;
  slow.clock = &rig.clock;
  RoundMetrics metrics;
  rig.config.checks[0].batchable = false;  // one query per workload: four in a round
  rig.config.checks[0].on_error = cg::config::OnOutcome::fail;
  rig.config.prometheus.timeout = 3s;
  Analyzer analyzer(rig.ioc, rig.config, rig.clock, slow, nullptr, nullptr, &metrics, &rig.clock);
  for (const char* w : {"a", "b", "c", "d"}) analyzer.track(rig.target(w, std::string(w) + "h"));
  auto round = [&] {
    int n = -1;
    asio::co_spawn(rig.ioc, [&]() -> asio::awaitable<void> { n = co_await analyzer.evaluate(rig.config.checks[0]); },
                   asio::detached);
    rig.ioc.run();
    rig.ioc.restart();
    return n;
  };
  rig.clock.set(T0 + 20s);
  EXPECT_EQ(round(), 4);  // 3.6 s for a 2 s interval
  for (const char* w : {"a", "b", "c", "d"}) {
    const auto* a = analyzer.state(WorkloadKey{Kind::deployment, "shop", w}, std::string(w) + "h");
    ASSERT_TRUE(a);
    EXPECT_EQ(a->checks.at("error-ratio").window, "P") << w << ": " << a->checks.at("error-ratio").last_detail;
  }
  ASSERT_EQ(slow.timeouts.size(), 4u);
  for (auto t : slow.timeouts) EXPECT_EQ(t, 3s) << "every query gets the configured timeout";
  ASSERT_EQ(metrics.rounds.size(), 1u);
  EXPECT_EQ(metrics.rounds[0], std::make_pair(std::string("error-ratio"), true));  // logged and counted
  // Boundaries: two queries (1.8 s) fit in the 2 s interval; a round of exactly the interval is no overrun.
  analyzer.untrack(WorkloadKey{Kind::deployment, "shop", "c"});
  analyzer.untrack(WorkloadKey{Kind::deployment, "shop", "d"});
  EXPECT_EQ(round(), 2);
  slow.cost = 1s;
  EXPECT_EQ(round(), 2);
  ASSERT_EQ(metrics.rounds.size(), 3u);
  EXPECT_FALSE(metrics.rounds[1].second);
  EXPECT_FALSE(metrics.rounds[2].second);
  // A query that cannot finish within its own timeout is still a Prometheus timeout (ERROR), as before.
  slow.cost = 4s;
  round();
  const auto* a = analyzer.state(WorkloadKey{Kind::deployment, "shop", "a"}, "ah");
  EXPECT_EQ(a->checks.at("error-ratio").last, cg::probes::Outcome::error);
}
