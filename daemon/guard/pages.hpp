#pragma once
// The daemon's own alerts for one workload (issue #12 §2): which of CanaryGuardRollback, CanaryGuardRollbackFailed,
// CanaryGuardHeld and CanaryGuardBlind hold now, derived level-triggered from the snapshot and this reconcile's
// decision, so a restart (or another replica) pages exactly as the last one did. Pure: table-tested.
//  - CanaryGuardRollback (warning): a rollback is under way, or finished with the workload still on its target, for
//    `rollback_page_for` after it was decided.
//  - CanaryGuardRollbackFailed (page): the target of a rollback did not roll out, and the workload is still on it.
//  - CanaryGuardHeld (warning): a rollback was warranted but held (no healthy target, paused, the fleet limit, a
//    known-bad template, an alert on a verified revision, an alert Alertmanager could not confirm).
//  - CanaryGuardBlind (warning): metric analysis is blind for the current revision.
// Labels are stable (fingerprints stay the same while a condition holds): the `reason` label is a closed class.
#include <chrono>
#include <string>
#include <vector>

#include "config/clock.hpp"
#include "daemon/guard/decide.hpp"
#include "daemon/guard/workload_key.hpp"

namespace canary_guard::guard {

struct Page {
  std::string alertname;  // CanaryGuardRollback | CanaryGuardRollbackFailed | CanaryGuardHeld | CanaryGuardBlind
  std::string severity;   // warning | page
  std::string reason;     // closed: progress_deadline | pod_signal | metric_probe | alert | known_bad | other, or a hold reason
  std::string summary;    // one line
  std::string description;
  TimePoint since{};      // when the condition began (startsAt)
  bool operator==(const Page&) const = default;
};

// progress_deadline | pod_signal | metric_probe | alert | known_bad | other, from a decision reason.
std::string reason_class(std::string_view decision_reason);

std::vector<Page> pages_for(const Snapshot& s, const Decision& d, TimePoint now,
                            std::chrono::seconds rollback_page_for = std::chrono::hours{1});

// Where the controller hands each workload's pages after every reconcile (app::Pager posts them). `pages` replaces
// what was set before for the key: a page missing from it has ended.
class PageSink {
 public:
  virtual ~PageSink() = default;
  virtual void set(const WorkloadKey& key, std::vector<Page> pages) = 0;
};

}  // namespace canary_guard::guard
