#include "daemon/app/http_get.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <memory>

#include "daemon/prom/prometheus_client.hpp"  // parse_server_url

namespace canary_guard::app {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::redirect_error;
using asio::use_awaitable;
using tcp = asio::ip::tcp;

namespace {

Expected<prom::ServerUrl, std::string> parse_base(const std::string& url) {
  auto u = prom::parse_server_url(url);
  if (!u) {
    // parse_server_url words its errors for [prometheus] url; keep only the reason.
    std::string why = u.error();
    if (auto pos = why.find(url + ": "); pos != std::string::npos) why = why.substr(pos + url.size() + 2);
    return unexpected("bad URL " + url + ": " + why);
  }
  if (u->tls) return unexpected("bad URL " + url + ": https is not supported (the daemon serves plain HTTP)");
  return u;
}

}  // namespace

Expected<Ok, std::string> check_http_base_url(const std::string& base_url) {
  auto u = parse_base(base_url);
  if (!u) return unexpected(u.error());
  return Ok{};
}

asio::awaitable<Expected<HttpGetResponse, std::string>> http_get(asio::io_context& ioc, std::string base_url,
                                                                 std::string path, std::chrono::milliseconds timeout,
                                                                 std::size_t max_body_bytes) {
  co_return co_await http_send(ioc, "GET", std::move(base_url), std::move(path), std::string(), std::string(), {},
                               timeout, max_body_bytes);
}

asio::awaitable<Expected<HttpGetResponse, std::string>> http_send(
    asio::io_context& ioc, std::string method, std::string base_url, std::string path, std::string body,
    std::string content_type, std::vector<std::pair<std::string, std::string>> headers,
    std::chrono::milliseconds timeout, std::size_t max_body_bytes) {
  auto url = parse_base(base_url);
  if (!url) co_return unexpected(url.error());
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  beast::error_code ec;

  // Boost 1.74's resolver has no deadline of its own: a timer cancels it. Shared, since the timer's handler may
  // run after this frame has moved on.
  auto resolver = std::make_shared<tcp::resolver>(ioc);
  asio::steady_timer resolve_timer(ioc);
  resolve_timer.expires_at(deadline);
  resolve_timer.async_wait([resolver](const beast::error_code& e) {
    if (!e) resolver->cancel();
  });
  auto endpoints = co_await resolver->async_resolve(url->host, url->port, redirect_error(use_awaitable, ec));
  resolve_timer.cancel();
  if (ec == asio::error::operation_aborted) co_return unexpected("resolve " + url->host + ": timed out");
  if (ec) co_return unexpected("resolve " + url->host + ": " + ec.message());

  beast::tcp_stream stream(ioc);
  stream.expires_at(deadline);
  co_await stream.async_connect(endpoints, redirect_error(use_awaitable, ec));
  auto failed = [&](const char* step) {
    return step + std::string(": ") + (ec == beast::error::timeout ? std::string("timed out") : ec.message());
  };
  if (ec) co_return unexpected(failed("connect"));

  http::request<http::string_body> req;
  req.method_string(method);
  req.target(url->prefix + path);
  req.version(11);
  req.set(http::field::host, url->host + ":" + url->port);
  req.set(http::field::user_agent, "canary-guard");
  req.set(http::field::accept, "application/json");
  for (const auto& [name, value] : headers) req.set(name, value);
  if (!body.empty() || method != "GET") {
    if (!content_type.empty()) req.set(http::field::content_type, content_type);
    req.body() = std::move(body);
    req.prepare_payload();
  }
  req.keep_alive(false);
  stream.expires_at(deadline);
  co_await http::async_write(stream, req, redirect_error(use_awaitable, ec));
  if (ec) co_return unexpected(failed("write"));

  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.header_limit(16 * 1024);
  parser.body_limit(max_body_bytes);
  stream.expires_at(deadline);
  co_await http::async_read(stream, buffer, parser, redirect_error(use_awaitable, ec));
  if (ec == http::error::body_limit) co_return unexpected("response body over " + std::to_string(max_body_bytes) + " bytes");
  if (ec) co_return unexpected(failed("read"));
  stream.socket().shutdown(tcp::socket::shutdown_both, ec);

  HttpGetResponse out;
  out.status = static_cast<int>(parser.get().result_int());
  out.body = std::move(parser.get().body());
  co_return out;
}

}  // namespace canary_guard::app
