// The Deployment's rules for observe() (kind_rules.hpp): revisions are ReplicaSets numbered by
// deployment.kubernetes.io/revision, the current one is the ReplicaSet whose number the Deployment carries, the
// stable one the newest other ReplicaSet that still has replicas, and progress follows the Deployment controller
// (pkg/controller/deployment/progress.go, probes/rollout_probe.hpp).
#include <algorithm>

#include "daemon/guard/kind_rules.hpp"
#include "daemon/guard/observe.hpp"
#include "daemon/guard/records.hpp"
#include "daemon/guard/revision_of.hpp"
#include "probes/metric_analysis.hpp"
#include "probes/rollout_probe.hpp"
#include "probes/rollout_status.hpp"

namespace canary_guard::guard {
namespace {

constexpr std::chrono::seconds kDefaultDeadline{600};  // the Deployment default (kubernetes-rollouts.md §1)

class DeploymentRules final : public KindRules {
 public:
  DeploymentRules(const WorkloadKey& key, const ClusterView& view)
      : view_(view), d_(view.deployment(key.ns, key.name)) {
    if (!d_) return;
    // The current revision is the ReplicaSet whose number the Deployment carries.
    const auto d_rev = deployment_revision(d_->meta.annotations);
    if (!d_rev) return;
    for (const auto* rs : view_.replicasets_of(d_->meta.uid))
      if (usable(rs) && rs->revision == *d_rev) cur_ = rs;
  }

  const probes::ObjectMeta* meta() const override { return d_ ? &d_->meta : nullptr; }

  KindReading read(const config::Policy&) const override {
    KindReading r;
    const auto& ann = d_->meta.annotations;
    r.records_on_workload = probes::find_value(ann, kVerdictAnnotation) ||
                            probes::find_value(ann, kRollbackAnnotation) ||
                            probes::find_value(ann, probes::kAnalysisAnnotation);
    std::int64_t max_rev = 0;
    const auto d_rev = deployment_revision(ann);
    for (const auto* rs : view_.replicasets_of(d_->meta.uid)) {
      if (!usable(rs)) continue;
      r.revisions.push_back({revision_of(*rs, rs->pod_template_hash, rs->revision), &rs->meta.annotations});
      max_rev = std::max(max_rev, rs->revision);
    }
    // canary-guard.io/hold: paused-blind ... is the guard's own note that it paused the Deployment while blind;
    // such a pause is the guard's, not a person's, and does not stop a rollback (which lifts it).
    const std::string* note = probes::find_value(ann, kHoldAnnotation);
    r.guard_pause_note = note && note->rfind("paused-blind", 0) == 0;
    r.paused = d_->paused && !r.guard_pause_note;
    // Spec §8: act only when the status describes the latest spec and the revision annotation has caught up.
    r.spec_observed = d_->observed_generation >= d_->meta.generation && d_rev && cur_ && *d_rev == max_rev;
    r.pods_expected = d_->spec_replicas;
    r.history_limit = d_->revision_history_limit;
    r.rollback_wait_limit = probes::deployment_progress_deadline(*d_).value_or(kDefaultDeadline);
    if (cur_) {
      r.current_hash = cur_->pod_template_hash;
      r.current_created = cur_->meta.created;
      r.current_annotations = &cur_->meta.annotations;
      r.status_ready = cur_->ready_replicas;
    }
    return r;
  }

  PodSets pods(const KindReading&) const override {
    PodSets p;
    if (!cur_) return p;
    for (const auto* pod : view_.pods_of(cur_->meta.uid))
      if (pod) p.current.push_back(pod);
    p.counted = p.current;  // the ReplicaSet's readyReplicas counts exactly its own pods
    return p;
  }

  std::string stable_hash(const KindReading&, const PodSets&) const override {
    std::string stable;
    std::int64_t best = -1;
    for (const auto* rs : view_.replicasets_of(d_->meta.uid))
      if (rs && rs != cur_ && !rs->meta.deleted && rs->replicas > 0 && rs->revision > best) {
        best = rs->revision;
        stable = rs->pod_template_hash;
      }
    return stable;
  }

  ProgressReading progress(const config::Policy&, const ProgressInput& in, WorkloadState&) const override {
    ProgressReading out;
    out.deadline = probes::deployment_progress_deadline(*d_).value_or(kDefaultDeadline);
    // After our PATCH the target's progress clock starts at the PATCH: a ProgressDeadlineExceeded dated before
    // PATCH + deadline was computed by the controller from the failed revision's last progress (or survived the
    // undo, spec §7.4a) and says nothing about the target. A genuine one cannot appear earlier.
    std::optional<TimePoint> stale_before;
    if (in.rollback_started) stale_before = *in.rollback_started + out.deadline;
    out.progress = probes::evaluate_deployment_progress(*d_, in.anchor, in.now, stale_before, in.completed_once,
                                                        in.status_lags);
    out.rollout_complete =
        probes::deployment_rollout_status(*d_, 0, stale_before).state == probes::RolloutStatus::State::success;
    out.next = probes::next_deadline(*d_, in.anchor, in.completed_once);
    if (const probes::Condition* rf = d_->condition("ReplicaFailure"); rf && rf->status == "True")
      out.outside_cause = Finding{"replica_failure", "ReplicaFailure=True reason " + rf->reason + " (" +
                                                         out.progress.detail +
                                                         "); pods cannot be created (quota?), not a fault of the release"};
    return out;
  }

 private:
  static bool usable(const probes::ReplicaSetView* rs) {
    return rs && !rs->meta.deleted && rs->revision >= 0 && !rs->pod_template_hash.empty();
  }

  const ClusterView& view_;
  const probes::DeploymentView* d_;
  const probes::ReplicaSetView* cur_ = nullptr;
};

}  // namespace

std::unique_ptr<KindRules> deployment_rules(const WorkloadKey& key, const ClusterView& view) {
  return std::make_unique<DeploymentRules>(key, view);
}

}  // namespace canary_guard::guard
