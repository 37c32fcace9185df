// Fuzz target: the request path of the daemon's HTTP server: its read loop (keep-alive requests read one after
// another from one byte stream by Beast's request_parser<string_body> with the server's own limits from
// daemon/app/router.hpp, the bytes arriving in pieces of a size the input picks; Beast's test stream stands in for
// the socket, http::read is the blocking twin of the server's async_read), then the daemon's Router
// (daemon/app/router.*) with the daemon's route table.
//
// Input layout: byte 0 picks the read size (1..128 bytes per read); the rest is what the client sent.
#include <utility>  // Boost 1.74: must precede boost/asio headers that use awaitable

#include <boost/asio/io_context.hpp>
#include <boost/beast/_experimental/test/stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "daemon/app/router.hpp"

namespace {

namespace beast = boost::beast;
namespace http = beast::http;

constexpr std::uint32_t kHeaderLimit = canary_guard::app::kHeaderLimit;
constexpr std::uint64_t kBodyLimit = canary_guard::app::kMaxBodyBytes;
constexpr std::size_t kBufferInitial = 8192;

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "fuzz_http_request: invariant broken: %s\n", what);
  std::abort();
}

// The daemon's route table (handlers stand in for the bodies), and the request as HttpServer hands it over.
const canary_guard::app::Router& router() {
  static const canary_guard::app::Router r = [] {
    canary_guard::app::Router x;
    auto ok = [](const canary_guard::app::HttpRequest& q) {
      return canary_guard::app::HttpResponse{200, "text/plain", q.target};
    };
    for (const char* p : {"/metrics", "/healthz", "/readyz", "/analysis"}) x.add("GET", p, ok);
    x.add("POST", "/v1/alertmanager", ok);
    return x;
  }();
  return r;
}

unsigned handle(const http::request<http::string_body>& req) {
  canary_guard::app::HttpRequest in;
  in.method = std::string(req.method_string());
  in.target = std::string(req.target());
  in.body = req.body();
  const auto out = router().route(in);
  if (out.status != 200 && out.status != 404 && out.status != 405) fail("route answered an unexpected status");
  return static_cast<unsigned>(out.status);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::size_t read_size = 1 + (data[0] & 0x7f);
  const std::string_view sent(reinterpret_cast<const char*>(data) + 1, size - 1);

  boost::asio::io_context ioc;
  beast::test::stream client(ioc), server(ioc);
  server.connect(client);
  server.read_size(read_size);
  client.write_some(boost::asio::buffer(sent.data(), sent.size()));
  client.close();  // the peer half-closes after sending: the server sees end of stream after the bytes

  beast::flat_buffer buffer(kBufferInitial);
  // At most as many requests as a keep-alive connection could carry in this many bytes (each needs >= 16 bytes).
  for (std::size_t n = 0; n <= sent.size() / 16 + 1; ++n) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(kHeaderLimit);
    parser.body_limit(kBodyLimit);
    beast::error_code ec;
    http::read(server, buffer, parser, ec);
    if (ec) return 0;  // the session closes the connection on any read error
    const auto& req = parser.get();
    if (req.body().size() > kBodyLimit) fail("body over the limit accepted");
    if (!parser.is_done()) fail("read returned without a complete message");
    (void)handle(req);
    if (!req.keep_alive()) return 0;
  }
  return 0;
}
