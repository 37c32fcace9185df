// StepTrace: each mark is the time since the previous one; a wait before the trace began comes first and counts.
#include <gtest/gtest.h>

#include "daemon/guard/step_trace.hpp"

using namespace canary_guard;
using namespace std::chrono_literals;

TEST(StepTrace, StepsAreTheTimeBetweenMarksAndAnEarlierWaitCounts) {
  ManualClock clock;
  guard::StepTrace t(clock);
  EXPECT_TRUE(t.empty());
  EXPECT_EQ(t.total(), 0ms);
  clock.advance(2ms);
  t.mark("observe+decide");
  clock.advance(31ms);
  t.mark("fresh_read");
  t.mark("nothing");  // no time passed: 0 ms, still listed
  clock.advance(7ms);
  t.mark("patch");
  t.before("late", 5ms);
  EXPECT_FALSE(t.empty());
  EXPECT_EQ(t.str(), "late=5ms observe+decide=2ms fresh_read=31ms nothing=0ms patch=7ms");
  EXPECT_EQ(t.total(), 45ms);
}
