#pragma once
// The daemon's small HTTP server: /metrics (Prometheus text format), /healthz (process alive), /readyz (caches
// synced), /analysis (the live metric analysis as JSON, daemon/app/analysis_json.hpp), and routes the wiring adds
// (POST /v1/alertmanager). Routing (Router: a function from request to response, unit-tested without sockets) is
// apart from the transport (HttpServer: coroutines on the io_context thread). Limits: headers 8 KiB (431), bodies
// 1 MiB (413), 10 s per request read (headers and body together, so a client trickling bytes is cut off at 10 s)
// and per write, at most kMaxConnections connections at once (more are closed at once). TLS when enable_tls() was
// called ([server] cert_file / key_file, server_tls.hpp): the same routes, nothing served in the clear.
// Owned by the daemon wiring.
#include <utility>  // Boost 1.74: must precede boost/asio/awaitable.hpp

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "config/expected.hpp"
#include "daemon/app/router.hpp"

namespace canary_guard::app {

class ServerTls;

class HttpServer {
 public:
  // Empty when ready; otherwise why not (the body of a 503 from /readyz).
  using ReadyFn = std::function<std::string()>;
  // The body of GET /analysis; empty (no metric analysis configured): "[]".
  using AnalysisFn = std::function<std::string()>;
  // The body of GET /metrics (Metrics::render): the text exposition format.
  using MetricsFn = std::function<std::string()>;
  HttpServer(boost::asio::io_context& ioc, MetricsFn metrics, ReadyFn ready, AnalysisFn analysis = {});
  ~HttpServer();
  // Binds (port 0 picks a free one). Start-up error: returned, the caller exits non-zero.
  Expected<Ok, std::string> listen(const std::string& host_port);
  // Serve TLS only; the files are loaded now (the error names the file) and re-read when they change.
  Expected<Ok, std::string> enable_tls(const std::string& cert_file, const std::string& key_file);
  bool tls() const { return tls_ != nullptr; }
  unsigned short port() const;
  boost::asio::awaitable<void> run();
  void stop();
  Router& router() { return router_; }
  // /healthz: empty when healthy, else why not (503). Default: always healthy (the process answers).
  void set_health(std::function<std::string()> health) { health_ = std::move(health); }
  static constexpr int kMaxConnections = app::kMaxConnections;
  static constexpr std::uint64_t kMaxBodyBytes = app::kMaxBodyBytes;

 private:
  boost::asio::awaitable<void> session(boost::asio::ip::tcp::socket socket);
  template <class Stream>
  boost::asio::awaitable<void> serve(Stream& stream);
  boost::asio::io_context& ioc_;
  MetricsFn metrics_;
  ReadyFn ready_;
  AnalysisFn analysis_;
  boost::asio::ip::tcp::acceptor acceptor_;
  Router router_;
  std::function<std::string()> health_;
  int sessions_ = 0;
  std::unique_ptr<ServerTls> tls_;
};

// "127.0.0.1:9464", "[::1]:9464", ":9464" -> endpoint; error text otherwise.
Expected<boost::asio::ip::tcp::endpoint, std::string> parse_endpoint(const std::string& host_port);

}  // namespace canary_guard::app
