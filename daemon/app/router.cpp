#include "daemon/app/router.hpp"

#include <string_view>

namespace canary_guard::app {

void Router::add(std::string method, std::string path, Handler handler) {
  routes_.push_back(Route{std::move(method), std::move(path), std::move(handler)});
}

HttpResponse Router::route(const HttpRequest& req) const {
  const std::string_view target(req.target);
  const std::string_view path = target.substr(0, target.find('?'));
  bool path_known = false;
  for (const auto& r : routes_) {
    if (r.path != path) continue;
    path_known = true;
    if (r.method == req.method || (req.method == "HEAD" && r.method == "GET")) return r.handler(req);
  }
  if (path_known) return HttpResponse{405, "text/plain", "method not allowed\n"};
  return HttpResponse{404, "text/plain", "not found\n"};
}

}  // namespace canary_guard::app
