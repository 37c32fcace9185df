#pragma once
// The decision core: given a snapshot of one workload (its revisions with their verdicts and rollback records, and
// what the probes concluded about the current revision), the policy and `now`, decide the one next step.
//
// Pure: standard library and project headers only; no I/O, no JSON, no clock reads. observe() (observe.hpp) builds
// the snapshot from the informer caches; act() (act.hpp) carries out the decision.
//
// Doubt means no action. What this core refuses to conclude, and why:
//  - a status that does not describe the latest spec, or a current revision it cannot name: nothing is judged;
//  - a revision that completed with no pod (replicas 0, a DaemonSet with no eligible node) proved nothing: it is
//    neither healthy nor a baseline until it completed with pods;
//  - "baseline" (healthy without a bake) only for the revision a workload was on when the guard first saw it, with
//    no verdict anywhere (observe() decides eligibility; a revision the guard saw start is always baked);
//  - no rollback target (no healthy revision, or only ones whose rollback failed): hold, never guess;
//  - a rollback whose target neither completes nor fails within its wait limit ends as failed, never waits forever.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "config/clock.hpp"
#include "config/policy.hpp"
#include "daemon/guard/records.hpp"
#include "daemon/guard/workload_key.hpp"

namespace canary_guard::guard {

struct Revision {
  std::string name;  // ReplicaSet or ControllerRevision name
  std::string hash;  // pod-template-hash / controller-revision-hash
  std::int64_t number = 0;
  std::string template_fingerprint;  // canonical template fingerprint (kube::template_fingerprint)
  std::optional<VerdictRecord> verdict;
  std::optional<RollbackRecord> rollback;  // present on a revision the guard rolled back away from
  // The annotations' text as read (or as this process last wrote it): a write that replaces a record tests this
  // value first (compare-and-swap), so two writers cannot both move one record on. Empty: no such annotation.
  std::string verdict_text;
  std::string rollback_text;
  // The object has any annotations (the map is present): a first record then tests its member absent, otherwise
  // the map's absence (record_patch). A ReplicaSet always has deployment.kubernetes.io/revision.
  bool has_annotations = true;
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
  // Set (why) while a cache the snapshot was built from is not live: nothing is judged, as for a stale status.
  std::optional<std::string> cache_not_live;
  bool paused = false;
  std::string current_hash;         // revision the workload's template is on; empty when not known yet
  std::vector<Revision> revisions;  // owned revisions, any order

  // Probe conclusions about the current revision (already computed by the reconciler).
  bool rollout_complete = false;          // `kubectl rollout status` would report success now
  std::optional<TimePoint> complete_since;  // when the guard first saw it complete with pods
  std::int32_t pods_expected = 0;           // spec.replicas / desiredNumberScheduled: 0 proves nothing
  std::optional<Finding> failure;           // a probe FAILed: grounds for rollback
  std::optional<Finding> hold;              // a probe asks to hold (paused, unschedulable, quota ...)
  // A relevant Alertmanager alert (severity listed, naming this workload) fires and started after the current
  // revision started (minus alert_grace): grounds for rollback while the revision is not verified healthy, and
  // for a verified one only with act_on_healthy (otherwise a hold: on-call decides).
  std::optional<Finding> alert;
  bool act_on_healthy = false;
  bool deadline_passed = false;             // the progress deadline passed (failure, or held: unschedulable/quota)
  std::optional<TimePoint> next_check;      // earliest time a probe outcome may change without any event

  // The current revision may become the healthy baseline without a bake (see observe.hpp for when).
  bool baseline_eligible = false;
  // The workload itself carries copies of the guard's record annotations (kubectl rollout undo copies them from
  // the ReplicaSet; the controller would copy them onto every new ReplicaSet): remove them first.
  bool records_on_workload = false;
  // A DaemonSet with updateStrategy OnDelete: nothing rolls out by itself, so nothing is judged.
  bool on_delete = false;
  // Metric analysis (analysis_view.hpp): checks apply to the current revision, and whether every one of them had a
  // decisive PASS. A revision with checks is healthy only when they all passed (a trip is a `failure`, blindness a
  // `hold`).
  bool metrics_required = false;
  // [analysis] pause_when_blind: while blind, pause the Deployment (and resume it when checks are decisive again).
  bool pause_when_blind = false;
  // The Deployment carries the guard's own pause note (canary-guard.io/hold: paused-blind ...): it paused it.
  bool guard_pause_note = false;
  bool metrics_passed = false;
  std::string metrics_waiting;  // names of the checks without a PASS yet, for messages
  // How long a rollback may wait for its target to complete (the target's deadline; a default when it has none).
  std::chrono::milliseconds rollback_wait_limit{std::chrono::seconds{600}};

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
  remove_copied_records,  // delete the guard's record annotations from the workload (copies made by others)
  pause_blind,         // blind with pause_when_blind: pause the Deployment, note that the guard did
  resume_after_blind,  // the guard's blind pause is over: unpause and remove the note
  not_judged,          // the revision cannot be judged (OnDelete DaemonSet); tell people once
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

// Newest revision with a healthy verdict other than `exclude_hash`. A revision that was the target of a rollback
// that failed is marked unfit (act writes Verdict::unfit) and so never qualifies again until it is re-verified.
std::optional<Revision> rollback_target(const std::vector<Revision>& revisions, std::string_view exclude_hash);

Decision decide(const Snapshot& s, const config::Policy& policy, TimePoint now);

}  // namespace canary_guard::guard
