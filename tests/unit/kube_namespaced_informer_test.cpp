#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include <algorithm>

#include "daemon/kube/namespaced_informer.hpp"

namespace canary_guard::kube {
namespace {

using probes::DeploymentView;

DeploymentView view(const char* ns, const char* name, const char* rv) {
  DeploymentView v;
  v.meta.ns = ns;
  v.meta.name = name;
  v.meta.resource_version = rv;
  return v;
}

class NamespacedInformerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Credentials c;
    c.server = "https://127.0.0.1:1";
    c.insecure_skip_tls_verify = true;
    auto made = Client::make(ioc_, c);
    ASSERT_TRUE(made) << made.error();
    client_ = std::move(*made);
  }
  boost::asio::io_context ioc_;
  std::unique_ptr<Client> client_;
};

TEST_F(NamespacedInformerTest, NoNamespacesIsOneClusterWideListAndWatch) {
  NamespacedInformer<DeploymentView> inf(*client_, &paths::deployments, {});
  auto parts = inf.parts();
  ASSERT_EQ(parts.size(), 1u);
  EXPECT_EQ(parts[0]->path(), "/apis/apps/v1/deployments");
  parts[0]->replace({view("a", "x", "1"), view("b", "y", "2")}, "5");
  EXPECT_TRUE(inf.has_synced());
  ASSERT_NE(inf.find("a/x"), nullptr);
  ASSERT_NE(inf.find("b/y"), nullptr);
  EXPECT_EQ(inf.size(), 2u);
}

TEST_F(NamespacedInformerTest, NamespacesAreOneListAndWatchEachNeverClusterWide) {
  NamespacedInformer<DeploymentView> inf(*client_, &paths::pods, {"shop", "blog", "shop"});
  auto parts = inf.parts();
  ASSERT_EQ(parts.size(), 2u);  // "shop" once
  EXPECT_EQ(parts[0]->path(), "/api/v1/namespaces/shop/pods");
  EXPECT_EQ(parts[1]->path(), "/api/v1/namespaces/blog/pods");
}

TEST_F(NamespacedInformerTest, SyncedAndLiveOnlyWhenEveryNamespaceIsAndNamesTheOneThatIsNot) {
  NamespacedInformer<DeploymentView> inf(*client_, &paths::deployments, {"shop", "blog"});
  auto parts = inf.parts();
  EXPECT_FALSE(inf.has_synced());
  parts[0]->replace({view("shop", "web", "1")}, "5");
  EXPECT_FALSE(inf.has_synced());
  EXPECT_FALSE(inf.live());
  EXPECT_EQ(inf.why_not_live(), "namespace blog: not listed yet");
  parts[1]->replace({view("blog", "web", "2")}, "6");
  EXPECT_TRUE(inf.has_synced());
  EXPECT_TRUE(inf.live());
  EXPECT_EQ(inf.why_not_live(), "");
}

TEST_F(NamespacedInformerTest, FindRoutesByNamespaceAndForEachSeesEveryPart) {
  NamespacedInformer<DeploymentView> inf(*client_, &paths::deployments, {"shop", "blog"});
  std::vector<std::string> added;
  inf.on_add([&](const std::string& k, const DeploymentView*) { added.push_back(k); });
  auto parts = inf.parts();
  parts[0]->replace({view("shop", "web", "1")}, "5");
  parts[1]->replace({view("blog", "web", "2"), view("blog", "api", "3")}, "6");
  std::sort(added.begin(), added.end());
  EXPECT_EQ(added, (std::vector<std::string>{"blog/api", "blog/web", "shop/web"}));  // handlers reach every part
  ASSERT_NE(inf.find("shop/web"), nullptr);
  EXPECT_EQ(inf.find("shop/web")->meta.resource_version, "1");
  ASSERT_NE(inf.find("blog/web"), nullptr);
  EXPECT_EQ(inf.find("blog/web")->meta.resource_version, "2");
  EXPECT_EQ(inf.find("other/web"), nullptr);  // a namespace not selected
  EXPECT_EQ(inf.find("shop/api"), nullptr);
  EXPECT_EQ(inf.size(), 3u);
  std::size_t seen = 0;
  inf.for_each([&](const std::string&, const DeploymentView&) { ++seen; });
  EXPECT_EQ(seen, 3u);
}

}  // namespace
}  // namespace canary_guard::kube
