#pragma once
// FreshView: a ClusterView of one workload read fresh from the apiserver (consistent reads, never the informer
// caches): the workload, its revision objects (ReplicaSets / ControllerRevisions) and the pods of its namespace.
// Before a rollback PATCH the controller runs observe() and decide() again on it, so the evidence a rollback rests
// on is the apiserver's present, not a cache that may have stopped updating (a frozen watch nobody noticed yet).
// Owned by the reconcile that reads it; its pointers stay valid while it lives.
#include <utility>  // Boost 1.74: must precede boost/asio/awaitable.hpp

#include <boost/asio/awaitable.hpp>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "daemon/guard/observe.hpp"
#include "daemon/guard/workload_key.hpp"
#include "daemon/kube/client.hpp"

namespace canary_guard::guard {

class FreshView final : public ClusterView {
 public:
  // An error when a read fails or an object does not project: no fresh evidence, so no rollback now.
  // `hashes` (Deployments only; empty: everything of the namespace): the revisions the decision names, failing one
  // first. Then only those ReplicaSets and the failing revision's pods are listed (label pod-template-hash), which
  // is what observe() judges a Deployment by; a revision applied since is still seen, as the Deployment's revision
  // annotation then names a ReplicaSet the view lacks, which holds (doubt), never confirms. `revision_names`
  // (Deployments; the two ReplicaSets of `hashes`): the Deployment and those are read by name (GETs, one key each:
  // the read sits between a breach and its rollback PATCH), the pods still by label. Passed by reference: the
  // caller keeps them alive across the await (GCC 12, see fresh_view.cpp).
  static boost::asio::awaitable<kube::Result<std::unique_ptr<FreshView>>> read(
      kube::Client& client, const WorkloadKey& key, const std::vector<std::string>& hashes,
      const std::vector<std::string>& revision_names = {});

  const probes::DeploymentView* deployment(const std::string& ns, const std::string& name) const override;
  const probes::DaemonSetView* daemonset(const std::string& ns, const std::string& name) const override;
  std::vector<const probes::ReplicaSetView*> replicasets_of(const std::string& owner_uid) const override;
  std::vector<const probes::ControllerRevisionView*> revisions_of(const std::string& owner_uid) const override;
  std::vector<const probes::PodView*> pods_of(const std::string& owner_uid) const override;

  std::size_t pod_count() const { return pods_.size(); }
  // The documents read by name, as the apiserver sent them (Deployments read with `revision_names`): the
  // Deployment, and a ReplicaSet by name. Null when not read that way or absent. A rollback builds its PATCH from
  // these instead of reading them a second time; the PATCH's generation test still refuses a changed workload.
  const nlohmann::json* workload_document() const { return workload_doc_ ? &*workload_doc_ : nullptr; }
  const nlohmann::json* revision_document(const std::string& name) const;

 private:
  std::optional<nlohmann::json> workload_doc_;
  std::vector<nlohmann::json> revision_docs_;
  std::optional<probes::DeploymentView> deployment_;
  std::optional<probes::DaemonSetView> daemonset_;
  std::vector<probes::ReplicaSetView> replicasets_;
  std::vector<probes::ControllerRevisionView> revisions_;
  std::vector<probes::PodView> pods_;
};

}  // namespace canary_guard::guard
