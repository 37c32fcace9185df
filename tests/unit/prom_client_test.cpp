// PrometheusClient against a scripted HTTP server on 127.0.0.1 (an Asio coroutine server on the same io_context):
// request shape, error classes, retries, deadlines, body bound, keep-alive and auth headers.
#include <gtest/gtest.h>

#include <utility>  // Boost 1.74: must precede boost/asio/awaitable.hpp

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <unistd.h>

#include "daemon/prom/prometheus_client.hpp"

namespace canary_guard::prom {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;
using probes::ErrorClass;
using Request = http::request<http::string_body>;

// What the scripted server does with one request.
struct Reply {
  std::string raw;     // bytes written back verbatim
  bool close = false;  // close the connection after writing
  bool hang = false;   // never answer
};

std::string http_reply(int status, std::string_view content_type, std::string_view body, bool keep_alive = true) {
  std::string r = "HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Type: " + std::string(content_type) +
                  "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  if (!keep_alive) r += "Connection: close\r\n";
  return r + "\r\n" + std::string(body);
}
std::string json_reply(int status, std::string_view body) { return http_reply(status, "application/json", body); }

constexpr std::string_view kVector =
    R"({"status":"success","data":{"resultType":"vector","result":[{"metric":{"job":"web"},"value":[1700000000.5,"0.25"]}]}})";
constexpr std::string_view kBadData = R"({"status":"error","errorType":"bad_data","error":"1:5: parse error"})";

class FakeServer {
 public:
  using Handler = std::function<Reply(const Request&)>;
  FakeServer(asio::io_context& ioc, Handler h) : acceptor_(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)),
                                                 handler_(std::move(h)) {
    asio::co_spawn(ioc, accept_loop(), asio::detached);
  }
  unsigned short port() const { return acceptor_.local_endpoint().port(); }
  std::string url(std::string_view prefix = "") const {
    return "http://127.0.0.1:" + std::to_string(port()) + std::string(prefix);
  }
  int accepts = 0;
  std::vector<Request> requests;

 private:
  asio::awaitable<void> accept_loop() {
    for (;;) {
      beast::error_code ec;
      tcp::socket s = co_await acceptor_.async_accept(asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return;
      ++accepts;
      asio::co_spawn(acceptor_.get_executor(), session(std::move(s)), asio::detached);
    }
  }
  asio::awaitable<void> session(tcp::socket s) {
    beast::flat_buffer buf;
    for (;;) {
      Request req;
      beast::error_code ec;
      co_await http::async_read(s, buf, req, asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return;
      requests.push_back(req);
      Reply r = handler_(req);
      if (r.hang) {
        asio::steady_timer t(s.get_executor());
        t.expires_after(60s);
        co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        co_return;
      }
      co_await asio::async_write(s, asio::buffer(r.raw), asio::redirect_error(asio::use_awaitable, ec));
      if (ec || r.close) {
        s.close(ec);
        co_return;
      }
    }
  }
  tcp::acceptor acceptor_;
  Handler handler_;
};

struct Recorder : QueryObserver {
  void request(std::string_view endpoint, int code, double) override { calls.emplace_back(std::string(endpoint), code); }
  std::vector<std::pair<std::string, int>> calls;
};

// Runs one coroutine to completion; stops the io_context then (the server's sessions stay suspended).
template <class T>
T run(asio::io_context& ioc, asio::awaitable<T> task) {
  std::optional<T> out;
  asio::co_spawn(
      ioc,
      [&]() -> asio::awaitable<void> {
        out.emplace(co_await std::move(task));
        ioc.stop();
      },
      asio::detached);
  ioc.restart();
  ioc.run();
  return std::move(*out);
}

std::string percent_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') out += ' ';
    else if (s[i] == '%' && i + 2 < s.size()) {
      out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else out += s[i];
  }
  return out;
}

std::map<std::string, std::string> decode_form(std::string_view body) {
  std::map<std::string, std::string> out;
  while (!body.empty()) {
    auto amp = body.find('&');
    auto pair = body.substr(0, amp);
    auto eq = pair.find('=');
    out[percent_decode(pair.substr(0, eq))] = eq == std::string_view::npos ? "" : percent_decode(pair.substr(eq + 1));
    if (amp == std::string_view::npos) break;
    body.remove_prefix(amp + 1);
  }
  return out;
}

class PromClientTest : public ::testing::Test {
 protected:
  ClientOptions options(const FakeServer& s, std::string_view prefix = "") {
    ClientOptions o;
    o.url = s.url(prefix);
    o.timeout = 200ms;
    o.backoff_initial = 10ms;
    o.backoff_max = 40ms;
    return o;
  }
  Expected<probes::QueryResult, probes::QueryError> query(PrometheusClient& c, std::string promql = "up",
                                                          std::chrono::milliseconds slot = 2s) {
    const auto deadline = std::chrono::steady_clock::now() + slot;
    return run(ioc_, c.query(std::move(promql), 1700000000.123, deadline));
  }
  std::string temp_file(const std::string& name, const std::string& content) {
    auto p = std::filesystem::temp_directory_path() / ("cg-prom-test-" + std::to_string(::getpid()) + "-" + name);
    std::ofstream(p) << content;
    files_.push_back(p);
    return p.string();
  }
  void TearDown() override {
    for (auto& f : files_) std::filesystem::remove(f);
  }
  asio::io_context ioc_;
  Recorder rec_;
  std::vector<std::filesystem::path> files_;
};

TEST_F(PromClientTest, SuccessVector) {
  FakeServer s(ioc_, [](const Request&) { return Reply{json_reply(200, kVector)}; });
  PrometheusClient c(ioc_, options(s), &rec_);
  auto r = query(c);
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->series.size(), 1u);
  EXPECT_DOUBLE_EQ(r->series[0].samples.at(0).value, 0.25);
  EXPECT_EQ(rec_.calls, (std::vector<std::pair<std::string, int>>{{"query", 200}}));
}

