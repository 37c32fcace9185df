#pragma once
// Metric analysis of one revision (../shared/spec/probes.md §0-2): per check, the last `of` decisive outcomes
// (k-of-n, R2.2), whether it ever passed, its last outcome and value; per revision, when a decisive outcome was
// last seen (blindness, R2.3). Pure: time comes in as arguments; the Analyzer (daemon/guard/analyzer.*) runs the
// queries on its schedule and feeds results in; observe() reads the state. Survives restarts through the
// canary-guard.io/analysis annotation on the revision object (format_analysis / restore_analysis), which is trusted
// only for the rollout that wrote it (the revision number: a template deployed again is a new rollout) and, check by
// check, only for the definition it was gathered under (check_fingerprint).
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
  std::string fingerprint;  // check_fingerprint() of the definition the window was gathered under
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
  // The rollout of this template the state belongs to: the revision number (deployment.kubernetes.io/revision on
  // the ReplicaSet, .revision of the ControllerRevision), which the controller raises when an old template is
  // deployed again. An earlier rollout's outcomes say nothing about this one.
  std::int64_t rollout = 0;
  // Compare mode: the revision this rollout replaced (its hash), learnt when the analysis started and kept for the
  // whole analysis, also after its last pod is gone: its series stay in Prometheus and the query looks back
  // `eval_lag` + the range window, so both sides are still comparable at the same evaluation time. Empty: none known.
  std::string stable;
  TimePoint started{};                   // when the analysis of this revision started
  std::optional<TimePoint> first_ready;  // first Ready pod of the revision (R2.6)
  std::optional<TimePoint> last_decisive;  // any check
  // Known blind (R2.3): the guard judged the revision blind (or paused it for blindness) and no decisive outcome
  // came since. Persisted, so a restarted daemon is as blind as the one before it; only a decisive outcome clears it.
  bool blind = false;
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

// The same for a whole revision: record() on the check's state, then, when the outcome was decisive, the revision is
// no longer blind. `restored`: it was blind just before (summarize() over `applicable`), so outcomes are back and the
// workload must be judged again at once, whatever the outcomes were before the blind spell (a PASS after a PASS
// included). `changed` is then true as well (the cleared blind flag must be persisted).
struct Recorded {
  bool changed = false;
  bool restored = false;
};
Recorded record_outcome(const config::Check& check, const std::vector<const config::Check*>& applicable,
                        RevisionAnalysis& a, const CheckOutcome& o, TimePoint now, std::chrono::milliseconds max_blind,
                        std::chrono::milliseconds eval_lag);

// A fingerprint of everything in a check's definition that gives its outcomes their meaning: mode (threshold or
// compare), query, vars, min / max, compare settings, failures / of, min_samples, on_no_data / on_error. 16 hex
// digits (FNV-1a 64); stable across processes and builds.
std::string check_fingerprint(const config::Check& check);

// canary-guard.io/analysis:
//   "hash=<h> rollout=<n> [stable=<hash>] [decisive=<RFC 3339>] [blind=1] <check>=<window>[!]@<fingerprint> ..."
// where stable is the replaced revision compare mode judges against, '!' marks a check that passed once, decisive is the last decisive outcome and blind=1 says the guard was
// blind when it wrote the record, e.g.
//   "hash=6d8f7c9b5 rollout=7 decisive=2026-11-21T10:00:00Z error-ratio=PPF!@0123456789abcdef p99=!@fedcba9876543210"
// (p99 passed, its window was pushed clear). Checks are in name order.
std::string format_analysis(const RevisionAnalysis& a);
// The syntax only: nullopt when the text is not ours, has no rollout (an older format), or belongs to another hash
// (a copy made by Kubernetes). A check token without a fingerprint parses with an empty one.
std::optional<RevisionAnalysis> parse_analysis(std::string_view text, std::string_view own_hash);

// The state to start from for rollout `rollout` of revision `hash` with the checks `applicable`: what `seed` (the
// annotation's text, if any) says, trusted only where it belongs. A seed that does not parse, names another hash or
// another rollout is discarded whole; a check whose fingerprint differs from its current definition (or that has
// none) is discarded for that check; a window is trimmed to the current `of`, and re-trips when it holds `failures`
// FAIL already. Checks that no longer apply are dropped. Never throws on any input.
RevisionAnalysis restore_analysis(std::optional<std::string_view> seed, std::string_view hash, std::int64_t rollout,
                                  const std::vector<const config::Check*>& applicable);

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
