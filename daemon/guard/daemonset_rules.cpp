// The DaemonSet's rules for observe() (kind_rules.hpp): revisions are ControllerRevisions, the current one is the
// revision whose template is the DaemonSet's (kubernetes-rollouts.md §5.2), the stable one the newest other revision
// that still has pods, and progress is the guard's own timer over daemonset_progress_deadline, since the DaemonSet
// controller keeps no progress condition (kubernetes-rollouts.md §7.3, probes/rollout_probe.hpp).
#include "daemon/guard/kind_rules.hpp"
#include "daemon/guard/observe.hpp"
#include "daemon/guard/revision_of.hpp"
#include "probes/rollout_probe.hpp"
#include "probes/rollout_status.hpp"

namespace canary_guard::guard {
namespace {

constexpr std::chrono::seconds kDefaultDeadline{600};  // a wait limit when no DaemonSet deadline is configured

class DaemonSetRules final : public KindRules {
 public:
  DaemonSetRules(const WorkloadKey& key, const ClusterView& view)
      : view_(view), ds_(view.daemonset(key.ns, key.name)) {
    if (!ds_) return;
    // The current revision is the one whose template is the DaemonSet's, not the highest number: the status can
    // arrive before the controller bumps a re-used revision's number.
    for (const auto* cr : view_.revisions_of(ds_->meta.uid))
      if (cr && !cr->meta.deleted && cr->template_hash == ds_->template_hash && (!cur_ || cr->revision > cur_->revision))
        cur_ = cr;
  }

  const probes::ObjectMeta* meta() const override { return ds_ ? &ds_->meta : nullptr; }

  KindReading read(const config::Policy& policy) const override {
    KindReading r;
    for (const auto* cr : view_.revisions_of(ds_->meta.uid))
      if (cr && !cr->meta.deleted)
        r.revisions.push_back({revision_of(*cr, cr->hash, cr->revision), &cr->meta.annotations});
    r.spec_observed = ds_->observed_generation >= ds_->meta.generation && cur_;
    r.pods_expected = ds_->desired_number_scheduled;
    r.on_delete = ds_->update_strategy != "RollingUpdate";
    r.history_limit = ds_->revision_history_limit;
    r.rollback_wait_limit =
        policy.daemonset_progress_deadline.count() > 0 ? policy.daemonset_progress_deadline : kDefaultDeadline;
    r.status_ready = ds_->number_ready;
    if (cur_) {
      r.current_hash = cur_->hash;
      r.current_created = cur_->meta.created;
      r.current_annotations = &cur_->meta.annotations;
    }
    return r;
  }

  PodSets pods(const KindReading& r) const override {
    PodSets p;
    for (const auto* pod : view_.pods_of(ds_->meta.uid)) {
      if (!pod) continue;
      p.counted.push_back(pod);  // numberReady counts every pod of the DaemonSet
      if (pod->controller_revision_hash == r.current_hash) p.current.push_back(pod);
    }
    return p;
  }

  std::string stable_hash(const KindReading& r, const PodSets& pods) const override {
    // The newest other revision that still has pods.
    std::string stable;
    std::int64_t best = -1;
    for (const auto* p : pods.counted)
      if (p->controller_revision_hash != r.current_hash)
        for (const auto& o : r.revisions)
          if (o.revision.hash == p->controller_revision_hash && o.revision.number > best) {
            best = o.revision.number;
            stable = o.revision.hash;
          }
    return stable;
  }

  ProgressReading progress(const config::Policy& policy, const ProgressInput& in, WorkloadState& st) const override {
    ProgressReading out;
    out.deadline = policy.daemonset_progress_deadline;
    // Progress as the Deployment controller counts it (more updated or available pods) restarts the own timer.
    if (st.ds_last && probes::daemonset_progressed(*st.ds_last, *ds_)) st.ds_last_progress = in.now;
    st.ds_last = *ds_;
    out.progress = probes::evaluate_daemonset_progress(*ds_, policy, in.anchor, in.now, st.ds_last_progress,
                                                       in.completed_once, in.status_lags);
    out.rollout_complete = probes::daemonset_rollout_status(*ds_).state == probes::RolloutStatus::State::success;
    out.next = probes::next_deadline(*ds_, policy, in.anchor, st.ds_last_progress, in.completed_once);
    return out;
  }

 private:
  const ClusterView& view_;
  const probes::DaemonSetView* ds_;
  const probes::ControllerRevisionView* cur_ = nullptr;
};

}  // namespace

std::unique_ptr<KindRules> daemonset_rules(const WorkloadKey& key, const ClusterView& view) {
  return std::make_unique<DaemonSetRules>(key, view);
}

}  // namespace canary_guard::guard
