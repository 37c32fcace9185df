#pragma once
// observe(): the first step of one reconcile. Builds the decision core's Snapshot for one workload from read-only
// views of the informer caches, the guard's per-workload memory (WorkloadState) and `now`, running the pure probes
// (progress deadline, pod signals) on the way. No Asio, no JSON, no logging, no clock reads: table-tested with
// in-memory views and a manual clock (tests/unit/guard_observe_test.cpp).
//
// What differs between workload kinds (where the revisions are, which is current and which stable, the progress
// rules) lives in one KindRules implementation per kind (kind_rules.hpp, deployment_rules.cpp,
// daemonset_rules.cpp); observe() itself is kind-neutral.
//
// Rules that live here or in the kind rules (each with its reason):
//  - Trust nothing stale: a cache that is not live (its watch failed or went silent) is no picture of the present
//    (ObserveContext::caches_not_live); the status must describe the latest spec (observedGeneration, the revision annotation
//    equal to the highest ReplicaSet revision, spec §8) and the cache must already show our own last PATCH.
//  - The DaemonSet's current revision is the ControllerRevision whose template equals the DaemonSet's (highest
//    number among equals), not merely the highest number: a status event can arrive before the revision bump.
//  - A rollout that completed with pods is not a timed-out rollout when it later dips (a scale-up, a restarted or
//    evicted pod, a node joining): like the controller's isCompleteDeployment, the own deadline timer is off for a
//    Deployment whose Progressing reason is NewReplicaSetAvailable with all replicas updated, and for any revision
//    the guard saw complete with pods. Pod signals keep applying.
//  - A status that lags behind the pods (more Ready pods than the status counts: the controller-manager is down or
//    slow) does not let the own timer fail a release.
//  - Unschedulable pods and ReplicaFailure (quota) are holds, also once the deadline passed: the cause is outside
//    the release. deadline_passed tells a waiting rollback that its target did not make it.
//  - Baseline eligibility: only the revision the workload was on at the guard's first sight of it, while no
//    revision has ever shown a verdict, and not when revisionHistoryLimit 0 may have deleted the evidence (a
//    revision number above 1 with history limit 0: the earlier revisions and their verdicts are gone).
//  - Restart baselines for pods: a revision first seen after the daemon started counts the restarts of pods
//    created since the revision's object was created (its pods' own history), so a crash loop already under way
//    when the daemon starts is not ignored.
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "config/clock.hpp"
#include "config/config.hpp"
#include "daemon/guard/alert_store.hpp"
#include "daemon/guard/analysis_view.hpp"
#include "daemon/guard/decide.hpp"
#include "daemon/guard/object_ref.hpp"
#include "daemon/guard/workload_key.hpp"
#include "probes/objects.hpp"
#include "probes/pod_signals.hpp"

