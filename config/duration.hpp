#pragma once
// Duration strings for the configuration file and for canary-guard.io/* annotations: "250ms", "30s", "5m",
// "1h30m". A small strict parser of our own (not Go's time.ParseDuration) so that a typo is an error with a
// reason instead of a surprising value: no sign, no fractions, no bare numbers, units largest to smallest.
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "config/expected.hpp"

namespace canary_guard::config {

// Parses a non-negative duration ("0s" is valid; callers that need a positive value check that themselves,
// because some fields give zero a meaning). Units: h, m, s, ms. Each unit at most once, largest first.
// Errors are a sentence fragment that names the problem, e.g. `unknown unit "min" (use h, m, s or ms)`.
Expected<std::chrono::milliseconds, std::string> parse_duration(std::string_view text);

// The shortest canonical spelling parse_duration() accepts back: 5400000ms -> "1h30m", 250ms -> "250ms", 0 -> "0s".
// Negative input (never produced by the parser) is rendered with a leading '-'.
std::string format_duration(std::chrono::milliseconds d);

// Limits every configured duration (file or annotation) must meet: the Policy stores whole seconds, and a
// duration beyond one year is surely a typo ("5000h"). Returns the problem as a predicate phrase ("must be
// greater than 0s", "is not a whole number of seconds", ...) or nullopt. allow_zero for fields where 0 means
// "derive it" (ready_grace).
inline constexpr std::chrono::seconds kMaxConfigDuration{365LL * 24 * 3600};
std::optional<std::string> duration_limit_problem(std::chrono::milliseconds d, bool allow_zero);

}  // namespace canary_guard::config
