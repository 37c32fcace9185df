#pragma once
// A one-shot plain-HTTP GET with one deadline over resolve, connect, write and read, and a bounded body: for a CLI
// command asking a running canary-guard daemon (`status --daemon`). No pool, no retries, no TLS: the daemon's own
// server speaks plain HTTP on a local address. (prom::PrometheusClient has no generic GET, and its retries and
// error classes are for the query API.)
#include <utility>  // Boost 1.74: must precede boost/asio/awaitable.hpp

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "config/expected.hpp"

namespace canary_guard::app {

struct HttpGetResponse {
  int status = 0;
  std::string body;
};

// Checks `base_url` is http://host[:port][/prefix] (no TLS); the error text says why not.
Expected<Ok, std::string> check_http_base_url(const std::string& base_url);

// GET base_url + path (path starts with '/'). Any failure (bad URL, resolve, connect, timeout, a body over
// max_body_bytes, a malformed response) is an error text; never throws for what comes from the network.
boost::asio::awaitable<Expected<HttpGetResponse, std::string>> http_get(boost::asio::io_context& ioc,
                                                                        std::string base_url, std::string path,
                                                                        std::chrono::milliseconds timeout,
                                                                        std::size_t max_body_bytes = 1024 * 1024);

// The same with a method and a body (POST a JSON document to Alertmanager or a notification receiver). `headers`
// are extra "Name: value" pairs (an Authorization header, never logged).
boost::asio::awaitable<Expected<HttpGetResponse, std::string>> http_send(
    boost::asio::io_context& ioc, std::string method, std::string base_url, std::string path, std::string body,
    std::string content_type, std::vector<std::pair<std::string, std::string>> headers,
    std::chrono::milliseconds timeout, std::size_t max_body_bytes = 1024 * 1024);

}  // namespace canary_guard::app
