#pragma once
// act(): the last step of one reconcile. Carries out one Decision through a narrow Writer (verdict and rollback
// records, the rollback PATCH, removing copied records, Events), updates the guard's metrics and logs one line per
// decision. It owns the order of writes that makes a crash at any point safe:
//   reserve a rollback slot (synchronously, before any await) -> record the intent (`started`, and the failed
//   verdict) while reading the workload and target fresh -> re-check the fresh workload (paused? template changed
//   since the decision? then hold or re-decide, never overwrite) -> PATCH with a generation precondition ->
//   record `waiting`; the RollbackStarted Event is sent without being awaited.
// A rollback is counted in canary_guard_rollbacks_total once, however many resumes it takes.
// Tested with a fake Writer (tests/unit/guard_act_test.cpp).
#include <utility>  // Boost 1.74: must precede boost/asio/awaitable.hpp

#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <optional>
#include <string>

#include "config/clock.hpp"
#include "daemon/guard/decide.hpp"
#include "daemon/guard/guard_metrics.hpp"
#include "daemon/guard/object_ref.hpp"
#include "daemon/guard/observe.hpp"
#include "daemon/guard/rollback_slots.hpp"
#include "daemon/guard/step_trace.hpp"
#include "daemon/kube/errors.hpp"

namespace canary_guard::guard {

template <class T>
using Result = Expected<T, kube::Error>;

// The workload and the rollback target as the API server has them now, and the request that would roll back.
struct FreshRollback {
  std::int64_t generation = 0;
  bool paused = false;
  bool paused_by_guard = false;  // paused with the guard's blind-pause note: the rollback lifts it
  std::string template_fingerprint;  // of the workload's template now (kube::template_fingerprint)
  std::string content_type;
  std::string body;
  bool skipped = false;  // the workload already has the target's template: nothing to send
};

class Writer {
 public:
  virtual ~Writer() = default;
  // Merge-patches the verdict and/or rollback annotation of a revision object (ReplicaSet / ControllerRevision).
  virtual boost::asio::awaitable<Result<Ok>> write_record(const Observation& obs, const Revision& rev,
                                                          std::optional<VerdictRecord> verdict,
                                                          std::optional<RollbackRecord> rollback) = 0;
  // GETs the workload and the target and builds the kubectl-equivalent rollback request (rollback_plan.hpp).
  virtual boost::asio::awaitable<Result<FreshRollback>> prepare_rollback(const Observation& obs,
                                                                         const Revision& target) = 0;
  // Sends it; returns the generation the PATCH produced.
  virtual boost::asio::awaitable<Result<std::int64_t>> send_rollback(const Observation& obs,
                                                                     const FreshRollback& plan) = 0;
  // Removes canary-guard.io/verdict and canary-guard.io/rollback from the workload (with a precondition).
  virtual boost::asio::awaitable<Result<Ok>> remove_workload_records(const Observation& obs) = 0;
  // Pauses or resumes a Deployment with the guard's note set (note) or removed (nullopt), with the observed
  // resourceVersion as precondition.
  virtual boost::asio::awaitable<Result<Ok>> set_paused(const Observation& obs, bool paused,
                                                        std::optional<std::string> note) = 0;
  // Records an Event. Fire and forget: act never waits for it; failures are the writer's to log and count.
  virtual void event(const ObjectRef& obj, std::string type, std::string reason, std::string message) = 0;
};

struct ActContext {
  Writer& writer;
  RollbackSlots& slots;
  GuardMetrics* metrics = nullptr;  // may be null
  const Clock& clock;               // wall time for the records
  StepTrace* trace = nullptr;       // may be null: where a rollback's time went (record+prepare, patch)
  // The rollback request already built from the fresh read that confirmed the decision (the workload and the
  // target read just now): the rollback sends it instead of reading both again. Null: prepare_rollback() reads.
  const FreshRollback* prepared = nullptr;
};

struct ActOutcome {
  bool requeue_now = false;                 // something changed that the next reconcile must look at at once
  std::optional<Duration> requeue_after;    // look again after this long (besides the decision's own recheck)
};

boost::asio::awaitable<Result<ActOutcome>> act(const Observation& obs, const Decision& d, WorkloadState& st,
                                               ActContext& ctx);

// Runs two awaitables concurrently on the current executor and returns both results (Boost 1.74 has no
// awaitable operators). An exception in either is rethrown after both finished.
template <class A, class B>
boost::asio::awaitable<std::pair<A, B>> both(boost::asio::awaitable<A> a, boost::asio::awaitable<B> b);

}  // namespace canary_guard::guard

#include "daemon/guard/act_both.ipp"
