#pragma once
// Controller: the guard's level-triggered loop and its wiring. Informers keep projected caches of Deployments,
// ReplicaSets, DaemonSets, ControllerRevisions and Pods (one list+watch per resource, or per resource and namespace
// when `[selection] namespaces` names them: kube/namespaced_informer.hpp); their handlers only maintain owner
// indexes and enqueue workload keys. A worker takes a key and runs one reconcile: observe() (observe.hpp, pure) builds the snapshot from
// the caches, decide() (decide.hpp, pure) picks the one next step, act() (act.hpp) carries it out through the
// KubeWriter; reconcile returns when to look again. A key is never reconciled twice at once (WorkQueue); failures
// requeue with per-key backoff. Owned by the daemon wiring (app::run_guard).
#include <utility>  // Boost 1.74: must precede boost/asio/awaitable.hpp

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>

#include "config/clock.hpp"
#include "config/config.hpp"
#include "daemon/guard/act.hpp"
#include "daemon/guard/alert_recheck.hpp"
#include "daemon/guard/alert_store.hpp"
#include "daemon/guard/pages.hpp"
#include "daemon/guard/analyzer.hpp"
#include "daemon/guard/events.hpp"
#include "daemon/guard/fresh_view.hpp"
#include "daemon/guard/guard_metrics.hpp"
#include "daemon/guard/kube_writer.hpp"
#include "daemon/guard/latest_writes.hpp"
#include "daemon/guard/observe.hpp"
#include "daemon/guard/rollback_slots.hpp"
#include "daemon/guard/workload_key.hpp"
#include "daemon/kube/client.hpp"
#include "daemon/kube/namespaced_informer.hpp"
#include "daemon/kube/work_queue.hpp"
#include "probes/objects.hpp"

namespace canary_guard::guard {

class Controller {
 public:
  // `analyzer` (may be null: metric analysis off) is owned by the wiring and outlives the Controller.
  Controller(boost::asio::io_context& ioc, kube::Client& client, const config::Config& config, const Clock& clock,
             GuardMetrics* metrics, std::string host, Analyzer* analyzer = nullptr);
  ~Controller();

  // The Alertmanager webhook's store and the re-check before an alert acts (both owned by the wiring; null: off).
  void set_alerts(AlertStore* store, AlertRecheck* recheck) {
    alerts_ = store;
    alert_recheck_ = recheck;
  }
  // Where each workload's own alerts go after every reconcile (owned by the wiring; null: none).
  void set_pages(PageSink* pages) { pages_ = pages; }
  // Sees every Event the guard records (notifications).
  void set_event_tap(KubeWriter::Tap tap) { writer_.set_tap(std::move(tap)); }
  // Leader election: while `leading` says false this process observes (caches, probes, metric analysis) but writes
  // nothing: no records, rollbacks, Events or pages. Unset: always acts (a single replica).
  void set_leading(std::function<bool()> leading) { leading_ = std::move(leading); }
  // Leadership changed; on gaining it every workload is reconciled at once.
  void leadership_changed(bool leading);
  // Something every workload is judged by changed (the alert channel went blind or came back): reconcile all.
  void requeue_all();
  // Alerts naming these workloads (namespace, name) changed: reconcile them (either kind).
  void alerts_changed(const std::set<std::pair<std::string, std::string>>& workloads);

  // Runs informers and the workers until stop().
  boost::asio::awaitable<void> run();
  void stop();
  bool synced() const;
  // Empty when ready (/readyz 200): every informer listed and live. Otherwise which one is not, and why.
  std::string not_ready() const;
  // The informer caches, read-only (the daemon's GET /status builds `canary-guard status` rows from them).
  const kube::NamespacedInformer<probes::DeploymentView>& deployment_cache() const { return deployments_; }
  const kube::NamespacedInformer<probes::ReplicaSetView>& replicaset_cache() const { return replicasets_; }
  const kube::NamespacedInformer<probes::DaemonSetView>& daemonset_cache() const { return daemonsets_; }
  const kube::NamespacedInformer<probes::ControllerRevisionView>& revision_cache() const { return revisions_; }

 private:
  class CacheView;