TEST_F(PromClientTest, PostsFormEncodedFields) {
  FakeServer s(ioc_, [](const Request&) { return Reply{json_reply(200, kVector)}; });
  PrometheusClient c(ioc_, options(s, "/prom/"), &rec_);
  const std::string promql = R"(sum(rate(http_requests_total{job="a b",code=~"5.."}[5m])) + 1 & x=y)";
  ASSERT_TRUE(query(c, promql));
  ASSERT_EQ(s.requests.size(), 1u);
  const Request& req = s.requests[0];
  EXPECT_EQ(req.method(), http::verb::post);
  EXPECT_EQ(req.target(), "/prom/api/v1/query");
  EXPECT_EQ(req[http::field::content_type], "application/x-www-form-urlencoded");
  const std::string& body = req.body();
  for (char ch : std::string_view("{}\" +"))
    EXPECT_EQ(body.find(ch), std::string::npos) << "unencoded '" << ch << "' in " << body;
  EXPECT_EQ(std::count(body.begin(), body.end(), '='), 3) << body;  // only the key=value separators
  EXPECT_EQ(std::count(body.begin(), body.end(), '&'), 2) << body;
  auto form = decode_form(body);
  EXPECT_EQ(form.size(), 3u);
  EXPECT_EQ(form["query"], promql);
  EXPECT_EQ(form["time"], "1700000000.123");
  EXPECT_EQ(form["timeout"], "0.160");  // 80 % of the 200 ms client deadline
  EXPECT_EQ(req.find(http::field::authorization), req.end());
}

TEST_F(PromClientTest, Retries503WhileStartingThenSucceeds) {
  int n = 0;
  FakeServer s(ioc_, [&](const Request&) {
    return Reply{n++ == 0 ? http_reply(503, "text/plain; charset=utf-8", "Service Unavailable") : json_reply(200, kVector)};
  });
  PrometheusClient c(ioc_, options(s), &rec_);
  auto r = query(c);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(rec_.calls, (std::vector<std::pair<std::string, int>>{{"query", 503}, {"query", 200}}));
}

TEST_F(PromClientTest, ProxyGatewayErrorsAreRetried) {
  int n = 0;
  FakeServer s(ioc_, [&](const Request&) {
    ++n;
    return Reply{n == 1 ? http_reply(502, "text/html", "<html>bad gateway</html>")
                        : n == 2 ? http_reply(504, "text/html", "<html>timeout</html>") : json_reply(200, kVector)};
  });
  PrometheusClient c(ioc_, options(s), &rec_);
  ASSERT_TRUE(query(c));
  EXPECT_EQ(n, 3);
}

