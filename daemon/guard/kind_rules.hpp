#pragma once
// KindRules: everything observe() must know that differs between workload kinds, one implementation per kind, as
// Kubernetes keeps the Deployment and DaemonSet controllers apart (pkg/controller/deployment, pkg/controller/daemon):
// how to find the workload's revisions, its current and its stable revision, its pods, and its progress rules.
// observe() itself is kind-neutral. A third kind is one new implementation, not a branch in every rule.
// Pure: cache views, the guard's per-workload memory and `now` come in; no Asio, no JSON, no clock reads.
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/clock.hpp"
#include "config/policy.hpp"
#include "daemon/guard/decide.hpp"
#include "daemon/guard/workload_key.hpp"
#include "probes/objects.hpp"
#include "probes/outcome.hpp"

namespace canary_guard::guard {

class ClusterView;
struct WorkloadState;

// What a kind's rules read from the workload and its revision objects (before any pod is looked at).
struct KindReading {
  struct RevisionObject {
    Revision revision;
    const probes::KeyValues* annotations = nullptr;  // the cached object's, for read-your-writes overlays
  };
  std::vector<RevisionObject> revisions;  // owned, not deleted, any order
  // The status describes the latest spec and the current revision object is known (spec §8); observe() also
  // requires the cache to show the guard's own last PATCH.
  bool spec_observed = false;
  bool paused = false;            // paused by a person (a pause carrying the guard's own blind-pause note is not)
  bool guard_pause_note = false;  // canary-guard.io/hold: paused-blind ...: the guard paused it itself
  bool records_on_workload = false;
  bool on_delete = false;  // nothing rolls out by itself (DaemonSet OnDelete)
  std::int32_t pods_expected = 0;
  std::int32_t history_limit = 10;
  std::chrono::seconds rollback_wait_limit{600};
  // The current revision; empty hash when not known (yet).
  std::string current_hash;
  TimePoint current_created{};
  const probes::KeyValues* current_annotations = nullptr;
  std::int32_t status_ready = 0;  // Ready pods the status counts (compared with the pods: a lagging status)
};

// The pods observe() judges and compares with the status.
struct PodSets {
  std::vector<const probes::PodView*> current;  // of the current revision
  std::vector<const probes::PodView*> counted;  // those the status's ready count covers
};

struct ProgressInput {
  TimePoint anchor{};                         // the revision's start, or the later start of a rollback into it
  std::optional<TimePoint> rollback_started;  // the open rollback record whose target is the current revision
  TimePoint now{};
  bool completed_once = false;  // the guard saw this revision complete with pods
  bool status_lags = false;     // the pods show more readiness than the status
};

struct ProgressReading {
  probes::ProbeResult progress;
  bool rollout_complete = false;  // `kubectl rollout status` would report success now
  std::optional<TimePoint> next;  // when the own timer fires
  std::chrono::seconds deadline{600};  // the deadline the pod-signal graces are measured against
  // A reason the rollout cannot progress that lies outside the release (quota: ReplicaFailure=True).
  std::optional<Finding> outside_cause;
};

class KindRules {
 public:
  virtual ~KindRules() = default;
  // The workload's metadata; null when it is not in the cache.
  virtual const probes::ObjectMeta* meta() const = 0;
  virtual KindReading read(const config::Policy& policy) const = 0;
  virtual PodSets pods(const KindReading& r) const = 0;
  // The revision this rollout replaces, while it still runs; empty when none does.
  virtual std::string stable_hash(const KindReading& r, const PodSets& pods) const = 0;
  // The kind's progress rules (deadline, pause, completion). `st` keeps the kind's own memory across reconciles.
  virtual ProgressReading progress(const config::Policy& policy, const ProgressInput& in, WorkloadState& st) const = 0;
};

// The rules for `key`'s kind over `view`; the object lives while `view`'s pointers do (one reconcile).
std::unique_ptr<KindRules> rules_for(const WorkloadKey& key, const ClusterView& view);
std::unique_ptr<KindRules> deployment_rules(const WorkloadKey& key, const ClusterView& view);
std::unique_ptr<KindRules> daemonset_rules(const WorkloadKey& key, const ClusterView& view);

}  // namespace canary_guard::guard
