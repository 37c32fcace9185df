#pragma once
// The effective guard policy for one workload: configuration defaults overlaid with the workload's
// canary-guard.io/* annotations. Produced by config/ (see config.hpp), consumed by probes and the decision core.
#include <chrono>
#include <cstdint>
#include <string>

namespace canary_guard::config {

using Seconds = std::chrono::seconds;

enum class KnownBadAction { hold, rollback };

// Thresholds for pod fast-failure signals (spec/probes.md §4.2, §4.3).
struct PodPolicy {
  std::int32_t crashloop_restarts = 3;   // CrashLoopBackOff with restartCount >= this (above the first-seen baseline)
  // CrashLoopBackOff with restartCount >= this in a pod of the revision that was never Ready (0 = off). Under the
  // kubelet's back-off (at once, 10 s, 20 s, 40 s ...) the third restart comes ~30 s after the second; a pod that
  // never served and crashed twice is evidence enough. Two start-up crashes alone never reach it: the kubelet
  // restarts the first at once, and the second waits in back-off with restartCount 1.
  std::int32_t crashloop_unready_restarts = 2;
  Seconds image_pull_grace{120};         // ErrImagePull / ImagePullBackOff persisting longer than this
  Seconds config_error_grace{60};        // CreateContainerConfigError and friends
  std::int32_t oom_kills = 2;            // OOMKilled this many times on one pod
  Seconds schedule_grace{300};           // Unschedulable longer than this -> HOLD
  bool unschedulable_is_failure = false;
  Seconds ready_grace{0};                // 0 = progress deadline / 2
};

struct Policy {
  bool enabled = true;
  bool dry_run = false;
  Seconds bake_time{300};
  Seconds daemonset_progress_deadline{600};
  // What to do when a template already rolled back as failed is applied again.
  KnownBadAction on_known_bad = KnownBadAction::hold;
  Seconds known_bad_min_interval{3600};  // with rollback: at most one automatic rollback per this interval
  PodPolicy pods;
};

}  // namespace canary_guard::config
