#pragma once
// Metric analysis of one revision (../shared/spec/probes.md §0-2): per check, the last `of` decisive outcomes
// (k-of-n, R2.2), whether it ever passed, its last outcome and value; per revision, when a decisive outcome was
// last seen (blindness, R2.3). Pure: time comes in as arguments; the Analyzer (daemon/guard/analyzer.*) runs the
// queries on its schedule and feeds results in; observe() reads the state. Survives restarts through the
// canary-guard.io/analysis annotation on the revision object (format_analysis / parse_analysis).
//
// What counts (R2.1-R2.6):
//  - only PASS and FAIL enter the window; NO_DATA / ERROR count as FAIL only with on_no_data / on_error = "fail";
//  - every series is judged (any FAIL fails, PASS only if every judged series passes, none judged -> NO_DATA);
//  - a check "passed" once it had a decisive PASS; a revision is healthy-able only when every applicable check did;
//  - outcomes before the warm-up (initial_delay after the analysis started, and the query's range window entirely
//    after the first new pod became Ready) are ignored.
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/checks.hpp"
#include "config/clock.hpp"
#include "probes/outcome.hpp"
#include "probes/prometheus.hpp"

namespace canary_guard::probes {

inline constexpr std::string_view kAnalysisAnnotation = "canary-guard.io/analysis";

struct CheckState {
  std::string window;  // decisive outcomes, oldest first: 'P' / 'F'; at most `of` long
  bool passed = false;  // had a decisive PASS in this revision
  bool tripped = false;  // reached `failures` FAIL among the last `of`
  std::string trip_detail;  // "error-ratio 0.51 > 0.05 in 3 of the last 5 evaluations"
  Outcome last = Outcome::inconclusive;
  std::optional<double> last_value;
  std::string last_detail;
  std::optional<TimePoint> last_at;
  // A Prometheus error of class config (bad PromQL): reported once, retried at most once per interval.
  std::optional<std::string> config_error;
  bool config_error_told = false;
  int fails() const;
};

struct RevisionAnalysis {
  std::string hash;
  TimePoint started{};                   // when the analysis of this revision started
  std::optional<TimePoint> first_ready;  // first Ready pod of the revision (R2.6)
  std::optional<TimePoint> last_decisive;  // any check
  std::map<std::string, CheckState, std::less<>> checks;  // by check name
  bool persisted_dirty = false;  // the annotation needs writing
};

// One evaluation's outcome for one check and one revision, before it enters the window.
struct CheckOutcome {
  Outcome outcome = Outcome::inconclusive;
  std::optional<double> value;  // the worst judged value (canary_guard_probe_value)
  std::string detail;           // one human sentence
  std::optional<QueryError> error;
};

// Judges the series of one revision against the check's min/max (R2.4, R2.5; NaN -> NO_DATA). `min_samples`:
// the observed value of the check's min_samples query (nullopt: it returned nothing), when the check has one.
CheckOutcome judge_threshold(const config::Check& check, const std::vector<Series>& series,
                             std::optional<std::optional<double>> min_samples = std::nullopt);

// The check's min_samples query, evaluated for each side of a comparison (nullopt: nothing for that side).
struct CompareSamples {
  std::optional<double> new_side;
  std::optional<double> stable_side;
};

// Compare mode: the new revision's value against the stable one's (one value each: the worst series).
// FAIL when new > stable * max_ratio + margin (direction increase) or new < stable / max_ratio - margin
// (decrease); NO_DATA when either side has no judgeable value, and (R1.10) when the check has min_samples and
// either side has fewer than `min` (exactly `min` is enough) or was not measured (`samples` nullopt).
CheckOutcome judge_compare(const config::Check& check, const std::vector<Series>& new_series,
                           const std::vector<Series>& stable_series,
                           std::optional<CompareSamples> samples = std::nullopt);

// The outcome of a failed query: ERROR with the class, or FAIL with on_error = "fail".
CheckOutcome judge_error(const config::Check& check, const QueryError& e);

// True when an outcome computed from a query evaluated at `eval_time` may count (R2.6 warm-up).
bool warmed_up(const config::Check& check, const RevisionAnalysis& a, TimePoint now, TimePoint eval_time);
// When warmed_up() becomes true at the earliest (for scheduling); nullopt while no pod is Ready.
std::optional<TimePoint> warm_at(const config::Check& check, const RevisionAnalysis& a, std::chrono::milliseconds eval_lag);

// Enters one outcome: on_no_data / on_error "fail" turn NO_DATA / ERROR into FAIL; PASS / FAIL enter the window
// (trimmed to `of`), set passed / tripped. Returns true when something that matters for a verdict or for the
// annotation changed (a FAIL, the first PASS, a PASS that pushed a FAIL out, a trip, a new config error).
bool record(const config::Check& check, CheckState& st, const CheckOutcome& o, TimePoint now,
            std::optional<TimePoint>& last_decisive);

// canary-guard.io/analysis: "hash=<h> <check>=<window>[!] ..." where '!' marks a check that passed once, e.g.
// "hash=6d8f7c9b5 error-ratio=PPF! p99=!" (p99 passed, its window was pushed clear). Checks are in name order.
std::string format_analysis(const RevisionAnalysis& a);
// nullopt when the text is not ours or belongs to another hash (a copy made by Kubernetes).
std::optional<RevisionAnalysis> parse_analysis(std::string_view text, std::string_view own_hash);

// The verdict-relevant summary over the checks that apply to the revision.
struct AnalysisSummary {
  bool required = false;     // at least one check applies
  bool all_passed = false;   // every applicable check had a decisive PASS (vacuously false when none applies)
  const config::Check* tripped = nullptr;  // the first tripped check
  std::string trip_detail;
  bool blind = false;        // no decisive outcome from any check for max_blind since it could have had one
  std::optional<TimePoint> blind_at;  // when it becomes blind (for scheduling), if not yet
  std::vector<std::string> waiting_for;  // names of checks without a PASS yet
};
AnalysisSummary summarize(const std::vector<const config::Check*>& applicable, const RevisionAnalysis& a,
                          std::chrono::milliseconds max_blind, std::chrono::milliseconds eval_lag, TimePoint now);

}  // namespace canary_guard::probes
