#pragma once
// Prometheus instant-query results (spec/probes.md §1, §2.5): parsing the HTTP API envelope into series, judging
// them against a threshold, the k-of-n window over decisive outcomes, and PromQL template rendering. Pure and
// non-throwing: every malformed input becomes a QueryError / TemplateError. JSON stays inside prometheus.cpp.
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/expected.hpp"
#include "probes/objects.hpp"
#include "probes/outcome.hpp"

namespace canary_guard::probes {

// The `class` label of canary_guard_probe_errors_total (spec §5).
enum class ErrorClass { config, transient, partial, parse };
std::string_view to_string(ErrorClass c) noexcept;

struct QueryError {
  ErrorClass cls = ErrorClass::parse;
  // Closed token: a Prometheus errorType (bad_data, execution, timeout, canceled, internal, unavailable, not_found),
  // "unknown" (an errorType we do not know), "http" (non-2xx without a Prometheus error body), "parse",
  // "partial" (warnings, R1.8), "unsupported_result" (string result or native histograms, R1.4), "too_large".
  std::string type;
  std::string message;  // human-readable; may quote the server's error text
};

// errorType -> class (§1.4). Unknown types are transient: a retry costs little, a false "misconfigured" alarm more.
ErrorClass classify_error_type(std::string_view error_type) noexcept;

enum class ResultType { vector, matrix, scalar };

struct Sample {
  double timestamp = 0;  // Unix seconds
  double value = 0;      // may be NaN or +-Inf
};
struct Series {
  KeyValues labels;             // the `metric` object, in document order
  std::vector<Sample> samples;  // vector/scalar: exactly one; matrix: as sent (gaps are not padded)
};
struct QueryResult {
  ResultType type = ResultType::vector;
  std::vector<Series> series;         // empty for `[]` and `null`
  std::vector<std::string> warnings;  // only non-empty with accept_warnings
};

struct ParseOptions {
  bool accept_warnings = false;
  std::size_t max_body_bytes = 8 * 1024 * 1024;
  int max_depth = 64;  // JSON nesting; the parser recurses, so this bounds stack use
};

// Parses one /api/v1/query (or query_range) answer. `http_status` is the HTTP status code (R1.7).
Expected<QueryResult, QueryError> parse_query_response(int http_status, std::string_view body,
                                                       const ParseOptions& options = {});

// A sample value string (§1.3): "NaN", "+Inf", "-Inf" (case-insensitive, also "Inf"), else a locale-independent
// decimal or exponent form. nullopt when it is not a number.
std::optional<double> parse_sample_value(std::string_view s);

// ERROR outcome with reason = class token and the message as detail.
ProbeResult to_probe_result(const QueryError& e);

// ---- thresholds (R2.4, R2.5, R1.9, R1.10) ----

struct Threshold {
  std::optional<double> min;  // pass when value >= min
  std::optional<double> max;  // pass when value <= max
};

// R1.10: the probe's min_samples query, already run. `observed` is sum_of_values() of its result.
struct MinSamples {
  double required = 0;
  std::optional<double> observed;  // nullopt: the query returned nothing judgeable
};

struct ThresholdEvaluation {
  ProbeResult result;
  std::size_t series_judged = 0;  // non-NaN series
  std::size_t series_failed = 0;
  std::size_t series_nan = 0;
  std::optional<double> value;  // the value reported as canary_guard_probe_value: the worst judged one
};

// reduce any_fail: each series is judged by its latest sample; NaN series are skipped (NO_DATA for that series);
// any FAIL -> FAIL; PASS only if every judged series passes; none judged -> NO_DATA ("empty" or "nan").
// Reasons: "threshold" (fail), "within_threshold" (pass), "empty", "nan", "min_samples" (no_data),
// "config" (error: no bound given).
ThresholdEvaluation evaluate_threshold(const QueryResult& r, const Threshold& t,
                                       std::optional<MinSamples> min_samples = {});

// Sum of the latest non-NaN sample of every series; nullopt when there is none.
std::optional<double> sum_of_values(const QueryResult& r);

// ---- k-of-n (R2.2) ----

// The last n decisive outcomes of one metric probe; trips at >= k FAILs among them. One per (workload, probe);
// cleared when the revision changes.
class KOfNWindow {
 public:
  // Clamped to 1 <= n and 1 <= k <= n.
  explicit KOfNWindow(int k = 3, int n = 5);
  // PASS/FAIL enter the window; INCONCLUSIVE, NO_DATA and ERROR are ignored. Returns tripped().
  bool add(Outcome o);
  bool tripped() const noexcept { return fails_ >= k_; }
  int fails() const noexcept { return fails_; }
  int size() const noexcept { return static_cast<int>(window_.size()); }
  int k() const noexcept { return k_; }
  int n() const noexcept { return n_; }
  void clear() noexcept;

 private:
  int k_, n_;
  int fails_ = 0;
  std::deque<bool> window_;  // true = FAIL, oldest first
};

// ---- PromQL templates (R2.7) ----

using TemplateVars = std::map<std::string, std::string, std::less<>>;  // "namespace", "vars.team", ...

struct TemplateError {
  std::size_t offset = 0;  // byte offset of the offending `$` in the template
  std::string message;
};

// Replaces ${name} (name: letters, digits, '_', '.') with the escaped value; `$` not followed by `{` is kept as is.
// Unknown variables, empty or malformed names and a missing `}` are errors. Values are escaped for a
// double-quoted PromQL string (escape_promql_string), so a label value cannot break out of its quotes; templates
// must put variables inside double quotes or in places where the value cannot contain quotes (e.g. [${interval}]).
Expected<std::string, TemplateError> render_promql(std::string_view tmpl, const TemplateVars& vars);

// `\` and `"` get a backslash; newline, CR, tab and other control bytes become escapes PromQL understands.
std::string escape_promql_string(std::string_view value);

}  // namespace canary_guard::probes
