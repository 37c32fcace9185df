#pragma once
// Exact re-implementation of `kubectl rollout status` for Deployments and DaemonSets
// (kubectl/pkg/polymorphichelpers/rollout_status.go; spec kubernetes-rollouts.md §7.2, §7.3). The guard uses it to
// wait after a rollback exactly as an operator running kubectl would. Messages are verbatim, including kubectl's
// trailing newline on waiting/success messages (error messages have none, as in kubectl).
#include <cstdint>
#include <optional>
#include <string>

#include "config/clock.hpp"
#include "probes/objects.hpp"

namespace canary_guard::probes {

struct RolloutStatus {
  // waiting: not done yet; success: done (kubectl exit 0); failed: progress deadline exceeded (kubectl exit 1);
  // error: kubectl would exit 1 for a reason that is not a rollout failure (revision mismatch, wrong strategy).
  enum class State { waiting, success, failed, error };
  State state = State::waiting;
  std::string message;
};

const char* to_string(RolloutStatus::State s) noexcept;

// `revision` is kubectl's --revision (0 = not given). `ignore_deadline_before` is the deliberate deviation of
// kubernetes-rollouts.md §7.4a: a ProgressDeadlineExceeded condition whose lastUpdateTime is strictly before this
// time (pass the time of our own rollback PATCH) is stale and does not fail the rollout; evaluation continues with
// the remaining rows. Without it the function is exactly kubectl.
RolloutStatus deployment_rollout_status(const DeploymentView& d, std::int64_t revision = 0,
                                        std::optional<TimePoint> ignore_deadline_before = {});

// DaemonSets have no failure state; callers enforce their own deadline (see rollout_probe.hpp).
RolloutStatus daemonset_rollout_status(const DaemonSetView& ds);

// Go's strconv.ParseInt(s, 10, 64) including its error text, e.g. `strconv.ParseInt: parsing "x": invalid syntax`.
// Exposed for tests and for the guard's reading of the revision annotation.
struct ParsedInt {
  std::optional<std::int64_t> value;
  std::string error;
};
ParsedInt go_parse_int64(std::string_view s);

// Go's %q for the strings kubectl quotes (object names).
std::string go_quote(std::string_view s);

}  // namespace canary_guard::probes