TEST_F(PromClientTest, ErrorTypeTimeoutIsRetriedUntilSlotEnds) {
  FakeServer s(ioc_, [](const Request&) {
    return Reply{json_reply(503, R"({"status":"error","errorType":"timeout","error":"query timed out"})")};
  });
  PrometheusClient c(ioc_, options(s), &rec_);
  auto r = query(c, "up", 150ms);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().cls, ErrorClass::transient);
  EXPECT_EQ(r.error().type, "timeout");
  EXPECT_GE(s.requests.size(), 2u);
}

TEST_F(PromClientTest, BadDataIsConfigAndNotRetried) {
  FakeServer s(ioc_, [](const Request&) { return Reply{json_reply(400, kBadData)}; });
  PrometheusClient c(ioc_, options(s), &rec_);
  auto r = query(c, "sum(");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().cls, ErrorClass::config);
  EXPECT_EQ(r.error().type, "bad_data");
  EXPECT_EQ(s.requests.size(), 1u);
  EXPECT_EQ(rec_.calls, (std::vector<std::pair<std::string, int>>{{"query", 400}}));
}

TEST_F(PromClientTest, ExecutionIsConfigAndNotRetried) {
  FakeServer s(ioc_, [](const Request&) {
    return Reply{json_reply(422, R"({"status":"error","errorType":"execution","error":"many-to-one"})")};
  });
  PrometheusClient c(ioc_, options(s), &rec_);
  auto r = query(c);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().cls, ErrorClass::config);
  EXPECT_EQ(r.error().type, "execution");
  EXPECT_EQ(s.requests.size(), 1u);
}

TEST_F(PromClientTest, ConnectionClosedMidResponseIsTransient) {
  FakeServer s(ioc_, [](const Request&) {
    std::string full = json_reply(200, kVector);
    return Reply{full.substr(0, full.size() - 20), /*close=*/true};
  });
  PrometheusClient c(ioc_, options(s), &rec_);
  auto r = query(c, "up", 100ms);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().cls, ErrorClass::transient);
  EXPECT_EQ(r.error().type, "connection");
  ASSERT_FALSE(rec_.calls.empty());
  EXPECT_EQ(rec_.calls[0], (std::pair<std::string, int>{"query", 0}));
}

TEST_F(PromClientTest, ConnectionRefusedIsTransientConnection) {
  unsigned short port = 0;
  {
    tcp::acceptor a(ioc_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    port = a.local_endpoint().port();
  }
  ClientOptions o;
  o.url = "http://127.0.0.1:" + std::to_string(port);
  o.timeout = 200ms;
  o.backoff_initial = 10ms;
  PrometheusClient c(ioc_, o, &rec_);
  auto r = query(c, "up", 50ms);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().cls, ErrorClass::transient);
  EXPECT_EQ(r.error().type, "connection");
  ASSERT_FALSE(rec_.calls.empty());
  EXPECT_EQ(rec_.calls[0].second, 0);
}

TEST_F(PromClientTest, ServerThatNeverAnswersHitsTheDeadline) {
  FakeServer s(ioc_, [](const Request&) { return Reply{"", false, /*hang=*/true}; });
  PrometheusClient c(ioc_, options(s), &rec_);
  const auto t0 = std::chrono::steady_clock::now();
  auto r = query(c, "up", 200ms);  // the slot leaves room for exactly one attempt
  const auto elapsed = std::chrono::steady_clock::now() - t0;
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().cls, ErrorClass::transient);
  EXPECT_EQ(r.error().type, "timeout");
  EXPECT_GE(elapsed, 190ms);
  EXPECT_LT(elapsed, 200ms + 800ms);  // generous margin for a loaded machine
  EXPECT_EQ(s.requests.size(), 1u);
}

TEST_F(PromClientTest, RetriesNeverRunPastTheSlotDeadline) {
  FakeServer s(ioc_, [](const Request&) { return Reply{"", false, /*hang=*/true}; });
  auto o = options(s);
  o.timeout = 100ms;
  PrometheusClient c(ioc_, o, &rec_);
  const auto t0 = std::chrono::steady_clock::now();
  auto r = query(c, "up", 350ms);
  const auto elapsed = std::chrono::steady_clock::now() - t0;
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().type, "timeout");
  EXPECT_GE(s.requests.size(), 2u);
  EXPECT_LT(elapsed, 350ms + 800ms);
}

