#pragma once
// The progress-deadline probe (spec/probes.md §4.3, kubernetes-rollouts.md §3, §7.4): decides whether the current
// revision of a Deployment or DaemonSet has failed to progress in time. It trusts the controller's
// ProgressDeadlineExceeded condition and also runs the guard's own timer, so a late or stuck controller does not
// delay the verdict. Pure: `now` and the revision start come in as arguments; the guard schedules a reconcile at
// next_deadline().
#include <chrono>
#include <optional>

#include "config/clock.hpp"
#include "config/policy.hpp"
#include "probes/objects.hpp"
#include "probes/outcome.hpp"

namespace canary_guard::probes {

// Result reasons (closed set): "complete", "stale_status", "paused", "progress_deadline", "replica_failure",
// "progressing", "on_delete".

// The Deployment's own deadline, or nullopt when it has none (unset or INT32_MAX, kubernetes-rollouts.md §1).
std::optional<std::chrono::seconds> deployment_progress_deadline(const DeploymentView& d);

// Order of checks (first match wins):
//  1. observed_generation < generation       -> INCONCLUSIVE stale_status (R4.1: status not trusted)
//  2. complete (updated == replicas == available == spec.replicas)  -> PASS complete
//  3. paused                                 -> INCONCLUSIVE paused, hold (an undo of a paused Deployment is refused)
//  4. completed earlier: Progressing reason NewReplicaSetAvailable with replicas == updatedReplicas (the
//     controller's isCompleteDeployment, which then never estimates progress again), or `completed_before` (the
//     guard saw this revision complete with pods) -> INCONCLUSIVE available_dip: a scale-up or a lost pod is not
//     a timed-out rollout
//  5. Progressing reason ProgressDeadlineExceeded (not stale, see ignore_deadline_before) -> FAIL progress_deadline
//  6. own timer: now >= anchor + deadline, unless `status_lags` (the pods show more than the status: the
//     controller-manager is down or slow, so the status's lack of progress is no evidence) -> FAIL progress_deadline
//  7. ReplicaFailure=True                    -> INCONCLUSIVE replica_failure, hold
//  8. otherwise                              -> INCONCLUSIVE progressing
// The own timer's anchor is max(revision_started, lastUpdateTime of the Progressing condition, whatever its status):
// the controller measures the deadline from the last progress (§3.2) or the last resume (Progressing=Unknown
// DeploymentResumed), so neither a slow but progressing rollout nor one paused for longer than its deadline and then
// resumed is failed early. Paused: no own timer at all (the controller does not time out a paused Deployment).
// A complete Deployment passes even if a (stale) ProgressDeadlineExceeded is still shown: doubt means no action.
ProbeResult evaluate_deployment_progress(const DeploymentView& d, TimePoint revision_started, TimePoint now,
                                         std::optional<TimePoint> ignore_deadline_before = {},
                                         bool completed_before = false, bool status_lags = false);

// When the own timer of evaluate_deployment_progress() fires; nullopt when there is no deadline, it is paused, the
// status cannot be trusted yet (the guard is re-enqueued by the next status change anyway) or the revision completed
// before (rule 4).
std::optional<TimePoint> next_deadline(const DeploymentView& d, TimePoint revision_started,
                                       bool completed_before = false);

// Rule 4 above: the controller considers the revision's rollout complete and will not time it out any more.
bool deployment_completed_before(const DeploymentView& d);

// DaemonSets have no progress condition (§7.3): the deadline is policy.daemonset_progress_deadline counted from
// max(revision_started, last_progress). `last_progress` is when the guard last saw updated/available numbers rise
// (optional; without it the deadline counts from the revision start).
//  stale_status -> complete (PASS) -> on_delete (INCONCLUSIVE: nothing rolls out by itself) ->
//  completed_before (INCONCLUSIVE available_dip: a node joining, a restarted or drained pod) ->
//  own timer unless status_lags (FAIL progress_deadline) -> progressing.
ProbeResult evaluate_daemonset_progress(const DaemonSetView& ds, const config::Policy& policy,
                                        TimePoint revision_started, TimePoint now,
                                        std::optional<TimePoint> last_progress = {}, bool completed_before = false,
                                        bool status_lags = false);
std::optional<TimePoint> next_deadline(const DaemonSetView& ds, const config::Policy& policy,
                                       TimePoint revision_started, std::optional<TimePoint> last_progress = {},
                                       bool completed_before = false);

// True when `after` shows progress over `before` in the sense the Deployment controller uses (§3.2): more updated
// or available pods. Helper for maintaining `last_progress`.
bool daemonset_progressed(const DaemonSetView& before, const DaemonSetView& after);

// Saturating `t + d`: nullopt when the sum would not fit (a deadline that far away is no deadline).
std::optional<TimePoint> add_saturating(TimePoint t, std::chrono::milliseconds d);

}  // namespace canary_guard::probes
