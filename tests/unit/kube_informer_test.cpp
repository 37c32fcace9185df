#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include "daemon/kube/informer.hpp"

namespace canary_guard::kube {
namespace {

using probes::DeploymentView;

std::string event(const char* type, const char* ns, const char* name, const char* rv, int replicas = 1) {
  nlohmann::json j = {{"type", type},
                      {"object",
                       {{"metadata", {{"namespace", ns}, {"name", name}, {"resourceVersion", rv}}},
                        {"spec", {{"replicas", replicas}}}}}};
  return j.dump();
}

DeploymentView view(const char* ns, const char* name, const char* rv) {
  DeploymentView v;
  v.meta.ns = ns;
  v.meta.name = name;
  v.meta.resource_version = rv;
  return v;
}

class InformerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Credentials c;
    c.server = "https://127.0.0.1:1";
    c.insecure_skip_tls_verify = true;
    auto made = Client::make(ioc_, c);
    ASSERT_TRUE(made) << made.error();
    client_ = std::move(*made);
    InformerOptions opts;
    opts.path = paths::deployments();
    inf_ = std::make_unique<Informer<DeploymentView>>(*client_, opts);
    inf_->on_add([this](const std::string& k, const DeploymentView* v) { log_.push_back("add " + k + " " + v->meta.resource_version); });
    inf_->on_update([this](const std::string& k, const DeploymentView* v) { log_.push_back("update " + k + " " + v->meta.resource_version); });
    inf_->on_delete([this](const std::string& k, const DeploymentView* v) { log_.push_back("delete " + k + " " + v->meta.resource_version); });
  }
  boost::asio::io_context ioc_;
  std::unique_ptr<Client> client_;
  std::unique_ptr<Informer<DeploymentView>> inf_;
  std::vector<std::string> log_;
};

TEST_F(InformerTest, WatchEventsUpdateCacheAndRv) {
  EXPECT_FALSE(inf_->has_synced());
  inf_->replace({}, "10");
  EXPECT_TRUE(inf_->has_synced());
  ASSERT_TRUE(inf_->apply_line(event("ADDED", "shop", "web", "11", 3)));
  ASSERT_TRUE(inf_->apply_line(event("MODIFIED", "shop", "web", "12", 4)));
  ASSERT_TRUE(inf_->apply_line(R"({"type":"BOOKMARK","object":{"metadata":{"resourceVersion":"15"}}})"));
  EXPECT_EQ(inf_->resource_version(), "15");
  ASSERT_NE(inf_->find("shop/web"), nullptr);
  EXPECT_EQ(inf_->find("shop/web")->spec_replicas, 4);
  ASSERT_TRUE(inf_->apply_line(event("DELETED", "shop", "web", "16")));
  EXPECT_EQ(inf_->find("shop/web"), nullptr);
  EXPECT_EQ(inf_->resource_version(), "16");
  EXPECT_EQ(log_, (std::vector<std::string>{"add shop/web 11", "update shop/web 12", "delete shop/web 16"}));
}

TEST_F(InformerTest, ErrorEventIsReturnedGoneMeansRelist) {
  auto r = inf_->apply_line(
      R"({"type":"ERROR","object":{"kind":"Status","status":"Failure","reason":"Expired","code":410,"message":"too old"}})");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::gone);
}

TEST_F(InformerTest, UndecodableLinesEndTheWatchForARelist) {
  // Skipping a line would leave the cache wrong about that object; the caller ends the watch and relists.
  for (const char* line : {"garbage", R"({"type":"ADDED","object":{"metadata":{"name":"x"},"spec":{"replicas":"no"}}})"}) {
    auto r = inf_->apply_line(line);
    ASSERT_FALSE(r) << line;
    EXPECT_EQ(r.error().kind, ErrorKind::bad_data) << line;
  }
  EXPECT_EQ(inf_->stats().decode_errors, 2u);
  EXPECT_TRUE(inf_->cache().empty());
  EXPECT_TRUE(log_.empty());
}

TEST_F(InformerTest, AnIncompleteRelistNeverReportsAnObjectDeleted) {
  inf_->replace({view("a", "keep", "1"), view("a", "unreadable", "1")}, "5");
  log_.clear();
  // "unreadable" did not project in this relist: it is missing from the items, but not gone.
  inf_->replace({view("a", "keep", "2")}, "9", /*complete=*/false);
  EXPECT_EQ(log_, (std::vector<std::string>{"update a/keep 2"}));
  ASSERT_NE(inf_->find("a/unreadable"), nullptr);
  EXPECT_EQ(inf_->resource_version(), "9");
  // A complete relist without it: now it is gone.
  log_.clear();
  inf_->replace({view("a", "keep", "2")}, "10");
  EXPECT_EQ(log_, (std::vector<std::string>{"delete a/unreadable 1"}));
}

