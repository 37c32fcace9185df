// Duration strings: the accepted grammar, every rejection path, and the limits configured durations must meet.
#include <gtest/gtest.h>

#include <limits>

#include "config/duration.hpp"

namespace canary_guard::config {
namespace {

using std::chrono::milliseconds;

struct Good {
  const char* text;
  std::int64_t ms;
};

TEST(ConfigDuration, ParsesValidDurations) {
  const Good cases[] = {
      {"0s", 0},
      {"0ms", 0},
      {"0h", 0},
      {"250ms", 250},
      {"1s", 1000},
      {"30s", 30'000},
      {"60s", 60'000},
      {"5m", 300'000},
      {"1h", 3'600'000},
      {"1h30m", 5'400'000},
      {"1h30m15s", 5'415'000},
      {"1h0m0s0ms", 3'600'000},
      {"2m500ms", 120'500},
      {"90m", 5'400'000},  // a unit may exceed the next one up
      {"007s", 7000},
      {"9223372036854775807ms", std::numeric_limits<std::int64_t>::max()},
      {"2562047788015h775807ms", std::numeric_limits<std::int64_t>::max()},
      {"9223372036854775s", 9'223'372'036'854'775'000},
  };
  for (const auto& c : cases) {
    auto d = parse_duration(c.text);
    ASSERT_TRUE(d.has_value()) << c.text << ": " << d.error();
    EXPECT_EQ(d->count(), c.ms) << c.text;
  }
}

struct Bad {
  const char* text;
  const char* fragment;
};

TEST(ConfigDuration, RejectsGarbageWithAReason) {
  const Bad cases[] = {
      {"", "empty duration"},
      {"-5m", "negative"},
      {"-0s", "negative"},
      {"+5m", "no sign"},
      {"300", "missing unit after 300"},
      {"5", "missing unit"},
      {"1h30", "missing unit after 1h30"},
      {"1.5h", "fractions are not supported"},
      {"1,5h", "fractions are not supported"},
      {"5min", "unknown unit \"min\""},
      {"5d", "unknown unit \"d\""},
      {"5S", "unknown unit \"S\""},
      {"5us", "unknown unit \"us\""},
      {"h", "expected a number"},
      {"ms", "expected a number"},
      {"1h 30m", "expected a number at \" 30m\""},
      {" 5m", "whitespace"},
      {"5m ", "whitespace"},
      {"5m\t", "whitespace"},
      {"30m1h", "largest to smallest"},
      {"1m1m", "largest to smallest"},
      {"1s1m", "largest to smallest"},
      {"5m#", "expected a number at \"#\""},
      {"5m_", "expected a number at \"_\""},
      {"5#", "unexpected \"#\""},
      {"9223372036854775808ms", "out of range"},
      {"99999999999999999999999s", "out of range"},
      {"9223372036854776s", "out of range"},       // fits in int64 as a count, not as milliseconds
      {"2562047788015h775808ms", "out of range"},  // one past INT64_MAX ms in the sum
      {"2562047788015h59m", "out of range"},
  };
  for (const auto& c : cases) {
    auto d = parse_duration(c.text);
    ASSERT_FALSE(d.has_value()) << "accepted \"" << c.text << "\" as " << d->count() << "ms";
    EXPECT_NE(d.error().find(c.fragment), std::string::npos) << c.text << ": " << d.error();
  }
}

TEST(ConfigDuration, FormatIsCanonicalAndRoundTrips) {
  const std::pair<std::int64_t, const char*> cases[] = {
      {0, "0s"},          {1, "1ms"},          {999, "999ms"},         {1000, "1s"},    {60'000, "1m"},
      {90'000, "1m30s"},  {5'400'000, "1h30m"}, {3'600'001, "1h1ms"}, {-1500, "-1s500ms"},
      {86'400'000, "24h"},
  };
  for (const auto& [ms, text] : cases) {
    EXPECT_EQ(format_duration(milliseconds{ms}), text);
    if (ms >= 0) {
      auto back = parse_duration(text);
      ASSERT_TRUE(back.has_value()) << text;
      EXPECT_EQ(back->count(), ms);
    }
  }
  // The extreme values must not overflow while formatting.
  EXPECT_FALSE(format_duration(milliseconds{std::numeric_limits<std::int64_t>::min()}).empty());
  auto max = parse_duration(format_duration(milliseconds{std::numeric_limits<std::int64_t>::max()}));
  ASSERT_TRUE(max.has_value());
  EXPECT_EQ(max->count(), std::numeric_limits<std::int64_t>::max());
}

TEST(ConfigDuration, LimitsForConfiguredValues) {
  EXPECT_EQ(duration_limit_problem(milliseconds{0}, true), std::nullopt);
  EXPECT_EQ(duration_limit_problem(milliseconds{0}, false), "must be greater than 0s");
  EXPECT_EQ(duration_limit_problem(milliseconds{1000}, false), std::nullopt);
  EXPECT_EQ(duration_limit_problem(milliseconds{1500}, false), "is not a whole number of seconds");
  EXPECT_EQ(duration_limit_problem(milliseconds{-1000}, true), "must not be negative");
  EXPECT_EQ(duration_limit_problem(kMaxConfigDuration, false), std::nullopt);
  EXPECT_EQ(duration_limit_problem(kMaxConfigDuration + std::chrono::seconds{1}, false),
            "is too long (at most 8760h, one year)");
}

}  // namespace
}  // namespace canary_guard::config
