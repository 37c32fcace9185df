#pragma once
// Alertmanager webhook notifications (spec/probes.md §3.1, §3.2, §3.4): parsing and validating a version "4"
// body, the idempotency key, and turning firing alerts into a probe outcome for one workload. Pure and
// non-throwing; JSON stays inside alerts.cpp. The HTTP receiver (daemon) owns auth, size limits and dedup state.
#include "config/rfc3339.hpp"
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/clock.hpp"
#include "config/expected.hpp"
#include "probes/objects.hpp"
#include "probes/outcome.hpp"

namespace canary_guard::probes {

struct Alert {
  std::string status;  // "firing" | "resolved"
  KeyValues labels;
  KeyValues annotations;
  TimePoint starts_at{};
  std::optional<TimePoint> ends_at;  // nullopt: open (the year-1 zero time firing alerts carry)
  std::string generator_url;
  std::string fingerprint;
  std::string starts_at_text;  // as received; part of the idempotency key
};

struct WebhookMessage {
  std::string version;
  std::string group_key;  // opaque
  std::int64_t truncated_alerts = 0;
  std::string status;  // "firing" | "resolved"
  std::string receiver;
  KeyValues group_labels;
  KeyValues common_labels;
  KeyValues common_annotations;
  std::string external_url;
  std::vector<Alert> alerts;
};

// Every problem found, e.g. `alerts[2].startsAt: not RFC3339`. Non-empty on failure (-> HTTP 400, R3.3).
using ValidationErrors = std::vector<std::string>;

struct WebhookLimits {
  std::size_t max_body_bytes = 4 * 1024 * 1024;
  std::size_t max_alerts = 10'000;
  int max_depth = 32;
};

// Alertmanager's GET /api/v2/alerts answer (a JSON array of GettableAlert): the active ones (status.state "active")
// as firing Alerts, as the webhook would carry them (same startsAt text, so the same idempotency key). An element
// that does not parse is skipped and counted; a body that is no JSON array is an error.
struct ActiveAlerts {
  std::vector<Alert> alerts;
  std::size_t skipped = 0;
};
Expected<ActiveAlerts, std::string> parse_active_alerts(std::string_view body, const WebhookLimits& limits = {});

// Unknown fields are ignored (R3.2). Required: version "4", status, alerts (array); per alert: status
// firing|resolved, labels (object of strings), startsAt (RFC3339), fingerprint. Optional fields of the wrong type
// are errors too (they show a producer we do not understand).
Expected<WebhookMessage, ValidationErrors> parse_alertmanager_webhook(std::string_view body,
                                                                      const WebhookLimits& limits = {});

// RFC 3339 with optional fraction (truncated to milliseconds) and Z or +hh:mm/-hh:mm offset; lower-case t/z
// accepted. nullopt when malformed or out of range.
using canary_guard::parse_rfc3339;  // config/rfc3339.hpp
// True for Go's zero time.Time ("0001-01-01T00:00:00Z"), which means "no end" (R3.1).
bool is_zero_time(TimePoint t);

// R3.4: (fingerprint, startsAt, status). startsAt is normalised to milliseconds so that equal instants written
// differently collapse.
std::string idempotency_key(const Alert& a);

// R3.7 matchers for one workload.
struct AlertMatcher {
  std::string ns;
  std::string workload;
  std::vector<std::string> severities{"critical", "page"};  // empty: any severity
  KeyValues extra{};                                        // further label=value pairs that must all match
};
bool is_relevant(const Alert& a, const AlertMatcher& m);

// R3.8 over the currently firing alerts of a workload: FAIL ("alert") if a relevant firing alert started at or
// after rollout_start - grace; INCONCLUSIVE ("preexisting_alert") if relevant ones fire but all started earlier;
// otherwise INCONCLUSIVE ("no_alert"): silence is not evidence (R3.9), so this probe never PASSes.
ProbeResult evaluate_alerts(const std::vector<Alert>& alerts, const AlertMatcher& m, TimePoint rollout_start,
                            std::chrono::seconds grace = std::chrono::seconds{0});

}  // namespace canary_guard::probes
