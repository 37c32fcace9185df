#pragma once
// KubeWriter: the guard's Writer (act.hpp) on the Kubernetes API. Record annotations are patches on the
// ReplicaSet / ControllerRevision: a record that replaces one is a JSON patch that `test`s the old text first (a
// compare-and-swap: of two writers moving the same record on, one gets 422 and re-reads; record_patch below), and
// so is a first record (it tests the member absent); the rollback is the kubectl-equivalent JSON patch of rollback_plan.hpp with a
// `test` of metadata.generation first; copied records are removed from the workload by a merge patch that carries
// the observed resourceVersion (a stale one fails with 409); Events go through a bounded queue with at most two in flight (event_queue.hpp). Owned by the
// Controller.
#include <utility>  // Boost 1.74: must precede boost/asio/awaitable.hpp

#include <boost/asio/io_context.hpp>

#include <functional>

#include "daemon/guard/act.hpp"
#include "daemon/guard/event_queue.hpp"
#include "daemon/guard/events.hpp"
#include "daemon/kube/client.hpp"

namespace canary_guard::guard {

// The patch that writes these records onto `rev`: always a JSON patch that first tests what `rev` carries, the old
// text (Revision::verdict_text / rollback_text) or, for a record not written yet, its absence (Revision::
// has_annotations: the whole annotations map's absence), then sets it. Another writer in between makes the
// apiserver refuse it (422): the caller re-reads. Pure.
struct RecordPatch {
  kube::PatchType type = kube::PatchType::merge;
  std::string body;
};
RecordPatch record_patch(const Revision& rev, const std::optional<std::string>& verdict_text,
                         const std::optional<std::string>& rollback_text);

// The kubectl-equivalent rollback request from the workload and the target revision object as the apiserver sent
// them (prepare_rollback's GETs, or a fresh read that has just fetched both): pure.
Result<FreshRollback> plan_rollback(const Observation& obs, const nlohmann::json& workload,
                                    const nlohmann::json& target);

class KubeWriter final : public Writer {
 public:
  KubeWriter(boost::asio::io_context& ioc, kube::Client& client, EventRecorder& events,
             EventQueue::OnDrop on_drop = {})
      : ioc_(ioc),
        client_(client),
        events_(events),
        queue_(
            ioc,
            [this](const PendingEvent& e) -> boost::asio::awaitable<void> {
              co_await events_.record(e.obj, e.type, e.reason, e.message);
            },
            256, 2, std::move(on_drop)) {}

  boost::asio::awaitable<Result<Ok>> write_record(const Observation& obs, const Revision& rev,
                                                  std::optional<VerdictRecord> verdict,
                                                  std::optional<RollbackRecord> rollback) override;
  boost::asio::awaitable<Result<FreshRollback>> prepare_rollback(const Observation& obs,
                                                                 const Revision& target) override;
  boost::asio::awaitable<Result<std::int64_t>> send_rollback(const Observation& obs,
                                                             const FreshRollback& plan) override;
  boost::asio::awaitable<Result<Ok>> remove_workload_records(const Observation& obs) override;
  boost::asio::awaitable<Result<Ok>> set_paused(const Observation& obs, bool paused,
                                                std::optional<std::string> note) override;
  void event(const ObjectRef& obj, std::string type, std::string reason, std::string message) override;
  // Called for every Event before it is queued (notifications tap the guard's Events here).
  using Tap = std::function<void(const ObjectRef&, const std::string& type, const std::string& reason,
                                 const std::string& message)>;
  void set_tap(Tap tap) { tap_ = std::move(tap); }

 private:
  boost::asio::io_context& ioc_;
  kube::Client& client_;
  EventRecorder& events_;
  Tap tap_;
  EventQueue queue_;  // Events: bounded, at most two in flight (event_queue.hpp)
};

}  // namespace canary_guard::guard
