#pragma once
// Fast-failure signals from the pods of one new revision (spec/probes.md §4.2, §4.3). Owned by the guard, one
// tracker per (workload, revision); dropped when the revision changes. It remembers what a single snapshot cannot
// show: when each waiting reason was first seen (grace periods), each container's restart baseline (R4.2) and how
// many OOM kills it has seen. Pure: time comes in as arguments.
//
// Restart baseline (R4.2): a pod created at or after `revision_started` belongs wholly to this revision, so all of
// its restarts count (baseline 0), even when the guard first sees it late (e.g. after a guard restart). A pod
// created before `revision_started` (a re-used ReplicaSet after an undo keeps its old pods) gets the restartCount of
// its first sighting as baseline; only restarts after that count. The same split applies to OOM kills.
//
// Never Ready (crashloop_unready_restarts): a pod of this revision counts as never Ready only on evidence. The
// tracker must have seen its Ready=False condition while none of its containers had ever restarted (restartCount 0,
// not merely above the baseline), and that condition must still carry the same lastTransitionTime: a pod that
// became Ready and unready again between two sightings has a later one. A Ready=True sighting or a changed
// transition time is remembered for good. Pods seen first after a restart (a guard restart) never qualify: for
// them only crashloop_restarts applies. This does not depend on the revision start: the guard's estimate of it can
// be later than a new pod's creation when its cache lagged, and a pod of the revision's ReplicaSet that never
// restarted has no history that the rule could misread.
//
// Grace periods are "longer than": a signal first seen at t with grace g fails at t + g + 1 ms, not at t + g.
// Persistence is measured from the first sighting by this tracker (no timestamp exists for waiting reasons); a
// guard restart therefore only ever delays a verdict.
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/clock.hpp"
#include "config/policy.hpp"
#include "probes/objects.hpp"
#include "probes/outcome.hpp"

namespace canary_guard::probes {

// Closed set, usable as the `reason` label of canary_guard_pod_signals_total (spec §5).
enum class PodSignal { crash_loop, image_pull, invalid_image, config_error, oom_killed, not_ready, unschedulable, other };
std::string_view to_string(PodSignal s) noexcept;

// How a container's state.waiting.reason is treated (§4.2).
enum class WaitingClass { none, benign, invalid_image, image_pull, config_error, crash_loop, unknown };
WaitingClass classify_waiting_reason(std::string_view reason) noexcept;

class PodSignalTracker {
 public:
  explicit PodSignalTracker(TimePoint revision_started) : revision_started_(revision_started) {}

  // Feeds the current set of the new revision's pods. Pods with deletionTimestamp are ignored; pods no longer
  // present (or now deleting) are forgotten.
  void observe(const std::vector<const PodView*>& pods, TimePoint now);

  // FAIL (reason = PodSignal token) if any pod shows a failure signal; otherwise INCONCLUSIVE with hold for an
  // Unschedulable pod past schedule_grace; INCONCLUSIVE for a pending signal; PASS when pods exist and show no
  // signal; NO_DATA when no (live) pod has been observed. `progress_deadline` bounds unknown waiting reasons and
  // is the default ready grace (ready_grace 0 -> progress_deadline / 2).
  ProbeResult evaluate(const config::PodPolicy& policy, std::chrono::seconds progress_deadline, TimePoint now) const;

  // The earliest time after `now` at which evaluate() may change because a grace period runs out; nullopt if no
  // timer is pending. The guard schedules a reconcile then.
  std::optional<TimePoint> next_check(const config::PodPolicy& policy, std::chrono::seconds progress_deadline,
                                      TimePoint now) const;

  std::size_t tracked_pods() const noexcept { return pods_.size(); }

 private:
  struct ContainerTrack {
    WaitingClass waiting = WaitingClass::none;
    std::string waiting_reason;
    std::optional<TimePoint> waiting_since;  // first sighting of the current class (image_pull spans both reasons)
    std::int32_t baseline = 0;
    std::int32_t restart_count = 0;
    std::int32_t oom_kills = 0;
  };
  struct PodTrack {
    std::string name;
    bool in_revision = true;  // created at/after revision start: no baseline
    std::map<std::pair<bool, std::size_t>, ContainerTrack> containers;  // key: (init, index in its status list)
    std::optional<TimePoint> unschedulable_since;
    std::optional<TimePoint> not_ready_since;  // Ready=False with no container waiting
    std::optional<TimePoint> unready_anchor;   // Ready=False lastTransitionTime seen before any restart
    bool was_ready = false;                    // evidence the pod has been Ready (or may have been)
    bool never_ready = false;                  // as of the last sighting, see "Never Ready" above
  };
  struct Finding;

  void collect(const config::PodPolicy& policy, std::chrono::seconds progress_deadline, TimePoint now,
               std::vector<Finding>& out) const;

  TimePoint revision_started_;
  std::map<std::string, PodTrack> pods_;  // by uid (namespace/name when uid is empty)
};

}  // namespace canary_guard::probes
