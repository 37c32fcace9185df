// GET /analysis over a real socket on 127.0.0.1: the daemon's HttpServer serving the provider's body, and the
// client side of `status --daemon` (http_get, fetch_live_analysis) against it, a server that answers garbage, one
// that never answers and a closed port. All on one io_context, as in the daemon.
#include <gtest/gtest.h>

#include <utility>  // Boost 1.74: must precede boost/asio/awaitable.hpp

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "daemon/app/analysis_json.hpp"
#include "daemon/app/http_get.hpp"
#include "daemon/app/http_server.hpp"
#include "daemon/app/status_live.hpp"

namespace cg = canary_guard;
namespace asio = boost::asio;
using namespace canary_guard::app;
using namespace std::chrono_literals;
using tcp = asio::ip::tcp;

namespace {

struct Rig {
  asio::io_context ioc{1};
  std::unique_ptr<HttpServer> server;

  explicit Rig(HttpServer::AnalysisFn fn) {
    server = std::make_unique<HttpServer>(ioc, [] { return std::string(); }, [] { return std::string(); },
                                          std::move(fn));
    auto l = server->listen("127.0.0.1:0");
    EXPECT_TRUE(l) << (l ? "" : l.error());
    asio::co_spawn(ioc, server->run(), asio::detached);
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(server->port()); }

  // Runs one client coroutine to completion, then stops the server.
  template <class T>
  T client(std::function<asio::awaitable<T>()> f) {
    T out{};
    asio::co_spawn(ioc, [&]() -> asio::awaitable<void> {
      out = co_await f();
      server->stop();
    }, asio::detached);
    ioc.run();
    return out;
  }
};

cg::guard::AnalysisSnapshot web_snapshot() {
  cg::guard::CheckSnapshot c;
  c.name = "error-ratio";
  c.last = cg::probes::Outcome::pass;
  c.value = 0.031;
  c.window = "P";
  c.passed = true;
  return {cg::guard::WorkloadKey{cg::guard::Kind::deployment, "shop", "web"}, "h2", {c}};
}

using Fetched = std::optional<cg::Expected<std::vector<LiveEntry>, std::string>>;

}  // namespace

TEST(AnalysisEndpoint, ServesTheProvidersJson) {
  Rig rig([] { return render_analysis({web_snapshot()}); });
  auto r = rig.client<std::optional<cg::Expected<HttpGetResponse, std::string>>>(
      [&]() -> asio::awaitable<std::optional<cg::Expected<HttpGetResponse, std::string>>> {
        co_return co_await http_get(rig.ioc, rig.url(), "/analysis", 2s);
      });
  ASSERT_TRUE(r && *r) << (r && !*r ? (*r).error() : "");
  EXPECT_EQ((*r)->status, 200);
  const auto j = nlohmann::json::parse((*r)->body);
  ASSERT_EQ(j.size(), 1u);
  EXPECT_EQ(j[0]["workload"], "web");
  EXPECT_DOUBLE_EQ(j[0]["checks"][0]["value"].get<double>(), 0.031);
}

TEST(AnalysisEndpoint, WithoutAnalysisItIsAnEmptyArray) {
  Rig rig({});
  auto r = rig.client<Fetched>([&]() -> asio::awaitable<Fetched> {
    co_return co_await fetch_live_analysis(rig.ioc, rig.url() + "/", 2s);
  });
  ASSERT_TRUE(r && *r) << (r && !*r ? (*r).error() : "");
  EXPECT_TRUE((*r)->empty());
}

TEST(AnalysisEndpoint, FetchReadsEntriesBack) {
  Rig rig([] { return render_analysis({web_snapshot()}); });
  auto r = rig.client<Fetched>([&]() -> asio::awaitable<Fetched> {
    co_return co_await fetch_live_analysis(rig.ioc, rig.url(), 2s);
  });
  ASSERT_TRUE(r && *r) << (r && !*r ? (*r).error() : "");
  ASSERT_EQ((*r)->size(), 1u);
  EXPECT_EQ((**r)[0].revision_hash, "h2");
  EXPECT_EQ(live_checks_column((**r)[0].checks), "error-ratio=P! last=0.031 pass");
}

TEST(AnalysisEndpoint, GarbageIsAnErrorNotACrash) {
  Rig rig([] { return std::string("<html>not json"); });
  auto r = rig.client<Fetched>([&]() -> asio::awaitable<Fetched> {
    co_return co_await fetch_live_analysis(rig.ioc, rig.url(), 2s);
  });
  ASSERT_TRUE(r);
  ASSERT_FALSE(*r);
  EXPECT_NE(r->error().find("not JSON"), std::string::npos) << r->error();
}

TEST(AnalysisEndpoint, NotFoundIsAnError) {
  Rig rig({});
  auto r = rig.client<Fetched>([&]() -> asio::awaitable<Fetched> {
    co_return co_await fetch_live_analysis(rig.ioc, rig.url() + "/prefix", 2s);
  });
  ASSERT_TRUE(r);
  ASSERT_FALSE(*r);
  EXPECT_NE(r->error().find("HTTP 404"), std::string::npos) << r->error();
}

TEST(AnalysisEndpoint, ASilentServerTimesOut) {
  asio::io_context ioc{1};
  tcp::acceptor acceptor(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  tcp::socket held(ioc);
  acceptor.async_accept(held, [](const boost::system::error_code&) {});  // accepts, never answers
  const std::string url = "http://127.0.0.1:" + std::to_string(acceptor.local_endpoint().port());
  Fetched r;
  asio::co_spawn(ioc, [&]() -> asio::awaitable<void> { r = co_await fetch_live_analysis(ioc, url, 200ms); },
                 asio::detached);
  ioc.run();
  ASSERT_TRUE(r);
  ASSERT_FALSE(*r);
  EXPECT_NE(r->error().find("timed out"), std::string::npos) << r->error();
}

TEST(AnalysisEndpoint, AClosedPortIsAnError) {
  asio::io_context ioc{1};
  unsigned short port = 0;
  {
    tcp::acceptor a(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    port = a.local_endpoint().port();
  }
  Fetched r;
  asio::co_spawn(ioc, [&]() -> asio::awaitable<void> {
    r = co_await fetch_live_analysis(ioc, "http://127.0.0.1:" + std::to_string(port), 2s);
  }, asio::detached);
  ioc.run();
  ASSERT_TRUE(r);
  EXPECT_FALSE(*r);
}

TEST(AnalysisEndpoint, BadUrls) {
  EXPECT_TRUE(check_http_base_url("http://127.0.0.1:9464"));
  EXPECT_TRUE(check_http_base_url("http://[::1]:9464/"));
  for (const char* u : {"127.0.0.1:9464", "https://127.0.0.1:9464", "http://", "http://h:x", "ftp://h"}) {
    auto r = check_http_base_url(u);
    ASSERT_FALSE(r) << u;
    EXPECT_EQ(r.error().find("prometheus"), std::string::npos) << r.error();
  }
}
