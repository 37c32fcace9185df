#pragma once
// The daemon's small HTTP server: /metrics (Prometheus text format), /healthz (process alive), /readyz (caches
// synced), /analysis (the live metric analysis as JSON, daemon/app/analysis_json.hpp). Runs on the io_context thread as coroutines; every read and write has a deadline and bodies are bounded.
// Owned by the daemon wiring.
#include <utility>  // Boost 1.74: must precede boost/asio/awaitable.hpp

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <functional>
#include <memory>
#include <string>

#include <prometheus/registry.h>

#include "config/expected.hpp"

namespace canary_guard::app {

class HttpServer {
 public:
  // Empty when ready; otherwise why not (the body of a 503 from /readyz).
  using ReadyFn = std::function<std::string()>;
  // The body of GET /analysis; empty (no metric analysis configured): "[]".
  using AnalysisFn = std::function<std::string()>;
  HttpServer(boost::asio::io_context& ioc, std::shared_ptr<prometheus::Registry> registry, ReadyFn ready,
             AnalysisFn analysis = {});
  // Binds (port 0 picks a free one). Start-up error: returned, the caller exits non-zero.
  Expected<Ok, std::string> listen(const std::string& host_port);
  unsigned short port() const;
  boost::asio::awaitable<void> run();
  void stop();

 private:
  boost::asio::awaitable<void> session(boost::asio::ip::tcp::socket socket);
  boost::asio::io_context& ioc_;
  std::shared_ptr<prometheus::Registry> registry_;
  ReadyFn ready_;
  AnalysisFn analysis_;
  boost::asio::ip::tcp::acceptor acceptor_;
};

// "127.0.0.1:9464", "[::1]:9464", ":9464" -> endpoint; error text otherwise.
Expected<boost::asio::ip::tcp::endpoint, std::string> parse_endpoint(const std::string& host_port);

}  // namespace canary_guard::app
