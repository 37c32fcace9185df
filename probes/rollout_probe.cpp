#include "probes/rollout_probe.hpp"

#include <cstdint>
#include <limits>
#include <string>

namespace canary_guard::probes {
namespace {

bool deployment_complete(const DeploymentView& d) {
  // deploymentutil.DeploymentComplete (observedGeneration is checked by the caller).
  return d.updated_replicas == d.spec_replicas && d.replicas == d.spec_replicas &&
         d.available_replicas == d.spec_replicas;
}

bool daemonset_complete(const DaemonSetView& ds) {
  return ds.updated_number_scheduled >= ds.desired_number_scheduled &&
         ds.number_available >= ds.desired_number_scheduled;
}

TimePoint deployment_anchor(const DeploymentView& d, TimePoint revision_started) {
  // The controller measures the deadline from the Progressing condition's lastUpdateTime whatever its status
  // (deploymentutil.DeploymentTimedOut, requeueStuckDeployment): progress (True, ReplicaSetUpdated) moves it, and so
  // does a resume (Unknown, DeploymentResumed, written by checkPausedConditions), so a rollout paused for longer
  // than its deadline gets a whole deadline again after `rollout resume`. The guard's own pause_when_blind pause and
  // resume go through the same conditions.
  // Kubernetes writes whole seconds: an update less than 1 s before our first sight of the revision is the same
  // moment, truncated. Using it (as the controller does) lets our timer fire with the controller's, not up to a
  // second after it; an older update belongs to an earlier revision and is ignored.
  TimePoint anchor = revision_started;
  if (const Condition* c = d.condition("Progressing"); c && c->last_update + std::chrono::seconds{1} > revision_started)
    anchor = c->last_update;
  return anchor;
}

std::string seconds_text(std::chrono::seconds s) { return std::to_string(s.count()) + "s"; }

}  // namespace

std::optional<TimePoint> add_saturating(TimePoint t, std::chrono::milliseconds d) {
  const auto rep = t.time_since_epoch().count();
  const auto add = d.count();
  using Rep = decltype(rep + add);
  if (add > 0 && rep > std::numeric_limits<Rep>::max() - add) return std::nullopt;
  if (add < 0 && rep < std::numeric_limits<Rep>::min() - add) return std::nullopt;
  return t + d;
}

std::optional<std::chrono::seconds> deployment_progress_deadline(const DeploymentView& d) {
  if (!d.progress_deadline_seconds || *d.progress_deadline_seconds == std::numeric_limits<std::int32_t>::max())
    return std::nullopt;
  // Validation forbids <= 0 deadlines; treat one as "no deadline" rather than "already expired" (doubt: no action).
  if (*d.progress_deadline_seconds <= 0) return std::nullopt;
  return std::chrono::seconds{*d.progress_deadline_seconds};
}

bool deployment_completed_before(const DeploymentView& d) {
  const Condition* c = d.condition("Progressing");
  return c && c->reason == "NewReplicaSetAvailable" && d.replicas == d.updated_replicas;
}

std::optional<TimePoint> next_deadline(const DeploymentView& d, TimePoint revision_started, bool completed_before) {
  if (d.observed_generation < d.meta.generation) return std::nullopt;
  // No timeout while paused: the controller does not run syncRolloutStatus for a paused Deployment.
  if (d.paused) return std::nullopt;
  if (completed_before || deployment_completed_before(d)) return std::nullopt;
  const auto deadline = deployment_progress_deadline(d);
  if (!deadline) return std::nullopt;
  return add_saturating(deployment_anchor(d, revision_started), *deadline);
}

ProbeResult evaluate_deployment_progress(const DeploymentView& d, TimePoint revision_started, TimePoint now,
                                         std::optional<TimePoint> ignore_deadline_before, bool completed_before,
                                         bool status_lags) {
  if (d.observed_generation < d.meta.generation)
    return ProbeResult::inconclusive("stale_status", "observedGeneration " + std::to_string(d.observed_generation) +
                                                         " < generation " + std::to_string(d.meta.generation));
  if (deployment_complete(d))
    return ProbeResult::pass("complete", std::to_string(d.updated_replicas) + " of " +
                                             std::to_string(d.spec_replicas) + " replicas updated and available");
  if (d.paused) return ProbeResult::inconclusive("paused", "deployment is paused", /*hold=*/true);
  if (completed_before || deployment_completed_before(d))
    return ProbeResult::inconclusive("available_dip", std::to_string(d.available_replicas) + " of " +
                                                          std::to_string(d.spec_replicas) +
                                                          " available after the rollout completed");

  if (const Condition* c = d.condition("Progressing"); c && c->status == "False" &&
                                                       c->reason == "ProgressDeadlineExceeded") {
    const bool stale = ignore_deadline_before && c->last_update < *ignore_deadline_before;
    if (!stale) return ProbeResult::fail("progress_deadline", "Progressing=False reason ProgressDeadlineExceeded");
  }
  if (auto at = next_deadline(d, revision_started); at && now >= *at && !status_lags)
    return ProbeResult::fail("progress_deadline",
                             "no progress within progressDeadlineSeconds=" +
                                 seconds_text(*deployment_progress_deadline(d)) + " (own timer)");
  if (const Condition* c = d.condition("ReplicaFailure"); c && c->status == "True")
    return ProbeResult::inconclusive("replica_failure", "ReplicaFailure=True reason " + c->reason, /*hold=*/true);
  return ProbeResult::inconclusive("progressing", std::to_string(d.updated_replicas) + " updated, " +
                                                      std::to_string(d.available_replicas) + " available of " +
                                                      std::to_string(d.spec_replicas));
}

std::optional<TimePoint> next_deadline(const DaemonSetView& ds, const config::Policy& policy,
                                       TimePoint revision_started, std::optional<TimePoint> last_progress,
                                       bool completed_before) {
  if (ds.observed_generation < ds.meta.generation) return std::nullopt;
  if (completed_before) return std::nullopt;
  if (ds.update_strategy != "RollingUpdate") return std::nullopt;
  if (policy.daemonset_progress_deadline.count() <= 0) return std::nullopt;
  TimePoint anchor = revision_started;
  if (last_progress && *last_progress > anchor) anchor = *last_progress;
  return add_saturating(anchor, policy.daemonset_progress_deadline);
}

ProbeResult evaluate_daemonset_progress(const DaemonSetView& ds, const config::Policy& policy,
                                        TimePoint revision_started, TimePoint now,
                                        std::optional<TimePoint> last_progress, bool completed_before,
                                        bool status_lags) {
  if (ds.observed_generation < ds.meta.generation)
    return ProbeResult::inconclusive("stale_status", "observedGeneration " + std::to_string(ds.observed_generation) +
                                                         " < generation " + std::to_string(ds.meta.generation));
  if (daemonset_complete(ds))
    return ProbeResult::pass("complete", std::to_string(ds.updated_number_scheduled) + " of " +
                                             std::to_string(ds.desired_number_scheduled) +
                                             " pods updated and available");
  if (ds.update_strategy != "RollingUpdate")
    return ProbeResult::inconclusive("on_delete", "update strategy " + ds.update_strategy + " does not roll out");
  if (completed_before)
    return ProbeResult::inconclusive("available_dip", std::to_string(ds.number_available) + " of " +
                                                          std::to_string(ds.desired_number_scheduled) +
                                                          " available after the rollout completed");
  if (auto at = next_deadline(ds, policy, revision_started, last_progress); at && now >= *at && !status_lags)
    return ProbeResult::fail("progress_deadline", "no progress within daemonset_progress_deadline=" +
                                                      seconds_text(policy.daemonset_progress_deadline) +
                                                      " (own timer)");
  return ProbeResult::inconclusive("progressing", std::to_string(ds.updated_number_scheduled) + " updated, " +
                                                      std::to_string(ds.number_available) + " available of " +
                                                      std::to_string(ds.desired_number_scheduled));
}

bool daemonset_progressed(const DaemonSetView& before, const DaemonSetView& after) {
  return after.updated_number_scheduled > before.updated_number_scheduled ||
         after.number_available > before.number_available;
}

}  // namespace canary_guard::probes
