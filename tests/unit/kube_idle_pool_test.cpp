#include "daemon/kube/idle_pool.hpp"

#include <gtest/gtest.h>

namespace canary_guard::kube {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

std::unique_ptr<int> item(int v) { return std::make_unique<int>(v); }

TEST(IdlePool, EmptyHandsOutNothing) {
  IdlePool<int> pool(3, seconds{90});
  EXPECT_EQ(pool.take(seconds{0}), nullptr);
}

TEST(IdlePool, TheMostRecentlyReturnedGoesOutFirst) {
  IdlePool<int> pool(3, seconds{90});
  EXPECT_TRUE(pool.put(item(1), seconds{1}));
  EXPECT_TRUE(pool.put(item(2), seconds{2}));
  EXPECT_TRUE(pool.put(item(3), seconds{3}));
  EXPECT_EQ(*pool.take(seconds{4}), 3);
  EXPECT_EQ(*pool.take(seconds{4}), 2);
  EXPECT_EQ(*pool.take(seconds{4}), 1);
  EXPECT_EQ(pool.take(seconds{4}), nullptr);
}

TEST(IdlePool, AFullPoolDropsWhatIsReturned) {
  IdlePool<int> pool(2, seconds{90});
  EXPECT_TRUE(pool.put(item(1), seconds{0}));
  EXPECT_TRUE(pool.put(item(2), seconds{0}));
  EXPECT_FALSE(pool.put(item(3), seconds{0}));
  EXPECT_EQ(pool.size(), 2u);
  EXPECT_EQ(*pool.take(seconds{0}), 2);
}

TEST(IdlePool, IdleExactlyTheTimeoutIsStillHandedOutOneMillisecondMoreIsNot) {
  IdlePool<int> pool(3, seconds{90});
  pool.put(item(1), seconds{10});
  auto a = pool.take(seconds{100});  // idle 90 s: not longer than the timeout
  ASSERT_NE(a, nullptr);
  pool.put(std::move(a), seconds{100});
  EXPECT_EQ(pool.take(seconds{190} + milliseconds{1}), nullptr);
  EXPECT_EQ(pool.size(), 0u);
}

TEST(IdlePool, ExpiredItemsGoOldestFirstAndMakeRoom) {
  IdlePool<int> pool(2, seconds{90});
  pool.put(item(1), seconds{0});
  pool.put(item(2), seconds{50});
  // At 91 s item 1 is past its timeout; item 2 is not. Returning item 3 drops 1 and keeps 2 and 3.
  EXPECT_TRUE(pool.put(item(3), seconds{91}));
  EXPECT_EQ(pool.size(), 2u);
  EXPECT_EQ(*pool.take(seconds{91}), 3);
  EXPECT_EQ(*pool.take(seconds{91}), 2);
}

TEST(IdlePool, ABurstKeepsItsConnectionsForTheNextStepAndAQuietSpellLetsThemGo) {
  // Ten requests at once return ten connections; the next step of the burst finds all ten.
  IdlePool<int> pool(25, seconds{90});
  for (int i = 0; i < 10; ++i) pool.put(item(i), milliseconds{100});
  for (int i = 0; i < 10; ++i) EXPECT_NE(pool.take(milliseconds{110}), nullptr);
  for (int i = 0; i < 10; ++i) pool.put(item(i), milliseconds{120});
  // Afterwards one request at a time: it keeps reusing the most recent one, the other nine age out.
  for (int t = 1; t <= 100; ++t) {
    auto c = pool.take(seconds{t});
    ASSERT_NE(c, nullptr);
    pool.put(std::move(c), seconds{t});
  }
  EXPECT_EQ(pool.size(), 1u);
}

TEST(IdlePool, ClearDropsEverything) {
  IdlePool<int> pool(3, seconds{90});
  pool.put(item(1), seconds{0});
  pool.put(item(2), seconds{0});
  pool.clear();
  EXPECT_EQ(pool.size(), 0u);
  EXPECT_EQ(pool.take(seconds{0}), nullptr);
}

}  // namespace
}  // namespace canary_guard::kube
