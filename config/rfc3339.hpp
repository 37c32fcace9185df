#pragma once
// RFC 3339 timestamps, as Kubernetes, Prometheus and Alertmanager write them. One implementation for the whole
// project: parse accepts fractions and numeric offsets and validates the calendar; format writes UTC.
#include <optional>
#include <string>
#include <string_view>

#include "config/clock.hpp"

namespace canary_guard {

// "2026-11-21T10:00:00Z", "2026-11-21T10:00:00.250+01:00" ... ; nullopt for anything else. Milliseconds precision.
std::optional<TimePoint> parse_rfc3339(std::string_view s);
// "2026-11-21T10:00:00Z" (whole seconds, as Kubernetes writes metav1.Time).
std::string format_rfc3339(TimePoint t);
// "2026-11-21T10:00:00.250Z".
std::string format_rfc3339_ms(TimePoint t);

}  // namespace canary_guard
