#pragma once
// The common result of every probe evaluation (spec/probes.md §0). A probe turns observations into exactly one
// Outcome; `reason` is a closed token usable as a metric label, `detail` is for humans (logs, Events) only.
#include <string>
#include <string_view>
#include <utility>

namespace canary_guard::probes {

enum class Outcome { pass, fail, inconclusive, no_data, error };

// Lower-case tokens as used in the metric label `outcome` (spec/probes.md §5).
constexpr std::string_view to_string(Outcome o) noexcept {
  switch (o) {
    case Outcome::pass: return "pass";
    case Outcome::fail: return "fail";
    case Outcome::inconclusive: return "inconclusive";
    case Outcome::no_data: return "no_data";
    case Outcome::error: return "error";
  }
  return "error";
}

// PASS and FAIL are the only outcomes that enter a k-of-n window (R2.2) and end blindness (R2.3).
constexpr bool is_decisive(Outcome o) noexcept { return o == Outcome::pass || o == Outcome::fail; }

struct ProbeResult {
  Outcome outcome = Outcome::inconclusive;
  std::string reason;  // closed token: "progress_deadline", "crash_loop", "image_pull", "stale_status", ...
  std::string detail;  // human-readable; never a metric label
  // The probe asks for HOLD (R0.2): neither roll back nor promote, raise an alert. Only set with INCONCLUSIVE.
  bool hold = false;

  static ProbeResult pass(std::string reason = {}, std::string detail = {}) {
    return {Outcome::pass, std::move(reason), std::move(detail), false};
  }
  static ProbeResult fail(std::string reason, std::string detail = {}) {
    return {Outcome::fail, std::move(reason), std::move(detail), false};
  }
  static ProbeResult inconclusive(std::string reason, std::string detail = {}, bool hold = false) {
    return {Outcome::inconclusive, std::move(reason), std::move(detail), hold};
  }
  static ProbeResult no_data(std::string reason = {}, std::string detail = {}) {
    return {Outcome::no_data, std::move(reason), std::move(detail), false};
  }
  static ProbeResult error(std::string reason, std::string detail = {}) {
    return {Outcome::error, std::move(reason), std::move(detail), false};
  }
};

}  // namespace canary_guard::probes
