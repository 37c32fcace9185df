// Fuzz target: the request path of the daemon's HTTP server (daemon/app/http_server.*) up to routing. The session
// there is a coroutine on a TCP socket, with the parser set up inline, so this target reproduces its read loop:
// keep-alive requests read one after another from one byte stream by Beast's request_parser<string_body> with the
// server's limits (header 8 KiB, body 64 KiB), the bytes arriving in pieces of a size the input picks (Beast's
// test stream stands in for the socket; http::read is the blocking twin of the server's async_read).
//
// TODO(route): the main session is turning the session's if/else chain into a pure
// `route(request) -> response` function. Once it exists, include daemon/app/http_server.hpp here (and link the
// sources it needs), call it from handle() below in place of the stand-in, and take the limits from the constants it
// exports instead of kHeaderLimit/kBodyLimit. Until then tests/fuzz/check_http_limits.sh (ctest fuzz_http_limits)
// fails if the server's limits change without this file.
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

namespace {

namespace beast = boost::beast;
namespace http = beast::http;

// Keep in step with HttpServer::session (daemon/app/http_server.cpp); checked by check_http_limits.sh.
constexpr std::uint32_t kHeaderLimit = 8192;
constexpr std::uint64_t kBodyLimit = 64 * 1024;
constexpr std::size_t kBufferInitial = 8192;

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "fuzz_http_request: invariant broken: %s\n", what);
  std::abort();
}

// Stand-in for route(): what the session decides from a parsed request (method, exact target). Returns the status.
unsigned handle(const http::request<http::string_body>& req) {
  const std::string target(req.target());
  if (req.method() != http::verb::get && req.method() != http::verb::head) return 405;
  if (target == "/metrics" || target == "/healthz" || target == "/readyz" || target == "/analysis") return 200;
  return 404;
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