TEST_F(PromClientTest, BodyOverLimitIsTooLarge) {
  const std::string big = R"({"status":"success","data":{"resultType":"vector","result":[]},"pad":")" +
                          std::string(4096, 'x') + "\"}";
  FakeServer s(ioc_, [&](const Request&) { return Reply{json_reply(200, big)}; });
  auto o = options(s);
  o.max_body_bytes = 1024;
  PrometheusClient c(ioc_, o, &rec_);
  auto r = query(c);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().type, "too_large");
  EXPECT_NE(r.error().cls, ErrorClass::transient);
  EXPECT_EQ(s.requests.size(), 1u);
}

constexpr std::string_view kWarned =
    R"({"status":"success","data":{"resultType":"vector","result":[]},"warnings":["partial data: remote store unavailable"]})";

TEST_F(PromClientTest, WarningsAreAnErrorUnlessAccepted) {
  FakeServer s(ioc_, [](const Request&) { return Reply{json_reply(200, kWarned)}; });
  PrometheusClient strict(ioc_, options(s), &rec_);
  auto r = query(strict);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().cls, ErrorClass::partial);
  EXPECT_EQ(r.error().type, "partial");

  auto o = options(s);
  o.accept_warnings = true;
  PrometheusClient lenient(ioc_, o, &rec_);
  auto ok = query(lenient);
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(ok->warnings.size(), 1u);
}

TEST_F(PromClientTest, SequentialQueriesReuseOneConnection) {
  FakeServer s(ioc_, [](const Request&) { return Reply{json_reply(200, kVector)}; });
  PrometheusClient c(ioc_, options(s), &rec_);
  ASSERT_TRUE(query(c));
  ASSERT_TRUE(query(c));
  ASSERT_TRUE(query(c));
  EXPECT_EQ(s.requests.size(), 3u);
  EXPECT_EQ(s.accepts, 1);
}

TEST_F(PromClientTest, ConnectionClosedByServerWhileIdleIsReplacedTransparently) {
  // Answers as if keeping the connection alive, then closes it (an idle timeout on the server or a proxy).
  FakeServer s(ioc_, [](const Request&) { return Reply{json_reply(200, kVector), /*close=*/true}; });
  PrometheusClient c(ioc_, options(s), &rec_);
  ASSERT_TRUE(query(c));
  auto r = query(c);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(s.accepts, 2);
  EXPECT_EQ(rec_.calls, (std::vector<std::pair<std::string, int>>{{"query", 200}, {"query", 200}}));
}

TEST_F(PromClientTest, ConnectionCloseHeaderIsHonoured) {
  FakeServer s(ioc_, [](const Request&) {
    return Reply{http_reply(200, "application/json", kVector, /*keep_alive=*/false), /*close=*/true};
  });
  PrometheusClient c(ioc_, options(s), &rec_);
  ASSERT_TRUE(query(c));
  ASSERT_TRUE(query(c));
  EXPECT_EQ(s.accepts, 2);
}

TEST_F(PromClientTest, BearerTokenFromFile) {
  FakeServer s(ioc_, [](const Request&) { return Reply{json_reply(200, kVector)}; });
  auto o = options(s);
  o.bearer_token_file = temp_file("token", "  s3cr3t-token\n");
  auto v = PrometheusClient::validate(o);
  ASSERT_TRUE(v) << v.error();
  PrometheusClient c(ioc_, *v, &rec_);
  ASSERT_TRUE(query(c));
  ASSERT_EQ(s.requests.size(), 1u);
  EXPECT_EQ(s.requests[0][http::field::authorization], "Bearer s3cr3t-token");
}

TEST_F(PromClientTest, BasicAuthFromPasswordFile) {
  FakeServer s(ioc_, [](const Request&) { return Reply{json_reply(200, kVector)}; });
  auto o = options(s);
  o.basic_auth_user = "alice";
  o.basic_auth_password_file = temp_file("password", "s3cret\n");
  PrometheusClient c(ioc_, o, &rec_);
  ASSERT_TRUE(query(c));
  ASSERT_EQ(s.requests.size(), 1u);
  EXPECT_EQ(s.requests[0][http::field::authorization], "Basic YWxpY2U6czNjcmV0");  // base64("alice:s3cret")
}

TEST_F(PromClientTest, MissingTokenFileIsConfigError) {
  FakeServer s(ioc_, [](const Request&) { return Reply{json_reply(200, kVector)}; });
  auto o = options(s);
  o.bearer_token_file = "/nonexistent/cg-token";
  EXPECT_FALSE(PrometheusClient::validate(o));
  PrometheusClient c(ioc_, o, &rec_);
  auto r = query(c);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().cls, ErrorClass::config);
  EXPECT_EQ(r.error().type, "credentials");
  EXPECT_TRUE(s.requests.empty());
}

