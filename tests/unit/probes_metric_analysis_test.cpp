// Metric analysis state: judging series, k-of-n windows, warm-up, blindness, the persisted annotation.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "probes/metric_analysis.hpp"

namespace cg = canary_guard;
using namespace canary_guard::probes;
using namespace std::chrono_literals;

namespace {

const cg::TimePoint T0{std::chrono::seconds{1'800'000'000}};

cg::config::Check check(std::optional<double> max = 0.05) {
  cg::config::Check c;
  c.name = "error-ratio";
  c.max = max;
  c.failures = 3;
  c.of = 5;
  c.interval = 5s;
  c.range_window = 30s;
  return c;
}

Series series(double v, std::string pod = "p1") {
  Series s;
  s.labels = {{"namespace", "shop"}, {"pod", std::move(pod)}};
  s.samples = {{1.8e9, v}};
  return s;
}

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

}  // namespace

TEST(MetricJudge, ThresholdTable) {
  const auto c = check();
  struct Row {
    std::vector<Series> in;
    Outcome want;
  } rows[] = {
      {{}, Outcome::no_data},                                // empty: no evidence either way
      {{series(kNaN)}, Outcome::no_data},                     // 0/0: no traffic
      {{series(0.05)}, Outcome::pass},                        // inclusive pass at the bound
      {{series(0.0500001)}, Outcome::fail},
      {{series(0.01), series(0.31, "p2")}, Outcome::fail},    // any series fails
      {{series(0.01), series(kNaN, "p2")}, Outcome::pass},    // NaN series skipped, the other judged
      {{series(std::numeric_limits<double>::infinity())}, Outcome::fail},  // +Inf is a value
  };
  for (const auto& r : rows) EXPECT_EQ(judge_threshold(c, r.in).outcome, r.want) << r.in.size();
  auto o = judge_threshold(c, {series(0.01), series(0.31, "p2")});
  EXPECT_EQ(o.detail, "error-ratio 0.31 > 0.05");
  ASSERT_TRUE(o.value);
  EXPECT_DOUBLE_EQ(*o.value, 0.31);  // the worst series
}

TEST(MetricJudge, MinSamplesBelowIsNoData) {
  auto c = check();
  c.min_samples = cg::config::MinSamplesSpec{"sum(x)", 20};
  EXPECT_EQ(judge_threshold(c, {series(0.9)}, std::optional<double>{19.0}).outcome, Outcome::no_data);
  EXPECT_EQ(judge_threshold(c, {series(0.9)}, std::optional<double>{}).outcome, Outcome::no_data);
  EXPECT_EQ(judge_threshold(c, {series(0.9)}, std::optional<double>{20.0}).outcome, Outcome::fail);
}

TEST(MetricJudge, CompareAgainstStable) {
  auto c = check(std::nullopt);
  c.max = 0.1;  // an absolute bound that alone would pass the release
  c.compare = cg::config::CompareSpec{1.5, 0.005, cg::config::CompareDirection::increase};
  // stable 2 %, new 6 %: 0.06 > 0.02 * 1.5 + 0.005 = 0.035
  auto o = judge_compare(c, {series(0.06)}, {series(0.02)});
  EXPECT_EQ(o.outcome, Outcome::fail);
  EXPECT_NE(o.detail.find("stable 0.02"), std::string::npos) << o.detail;
  EXPECT_EQ(judge_compare(c, {series(0.03)}, {series(0.02)}).outcome, Outcome::pass);
  EXPECT_EQ(judge_compare(c, {series(0.03)}, {}).outcome, Outcome::no_data);
  EXPECT_EQ(judge_compare(c, {}, {series(0.02)}).outcome, Outcome::no_data);
  EXPECT_EQ(judge_compare(c, {series(0.2)}, {series(0.2)}).outcome, Outcome::fail);  // absolute bound still holds
  // The stable side has no data (its pods are gone, the revision was deleted): the absolute bound still holds, only
  // the comparison is NO_DATA.
  EXPECT_EQ(judge_compare(c, {series(0.2)}, {}).outcome, Outcome::fail);
  EXPECT_EQ(judge_compare(c, {series(0.2)}, {series(kNaN)}).outcome, Outcome::fail);
  EXPECT_EQ(judge_compare(c, {series(0.1)}, {}).outcome, Outcome::no_data);  // at the bound: passes it, no comparison
  EXPECT_NE(judge_compare(c, {series(0.1)}, {}).detail.find("the absolute bound holds"), std::string::npos);
  // A success-type metric: fail when it drops.
  c.max.reset();
  c.compare->direction = cg::config::CompareDirection::decrease;
  c.compare->max_ratio = 1.25;
  c.compare->margin = 0;
  EXPECT_EQ(judge_compare(c, {series(0.70)}, {series(0.99)}).outcome, Outcome::fail);  // < 0.792
  EXPECT_EQ(judge_compare(c, {series(0.80)}, {series(0.99)}).outcome, Outcome::pass);
}

// R1.10 in compare mode: both sides need min_samples; exactly the minimum is enough; a side not measured, or
// measured as nothing, is no evidence. Without min_samples nothing changes.
TEST(MetricJudge, CompareNeedsMinSamplesOnBothSides) {
  auto c = check(std::nullopt);
  c.max = 1.0;
  c.compare = cg::config::CompareSpec{1.5, 0.01, cg::config::CompareDirection::increase};
  const std::optional<double> none;
  struct Row {
    std::optional<CompareSamples> samples;
    Outcome want;
    std::string detail_part;
  };
  c.min_samples = cg::config::MinSamplesSpec{"sum(x)", 20};
  const Row rows[] = {
      {CompareSamples{2.0, 100.0}, Outcome::no_data, "samples 2.00 < 20 for the new revision"},
      {CompareSamples{100.0, 2.0}, Outcome::no_data, "samples 2.00 < 20 for the stable revision"},
      {CompareSamples{19.999, 20.0}, Outcome::no_data, "new revision"},
      {CompareSamples{20.0, 19.999}, Outcome::no_data, "stable revision"},
      {CompareSamples{20.0, 20.0}, Outcome::fail, "0.50 > 0.01"},  // at the minimum on both sides: judged
      {CompareSamples{none, 100.0}, Outcome::no_data, "no data for the new revision"},
      {CompareSamples{100.0, none}, Outcome::no_data, "no data for the stable revision"},
      {CompareSamples{kNaN, 100.0}, Outcome::no_data, "new revision"},  // NaN is never enough
      {std::nullopt, Outcome::no_data, "min_samples not measured"},
  };
  for (const Row& r : rows) {
    const auto o = judge_compare(c, {series(0.5)}, {series(0.0)}, r.samples);
    EXPECT_EQ(o.outcome, r.want) << o.detail;
    EXPECT_NE(o.detail.find(r.detail_part), std::string::npos) << o.detail;
  }
  // The stable side lacks its minimum, the new side has it: the absolute bound (max 1.0) still judges the new side.
  EXPECT_EQ(judge_compare(c, {series(1.5)}, {series(0.0)}, CompareSamples{20.0, 2.0}).outcome, Outcome::fail);
  EXPECT_EQ(judge_compare(c, {series(1.5)}, {series(0.0)}, CompareSamples{20.0, none}).outcome, Outcome::fail);
  // ... but never for a new side below its own minimum: low traffic is no evidence either way.
  EXPECT_EQ(judge_compare(c, {series(1.5)}, {series(0.0)}, CompareSamples{2.0, 2.0}).outcome, Outcome::no_data);
  // Enough samples on both sides and a passing comparison: PASS.
  EXPECT_EQ(judge_compare(c, {series(0.01)}, {series(0.01)}, CompareSamples{20.0, 20.0}).outcome, Outcome::pass);
  // No min_samples in the check: samples are not needed.
  c.min_samples.reset();
  EXPECT_EQ(judge_compare(c, {series(0.5)}, {series(0.0)}).outcome, Outcome::fail);
}

TEST(MetricRecord, KOfNOverDecisiveOutcomesOnly) {
  const auto c = check();
  CheckState st;
  std::optional<cg::TimePoint> last;
  auto add = [&](Outcome o) { return record(c, st, CheckOutcome{o, 0.3, "error-ratio 0.3 > 0.05", {}}, T0, last); };
  add(Outcome::fail);
  add(Outcome::no_data);  // does not enter the window
  add(Outcome::error);
  add(Outcome::pass);
  add(Outcome::fail);
  EXPECT_FALSE(st.tripped);
  EXPECT_EQ(st.window, "FPF");
  add(Outcome::pass);
  add(Outcome::pass);  // window PFPP? no: FPFPP (5)
  EXPECT_EQ(st.window, "FPFPP");
  EXPECT_FALSE(st.tripped);
  add(Outcome::fail);  // PFPPF: 2 of 5
  EXPECT_FALSE(st.tripped);
  add(Outcome::fail);  // FPPFF: 3 of 5
  EXPECT_TRUE(st.tripped);
  EXPECT_EQ(st.trip_detail, "error-ratio 0.3 > 0.05 in 3 of the last 5 evaluations");
  EXPECT_TRUE(st.passed);
}

TEST(MetricRecord, OnNoDataAndOnErrorFailOnlyWhenAskedTo) {
  auto c = check();
  c.failures = 1;
  c.of = 1;
  CheckState st;
  std::optional<cg::TimePoint> last;
  record(c, st, CheckOutcome{Outcome::no_data, {}, "empty", {}}, T0, last);
  record(c, st, CheckOutcome{Outcome::error, {}, "down", QueryError{ErrorClass::transient, "connection", "refused"}}, T0, last);
  EXPECT_FALSE(st.tripped);
  EXPECT_FALSE(last);  // nothing decisive: blindness keeps counting
  c.on_no_data = cg::config::OnOutcome::fail;
  record(c, st, CheckOutcome{Outcome::no_data, {}, "empty", {}}, T0, last);
  EXPECT_TRUE(st.tripped);
}

// A window gathered under another definition of the check is never combined with its outcomes.
TEST(MetricRecord, AnotherDefinitionStartsAfresh) {
  auto c = check();
  CheckState st;
  std::optional<cg::TimePoint> last;
  record(c, st, CheckOutcome{Outcome::pass, 0.01, "ok", {}}, T0, last);
  record(c, st, CheckOutcome{Outcome::fail, 0.3, "bad", {}}, T0, last);
  EXPECT_EQ(st.fingerprint, check_fingerprint(c));
  EXPECT_EQ(st.window, "PF");
  c.max = 0.5;
  record(c, st, CheckOutcome{Outcome::fail, 0.6, "bad", {}}, T0, last);
  EXPECT_EQ(st.window, "F");
  EXPECT_FALSE(st.passed);
  EXPECT_EQ(st.fingerprint, check_fingerprint(c));
}

TEST(MetricRecord, ConfigErrorsAreRemembered) {
  const auto c = check();
  CheckState st;
  std::optional<cg::TimePoint> last;
  EXPECT_TRUE(record(c, st, judge_error(c, QueryError{ErrorClass::config, "bad_data", "parse error"}), T0, last));
  ASSERT_TRUE(st.config_error);
  EXPECT_NE(st.config_error->find("bad_data"), std::string::npos);
  EXPECT_FALSE(record(c, st, judge_error(c, QueryError{ErrorClass::config, "bad_data", "parse error"}), T0, last));
  EXPECT_FALSE(st.tripped);
}

TEST(MetricWarmUp, RangeWindowAfterFirstReadyPod) {
  auto c = check();
  c.initial_delay = 10s;
  RevisionAnalysis a;
  a.started = T0;
  EXPECT_FALSE(warmed_up(c, a, T0 + 1h, T0 + 1h));  // no Ready pod: nothing to judge
  a.first_ready = T0 + 5s;
  // eval_time - 30 s must not reach before T0 + 5 s.
  EXPECT_FALSE(warmed_up(c, a, T0 + 40s, T0 + 34999ms));
  EXPECT_TRUE(warmed_up(c, a, T0 + 40s, T0 + 35s));
  EXPECT_FALSE(warmed_up(c, a, T0 + 9s, T0 + 100s));  // initial_delay
  EXPECT_EQ(*warm_at(c, a, 2s), T0 + 37s);
}

TEST(MetricSummary, HealthyOnlyWhenEveryCheckPassedAndBlindness) {
  auto c1 = check();
  auto c2 = check();
  c2.name = "p99";
  RevisionAnalysis a;
  a.started = T0;
  a.first_ready = T0;
  std::vector<const cg::config::Check*> both{&c1, &c2};
  auto s = summarize(both, a, 25s, 2s, T0 + 40s);
  EXPECT_TRUE(s.required);
  EXPECT_FALSE(s.all_passed);
  EXPECT_EQ(s.waiting_for.size(), 2u);
  EXPECT_FALSE(s.blind);
  ASSERT_TRUE(s.blind_at);
  EXPECT_EQ(*s.blind_at, T0 + 32s + 25s);  // could decide from T0 + 32 s (30 s window + 2 s lag)
  EXPECT_TRUE(summarize(both, a, 25s, 2s, T0 + 57s).blind);
  a.checks["error-ratio"].passed = true;
  a.last_decisive = T0 + 50s;
  s = summarize(both, a, 25s, 2s, T0 + 60s);
  EXPECT_FALSE(s.all_passed);
  EXPECT_FALSE(s.blind);
  a.checks["p99"].passed = true;
  EXPECT_TRUE(summarize(both, a, 25s, 2s, T0 + 60s).all_passed);
  EXPECT_TRUE(summarize(both, a, 25s, 2s, T0 + 75s).blind);
  EXPECT_FALSE(summarize({}, a, 25s, 2s, T0).required);
  EXPECT_FALSE(summarize({}, a, 25s, 2s, T0).all_passed);  // no vacuous truth
}

TEST(MetricAnnotation, RoundTripAndForeignCopies) {
  RevisionAnalysis a;
  a.hash = "6d8f7c9b5";
  a.rollout = 7;
  a.last_decisive = T0;
  a.checks["error-ratio"].window = "PFF";
  a.checks["error-ratio"].passed = true;
  a.checks["error-ratio"].fingerprint = "0123456789abcdef";
  a.checks["p99"].passed = true;
  a.checks["p99"].fingerprint = "fedcba9876543210";
  a.checks["unseen"];  // nothing to say: left out
  const auto text = format_analysis(a);
  EXPECT_EQ(text, "hash=6d8f7c9b5 rollout=7 decisive=2027-01-15T08:00:00Z error-ratio=PFF!@0123456789abcdef "
                  "p99=!@fedcba9876543210");
  auto back = parse_analysis(text, "6d8f7c9b5");
  ASSERT_TRUE(back);
  EXPECT_EQ(back->rollout, 7);
  EXPECT_EQ(back->last_decisive, T0);
  EXPECT_FALSE(back->blind);
  EXPECT_EQ(back->checks["error-ratio"].window, "PFF");
  EXPECT_EQ(back->checks["error-ratio"].fingerprint, "0123456789abcdef");
  EXPECT_TRUE(back->checks["error-ratio"].passed);
  EXPECT_EQ(back->checks["error-ratio"].fails(), 2);
  EXPECT_TRUE(back->checks["p99"].passed);
  a.blind = true;
  back = parse_analysis(format_analysis(a), "6d8f7c9b5");
  ASSERT_TRUE(back);
  EXPECT_TRUE(back->blind);
  // The stable side compare mode judges against, kept for the whole analysis.
  a.stable = "7f9c4d8b6";
  EXPECT_NE(format_analysis(a).find("rollout=7 stable=7f9c4d8b6 decisive="), std::string::npos) << format_analysis(a);
  back = parse_analysis(format_analysis(a), "6d8f7c9b5");
  ASSERT_TRUE(back);
  EXPECT_EQ(back->stable, "7f9c4d8b6");
  const std::string rec = format_analysis(a);
  EXPECT_EQ(restore_analysis(std::string_view(rec), "6d8f7c9b5", 7, {}).stable, "7f9c4d8b6");
  EXPECT_EQ(restore_analysis(std::string_view(rec), "6d8f7c9b5", 8, {}).stable, "");  // another rollout: forgotten
  EXPECT_FALSE(parse_analysis(text, "other"));  // copied onto another ReplicaSet: ignored
  for (const char* bad : {"", "error-ratio=PF", "hash=6d8f7c9b5 rollout=1 error-ratio=PXF@00",
                          "hash=6d8f7c9b5 rollout=1 Bad=P@00", "hash=6d8f7c9b5 rollout=1 =P", "hash=6d8f7c9b5 rollout=1 x",
                          "hash=6d8f7c9b5 error-ratio=P!",  // the format before rollouts: untrusted
                          "hash=6d8f7c9b5 rollout=-1", "hash=6d8f7c9b5 rollout=1x", "hash=6d8f7c9b5 rollout=",
                          "hash=6d8f7c9b5 rollout=99999999999999999999", "hash=6d8f7c9b5 rollout=1 decisive=yesterday",
                          "hash=6d8f7c9b5 rollout=1 blind=0", "hash=6d8f7c9b5 rollout=1 p99=P@XYZ",
                          "hash=6d8f7c9b5 rollout=1 p99=P@0123456789abcdef0123456789abcdef0",
                          "hash=6d8f7c9b5 rollout=1 stable=", "hash=6d8f7c9b5 rollout=1 stable=Ab!",
                          "hash=6d8f7c9b5 rollout=1 stable=6d8f7c9b5"})  // its own hash is never its stable side
    EXPECT_FALSE(parse_analysis(bad, "6d8f7c9b5")) << bad;
}

// Every part of a check's definition that gives its outcomes their meaning changes the fingerprint; what does not
// (its name, interval, selection, warm-up) leaves it alone.
TEST(MetricAnnotation, FingerprintCoversTheDefinition) {
  auto base = check();
  base.query = "sum(rate(x[30s]))";
  const std::string fp = check_fingerprint(base);
  EXPECT_EQ(fp.size(), 16u);
  EXPECT_EQ(check_fingerprint(base), fp);  // stable
  struct Row {
    const char* what;
    std::function<void(cg::config::Check&)> edit;
    bool changes;
  };
  const std::vector<Row> rows = {
      {"query", [](auto& c) { c.query = "sum(rate(y[30s]))"; }, true},
      {"vars", [](auto& c) { c.vars["job"] = "api"; }, true},
      {"max", [](auto& c) { c.max = 0.06; }, true},
      {"max gone", [](auto& c) { c.max.reset(); }, true},
      {"min", [](auto& c) { c.min = 0.0; }, true},
      {"failures", [](auto& c) { c.failures = 2; }, true},
      {"of", [](auto& c) { c.of = 10; }, true},
      {"on_no_data", [](auto& c) { c.on_no_data = cg::config::OnOutcome::fail; }, true},
      {"on_error", [](auto& c) { c.on_error = cg::config::OnOutcome::fail; }, true},
      {"min_samples added", [](auto& c) { c.min_samples = cg::config::MinSamplesSpec{"sum(x)", 10}; }, true},
      {"mode compare", [](auto& c) { c.compare = cg::config::CompareSpec{}; }, true},
      {"compare ratio",
       [](auto& c) {
         c.compare = cg::config::CompareSpec{};
         c.compare->max_ratio = 2;
       },
       true},
      {"name", [](auto& c) { c.name = "other"; }, false},
      {"interval", [](auto& c) { c.interval = 30s; }, false},
      {"initial_delay", [](auto& c) { c.initial_delay = 30s; }, false},
      {"namespaces", [](auto& c) { c.namespaces = {"shop"}; }, false},
  };
  for (const auto& r : rows) {
    auto c = base;
    r.edit(c);
    EXPECT_EQ(check_fingerprint(c) != fp, r.changes) << r.what;
  }
  // Settings within a mode are told apart too.
  auto m1 = base, m2 = base;
  m1.min_samples = cg::config::MinSamplesSpec{"sum(x)", 10};
  m2.min_samples = cg::config::MinSamplesSpec{"sum(x)", 20};
  EXPECT_NE(check_fingerprint(m1), check_fingerprint(m2));
  m1.compare = m2.compare = cg::config::CompareSpec{};
  m2.min_samples = m1.min_samples;
  m2.compare->direction = cg::config::CompareDirection::decrease;
  EXPECT_NE(check_fingerprint(m1), check_fingerprint(m2));
  m2.compare = m1.compare;
  m2.compare->margin = 0.01;
  EXPECT_NE(check_fingerprint(m1), check_fingerprint(m2));
}

// Issue #10 §2: a record is trusted only for the rollout that wrote it and, per check, only for the definition it
// was gathered under. Anything else starts afresh: no window, no PASS, no blindness carried over.
TEST(MetricAnnotation, RestoreTrustsOnlyTheSameRolloutAndDefinition) {
  auto c = check();
  c.query = "sum(rate(x[30s]))";
  const std::string fp = check_fingerprint(c);
  auto edited = c;
  edited.max = 0.5;
  auto wider = c;
  wider.of = 3;  // same check, `of` now 3: a 5-long window must not survive (the fingerprint differs anyway)
  struct Row {
    std::string what;
    std::optional<std::string> seed;
    std::int64_t rollout;
    const cg::config::Check* now;
    std::string window;
    bool passed;
    bool tripped;
    bool blind;
  };
  const std::string same = "hash=h2 rollout=4 error-ratio=PF!@" + fp;
  const std::vector<Row> rows = {
      {"same rollout, same definition", same, 4, &c, "PF", true, false, false},
      {"same, blind", "hash=h2 rollout=4 blind=1 error-ratio=P!@" + fp, 4, &c, "P", true, false, true},
      {"earlier rollout of this template", same, 5, &c, "", false, false, false},
      {"earlier rollout, blind", "hash=h2 rollout=4 blind=1 error-ratio=P!@" + fp, 5, &c, "", false, false, false},
      {"later rollout (a stray copy)", same, 3, &c, "", false, false, false},
      {"edited definition", same, 4, &edited, "", false, false, false},
      {"edited of", "hash=h2 rollout=4 error-ratio=PPPPF!@" + fp, 4, &wider, "", false, false, false},
      {"window longer than of", "hash=h2 rollout=4 error-ratio=PPPPPPPFFF!@" + fp, 4, &c, "PPFFF", true, true, false},
      {"check without fingerprint", "hash=h2 rollout=4 error-ratio=PF!", 4, &c, "", false, false, false},
      {"old format without rollout", "hash=h2 error-ratio=PF!", 4, &c, "", false, false, false},
      {"another hash", "hash=h1 rollout=4 error-ratio=PF!@" + fp, 4, &c, "", false, false, false},
      {"garbage", std::string("\xff\x00=!@ hash=", 10), 4, &c, "", false, false, false},
      {"no seed", std::nullopt, 4, &c, "", false, false, false},
  };
  for (const auto& r : rows) {
    std::optional<std::string_view> seed;
    if (r.seed) seed = *r.seed;
    const auto a = restore_analysis(seed, "h2", r.rollout, {r.now});
    EXPECT_EQ(a.hash, "h2") << r.what;
    EXPECT_EQ(a.rollout, r.rollout) << r.what;
    ASSERT_EQ(a.checks.count("error-ratio"), 1u) << r.what;
    const auto& st = a.checks.at("error-ratio");
    EXPECT_EQ(st.window, r.window) << r.what;
    EXPECT_EQ(st.passed, r.passed) << r.what;
    EXPECT_EQ(st.tripped, r.tripped) << r.what;
    EXPECT_EQ(st.fingerprint, check_fingerprint(*r.now)) << r.what;
    EXPECT_EQ(a.blind, r.blind) << r.what;
    // What counts for a verdict: only a trusted PASS.
    auto ra = a;
    ra.started = T0;
    ra.first_ready = T0;
    EXPECT_EQ(summarize({r.now}, ra, 25s, 2s, T0 + 40s).all_passed, r.passed) << r.what;
  }
  // A check that no longer applies is dropped; one restored from another rollout never combines with fresh outcomes.
  auto a = restore_analysis(std::string_view(same), "h2", 5, {&c});
  record(c, a.checks["error-ratio"], CheckOutcome{Outcome::fail, 0.3, "bad", {}}, T0, a.last_decisive);
  EXPECT_EQ(a.checks["error-ratio"].window, "F");
  EXPECT_TRUE(restore_analysis(std::string_view(same), "h2", 4, {}).checks.empty());
}

// Issue #10 §2: a restart while blind stays blind until outcomes are back; outcomes after a blind spell are news,
// whatever came before (a PASS after a PASS included), and only decisive ones end it.
TEST(MetricSummary, BlindnessSurvivesARestartAndItsEndIsNews) {
  const auto c = check();
  const std::vector<const cg::config::Check*> applicable{&c};
  struct Row {
    std::string what;
    bool persisted_blind;      // the record said blind=1 (restart while blind)
    std::string window;        // before the outcome
    bool passed;
    std::optional<std::chrono::seconds> last_decisive;  // since T0
    cg::Duration at;           // when the outcome comes, since T0
    Outcome outcome;
    bool blind_before;
    bool restored;
    bool changed;
  };
  // started/first ready at T0, 30 s window + 2 s lag: could decide from T0 + 32 s; max_blind 25 s.
  const std::vector<Row> rows = {
      {"restart while blind: an error keeps it blind", true, "P", true, 100s, 101s, Outcome::error, true, false, false},
      {"restart while blind: no data keeps it blind", true, "P", true, 100s, 101s, Outcome::no_data, true, false, false},
      {"restart while blind: a PASS after a PASS ends it", true, "P", true, 100s, 101s, Outcome::pass, true, true, true},
      {"restart while blind: a FAIL ends it", true, "P", true, 100s, 101s, Outcome::fail, true, true, true},
      {"blind by time: a PASS after a PASS ends it", false, "PP", true, 40s, 70s, Outcome::pass, true, true, true},
      {"blind by time, never decided: a PASS", false, "", false, std::nullopt, 60s, Outcome::pass, true, true, true},
      {"blind by time: an error is no news", false, "P", true, 40s, 70s, Outcome::error, true, false, false},
      {"not blind: a PASS after a PASS is no news", false, "P", true, 40s, 60s, Outcome::pass, false, false, false},
      {"not blind: the first PASS matters", false, "", false, 40s, 60s, Outcome::pass, false, false, true},
  };
  for (const auto& r : rows) {
    RevisionAnalysis a;
    a.hash = "h2";
    a.rollout = 4;
    a.started = T0;
    a.first_ready = T0;
    a.blind = r.persisted_blind;
    if (r.last_decisive) a.last_decisive = T0 + *r.last_decisive;
    a.checks["error-ratio"].window = r.window;
    a.checks["error-ratio"].passed = r.passed;
    a.checks["error-ratio"].fingerprint = check_fingerprint(c);
    const cg::TimePoint now = T0 + r.at;
    EXPECT_EQ(summarize(applicable, a, 25s, 2s, now).blind, r.blind_before) << r.what;
    const auto rec = record_outcome(c, applicable, a, CheckOutcome{r.outcome, 0.01, "x", {}}, now, 25s, 2s);
    EXPECT_EQ(rec.restored, r.restored) << r.what;
    EXPECT_EQ(rec.changed, r.changed) << r.what;
    const bool decisive = is_decisive(r.outcome);
    EXPECT_EQ(summarize(applicable, a, 25s, 2s, now).blind, r.blind_before && !decisive) << r.what;
    EXPECT_EQ(a.blind, r.persisted_blind && !decisive) << r.what;
  }
  // The blind flag survives the annotation.
  RevisionAnalysis a;
  a.hash = "h2";
  a.rollout = 4;
  a.blind = true;
  const auto text = format_analysis(a);
  const auto back = restore_analysis(std::string_view(text), "h2", 4, applicable);
  EXPECT_TRUE(back.blind);
  auto b = back;
  b.started = T0 + 1h;  // a restarted daemon's own start: it would not be blind by time for a while
  b.first_ready = T0;
  EXPECT_TRUE(summarize(applicable, b, 25s, 2s, T0 + 1h).blind);
}
