#include "daemon/app/http_server.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <array>
#include <charconv>

#include "daemon/app/server_tls.hpp"
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

HttpServer::HttpServer(asio::io_context& ioc, MetricsFn metrics, ReadyFn ready, AnalysisFn analysis)
    : ioc_(ioc),
      metrics_(std::move(metrics)),
      ready_(std::move(ready)),
      analysis_(std::move(analysis)),
      acceptor_(ioc) {
  router_.add("GET", "/metrics", [this](const HttpRequest&) {
    return HttpResponse{200, "text/plain; version=0.0.4", metrics_ ? metrics_() : std::string()};
  });
  router_.add("GET", "/healthz", [this](const HttpRequest&) {
    const std::string why = health_ ? health_() : std::string();
    return why.empty() ? HttpResponse{200, "text/plain", "ok\n"}
                       : HttpResponse{503, "text/plain", "unhealthy: " + why + "\n"};
  });
  router_.add("GET", "/readyz", [this](const HttpRequest&) {
    const std::string why = ready_ ? ready_() : std::string("starting");
    return why.empty() ? HttpResponse{200, "text/plain", "ready\n"}
                       : HttpResponse{503, "text/plain", "not ready: " + why + "\n"};
  });
  router_.add("GET", "/analysis", [this](const HttpRequest&) {
    return HttpResponse{200, "application/json", analysis_ ? analysis_() : std::string("[]\n")};
  });
}

HttpServer::~HttpServer() = default;

Expected<Ok, std::string> HttpServer::enable_tls(const std::string& cert_file, const std::string& key_file) {
  auto t = std::make_unique<ServerTls>(cert_file, key_file);
  if (auto l = t->load(); !l) return unexpected(l.error());
  tls_ = std::move(t);
  return Ok{};
}

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
    if (sessions_ >= kMaxConnections) {
      // Over the cap: closed at once, so a flood of idle connections cannot starve /metrics or the webhook.
      sock.close(ec);
      continue;
    }
    ++sessions_;
    asio::co_spawn(ioc_, session(std::move(sock)), [this](std::exception_ptr e) {
      --sessions_;
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
  beast::tcp_stream plain(std::move(socket));
  if (!tls_) {
    co_await serve(plain);
    co_return;
  }
  // The handshake shares the request's 10 s: a client that connects and says nothing holds a slot for 10 s at most.
  auto ctx = tls_->current();
  beast::ssl_stream<beast::tcp_stream> stream(std::move(plain), *ctx);
  beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(10));
  boost::system::error_code ec;
  co_await stream.async_handshake(asio::ssl::stream_base::server, asio::redirect_error(use_awaitable, ec));
  if (ec) {
    spdlog::debug("component=http event=tls_handshake_failed error=\"{}\"", ec.message());
    co_return;
  }
  co_await serve(stream);
  // close_notify, bounded: a peer that does not answer costs at most 2 s.
  beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(2));
  co_await stream.async_shutdown(asio::redirect_error(use_awaitable, ec));
}

template <class Stream>
asio::awaitable<void> HttpServer::serve(Stream& stream) {
  auto& lowest = beast::get_lowest_layer(stream);
  beast::flat_buffer buffer(8192);
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(kHeaderLimit);
    parser.body_limit(kMaxBodyBytes);
    lowest.expires_after(std::chrono::seconds(10));
    boost::system::error_code ec;
    co_await http::async_read(stream, buffer, parser, asio::redirect_error(use_awaitable, ec));
    http::response<http::string_body> res;
    res.set(http::field::server, "canary-guard");
    if (ec == http::error::body_limit || ec == http::error::header_limit) {
      // Refused with a status, then closed: the rest of the request is never read.
      const bool body = ec == http::error::body_limit;
      res.result(body ? http::status::payload_too_large : http::status::request_header_fields_too_large);
      res.body() = body ? "body too large\n" : "headers too large\n";
      res.set(http::field::content_type, "text/plain");
      res.keep_alive(false);
      res.prepare_payload();
      lowest.expires_after(std::chrono::seconds(2));
      co_await http::async_write(stream, res, asio::redirect_error(use_awaitable, ec));
      // Lingering close: read and drop what the client is still sending (bounded, below TLS: the bytes are not
      // decrypted), so that closing does not reset the connection before the client has read the status.
      lowest.socket().shutdown(tcp::socket::shutdown_send, ec);
      std::array<char, 16 * 1024> sink;
      std::size_t drained = 0;
      lowest.expires_after(std::chrono::seconds(2));
      while (!ec && drained < 8 * kMaxBodyBytes) {
        drained += co_await lowest.async_read_some(asio::buffer(sink), asio::redirect_error(use_awaitable, ec));
      }
      co_return;
    }
    if (ec) co_return;
    auto& req = parser.get();
    res.version(req.version());
    res.keep_alive(req.keep_alive());
    HttpRequest in;
    in.method = std::string(req.method_string());
    in.target = std::string(req.target());
    if (auto it = req.find(http::field::authorization); it != req.end()) in.authorization = std::string(it->value());
    if (auto it = req.find(http::field::content_type); it != req.end()) in.content_type = std::string(it->value());
    in.body = std::move(req.body());
    HttpResponse out = router_.route(in);
    res.result(static_cast<http::status>(out.status));
    res.set(http::field::content_type, out.content_type);
    res.body() = std::move(out.body);
    res.prepare_payload();
    if (req.method() == http::verb::head) {
      const auto n = res.body().size();
      res.body().clear();
      res.content_length(n);  // HEAD: the length a GET would send, no body
    }
    lowest.expires_after(std::chrono::seconds(10));
    co_await http::async_write(stream, res, asio::redirect_error(use_awaitable, ec));
    if (ec || !res.keep_alive()) co_return;
  }
}

}  // namespace canary_guard::app
