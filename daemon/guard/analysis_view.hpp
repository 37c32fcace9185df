#pragma once
// What reconcile and the Analyzer share about metric analysis, without Asio: which workloads are under analysis
// (AnalysisTarget), which checks apply to a workload, and a read-only view of the per-revision state that observe()
// reads (level-triggered, like the caches). Pure: standard library and project headers only.
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/checks.hpp"
#include "config/clock.hpp"
#include "config/config.hpp"
#include "daemon/guard/workload_key.hpp"
#include "probes/metric_analysis.hpp"

namespace canary_guard::guard {

// One workload under analysis, as reconcile sees it.
struct AnalysisTarget {
  WorkloadKey key;
  config::CheckTarget vars;            // namespace, workload, kind, revision_hash, stable_hash
  std::string revision_object;         // ReplicaSet / ControllerRevision carrying the analysis annotation
  std::int64_t rollout = 0;            // the revision number: which rollout of this template (probes::RevisionAnalysis)
  TimePoint started{};                 // when the revision started
  std::optional<TimePoint> first_ready;  // first Ready pod of the revision
  std::optional<std::string> seed;     // canary-guard.io/analysis text on the revision object (after a restart)
  std::vector<const config::Check*> checks;  // the checks that apply
  bool blind = false;         // observe() judged the revision blind now (the Analyzer persists it)
  bool paused_blind = false;  // the guard's own blind-pause note for this revision is on the workload
};

// The analysis state to start from when the Analyzer holds none for this rollout (a new rollout, or a restart):
// the trusted part of the seed (probes::restore_analysis), the target's start and first Ready pod, and blind when
// the seed says so or the guard's own blind pause for this revision is in place (only a blind guard pauses; a
// restart must not lift that pause before outcomes are back).
probes::RevisionAnalysis initial_analysis(const AnalysisTarget& t);

// The checks that apply to a workload: its namespace, kind and labels match the check's selection, and the
// canary-guard.io/checks annotation (comma-separated names; "none" switches analysis off) allows it.
std::vector<const config::Check*> applicable_checks(const config::Config& config, std::string_view ns,
                                                    std::string_view kind, const config::KeyValues& labels,
                                                    const config::KeyValues& annotations);

// max_blind: [analysis] max_blind, else 5 x the smallest check interval (R2.3).
std::chrono::milliseconds max_blind(const config::Config& config);

// A plain copy of one workload's live analysis, for read-only reporting (the daemon's GET /analysis). Holds values,
// not pointers, so it stays valid after the Analyzer moves on.
struct CheckSnapshot {
  std::string name;
  std::optional<probes::Outcome> last;  // nullopt: not evaluated yet (in this process)
  std::optional<double> value;          // the last evaluation's worst judged value; may be NaN or infinite
  std::string detail;
  std::optional<TimePoint> at;          // when it was last evaluated
  std::string window;                   // decisive outcomes, oldest first ('P' / 'F')
  bool passed = false;
  bool tripped = false;
};
struct AnalysisSnapshot {
  WorkloadKey key;
  std::string revision_hash;
  std::vector<CheckSnapshot> checks;  // by name
};

class AnalysisView {
 public:
  virtual ~AnalysisView() = default;
  // The analysis of the workload's revision `hash`, if it is being analysed (callers check its rollout).
  virtual const probes::RevisionAnalysis* state(const WorkloadKey& key, std::string_view hash) const = 0;
};

}  // namespace canary_guard::guard
