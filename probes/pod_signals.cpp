#include "probes/pod_signals.hpp"

#include <algorithm>
#include <array>
#include <limits>
#include <utility>

namespace canary_guard::probes {

std::string_view to_string(PodSignal s) noexcept {
  switch (s) {
    case PodSignal::crash_loop: return "crash_loop";
    case PodSignal::image_pull: return "image_pull";
    case PodSignal::invalid_image: return "invalid_image";
    case PodSignal::config_error: return "config_error";
    case PodSignal::oom_killed: return "oom_killed";
    case PodSignal::not_ready: return "not_ready";
    case PodSignal::unschedulable: return "unschedulable";
    case PodSignal::other: return "other";
  }
  return "other";
}

WaitingClass classify_waiting_reason(std::string_view r) noexcept {
  if (r.empty()) return WaitingClass::none;
  if (r == "ContainerCreating" || r == "PodInitializing") return WaitingClass::benign;
  if (r == "InvalidImageName" || r == "ErrImageNeverPull") return WaitingClass::invalid_image;
  if (r == "ErrImagePull" || r == "ImagePullBackOff") return WaitingClass::image_pull;
  if (r == "CreateContainerConfigError" || r == "CreateContainerError" || r == "RunContainerError" ||
      r == "PreStartHookError" || r == "PostStartHookError")
    return WaitingClass::config_error;
  if (r == "CrashLoopBackOff") return WaitingClass::crash_loop;
  return WaitingClass::unknown;
}

namespace {

constexpr std::string_view kOomKilled = "OOMKilled";

// since + grace + 1 ms ("longer than grace"); nullopt when it does not fit in a TimePoint (effectively never).
std::optional<TimePoint> fires_at(TimePoint since, std::chrono::seconds grace) {
  using Rep = TimePoint::rep;
  if (grace.count() < 0) grace = std::chrono::seconds{0};
  constexpr Rep kMaxSeconds = std::numeric_limits<Rep>::max() / 1000 - 1;
  if (grace.count() > kMaxSeconds) return std::nullopt;
  const Rep add = grace.count() * 1000 + 1;
  const Rep base = since.time_since_epoch().count();
  if (base > 0 && base > std::numeric_limits<Rep>::max() - add) return std::nullopt;
  return since + std::chrono::milliseconds{add};
}

// Lower rank = reported first when several pods fail at once: the most certain diagnosis wins.
int rank(PodSignal s) {
  switch (s) {
    case PodSignal::invalid_image: return 0;
    case PodSignal::image_pull: return 1;
    case PodSignal::config_error: return 2;
    case PodSignal::crash_loop: return 3;
    case PodSignal::oom_killed: return 4;
    case PodSignal::other: return 5;
    case PodSignal::not_ready: return 6;
    case PodSignal::unschedulable: return 7;
  }
  return 8;
}

std::string describe(const std::string& pod, bool init, std::size_t index) {
  return "pod " + pod + (init ? " init container " : " container ") + std::to_string(index);
}

}  // namespace

struct PodSignalTracker::Finding {
  enum class Level { fail, hold, pending, timer };  // timer: no signal yet, but evaluate() may change at fires
  Level level;
  PodSignal signal;
  std::string detail;
  std::optional<TimePoint> fires;
};

void PodSignalTracker::observe(const std::vector<const PodView*>& pods, TimePoint now) {
  std::map<std::string, PodTrack> next;
  for (const PodView* pod : pods) {
    if (pod == nullptr || pod->meta.deleted) continue;
    std::string key = pod->meta.uid.empty() ? pod->meta.ns + "/" + pod->meta.name : pod->meta.uid;
    if (next.count(key)) continue;  // duplicate in the input: first one wins
    PodTrack track;
    if (auto it = pods_.find(key); it != pods_.end()) {
      track = std::move(it->second);
    } else {
      // creationTimestamp has whole seconds while revision_started_ may carry milliseconds (the guard clamps it to
      // the moment of its previous look): a pod created in the same second as the revision start belongs to it.
      track.in_revision = pod->meta.created >= std::chrono::floor<std::chrono::seconds>(revision_started_);
    }
    track.name = pod->meta.name;

    bool any_waiting = false;
    bool any_restarted = false;
    std::size_t init_index = 0, main_index = 0;
    for (const ContainerStateView& c : pod->containers) {
      const std::pair<bool, std::size_t> ckey{c.init, c.init ? init_index++ : main_index++};
      auto [it, first] = track.containers.try_emplace(ckey);
      ContainerTrack& ct = it->second;
      if (first) {
        ct.baseline = track.in_revision ? 0 : c.restart_count;
        // Only the latest termination reason is visible, so a first sighting proves at most one OOM kill.
        if (track.in_revision && c.restart_count > 0 && c.last_terminated_reason == kOomKilled) ct.oom_kills = 1;
      } else if (c.restart_count > ct.restart_count && c.last_terminated_reason == kOomKilled) {
        ++ct.oom_kills;  // several restarts between two sightings still count once: we only know the last reason
      }
      ct.restart_count = c.restart_count;
      if (c.restart_count > 0) any_restarted = true;  // absolute: the pod's whole life, not only this revision

      const WaitingClass cls = classify_waiting_reason(c.waiting_reason);
      if (first || cls != ct.waiting) {
        ct.waiting = cls;
        ct.waiting_since = (cls == WaitingClass::none || cls == WaitingClass::benign) ? std::nullopt
                                                                                        : std::optional{now};
      }
      ct.waiting_reason = c.waiting_reason;
      if (!c.waiting_reason.empty()) any_waiting = true;
    }

    const Condition* scheduled = pod->condition("PodScheduled");
    const bool unschedulable = scheduled && scheduled->status == "False" && scheduled->reason == "Unschedulable";
    if (!unschedulable)
      track.unschedulable_since.reset();
    else if (!track.unschedulable_since)
      track.unschedulable_since = now;

    const Condition* ready = pod->condition("Ready");
    if (ready && ready->status == "True") {
      track.was_ready = true;
    } else if (ready && ready->status == "False") {
      if (!track.unready_anchor) {
        if (!any_restarted && !track.was_ready) track.unready_anchor = ready->last_transition;
      } else if (ready->last_transition != *track.unready_anchor) {
        track.was_ready = true;  // it changed since: Ready (or Unknown) in between, or so we must assume
      }
    }
    // Ready missing or Unknown (node lost) is no evidence either way.
    track.never_ready = track.unready_anchor && !track.was_ready && ready && ready->status == "False";

    const Condition* containers_ready = pod->condition("ContainersReady");
    const bool not_ready = ((ready && ready->status == "False") ||
                            (containers_ready && containers_ready->status == "False")) &&
                           !any_waiting && !unschedulable;
    if (!not_ready)
      track.not_ready_since.reset();
    else if (!track.not_ready_since)
      track.not_ready_since = now;

    next.emplace(std::move(key), std::move(track));
  }
  pods_ = std::move(next);
}

void PodSignalTracker::collect(const config::PodPolicy& policy, std::chrono::seconds progress_deadline,
                               TimePoint now, std::vector<Finding>& out) const {
  using Level = Finding::Level;
  auto timed = [&](PodSignal sig, TimePoint since, std::chrono::seconds grace, std::string what, Level pending_level,
                   Level due_level) {
    const auto at = fires_at(since, grace);
    if (at && now >= *at) {
      out.push_back({due_level, sig, std::move(what), at});
    } else {
      out.push_back({pending_level, sig, std::move(what), at});
    }
  };
  const std::chrono::seconds ready_grace =
      policy.ready_grace.count() > 0 ? policy.ready_grace : progress_deadline / 2;

  for (const auto& [key, pod] : pods_) {
    for (const auto& [ckey, ct] : pod.containers) {
      const std::string who = describe(pod.name, ckey.first, ckey.second);
      const std::string waiting = who + " waiting " + ct.waiting_reason;
      switch (ct.waiting) {
        case WaitingClass::none:
        case WaitingClass::benign: break;
        case WaitingClass::invalid_image:
          out.push_back({Level::fail, PodSignal::invalid_image, waiting, std::nullopt});
          break;
        case WaitingClass::image_pull:
          timed(PodSignal::image_pull, *ct.waiting_since, policy.image_pull_grace, waiting, Level::pending,
                Level::fail);
          break;
        case WaitingClass::config_error:
          timed(PodSignal::config_error, *ct.waiting_since, policy.config_error_grace, waiting, Level::pending,
                Level::fail);
          break;
        case WaitingClass::crash_loop: {
          const std::int64_t restarts = static_cast<std::int64_t>(ct.restart_count) - ct.baseline;
          const bool unready_rule = pod.never_ready && policy.crashloop_unready_restarts > 0 &&
                                    restarts >= policy.crashloop_unready_restarts;
          std::string d = waiting + " after " + std::to_string(restarts) + " restarts";
          if (unready_rule && restarts < policy.crashloop_restarts) d += ", never Ready";
          out.push_back({restarts >= policy.crashloop_restarts || unready_rule ? Level::fail : Level::pending,
                         PodSignal::crash_loop, std::move(d), std::nullopt});
          break;
        }
        case WaitingClass::unknown:
          timed(PodSignal::other, *ct.waiting_since, progress_deadline, waiting, Level::pending, Level::fail);
          break;
      }
      if (policy.oom_kills > 0 && ct.oom_kills >= policy.oom_kills)
        out.push_back({Level::fail, PodSignal::oom_killed,
                       who + " OOMKilled " + std::to_string(ct.oom_kills) + " times", std::nullopt});
    }
    if (pod.unschedulable_since)
      timed(PodSignal::unschedulable, *pod.unschedulable_since, policy.schedule_grace,
            "pod " + pod.name + " Unschedulable", Level::pending,
            policy.unschedulable_is_failure ? Level::fail : Level::hold);
    if (pod.not_ready_since)
      timed(PodSignal::not_ready, *pod.not_ready_since, ready_grace, "pod " + pod.name + " not Ready", Level::timer,
            Level::fail);
  }
}

ProbeResult PodSignalTracker::evaluate(const config::PodPolicy& policy, std::chrono::seconds progress_deadline,
                                       TimePoint now) const {
  std::vector<Finding> findings;
  collect(policy, progress_deadline, now, findings);
  using Level = Finding::Level;
  for (Level level : {Level::fail, Level::hold, Level::pending}) {
    const Finding* best = nullptr;
    std::size_t count = 0;
    for (const Finding& f : findings) {
      if (f.level != level) continue;
      ++count;
      if (!best || rank(f.signal) < rank(best->signal)) best = &f;
    }
    if (!best) continue;
    std::string detail = best->detail;
    if (count > 1) detail += " (+" + std::to_string(count - 1) + " more)";
    const std::string reason{to_string(best->signal)};
    switch (level) {
      case Level::fail: return ProbeResult::fail(reason, std::move(detail));
      case Level::hold: return ProbeResult::inconclusive(reason, std::move(detail), /*hold=*/true);
      default: return ProbeResult::inconclusive(reason, std::move(detail));
    }
  }
  if (pods_.empty()) return ProbeResult::no_data("", "no pods of the new revision");
  return ProbeResult::pass("", std::to_string(pods_.size()) + " pods without failure signals");
}

std::optional<TimePoint> PodSignalTracker::next_check(const config::PodPolicy& policy,
                                                      std::chrono::seconds progress_deadline, TimePoint now) const {
  std::vector<Finding> findings;
  collect(policy, progress_deadline, now, findings);
  std::optional<TimePoint> best;
  for (const Finding& f : findings)
    if ((f.level == Finding::Level::pending || f.level == Finding::Level::timer) && f.fires && *f.fires > now &&
        (!best || *f.fires < *best))
      best = f.fires;
  return best;
}

}  // namespace canary_guard::probes
