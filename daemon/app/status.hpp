#pragma once
// `canary-guard status`: one row per Deployment and DaemonSet with its current revision, the revision's
// pod-template-hash / ControllerRevision, replica counts, rollout state as `kubectl rollout status` sees it, the
// guard's verdict and the last revision verified healthy; with --daemon also the running daemon's live check values.
#include <utility>  // Boost 1.74: must precede boost/asio/awaitable.hpp

#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "daemon/app/analysis_json.hpp"
#include "daemon/kube/client.hpp"
#include "probes/objects.hpp"

namespace canary_guard::app {

struct StatusRow {
  std::string kind;  // Deployment | DaemonSet
  std::string ns;
  std::string name;
  std::int64_t revision = 0;
  std::string revision_object;  // ReplicaSet or ControllerRevision name
  std::string hash;
  std::int32_t desired = 0, updated = 0, ready = 0, available = 0;
  std::string state;  // complete | progressing | deadline exceeded | paused | on-delete
  std::string message;  // kubectl rollout status text
  std::string verdict;  // healthy | failed | pending
  std::string last_healthy;  // "3 (web-6d8f7c9b5)" or "-"
  std::string rollback;      // in-flight rollback state or "-"
  // Metric checks of the current revision while it is under analysis: each check's last decisive outcomes, oldest
  // first (P pass, F fail), "!" once it passed, e.g. "error-ratio=PPF! p99=!"; "-" when none.
  std::string checks = "-";
  // The daemon's live analysis of the current revision (status --daemon, status_live.hpp): each check's last
  // outcome and value; nullopt when not asked for or the daemon does not analyse this revision.
  std::optional<std::vector<LiveCheck>> checks_live;
};

// The objects a status is built from (borrowed: lists read from the API, or the daemon's informer caches).
struct StatusObjects {
  std::vector<const probes::DeploymentView*> deployments;
  std::vector<const probes::ReplicaSetView*> replicasets;
  std::vector<const probes::DaemonSetView*> daemonsets;
  std::vector<const probes::ControllerRevisionView*> revisions;
};
// The rows, sorted by namespace, kind, name (pure: the same objects give the same rows).
std::vector<StatusRow> build_status(const StatusObjects& objects);

// Lists from the API (namespace "" = all) and builds the rows (build_status).
boost::asio::awaitable<kube::Result<std::vector<StatusRow>>> collect_status(kube::Client& client, std::string ns);

void print_table(const std::vector<StatusRow>& rows, std::ostream& out);
void print_json(const std::vector<StatusRow>& rows, std::ostream& out);

}  // namespace canary_guard::app
