#include <gtest/gtest.h>

#include <utility>  // Boost 1.74: must precede boost/asio/awaitable.hpp

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include "daemon/kube/work_queue.hpp"

namespace canary_guard::kube {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

class WorkQueueTest : public ::testing::Test {
 protected:
  boost::asio::io_context ioc_;
  ManualClock clock_;
  WorkQueue q_{ioc_, clock_};
};

TEST_F(WorkQueueTest, DeduplicatesAndKeepsOrder) {
  q_.add("a");
  q_.add("b");
  q_.add("a");
  EXPECT_EQ(q_.len(), 2u);
  EXPECT_EQ(q_.try_get(), "a");
  EXPECT_EQ(q_.try_get(), "b");
  EXPECT_EQ(q_.try_get(), std::nullopt);
}

TEST_F(WorkQueueTest, KeyBeingProcessedIsNotHandedOutTwice) {
  q_.add("a");
  ASSERT_EQ(q_.try_get(), "a");
  q_.add("a");  // changed while we work on it
  q_.add("a");
  EXPECT_EQ(q_.len(), 0u);
  EXPECT_EQ(q_.try_get(), std::nullopt);
  EXPECT_TRUE(q_.processing("a"));
  q_.done("a");  // dirty: back in the queue exactly once
  EXPECT_EQ(q_.len(), 1u);
  EXPECT_EQ(q_.try_get(), "a");
  q_.done("a");
  EXPECT_EQ(q_.try_get(), std::nullopt);
}

TEST_F(WorkQueueTest, AddAfterWaitsForTheClock) {
  q_.add_after("a", seconds{10});
  q_.add_after("b", seconds{5});
  q_.add_after("a", seconds{20});  // later due time: ignored
  EXPECT_EQ(q_.delayed(), 2u);
  EXPECT_EQ(q_.try_get(), std::nullopt);
  clock_.advance(seconds{5});
  EXPECT_EQ(q_.try_get(), "b");
  clock_.advance(milliseconds{4999});
  EXPECT_EQ(q_.try_get(), std::nullopt);
  clock_.advance(milliseconds{1});
  EXPECT_EQ(q_.try_get(), "a");
  q_.add_after("c", seconds{30});
  q_.add_after("c", seconds{1});  // earlier due time wins
  clock_.advance(seconds{1});
  EXPECT_EQ(q_.try_get(), "c");
  EXPECT_EQ(q_.delayed(), 0u);
  q_.add_after("d", milliseconds{0});  // immediate
  EXPECT_EQ(q_.len(), 1u);
}

TEST_F(WorkQueueTest, DelayedKeyAlreadyQueuedStaysSingle) {
  q_.add("a");
  q_.add_after("a", seconds{1});
  clock_.advance(seconds{1});
  EXPECT_EQ(q_.try_get(), "a");
  EXPECT_EQ(q_.try_get(), std::nullopt);
}

TEST_F(WorkQueueTest, RateLimitedBackoffGrowsAndForgetResets) {
  const milliseconds expected[] = {milliseconds{5}, milliseconds{10}, milliseconds{20}, milliseconds{40},
                                   milliseconds{80}};
  for (auto e : expected) EXPECT_EQ(q_.add_rate_limited("k"), e);
  EXPECT_EQ(q_.num_requeues("k"), 5);
  for (int i = 0; i < 40; ++i) q_.add_rate_limited("k");
  EXPECT_EQ(q_.add_rate_limited("k"), milliseconds{1'000'000});  // capped at 1000 s
  EXPECT_EQ(q_.add_rate_limited("other"), milliseconds{5});       // per key
  q_.forget("k");
  EXPECT_EQ(q_.num_requeues("k"), 0);
  EXPECT_EQ(q_.add_rate_limited("k"), milliseconds{5});
}

TEST_F(WorkQueueTest, FleetBucketBoundsManyFailingKeys) {
  // client-go's default: per key 5 ms .. 1000 s, and 10 qps after a burst of 100 across all keys; the larger wins.
  // 150 different keys fail in the same instant (a sick apiserver): the first 100 come back after their own 5 ms,
  // then one every 100 ms.
  for (int i = 0; i < 100; ++i) ASSERT_EQ(q_.add_rate_limited("k" + std::to_string(i)), milliseconds{5}) << i;
  EXPECT_EQ(q_.add_rate_limited("k100"), milliseconds{100});
  EXPECT_EQ(q_.add_rate_limited("k101"), milliseconds{200});
  for (int i = 102; i < 149; ++i) q_.add_rate_limited("k" + std::to_string(i));
  EXPECT_EQ(q_.add_rate_limited("k149"), milliseconds{5000});
  // The bucket refills at 10 per second: 10 s later it has room for a burst again.
  clock_.advance(seconds{20});
  EXPECT_EQ(q_.add_rate_limited("fresh"), milliseconds{5});
}

TEST_F(WorkQueueTest, RateLimitedKeyComesBackAfterItsDelay) {
  q_.add_rate_limited("k");
  EXPECT_EQ(q_.try_get(), std::nullopt);
  clock_.advance(milliseconds{5});
  EXPECT_EQ(q_.try_get(), "k");
}

TEST(WorkQueueJitter, StaysWithinBounds) {
  boost::asio::io_context ioc;
  ManualClock clock;
  WorkQueue q(ioc, clock, BackoffPolicy{milliseconds{100}, seconds{10}, 0.5});
  auto d = q.add_rate_limited("k");
  EXPECT_GE(d, milliseconds{100});
  EXPECT_LE(d, milliseconds{150});
}

TEST_F(WorkQueueTest, AwaitableGetWakesOnAddAndShutdown) {
  std::vector<std::optional<std::string>> got;
  auto consumer = [&]() -> boost::asio::awaitable<void> {
    for (;;) {
      auto k = co_await q_.get();
      got.push_back(k);
      if (!k) co_return;
      q_.done(*k);
    }
  };
  boost::asio::co_spawn(ioc_, consumer(), boost::asio::detached);
  ioc_.poll();
  EXPECT_TRUE(got.empty());
  q_.add("a");
  ioc_.poll();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0], "a");
  q_.add("b");
  q_.add("c");
  ioc_.poll();
  ASSERT_EQ(got.size(), 3u);
  q_.shutdown();
  ioc_.poll();
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(got[3], std::nullopt);
  q_.add("late");
  EXPECT_EQ(q_.len(), 0u);
}

}  // namespace
}  // namespace canary_guard::kube
