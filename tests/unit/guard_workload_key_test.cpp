#include <gtest/gtest.h>

#include "daemon/guard/workload_key.hpp"

using namespace canary_guard::guard;

TEST(WorkloadKey, RoundTripsAndRejectsAnythingElse) {
  const WorkloadKey d{Kind::deployment, "shop", "web"};
  EXPECT_EQ(d.str(), "Deployment/shop/web");
  EXPECT_EQ(WorkloadKey::parse(d.str()), d);
  const WorkloadKey ds{Kind::daemonset, "kube-system", "agent"};
  EXPECT_EQ(WorkloadKey::parse(ds.str()), ds);
  for (const char* bad : {"", "Deployment", "Deployment/shop", "Deployment//web", "Deployment/shop/", "Pod/shop/web",
                          "deployment/shop/web", "Deployment/shop/web/x"})
    EXPECT_FALSE(WorkloadKey::parse(bad)) << bad;
  EXPECT_NE(WorkloadKeyHash{}(d), WorkloadKeyHash{}(WorkloadKey{Kind::daemonset, "shop", "web"}));
}
