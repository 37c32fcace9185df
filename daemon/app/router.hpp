#pragma once
// The daemon's HTTP routing apart from the transport: a request in, a response out (unit-tested without sockets,
// fuzzed by tests/fuzz/fuzz_http_request.cpp), and the limits the transport (HttpServer) enforces. No Asio here.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace canary_guard::app {

// Transport limits (HttpServer): headers over kHeaderLimit get 431, bodies over kMaxBodyBytes 413.
inline constexpr std::uint32_t kHeaderLimit = 8192;
inline constexpr std::uint64_t kMaxBodyBytes = 1024 * 1024;
inline constexpr int kMaxConnections = 64;

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string target;  // path and query as sent
  std::string authorization;
  std::string content_type;
  std::string body;
};
struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain";
  std::string body;
};
using Handler = std::function<HttpResponse(const HttpRequest&)>;

// Exact paths (the query is ignored for matching); HEAD is served by a GET route. Unknown path: 404; known path,
// other method: 405.
class Router {
 public:
  void add(std::string method, std::string path, Handler handler);
  HttpResponse route(const HttpRequest& request) const;

 private:
  struct Route {
    std::string method, path;
    Handler handler;
  };
  std::vector<Route> routes_;
};

}  // namespace canary_guard::app