TEST_F(InformerTest, RelistDiffsAgainstCache) {
  inf_->replace({view("a", "keep", "1"), view("a", "change", "1"), view("a", "gone", "1")}, "5");
  log_.clear();
  inf_->replace({view("a", "keep", "1"), view("a", "change", "2"), view("b", "new", "3")}, "9");
  std::sort(log_.begin(), log_.end());
  EXPECT_EQ(log_, (std::vector<std::string>{"add b/new 3", "delete a/gone 1", "update a/change 2"}));
  EXPECT_EQ(inf_->cache().size(), 3u);
  EXPECT_EQ(inf_->resource_version(), "9");
}

TEST(Backoff, DoublesWithJitterAndCaps) {
  std::mt19937 rng(1);
  Backoff b(std::chrono::milliseconds{500}, std::chrono::milliseconds{30'000});
  std::chrono::milliseconds ceiling{500};
  for (int i = 0; i < 10; ++i) {
    auto d = b.next(rng);
    EXPECT_LE(d, ceiling);
    EXPECT_GE(d, ceiling * 8 / 10);
    ceiling = std::min(ceiling * 2, std::chrono::milliseconds{30'000});
  }
  b.reset();
  EXPECT_EQ(b.peek(), std::chrono::milliseconds{500});
}

}  // namespace
}  // namespace canary_guard::kube

namespace canary_guard::kube {
namespace {

TEST(InformerLiveness, ListedThenSilentPastTheBound) {
  boost::asio::io_context ioc;
  Credentials c;
  c.server = "https://127.0.0.1:1";
  c.insecure_skip_tls_verify = true;
  auto client = Client::make(ioc, c);
  ASSERT_TRUE(client) << client.error();
  ManualClock clock;
  InformerOptions opts;
  opts.path = paths::deployments();
  opts.clock = &clock;
  Informer<probes::DeploymentView> inf(**client, opts);
  EXPECT_FALSE(inf.live());
  EXPECT_EQ(inf.why_not_live(), "not listed yet");
  inf.replace({}, "10");
  EXPECT_TRUE(inf.live());
  clock.advance(std::chrono::seconds{60});
  EXPECT_TRUE(inf.live());
  clock.advance(std::chrono::milliseconds{1});
  EXPECT_FALSE(inf.live());
  EXPECT_NE(inf.why_not_live().find("no sign of life"), std::string::npos);
  inf.replace({}, "11");  // a relist is a sign of life
  EXPECT_TRUE(inf.live());
}

TEST(RelistPlan, AsksWhatTheWatchCacheCanServeAndReadsFromEtcdOnlyWhenNeeded) {
  struct Case {
    const char* name;
    std::string last_rv;
    bool need_consistent, too_large;
    std::string rv, match;
    int limit;
  };
  const std::vector<Case> cases = {
      {"first list: any cached state, one response", "", false, false, "0", "", 0},
      {"relist: not older than what we had", "123", false, false, "123", "NotOlderThan", 0},
      {"after 410 or a disagreeing fresh read: consistent, paged", "123", true, false, "", "", 500},
      {"first list that must be consistent", "", true, false, "", "", 500},
      {"the cache's one response was over the cap: paged from now on", "123", false, true, "", "", 500},
      {"over the cap at the first list too", "", false, true, "", "", 500},
  };
  for (const auto& c : cases) {
    const RelistRequest r = plan_relist(c.last_rv, c.need_consistent, c.too_large, 500);
    EXPECT_EQ(r.resource_version, c.rv) << c.name;
    EXPECT_EQ(r.resource_version_match, c.match) << c.name;
    EXPECT_EQ(r.page_limit, c.limit) << c.name;
    EXPECT_EQ(r.from_cache(), !c.rv.empty()) << c.name;
    // What goes on the wire: no limit with a cache read (apiserver 1.20 would send RV=N with a limit to etcd).
    ListOptions lo;
    lo.resource_version = r.resource_version;
    lo.resource_version_match = r.resource_version_match;
    lo.limit = r.page_limit;
    const std::string t = list_target("/api/v1/pods", lo);
    EXPECT_EQ(t.find("limit=") != std::string::npos, !r.from_cache()) << c.name << ": " << t;
  }
}

}  // namespace
}  // namespace canary_guard::kube
