// pages_for: which of the daemon's own alerts hold for a workload, from its snapshot and decision (issue #12 §2).
#include <gtest/gtest.h>

#include "daemon/guard/pages.hpp"

namespace canary_guard::guard {
namespace {

using namespace std::chrono_literals;
const TimePoint T0{std::chrono::seconds{1'800'000'000}};

Revision rev(std::string hash, std::int64_t n, std::optional<Verdict> v = std::nullopt) {
  Revision r;
  r.name = "web-" + hash;
  r.hash = hash;
  r.number = n;
  if (v) r.verdict = VerdictRecord{*v, hash, T0 - 1h, "test"};
  return r;
}
Revision with_rollback(Revision r, RollbackState st, std::string to, TimePoint at, std::string reason = "alert:X") {
  r.rollback = RollbackRecord{st, r.hash, std::move(to), 1, at, std::move(reason)};
  return r;
}
Snapshot snap(std::vector<Revision> revs, std::string current) {
  Snapshot s;
  s.ns = "shop";
  s.name = "web";
  s.status_current = true;
  s.current_hash = std::move(current);
  s.revisions = std::move(revs);
  return s;
}
std::vector<std::string> names(const std::vector<Page>& p) {
  std::vector<std::string> out;
  for (const auto& x : p) out.push_back(x.alertname + "/" + x.reason + "/" + x.severity);
  return out;
}

TEST(Pages, ReasonClassesAreClosed) {
  EXPECT_EQ(reason_class("progress_deadline"), "progress_deadline");
  EXPECT_EQ(reason_class("pod_signal:crash_loop"), "pod_signal");
  EXPECT_EQ(reason_class("metric:error-ratio"), "metric_probe");
  EXPECT_EQ(reason_class("alert:HighErrors"), "alert");
  EXPECT_EQ(reason_class("known_bad_template"), "known_bad");
  EXPECT_EQ(reason_class("something new"), "other");
  EXPECT_EQ(reason_class(""), "other");
}

TEST(Pages, RollbackFromDecisionThroughRecordUntilItAges) {
  Decision none;
  // The decision itself raises it (before any record is visible).
  Decision rb;
  rb.action = Action::rollback;
  rb.reason = "alert:HighErrors";
  rb.current = rev("b", 2);
  rb.target = rev("a", 1, Verdict::healthy);
  auto s = snap({rev("a", 1, Verdict::healthy), rev("b", 2)}, "b");
  EXPECT_EQ(names(pages_for(s, rb, T0)), std::vector<std::string>{"CanaryGuardRollback/alert/warning"});
  rb.dry_run = true;
  EXPECT_TRUE(pages_for(s, rb, T0).empty());  // a dry run pages nobody
  // Waiting, then succeeded on the target: still held for an hour after it was decided.
  s = snap({rev("a", 1, Verdict::healthy), with_rollback(rev("b", 2, Verdict::failed), RollbackState::waiting, "a", T0)}, "a");
  EXPECT_EQ(names(pages_for(s, none, T0 + 5s)), std::vector<std::string>{"CanaryGuardRollback/alert/warning"});
  s.revisions[1].rollback->state = RollbackState::succeeded;
  auto p = pages_for(s, none, T0 + 10min);
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].since, T0);
  EXPECT_NE(p[0].description.find("canary-guard explain -n shop deployment/web"), std::string::npos) << p[0].description;
  EXPECT_TRUE(pages_for(s, none, T0 + 1h).empty());
  // Someone deployed a new revision: the rollback is history.
  s.current_hash = "c";
  s.revisions.push_back(rev("c", 3));
  EXPECT_TRUE(pages_for(s, none, T0 + 10min).empty());
  // Superseded records page nobody.
  s = snap({rev("a", 1, Verdict::healthy), with_rollback(rev("b", 2), RollbackState::superseded, "a", T0)}, "a");
  EXPECT_TRUE(pages_for(s, none, T0 + 1s).empty());
}

TEST(Pages, FailedRollbackPagesWhileTheWorkloadSitsOnTheTarget) {
  Decision none;
  auto s = snap({rev("a", 1, Verdict::unfit), with_rollback(rev("b", 2, Verdict::failed), RollbackState::failed, "a", T0 - 2h,
                                                            "progress_deadline")},
                "a");
  EXPECT_EQ(names(pages_for(s, none, T0)), std::vector<std::string>{"CanaryGuardRollbackFailed/progress_deadline/page"});
  s.current_hash = "b";  // someone moved on
  EXPECT_TRUE(pages_for(s, none, T0).empty());
}

TEST(Pages, HeldOnlyWhenARollbackWasWarranted) {
  auto s = snap({rev("b", 2)}, "b");
  for (const std::string r : {"no_healthy_revision", "paused", "rollback_limit", "known_bad_template",
                              "known_bad_rate_limited", "alert_on_healthy"}) {
    Decision d;
    d.action = Action::hold;
    d.reason = r;
    d.message = "m";
    EXPECT_EQ(names(pages_for(s, d, T0)), std::vector<std::string>{"CanaryGuardHeld/" + r + "/warning"}) << r;
  }
  for (const std::string r : {"unschedulable", "replica_failure", "metrics_blind", "alerts_blind"}) {
    Decision d;
    d.action = Action::hold;
    d.reason = r;
    EXPECT_TRUE(pages_for(s, d, T0).empty()) << r;  // the cause is outside the release, or Blind says it
  }
}

TEST(Pages, BlindWhileMetricAnalysisIsBlind) {
  auto s = snap({rev("a", 1, Verdict::healthy), rev("b", 2)}, "b");
  s.hold = Finding{"metrics_blind", "no decisive outcome for 10 s"};
  Decision d;
  d.action = Action::hold;
  d.reason = "metrics_blind";
  d.current = rev("b", 2);
  EXPECT_EQ(names(pages_for(s, d, T0)), std::vector<std::string>{"CanaryGuardBlind/metrics_blind/warning"});
  d.action = Action::pause_blind;
  EXPECT_EQ(pages_for(s, d, T0).size(), 1u);
  s.hold.reset();
  EXPECT_TRUE(pages_for(s, d, T0).empty());
}

// The alert channel blind (no heartbeat): the same page, reason alerts_blind, while the revision is unverified.
TEST(Pages, BlindWhileTheAlertChannelIsBlind) {
  auto s = snap({rev("a", 1, Verdict::healthy), rev("b", 2)}, "b");
  s.hold = Finding{"alerts_blind", "the alert channel is blind"};
  Decision d;
  d.action = Action::hold;
  d.reason = "alerts_blind";
  d.current = rev("b", 2);
  EXPECT_EQ(names(pages_for(s, d, T0)), std::vector<std::string>{"CanaryGuardBlind/alerts_blind/warning"});
  d.current = rev("b", 2, Verdict::healthy);  // verified before the channel went blind: nothing to say
  EXPECT_TRUE(pages_for(s, d, T0).empty());
}

}  // namespace
}  // namespace canary_guard::guard
