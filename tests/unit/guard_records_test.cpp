#include "config/rfc3339.hpp"
#include <gtest/gtest.h>

#include "daemon/guard/records.hpp"

using namespace canary_guard::guard;
using canary_guard::TimePoint;
using canary_guard::format_rfc3339;
using canary_guard::parse_rfc3339;

TEST(Records, TimeRoundTrip) {
  auto t = parse_rfc3339("2026-11-21T10:03:04Z");
  ASSERT_TRUE(t);
  EXPECT_EQ(format_rfc3339(*t), "2026-11-21T10:03:04Z");
  EXPECT_EQ(parse_rfc3339("1970-01-01T00:00:00Z")->time_since_epoch().count(), 0);
  EXPECT_EQ(parse_rfc3339("1970-01-01T00:00:01.5Z")->time_since_epoch().count(), 1500);
  EXPECT_EQ(parse_rfc3339("1970-01-01T01:00:00+01:00")->time_since_epoch().count(), 0);
  EXPECT_EQ(format_rfc3339(*parse_rfc3339("0001-01-01T00:00:00Z")), "0001-01-01T00:00:00Z");
  EXPECT_EQ(format_rfc3339(*parse_rfc3339("2024-02-29T23:59:59Z")), "2024-02-29T23:59:59Z");
  for (const char* bad : {"", "2026-11-21", "2026-11-21T10:03:04", "2026-13-01T00:00:00Z", "2026-11-21T10:03:04Zx",
                          "2026-11-21T1a:03:04Z", "2026-11-21T10:03:04.Z", "2026-11-21T10:03:04+0100"})
    EXPECT_FALSE(parse_rfc3339(bad)) << bad;
}

TEST(Records, VerdictRoundTripAndHashCheck) {
  VerdictRecord v{Verdict::failed, "6d8f7c9b5", *parse_rfc3339("2026-11-21T10:00:00Z"), "pod_signal:crash_loop: pod x restarted"};
  std::string s = format_verdict(v);
  EXPECT_EQ(s, "failed hash=6d8f7c9b5 at=2026-11-21T10:00:00Z reason=pod_signal:crash_loop: pod x restarted");
  auto p = parse_verdict(s, "6d8f7c9b5");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->verdict, Verdict::failed);
  EXPECT_EQ(p->reason, v.reason);
  EXPECT_EQ(p->at, v.at);
  // A copy on another object (annotation copied by Kubernetes) is ignored.
  EXPECT_FALSE(parse_verdict(s, "other"));
  EXPECT_FALSE(parse_verdict("maybe hash=6d8f7c9b5 at=2026-11-21T10:00:00Z", "6d8f7c9b5"));
  EXPECT_FALSE(parse_verdict("healthy hash=6d8f7c9b5", "6d8f7c9b5"));
  EXPECT_FALSE(parse_verdict("", "x"));
  EXPECT_FALSE(parse_verdict("healthy at=2026-11-21T10:00:00Z", ""));
}

TEST(Records, RollbackRoundTrip) {
  RollbackRecord r{RollbackState::waiting, "bbb", "aaa", 3, *parse_rfc3339("2026-11-21T10:00:00Z"), "progress_deadline"};
  std::string s = format_rollback(r);
  EXPECT_EQ(s, "state=waiting from=bbb to=aaa to-revision=3 at=2026-11-21T10:00:00.000Z reason=progress_deadline");
  r.at += std::chrono::milliseconds{250};
  EXPECT_EQ(parse_rollback(format_rollback(r), "bbb")->at, r.at);  // milliseconds survive the round trip
  auto p = parse_rollback(s, "bbb");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->state, RollbackState::waiting);
  EXPECT_EQ(p->to, "aaa");
  EXPECT_EQ(p->to_revision, 3);
  EXPECT_FALSE(parse_rollback(s, "aaa"));
  EXPECT_FALSE(parse_rollback("state=bogus from=bbb to=aaa to-revision=3 at=2026-11-21T10:00:00Z", "bbb"));
  EXPECT_FALSE(parse_rollback("state=waiting from=bbb to=aaa to-revision=x at=2026-11-21T10:00:00Z", "bbb"));
}

TEST(Records, UnfitVerdictRoundTrips) {
  using namespace canary_guard::guard;
  const canary_guard::TimePoint t{std::chrono::seconds{1'800'000'000}};
  const VerdictRecord v{Verdict::unfit, "abc", t, "rollback_failed"};
  const auto text = format_verdict(v);
  EXPECT_EQ(text.rfind("unfit hash=abc ", 0), 0u) << text;
  auto back = parse_verdict(text, "abc");
  ASSERT_TRUE(back);
  EXPECT_EQ(back->verdict, Verdict::unfit);
  EXPECT_EQ(back->reason, "rollback_failed");
  EXPECT_FALSE(parse_verdict(text, "other"));  // a copy on another object is ignored
}
