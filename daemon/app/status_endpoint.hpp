#pragma once
// GET /status[?namespace=NS]: the JSON of `canary-guard status -o json` (status.hpp), built from the daemon's own
// informer caches instead of a fresh list, with the live metric analysis merged in as `status --daemon` does. 503
// until the caches have synced (rows from a half-filled cache would say "pending" for workloads not yet seen); 400
// for a namespace that is not a DNS label.
#include "daemon/app/router.hpp"

namespace canary_guard::guard {
class Controller;
class Analyzer;
}  // namespace canary_guard::guard

namespace canary_guard::app {

// analyzer: null when no metric checks are configured.
HttpResponse status_response(const guard::Controller& controller, const guard::Analyzer* analyzer,
                             const HttpRequest& request);

// The value of `key` in the target's query ("" when absent); no percent-decoding (the values taken are DNS labels).
std::string query_value(std::string_view target, std::string_view key);

}  // namespace canary_guard::app