namespace canary_guard::guard {

// Read-only views of the caches. Pointers stay valid until the caches next change (i.e. within one reconcile).
class ClusterView {
 public:
  virtual ~ClusterView() = default;
  virtual const probes::DeploymentView* deployment(const std::string& ns, const std::string& name) const = 0;
  virtual const probes::DaemonSetView* daemonset(const std::string& ns, const std::string& name) const = 0;
  // Objects whose controller ownerReference has this uid (deleted ones included; observe skips them).
  virtual std::vector<const probes::ReplicaSetView*> replicasets_of(const std::string& owner_uid) const = 0;
  virtual std::vector<const probes::ControllerRevisionView*> revisions_of(const std::string& owner_uid) const = 0;
  virtual std::vector<const probes::PodView*> pods_of(const std::string& owner_uid) const = 0;
};

// What the guard remembers about a workload between reconciles. Conveniences only (when a revision was first
// seen, pod-signal grace timers, which Events were sent); everything that matters for correctness is in annotations
// on the cluster objects. Owned by the Controller, one per workload key.
struct WorkloadState {
  std::optional<TimePoint> recheck_due;  // when the last reconcile asked to look again (the rollback trace's "late")
  std::string hash;  // current revision last seen
  std::int64_t number = -1;
  TimePoint revision_started{};  // anchor of the own deadline timer
  // When the revision's own history began: revision_started when this process saw the change, else the revision
  // object's creation (pods' restart baselines, and which alerts are older than the revision).
  TimePoint revision_origin{};
  std::optional<TimePoint> complete_since;
  bool completed_once = false;  // the current revision was seen complete with pods
  std::optional<probes::PodSignalTracker> tracker;  // a value: the fresh re-check before a PATCH judges on a copy
  std::optional<probes::DaemonSetView> ds_last;
  std::optional<TimePoint> ds_last_progress;
  std::optional<TimePoint> last_observed;
  std::optional<std::string> first_hash;  // the revision current at the first trustworthy look
  bool seen_verdict = false;              // some revision of this workload showed a verdict since the daemon started
  std::set<std::string> said;             // "<hash>|<reason>" of hold / not-judged / dry-run Events already sent
  std::set<std::string> counted;          // rollbacks already counted in metrics: "<from>|<at ms>"
  // Read-your-writes: annotation values this process wrote, by revision object name, until the informer cache shows
  // them. Without it the next reconcile can see the cache from before our own write and repeat a decision.
  struct Written {
    std::optional<std::string> verdict, rollback;
  };
  std::map<std::string, Written> written;
  bool problems_reported = false;
  bool active = false;  // canary_guard_rollout_active as last reported
  bool reported = false;  // the workload's series were created (at zero) in metrics
  std::string state;      // canary_guard_workloads state as last counted; empty: not counted
  // Generation our own rollback PATCH produced: a cached workload older than that is from before our write.
  std::int64_t min_generation = 0;
};

// Everything observe() learnt about one workload, and what act() needs to carry out a decision.
struct Observation {
  WorkloadKey key;
  ObjectRef ref;
  std::int64_t generation = 0;
  config::Policy policy;
  Snapshot snapshot;
  std::vector<std::string> problems;  // invalid annotations, one sentence each
  bool watching = false;              // the current revision has no healthy verdict yet (rollout_active)
  TimePoint revision_started{};
  // Set when the current revision is under metric analysis: reconcile hands it to the Analyzer (track).
  std::optional<AnalysisTarget> analysis;
  // observe() got far enough to say whether the revision is under analysis (the status was current). Only then may
  // reconcile stop an analysis: a transient stale status (after any spec change) must not reset its state.
  bool analysis_decided = false;
  // Check errors of class config not told yet (check name, detail): reconcile sends one CheckError Event each.
  std::vector<std::pair<std::string, std::string>> check_errors;
  // Fingerprints of the alerts behind snapshot.alert: re-checked with Alertmanager before a rollback acts on them.
  std::vector<std::string> alert_fingerprints;
  // Relevant alerts that started before the revision (pre-existing): told once each, never acted on.
  std::vector<Finding> notes;
};

struct ObserveContext {
  const config::Config& config;
  TimePoint daemon_started;
  int rollbacks_in_flight = 0;  // across the fleet, excluding this workload
  const AnalysisView* analysis = nullptr;  // null: metric analysis off
  // Why a cache this workload is judged from is not live (kube/liveness.hpp); empty when all are. While it is set
  // nothing is judged for the workload (Snapshot::cache_not_live): a frozen picture is doubt.
  std::string caches_not_live;
  const AlertStore* alerts = nullptr;  // null: the Alertmanager webhook is off
};

// nullopt when the workload is gone, being deleted, or not guarded: the caller forgets its state.
std::optional<Observation> observe(const WorkloadKey& key, const ClusterView& view, WorkloadState& st,
                                   const ObserveContext& ctx, TimePoint now);

// True when the pods show more readiness than the status that should count them (`status_ready`): the status is
// stale (controller-manager down or slow), so its lack of progress is no evidence.
bool status_lags_pods(const std::vector<const probes::PodView*>& pods, std::int32_t status_ready);

}  // namespace canary_guard::guard
