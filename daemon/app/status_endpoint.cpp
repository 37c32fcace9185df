#include "daemon/app/status_endpoint.hpp"

#include <sstream>

#include "daemon/app/analysis_json.hpp"
#include "daemon/app/status.hpp"
#include "daemon/app/status_live.hpp"
#include "daemon/guard/analyzer.hpp"
#include "daemon/guard/controller.hpp"

namespace canary_guard::app {

namespace {

bool dns_label(std::string_view s) {
  if (s.empty() || s.size() > 63 || s.front() == '-' || s.back() == '-') return false;
  for (char ch : s)
    if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-')) return false;
  return true;
}

template <class Informer, class View>
void add_from(const Informer& informer, const std::string& ns, std::vector<const View*>& out) {
  informer.for_each([&](const std::string&, const View& v) {
    if (ns.empty() || v.meta.ns == ns) out.push_back(&v);
  });
}

}  // namespace

std::string query_value(std::string_view target, std::string_view key) {
  const auto q = target.find('?');
  if (q == std::string_view::npos) return {};
  std::string_view rest = target.substr(q + 1);
  while (!rest.empty()) {
    const auto amp = rest.find('&');
    const std::string_view pair = rest.substr(0, amp);
    const auto eq = pair.find('=');
    if (pair.substr(0, eq) == key) return eq == std::string_view::npos ? std::string() : std::string(pair.substr(eq + 1));
    if (amp == std::string_view::npos) break;
    rest.remove_prefix(amp + 1);
  }
  return {};
}

HttpResponse status_response(const guard::Controller& controller, const guard::Analyzer* analyzer,
                             const HttpRequest& request) {
  const std::string ns = query_value(request.target, "namespace");
  if (!ns.empty() && !dns_label(ns)) return HttpResponse{400, "text/plain", "namespace: not a DNS label\n"};
  if (!controller.synced()) return HttpResponse{503, "text/plain", "not ready: caches have not synced yet\n"};
  StatusObjects objects;
  add_from(controller.deployment_cache(), ns, objects.deployments);
  add_from(controller.replicaset_cache(), ns, objects.replicasets);
  add_from(controller.daemonset_cache(), ns, objects.daemonsets);
  add_from(controller.revision_cache(), ns, objects.revisions);
  auto rows = build_status(objects);
  if (analyzer) {
    // The same merge as `status --daemon`, from the same JSON the /analysis endpoint serves.
    if (auto live = parse_analysis_entries(render_analysis(analyzer->snapshot()))) merge_live_analysis(rows, *live);
  }
  std::ostringstream out;
  print_json(rows, out);
  return HttpResponse{200, "application/json", out.str()};
}

}  // namespace canary_guard::app
