// Leader election decisions with client-go's semantics, on a manual monotonic clock.
#include <gtest/gtest.h>

#include "daemon/kube/leader_election.hpp"

namespace canary_guard::kube {
namespace {

using namespace std::chrono_literals;
using V = LeaderElection::Verdict;

Duration at(std::chrono::milliseconds ms) { return ms; }
LeaseRecord held(std::string who, std::string renew, std::int32_t transitions = 0) {
  return LeaseRecord{std::move(who), 15, "t0", std::move(renew), transitions};
}

TEST(LeaderElection, TimingRules) {
  EXPECT_EQ(timing_problem({15s, 10s, 2s}), "");
  EXPECT_NE(timing_problem({10s, 10s, 2s}), "");
  EXPECT_NE(timing_problem({15s, 2400ms, 2s}), "");  // exactly 1.2 x: not longer
  EXPECT_EQ(timing_problem({15s, 2401ms, 2s}), "");
  EXPECT_NE(timing_problem({15s, 10s, 0s}), "");
}

TEST(LeaderElection, CreatesAMissingLeaseAndRenewsItsOwn) {
  LeaderElection e("a", {});
  auto p = e.observe(std::nullopt, at(0ms), "w0");
  ASSERT_EQ(p.verdict, V::create);
  EXPECT_EQ(p.proposal.holder, "a");
  EXPECT_EQ(p.proposal.lease_duration_seconds, 15);
  EXPECT_FALSE(e.leading(at(0ms)));
  e.written(true, p.proposal, at(10ms));
  EXPECT_TRUE(e.leading(at(10ms)));
  auto r = e.observe(p.proposal, at(2s), "w2");
  ASSERT_EQ(r.verdict, V::write);
  EXPECT_EQ(r.proposal.acquire_time, "w0");  // kept while renewing
  EXPECT_EQ(r.proposal.renew_time, "w2");
  EXPECT_EQ(r.proposal.transitions, 0);
}

TEST(LeaderElection, TakesOverOnlyAfterAFullLeaseDurationWithoutChangeOnItsOwnClock) {
  LeaderElection e("b", {});
  // The other's renew timestamp may say anything (its clock): only change matters.
  EXPECT_EQ(e.observe(held("a", "1999-01-01T00:00:00Z"), at(0ms), "x").verdict, V::wait);
  EXPECT_EQ(e.observe(held("a", "1999-01-01T00:00:00Z"), at(14'999ms), "x").verdict, V::wait);
  // A renewal (the record changed) restarts the count.
  EXPECT_EQ(e.observe(held("a", "r2"), at(14'999ms), "x").verdict, V::wait);
  EXPECT_EQ(e.observe(held("a", "r2"), at(29'998ms), "x").verdict, V::wait);
  auto p = e.observe(held("a", "r2", 4), at(29'999ms), "w");
  // transitions changed: that is a change too
  EXPECT_EQ(p.verdict, V::wait);
  p = e.observe(held("a", "r2", 4), at(44'999ms), "w");
  ASSERT_EQ(p.verdict, V::write);
  EXPECT_EQ(p.proposal.holder, "b");
  EXPECT_EQ(p.proposal.transitions, 5);
  EXPECT_EQ(p.proposal.acquire_time, "w");
}

TEST(LeaderElection, AReleasedLeaseIsTakenAtOnce) {
  LeaderElection e("b", {});
  LeaderElection a("a", {});
  auto first = a.observe(std::nullopt, at(0ms), "w0");
  a.written(true, first.proposal, at(0ms));
  const LeaseRecord released = a.release_record("w9");
  EXPECT_EQ(released.holder, "");
  EXPECT_EQ(released.lease_duration_seconds, 1);
  auto p = e.observe(released, at(100ms), "w10");
  ASSERT_EQ(p.verdict, V::write);
  EXPECT_EQ(p.proposal.holder, "b");
  EXPECT_EQ(p.proposal.transitions, 1);
}

TEST(LeaderElection, ALeaderThatCannotRenewStopsBeforeItsLeaseExpires) {
  LeaderElection e("a", {});
  auto p = e.observe(std::nullopt, at(0ms), "w0");
  e.written(true, p.proposal, at(0ms));
  e.written(false, p.proposal, at(2s));  // apiserver unreachable, conflicts ...
  EXPECT_TRUE(e.leading(at(9'999ms)));
  EXPECT_FALSE(e.leading(at(10s)));  // renew_deadline passed: stop acting
  // ... well before another candidate could take over (lease duration 15 s after its last observed change).
  e.written(true, p.proposal, at(12s));  // renewed again later: leads again
  EXPECT_TRUE(e.leading(at(12s)));
}

}  // namespace
}  // namespace canary_guard::kube
