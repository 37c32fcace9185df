#pragma once
// Controller: the guard's level-triggered loop. Informers keep projected caches of Deployments, ReplicaSets,
// DaemonSets, ControllerRevisions and Pods; their handlers only enqueue workload keys; reconcile(key) re-reads the
// caches, runs the probes, asks decide() (pure) and carries out the one decision: verdict annotations, the rollback
// PATCH (with a precondition), rollback records, Events, metrics, log lines. A key is never reconciled twice at
// once (WorkQueue); failures requeue with per-key backoff. Owned by the daemon wiring (main / app::run_guard).
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
#include <unordered_set>

#include "config/clock.hpp"
#include "config/config.hpp"
#include "daemon/guard/decide.hpp"
#include "daemon/guard/events.hpp"
#include "daemon/kube/client.hpp"
#include "daemon/kube/informer.hpp"
#include "daemon/kube/work_queue.hpp"
#include "probes/objects.hpp"
#include "probes/pod_signals.hpp"

namespace canary_guard::app {
class Metrics;
}

namespace canary_guard::guard {

// Called after each decision that acted (for tests and the latency benchmark): key, action, reason.
using DecisionHook = std::function<void(const std::string& key, const Decision& d)>;

class Controller {
 public:
  Controller(boost::asio::io_context& ioc, kube::Client& client, const config::Config& config, const Clock& clock,
             app::Metrics* metrics, std::string host);
  ~Controller();

  // Runs informers and the worker until stop().
  boost::asio::awaitable<void> run();
  void stop();
  bool synced() const;
  void set_decision_hook(DecisionHook h) { hook_ = std::move(h); }

  // Workload keys: "Deployment/<ns>/<name>" and "DaemonSet/<ns>/<name>".
  static std::string key_of(Kind kind, std::string_view ns, std::string_view name);

 private:
  struct WorkloadState;
  struct Observation;

  boost::asio::awaitable<void> worker();
  boost::asio::awaitable<kube::Result<Ok>> reconcile(const std::string& key);
  boost::asio::awaitable<kube::Result<Ok>> act(const std::string& key, const Observation& obs, const Decision& d);
  boost::asio::awaitable<kube::Result<Ok>> write_record(const Observation& obs, const Revision& rev,
                                                        std::optional<VerdictRecord> verdict,
                                                        std::optional<RollbackRecord> rollback);
  boost::asio::awaitable<kube::Result<std::optional<std::int64_t>>> patch_workload(const Observation& obs,
                                                                                   const Revision& target);
  boost::asio::awaitable<void> event(const Observation& obs, std::string type, std::string reason, std::string message);

  std::optional<Observation> observe(const std::string& key, WorkloadState& st, TimePoint now);
  void wire_handlers();
  void enqueue_owner_of(const probes::ObjectMeta& meta);
  void enqueue_pod_owner(const probes::PodView& pod);

  boost::asio::io_context& ioc_;
  kube::Client& client_;
  const config::Config& config_;
  const Clock& clock_;
  app::Metrics* metrics_;
  EventRecorder events_;
  kube::WorkQueue queue_;
  kube::Informer<probes::DeploymentView> deployments_;
  kube::Informer<probes::ReplicaSetView> replicasets_;
  kube::Informer<probes::DaemonSetView> daemonsets_;
  kube::Informer<probes::ControllerRevisionView> revisions_;
  kube::Informer<probes::PodView> pods_;

  // Secondary indexes kept by the handlers: owner uid -> owned object keys, and workload uid -> workload key.
  std::unordered_map<std::string, std::set<std::string>> rs_by_owner_, cr_by_owner_, pods_by_owner_;
  std::unordered_map<std::string, std::string> owner_of_rs_, owner_of_cr_, owner_of_pod_;
  std::unordered_map<std::string, std::string> workload_by_uid_;
  std::unordered_map<std::string, std::string> rs_owner_uid_;  // rs uid -> deployment uid

  std::unordered_map<std::string, std::unique_ptr<WorkloadState>> state_;
  std::unordered_set<std::string> in_flight_;  // workloads with a rollback started or waiting
  DecisionHook hook_;
  bool stopped_ = false;
  TimePoint started_at_;
};

}  // namespace canary_guard::guard