  boost::asio::awaitable<void> worker();
  // Once a second: each informer's liveness; logs and reports (canary_guard_informer_live) every change, and
  // re-queues every workload when a cache becomes live again (what was held is judged at once).
  boost::asio::awaitable<void> watch_liveness();
  // Calls f(informer, resource, used_by) for each of the five informers; used_by: the workload kind judged from it
  // (none: both kinds, the pods).
  template <class F>
  void for_each_informer(F&& f) const;
  // Why a cache that workloads of `kind` are judged from is not live; empty when all are.
  std::string caches_not_live(Kind kind) const;
  // Before a rollback PATCH: the workload, its revisions and pods read fresh from the apiserver and judged again by
  // the same rules (observe + decide on a copy of the state). False when the fresh picture does not call for the
  // same rollback; the informers that disagreed then relist. When it confirms and read the workload and the target
  // by name, `prepared` gets the rollback request built from those documents (no second read).
  boost::asio::awaitable<Result<bool>> evidence_confirmed(const WorkloadKey& key, const WorkloadState& st,
                                                          const ObserveContext& ctx, const Decision& d,
                                                          std::optional<FreshRollback>& prepared);
  // Before an alert's rollback PATCH: each alert behind it asked again at Alertmanager (AlertRecheck). True when one
  // still holds; false (no action now) when all are gone (forgotten) or Alertmanager cannot say (held, told once).
  boost::asio::awaitable<bool> alerts_confirmed(const WorkloadKey& key, const Observation& obs, WorkloadState& st);
  // One pass for one workload; the value is when to look again without an event (nullopt: on events only).
  boost::asio::awaitable<Result<std::optional<Duration>>> reconcile(const WorkloadKey& key);
  void wire_handlers();
  void enqueue_owner_of(const probes::ObjectMeta& meta);
  void enqueue_pod_owner(const probes::PodView& pod);
  // Before the first action after start: every open rollback record in the caches whose PATCH went out holds a
  // slot; those still to be sent take free ones.
  void adopt_open_rollbacks();
  // Keeps the rollback slot of workload `k` in step with its records (see the definition).
  void sync_slot(const std::string& k, const Snapshot& s);
  // Writes the canary-guard.io/analysis annotation of a revision object (background, coalesced per object, a few
  // at a time: LatestWrites; logged on failure).
  void persist_analysis(const WorkloadKey& key, const std::string& object, const std::string& text);
  boost::asio::awaitable<void> write_analysis(const std::string& path, const std::string& payload);

  boost::asio::io_context& ioc_;
  const config::Config& config_;
  const Clock& clock_;        // wall time: records, Kubernetes timestamps, probe decisions
  SteadyClock steady_;        // monotonic time: the work queue's delays
  GuardMetrics* metrics_;
  EventRecorder events_;
  KubeWriter writer_;
  kube::WorkQueue queue_;
  kube::NamespacedInformer<probes::DeploymentView> deployments_;
  kube::NamespacedInformer<probes::ReplicaSetView> replicasets_;
  kube::NamespacedInformer<probes::DaemonSetView> daemonsets_;
  kube::NamespacedInformer<probes::ControllerRevisionView> revisions_;
  kube::NamespacedInformer<probes::PodView> pods_;
  kube::Client& client_;

  // Secondary indexes kept by the handlers: owner uid -> owned object keys, and workload uid -> workload key.
  std::unordered_map<std::string, std::set<std::string>> rs_by_owner_, cr_by_owner_, pods_by_owner_;
  std::unordered_map<std::string, std::string> owner_of_rs_, owner_of_cr_, owner_of_pod_;
  std::unordered_map<std::string, std::string> workload_by_uid_;
  std::unordered_map<std::string, std::string> rs_owner_uid_;  // rs uid -> deployment uid
  std::unique_ptr<CacheView> view_;

  std::unordered_map<std::string, std::unique_ptr<WorkloadState>> state_;  // by WorkloadKey::str()
  RollbackSlots slots_;
  LatestWrites analysis_writes_;
  Analyzer* analyzer_ = nullptr;
  AlertStore* alerts_ = nullptr;
  AlertRecheck* alert_recheck_ = nullptr;
  PageSink* pages_ = nullptr;
  std::function<bool()> leading_;
  bool acting() const { return !leading_ || leading_(); }
  // canary_guard_workloads: counts by (kind, state); count_state moves a workload between states.
  std::map<std::pair<std::string, std::string>, int> state_counts_;
  void count_state(Kind kind, WorkloadState& st, const std::string& state);
  bool stopped_ = false;
  TimePoint started_at_;
  std::map<std::string, bool> informer_live_;  // by resource, as last reported
};

}  // namespace canary_guard::guard
