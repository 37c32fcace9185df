#include "daemon/app/http_server.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <charconv>
#include <sstream>

#include <prometheus/text_serializer.h>
#include <spdlog/spdlog.h>

namespace canary_guard::app {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::use_awaitable;
using tcp = asio::ip::tcp;

Expected<tcp::endpoint, std::string> parse_endpoint(const std::string& hp) {
  std::string host, port;
  if (!hp.empty() && hp.front() == '[') {
    auto close = hp.find(']');
    if (close == std::string::npos || close + 1 >= hp.size() || hp[close + 1] != ':')
      return unexpected("invalid listen address '" + hp + "': expected [v6-address]:port");
    host = hp.substr(1, close - 1);
    port = hp.substr(close + 2);
  } else {
    auto colon = hp.rfind(':');
    if (colon == std::string::npos) return unexpected("invalid listen address '" + hp + "': expected host:port");
    host = hp.substr(0, colon);
    port = hp.substr(colon + 1);
  }
  unsigned p = 0;
  auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
  if (ec != std::errc{} || ptr != port.data() + port.size() || p > 65535)
    return unexpected("invalid port in listen address '" + hp + "'");
  if (host.empty()) host = "0.0.0.0";
  boost::system::error_code err;
  auto addr = asio::ip::make_address(host, err);
  if (err) return unexpected("invalid host in listen address '" + hp + "': " + err.message());
  return tcp::endpoint(addr, static_cast<unsigned short>(p));
}

HttpServer::HttpServer(asio::io_context& ioc, std::shared_ptr<prometheus::Registry> registry, ReadyFn ready,
                       AnalysisFn analysis)
    : ioc_(ioc),
      registry_(std::move(registry)),
      ready_(std::move(ready)),
      analysis_(std::move(analysis)),
      acceptor_(ioc) {}

Expected<Ok, std::string> HttpServer::listen(const std::string& hp) {
  auto ep = parse_endpoint(hp);
  if (!ep) return unexpected(ep.error());
  boost::system::error_code ec;
  acceptor_.open(ep->protocol(), ec);
  if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(*ep, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return unexpected("cannot listen on " + hp + ": " + ec.message());
  return Ok{};
}

unsigned short HttpServer::port() const {
  boost::system::error_code ec;
  return acceptor_.local_endpoint(ec).port();
}

void HttpServer::stop() {
  boost::system::error_code ec;
  acceptor_.close(ec);
}

asio::awaitable<void> HttpServer::run() {
  for (;;) {
    boost::system::error_code ec;
    tcp::socket sock(ioc_);
    co_await acceptor_.async_accept(sock, asio::redirect_error(use_awaitable, ec));
    if (ec == asio::error::operation_aborted || !acceptor_.is_open()) co_return;
    if (ec) continue;
    asio::co_spawn(ioc_, session(std::move(sock)), [](std::exception_ptr e) {
      if (e) {
        try {
          std::rethrow_exception(e);
        } catch (const std::exception& ex) {
          spdlog::warn("component=http event=session_error error=\"{}\"", ex.what());
        }
      }
    });
  }
}

asio::awaitable<void> HttpServer::session(tcp::socket socket) {
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer(8192);
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(8192);
    parser.body_limit(64 * 1024);
    stream.expires_after(std::chrono::seconds(10));
    boost::system::error_code ec;
    co_await http::async_read(stream, buffer, parser, asio::redirect_error(use_awaitable, ec));
    if (ec) co_return;
    auto& req = parser.get();
    http::response<http::string_body> res;
    res.version(req.version());
    res.keep_alive(req.keep_alive());
    res.set(http::field::server, "canary-guard");
    std::string target(req.target());
    if (req.method() != http::verb::get && req.method() != http::verb::head) {
      res.result(http::status::method_not_allowed);
      res.body() = "method not allowed\n";
    } else if (target == "/metrics") {
      std::ostringstream out;
      prometheus::TextSerializer{}.Serialize(out, registry_->Collect());
      res.result(http::status::ok);
      res.set(http::field::content_type, "text/plain; version=0.0.4");
      res.body() = out.str();
    } else if (target == "/healthz") {
      res.result(http::status::ok);
      res.body() = "ok\n";
    } else if (target == "/readyz") {
      const std::string why = ready_ ? ready_() : std::string("starting");
      res.result(why.empty() ? http::status::ok : http::status::service_unavailable);
      res.body() = why.empty() ? "ready\n" : "not ready: " + why + "\n";
    } else if (target == "/analysis") {
      res.result(http::status::ok);
      res.set(http::field::content_type, "application/json");
      res.body() = analysis_ ? analysis_() : std::string("[]\n");
    } else {
      res.result(http::status::not_found);
      res.body() = "not found\n";
    }
    if (res.find(http::field::content_type) == res.end()) res.set(http::field::content_type, "text/plain");
    res.prepare_payload();
    stream.expires_after(std::chrono::seconds(10));
    co_await http::async_write(stream, res, asio::redirect_error(use_awaitable, ec));
    if (ec || !res.keep_alive()) co_return;
  }
}

}  // namespace canary_guard::app
