// Fuzz target: the Alertmanager webhook payload parser (probes/alerts.*, parse_alertmanager_webhook) and what the
// receiver does with a valid message: the idempotency key of each alert and evaluate_alerts for a workload. Checks
// the validation the header promises: version "4", at most max_alerts alerts, every alert firing or resolved. The same
// bytes also go through parse_active_alerts (GET /api/v2/alerts, the start-up seed): at most max_alerts, all firing,
// each with a fingerprint.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "probes/alerts.hpp"

namespace {

using namespace canary_guard::probes;

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "fuzz_alertmanager: invariant broken: %s\n", what);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  WebhookLimits limits;
  limits.max_alerts = 50;  // small, so the fuzzer can reach the bound
  if (auto listing = parse_active_alerts(body, limits)) {
    if (listing->alerts.size() > limits.max_alerts) fail("listing: more than max_alerts");
    for (const auto& a : listing->alerts) {
      if (a.status != "firing") fail("listing: an alert that is not firing");
      if (a.fingerprint.empty()) fail("listing: an alert without a fingerprint");
    }
  } else if (listing.error().empty()) {
    fail("listing rejected without naming a problem");
  }
  auto m = parse_alertmanager_webhook(body, limits);
  if (!m) {
    if (m.error().empty()) fail("rejected without naming a problem");
    return 0;
  }
  if (m->version != "4") fail("accepted a version other than 4");
  if (m->alerts.size() > limits.max_alerts) fail("accepted more than max_alerts");
  for (const auto& a : m->alerts) {
    if (a.status != "firing" && a.status != "resolved") fail("alert status neither firing nor resolved");
    (void)idempotency_key(a);
  }
  AlertMatcher matcher{.ns = "shop", .workload = "checkout"};
  (void)evaluate_alerts(m->alerts, matcher, canary_guard::TimePoint{std::chrono::seconds{1'700'000'000}},
                        std::chrono::seconds{30});
  matcher.severities.clear();
  (void)evaluate_alerts(m->alerts, matcher, canary_guard::TimePoint{}, std::chrono::seconds{0});
  return 0;
}
