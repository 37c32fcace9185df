#pragma once
// The pure half of podsim: what a simulated pod looks like at a given moment. Image tags select a behaviour
// (crashloop, crash<N>, pullfail, unready, slow<N>, oom, errors<P>, latency<MS>); the state of each container is a function
// of (behaviour, start time, now, timing), so a restart of podsim continues where the cluster says the pod is.
// Only pod-level condition transition times are remembered, because "since when" cannot be recomputed for a
// condition that flaps. No I/O, no clock reads: tests drive it with explicit time points.
#include "config/rfc3339.hpp"
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/clock.hpp"

namespace canary_guard::podsim {

// What an image tag asks the simulator to do. Tags combine with '-': "v2-errors30-latency400".
struct Behaviour {
  bool crashloop = false;
  bool pullfail = false;
  bool unready = false;
  bool oom = false;
  int startup_crashes = 0;          // crash<N>: exits N times at start-up, then runs (and becomes Ready)
  std::optional<int> slow_seconds;  // Ready after N s instead of --ready-delay
  int error_percent = 0;            // 0..100: share of simulated requests answered with 500
  std::optional<int> latency_ms;    // centre of the simulated latency distribution

  bool operator==(const Behaviour&) const = default;
};

// Text after the last ':' of the image reference, ignoring a registry port ("host:5000/web") and a digest
// ("web@sha256:..."). Empty when the image has no tag.
std::string_view image_tag(std::string_view image) noexcept;
// Unknown or malformed tokens are ignored (a plain version tag such as "v1" is the default behaviour).
Behaviour parse_behaviour(std::string_view image) noexcept;

// How a crashed container is restarted.
//  - kubelet: as the kubelet's per-container back-off (pkg/kubelet/kuberuntime doBackOff with
//    flowcontrol.Backoff, 1.20): the first crash is restarted at once, later ones after 10 s, 20 s, 40 s ...
//    capped at 5 min; a container that ran longer than 10 min before it crashed starts over at once. While it
//    waits the container is `waiting/CrashLoopBackOff` with the restartCount of the attempt that crashed.
//  - fixed: one crash per crash_interval (the old podsim timing: restartCount climbs every 2 s).
enum class RestartBackoff { kubelet, fixed };

struct Timing {
  Duration ready_delay{1000};
  RestartBackoff backoff = RestartBackoff::kubelet;
  Duration crash_run{1000};       // kubelet: how long a crashing (or OOM-killed) container runs before it exits
  Duration crash_interval{2000};  // fixed: one crash/OOM cycle; restartCount climbs once per cycle
  Duration pull_interval{4000};   // ErrImagePull and ImagePullBackOff alternate at this period
};

// The kubelet's container restart back-off (see RestartBackoff).
inline constexpr Duration kBackoffInitial{10'000};
inline constexpr Duration kBackoffMax{300'000};
inline constexpr Duration kBackoffReset{600'000};  // 2 x max: flowcontrol.Backoff's hasExpired

enum class StateKind { waiting, running, terminated };

struct Terminated {
  std::string reason;  // Error | OOMKilled | Completed
  int exit_code = 0;
  TimePoint started_at{};
  TimePoint finished_at{};
  bool operator==(const Terminated&) const = default;
};

// One container's status at a moment.
struct ContainerSnapshot {
  StateKind kind = StateKind::waiting;
  std::string reason;   // waiting reason (ContainerCreating, CrashLoopBackOff, ErrImagePull, ImagePullBackOff)
  std::string message;  // waiting message
  TimePoint running_since{};
  Terminated terminated;  // meaningful when kind == terminated
  std::optional<Terminated> last_terminated;
  int restart_count = 0;
  bool ready = false;
  bool started = false;
  bool operator==(const ContainerSnapshot&) const = default;
};

ContainerSnapshot simulate_container(const Behaviour& b, TimePoint start, TimePoint now, const Timing& t,
                                     std::string_view image);

struct ContainerSpec {
  std::string name;
  std::string image;
  Behaviour behaviour;
};

// Identity of a pod as the metrics and logs name it.
struct PodIdentity {
  std::string ns;
  std::string name;
  std::string uid;
  std::string pod_template_hash;         // label pod-template-hash (Deployment pods)
  std::string controller_revision_hash;  // label controller-revision-hash (DaemonSet pods)
};

// A pod-level condition the kubelet reports, with the moment its status last changed.
struct ConditionMemory {
  bool status = false;
  TimePoint since{};
};

// One simulated pod on one simulated node. Owned by the Simulator; advanced by its ticker.
class SimPod {
 public:
  struct Placement {
    std::string node;
    std::string host_ip;
    std::string pod_ip;
    TimePoint scheduled{};  // PodScheduled transition
    TimePoint start{};      // status.startTime: containers' clocks start here
  };

  SimPod(PodIdentity id, std::vector<ContainerSpec> containers, std::vector<ContainerSpec> init_containers,
         Placement placement, std::optional<ConditionMemory> ready_seed = std::nullopt);

  // Recomputes the pod at `now`. Returns true when the status visible to the API changed since the last call
  // (and always on the first call).
  bool advance(TimePoint now, const Timing& t);

  const PodIdentity& id() const { return id_; }
  const Placement& placement() const { return placement_; }
  const std::vector<ContainerSpec>& containers() const { return containers_; }
  const std::vector<ContainerSnapshot>& snapshots() const { return snapshots_; }
  const std::string& phase() const { return phase_; }
  bool ready() const { return ready_.status; }
  // Serving traffic: Running with every container running (a crash-looping pod answers nothing).
  bool serving() const;
  // Worst error percentage and slowest latency among the containers (the pod is one endpoint).
  int error_percent() const;
  std::optional<int> latency_ms() const;

  // status object for the status subresource (a merge patch replaces its lists whole).
  nlohmann::json status_json() const;
  // "phase=Running ready=false web=waiting/CrashLoopBackOff/restarts=3" for the one log line per change.
  std::string describe() const;

 private:
  PodIdentity id_;
  std::vector<ContainerSpec> containers_;
  std::vector<ContainerSpec> init_containers_;
  Placement placement_;
  std::vector<ContainerSnapshot> snapshots_;
  std::string phase_;
  ConditionMemory ready_;
  bool first_ = true;
};

// RFC 3339 (config/rfc3339.hpp): whole seconds in UTC, as metav1.Time serialises.
inline std::string format_time(TimePoint t) { return format_rfc3339(t); }
inline std::optional<TimePoint> parse_time(std::string_view s) noexcept { return parse_rfc3339(s); }

// Stable 64-bit FNV-1a, for fake container and image IDs.
std::uint64_t fnv1a(std::string_view s) noexcept;

}  // namespace canary_guard::podsim
