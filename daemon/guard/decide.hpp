#pragma once
// The decision core: given a snapshot of one workload (its revisions with their verdicts and rollback records, and
// what the probes concluded about the current revision), the policy and `now`, decide the one next step.
//
// Pure: standard library and project headers only; no I/O, no JSON, no clock reads. The reconciler
// (daemon/guard/reconciler.*) builds the snapshot from the informer caches and carries out the decision.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "config/clock.hpp"
#include "config/policy.hpp"
#include "daemon/guard/records.hpp"

namespace canary_guard::guard {

enum class Kind { deployment, daemonset };
std::string_view to_string(Kind k);

struct Revision {
  std::string name;  // ReplicaSet or ControllerRevision name
  std::string hash;  // pod-template-hash / controller-revision-hash
  std::int64_t number = 0;
  std::optional<VerdictRecord> verdict;
  std::optional<RollbackRecord> rollback;  // present on a revision the guard rolled back away from
};

// Something a probe concluded about the current revision.
struct Finding {
  std::string reason;  // closed set: progress_deadline, pod_signal:<reason>, replica_failure, unschedulable, paused ...
  std::string detail;  // one human sentence
};

struct Snapshot {
  Kind kind = Kind::deployment;
  std::string ns;
  std::string name;
  // The workload status describes its latest spec: observedGeneration >= generation and (Deployment) the revision
  // annotation equals the highest ReplicaSet revision. Without it nothing is judged (spec §8 controller lag).
  bool status_current = false;
  bool paused = false;
  std::string current_hash;         // revision the workload's template is on; empty when not known yet
  std::vector<Revision> revisions;  // owned revisions, any order

  // Probe conclusions about the current revision (already computed by the reconciler).
  bool rollout_complete = false;          // `kubectl rollout status` would report success now
  std::optional<TimePoint> complete_since;  // when the guard first saw it complete
  std::optional<Finding> failure;           // a probe FAILed: grounds for rollback
  std::optional<Finding> hold;              // a probe asks to hold (paused, unschedulable, quota ...)
  std::optional<TimePoint> next_check;      // earliest time a probe outcome may change without any event

  int rollbacks_in_flight = 0;  // across the fleet, excluding this workload
  int max_concurrent_rollbacks = 1;
};

enum class Action {
  none,                // nothing to do now; recheck_at may be set
  mark_healthy,        // write verdict healthy on the current revision
  rollback,            // mark current failed + record intent, then PATCH the workload back to `target`
  resume_rollback,     // intent recorded but the workload is still on the failed revision: PATCH (crash recovery)
  confirm_patched,     // intent recorded and the workload is on the target: the PATCH went through; now wait
  rollback_succeeded,  // the target rolled out
  rollback_failed,     // the target did not roll out: hold until a new revision appears
  supersede,           // someone deployed another revision during our rollback: our record ends, theirs is judged
  hold,                // neither roll back nor promote; tell people once
};
std::string_view to_string(Action a);

struct Decision {
  Action action = Action::none;
  std::string reason;   // token for logs, Events and metric labels
  std::string message;  // one sentence for the Event
  std::optional<Revision> current;  // the revision judged (carries the record for record-updating actions)
  std::optional<Revision> target;   // rollback target
  std::optional<Revision> record_owner;  // the revision whose rollback record is updated
  std::optional<TimePoint> recheck_at;   // reconcile again at this time even without events
  bool dry_run = false;
};

// Newest revision with a healthy verdict other than `exclude_hash`, skipping failed ones.
std::optional<Revision> rollback_target(const std::vector<Revision>& revisions, std::string_view exclude_hash);

Decision decide(const Snapshot& s, const config::Policy& policy, TimePoint now);

}  // namespace canary_guard::guard
