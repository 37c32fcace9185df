// The alert re-check against the sandbox's real Alertmanager (scripts/sandbox up; eval "$(scripts/sandbox env)").
// Alertmanager answers 503 to GETs beyond --web.get-concurrency (GOMAXPROCS, at least 8) running at once, so ten
// alerts of one rule rolling ten Deployments back together used to hold two of them for a 2 s retry (alert_latency
// bench, 2026-12-07: p99 2,070 ms). Re-checks asked together share one GET now. Skips when the sandbox is absent.
#include <gtest/gtest.h>

#include <utility>  // Boost 1.74: must precede boost/asio/awaitable.hpp

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <nlohmann/json.hpp>

#include <random>
#include <string>
#include <vector>

#include "daemon/app/alertmanager_client.hpp"
#include "daemon/app/http_get.hpp"
#include "tests/integration/it_support.hpp"

namespace canary_guard::app {
namespace {

using it::env;
using it::run;
using json = nlohmann::json;

class AlertRecheckIT : public ::testing::Test {
 protected:
  void SetUp() override {
    url_ = env("ALERTMANAGER_URL");
    if (url_.empty()) GTEST_SKIP() << "sandbox not running: run scripts/sandbox up and eval \"$(scripts/sandbox env)\"";
    suffix_ = std::to_string(std::random_device{}() % 1000000);
  }
  // Posts one firing alert and waits until Alertmanager lists it as active; returns its fingerprint.
  std::string fire(const std::string& alertname, const std::string& ns) {
    const json body = json::array({{{"labels", {{"alertname", alertname}, {"namespace", ns}, {"severity", "page"}}}}});
    auto posted = run(ioc_, http_send(ioc_, "POST", url_, "/api/v2/alerts", body.dump(), "application/json", {},
                                      std::chrono::seconds{5}));
    EXPECT_TRUE(posted && posted->status == 200) << (posted ? posted->body : posted.error());
    const std::string path = "/api/v2/alerts?filter=" + matcher_query("alertname", alertname);
    for (int i = 0; i < 100; ++i) {
      auto r = run(ioc_, http_get(ioc_, url_, path, std::chrono::seconds{5}));
      if (r && r->status == 200) {
        auto j = json::parse(r->body, nullptr, false);
        if (j.is_array() && j.size() == 1 && j[0].value("/status/state"_json_pointer, "") == "active")
          return j[0].value("fingerprint", "");
      }
      boost::asio::steady_timer t(ioc_, std::chrono::milliseconds{50});
      t.wait();
    }
    ADD_FAILURE() << "Alertmanager never listed " << alertname << " as active";
    return "";
  }
  boost::asio::io_context ioc_;
  std::string url_, suffix_;
};

TEST_F(AlertRecheckIT, ThirtyRechecksAtOnceAreAllConfirmedInOneOrTwoGets) {
  const std::string name = "RecheckBurst" + suffix_, ns = "cg-recheck-it-" + suffix_;
  const std::string fp = fire(name, ns);
  ASSERT_FALSE(fp.empty());
  AlertmanagerClient client(ioc_, url_);
  std::vector<guard::AlertCheck> got;
  for (int i = 0; i < 30; ++i)
    boost::asio::co_spawn(
        ioc_,
        [&]() -> boost::asio::awaitable<void> { got.push_back(co_await client.check(fp, name, ns)); },
        boost::asio::detached);
  ioc_.restart();
  ioc_.run();
  ASSERT_EQ(got.size(), 30u);
  for (const auto& c : got) EXPECT_EQ(c.status, guard::AlertStatus::active) << c.detail;
  EXPECT_LE(client.recheck_gets(), 2u);
}

TEST_F(AlertRecheckIT, DifferentAlertsAtOnceAreEachAnsweredForThemselves) {
  const std::string ns = "cg-recheck-it-" + suffix_;
  std::vector<std::string> names, fps;
  for (int i = 0; i < 12; ++i) {
    names.push_back("RecheckMany" + std::to_string(i) + "x" + suffix_);
    fps.push_back(fire(names.back(), ns));
    ASSERT_FALSE(fps.back().empty());
  }
  AlertmanagerClient client(ioc_, url_);
  std::vector<guard::AlertCheck> got(12);
  for (int i = 0; i < 12; ++i)
    boost::asio::co_spawn(
        ioc_,
        [&, i]() -> boost::asio::awaitable<void> { got[i] = co_await client.check(fps[i], names[i], ns); },
        boost::asio::detached);
  ioc_.restart();
  ioc_.run();
  for (int i = 0; i < 12; ++i) EXPECT_EQ(got[i].status, guard::AlertStatus::active) << names[i] << ": " << got[i].detail;
  // And an alert that is not there is gone, not confused with another one's answer.
  auto absent = run(ioc_, client.check("0000000000000000", names[0], ns));
  EXPECT_EQ(absent.status, guard::AlertStatus::gone) << absent.detail;
}

}  // namespace
}  // namespace canary_guard::app
