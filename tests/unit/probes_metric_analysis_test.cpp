// Metric analysis state: judging series, k-of-n windows, warm-up, blindness, the persisted annotation.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

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
  a.checks["error-ratio"].window = "PFF";
  a.checks["error-ratio"].passed = true;
  a.checks["p99"].passed = true;
  a.checks["unseen"];  // nothing to say: left out
  const auto text = format_analysis(a);
  EXPECT_EQ(text, "hash=6d8f7c9b5 error-ratio=PFF! p99=!");
  auto back = parse_analysis(text, "6d8f7c9b5");
  ASSERT_TRUE(back);
  EXPECT_EQ(back->checks["error-ratio"].window, "PFF");
  EXPECT_TRUE(back->checks["error-ratio"].passed);
  EXPECT_EQ(back->checks["error-ratio"].fails(), 2);
  EXPECT_TRUE(back->checks["p99"].passed);
  EXPECT_FALSE(parse_analysis(text, "other"));  // copied onto another ReplicaSet: ignored
  for (const char* bad : {"", "error-ratio=PF", "hash=6d8f7c9b5 error-ratio=PXF", "hash=6d8f7c9b5 Bad=P",
                          "hash=6d8f7c9b5 =P", "hash=6d8f7c9b5 x"})
    EXPECT_FALSE(parse_analysis(bad, "6d8f7c9b5")) << bad;
}