TEST_F(PromClientTest, HttpsAgainstPlainHttpServerIsTlsConfigError) {
  // The server answers the ClientHello with an HTTP error page: the TLS layer fails (wrong version number).
  tcp::acceptor raw(ioc_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  asio::co_spawn(
      ioc_,
      [&]() -> asio::awaitable<void> {
        beast::error_code ec;
        tcp::socket sock = co_await raw.async_accept(asio::redirect_error(asio::use_awaitable, ec));
        if (ec) co_return;
        static const std::string page = http_reply(400, "text/plain", "Client sent an HTTP request to an HTTPS server");
        co_await asio::async_write(sock, asio::buffer(page), asio::redirect_error(asio::use_awaitable, ec));
        asio::steady_timer t(sock.get_executor());  // keep the socket open: a close could turn into a reset
        t.expires_after(10s);
        co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      },
      asio::detached);
  ClientOptions o;
  o.url = "https://127.0.0.1:" + std::to_string(raw.local_endpoint().port());
  o.timeout = 500ms;
  PrometheusClient c(ioc_, o, &rec_);
  auto r = query(c, "up", 500ms);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().cls, ErrorClass::config) << r.error().type << ": " << r.error().message;
  EXPECT_EQ(r.error().type, "tls");
}

TEST_F(PromClientTest, ReadyAndBuildinfo) {
  FakeServer s(ioc_, [](const Request& req) {
    if (req.target() == "/-/ready") return Reply{http_reply(200, "text/plain", "Prometheus Server is Ready.\n")};
    if (req.target() == "/api/v1/status/buildinfo")
      return Reply{json_reply(200, R"({"status":"success","data":{"version":"2.42.0+ds","revision":"abc"}})")};
    return Reply{http_reply(404, "text/plain", "404 page not found")};
  });
  PrometheusClient c(ioc_, options(s), &rec_);
  EXPECT_TRUE(run(ioc_, c.ready()));
  auto v = run(ioc_, c.buildinfo());
  ASSERT_TRUE(v) << v.error().message;
  EXPECT_EQ(*v, "2.42.0+ds");
  EXPECT_EQ(s.requests.at(0).method(), http::verb::get);
  EXPECT_EQ(rec_.calls, (std::vector<std::pair<std::string, int>>{{"ready", 200}, {"buildinfo", 200}}));
}

TEST_F(PromClientTest, NotReadyWhileStarting) {
  FakeServer s(ioc_, [](const Request&) { return Reply{http_reply(503, "text/plain", "Service Unavailable")}; });
  PrometheusClient c(ioc_, options(s), &rec_);
  EXPECT_FALSE(run(ioc_, c.ready()));
  auto v = run(ioc_, c.buildinfo());
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error().cls, ErrorClass::transient);
}

TEST(PromClientValidate, UrlForms) {
  const auto ok = [](std::string url) {
    ClientOptions o;
    o.url = std::move(url);
    auto v = PrometheusClient::validate(o);
    return v ? v->url : "ERROR " + v.error();
  };
  EXPECT_EQ(ok("http://127.0.0.1:9090"), "http://127.0.0.1:9090");
  EXPECT_EQ(ok("http://prom.monitoring/prefix/"), "http://prom.monitoring:80/prefix");
  EXPECT_EQ(ok("https://[::1]:9443"), "https://[::1]:9443");
  for (const char* bad : {"", "prom:9090", "ftp://x", "http://", "http://:9090", "http://h:0", "http://h:99999",
                          "http://h:x", "http://h:9090?x=1", "http://u:p@h", "https://[::1"}) {
    ClientOptions o;
    o.url = bad;
    EXPECT_FALSE(PrometheusClient::validate(o)) << bad;
  }
  ClientOptions o;
  o.url = "http://h";
  o.timeout = 0ms;
  EXPECT_FALSE(PrometheusClient::validate(o));
  o.timeout = 1s;
  o.ca_file = "/etc/hostname";
  EXPECT_FALSE(PrometheusClient::validate(o));  // ca_file with http://
}

TEST(PromClientForm, EncodesEveryReservedByte) {
  EXPECT_EQ(form_encode({{"query", "a{b=\"c d\"}+~"}, {"t", "1.5"}}), "query=a%7Bb%3D%22c%20d%22%7D%2B~&t=1.5");
}

}  // namespace
}  // namespace canary_guard::prom
