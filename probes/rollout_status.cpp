#include "probes/rollout_status.hpp"

#include <limits>
#include <string_view>

namespace canary_guard::probes {
namespace {

constexpr std::string_view kRevisionAnnotation = "deployment.kubernetes.io/revision";
constexpr std::string_view kProgressDeadlineExceeded = "ProgressDeadlineExceeded";

RolloutStatus waiting(std::string m) { return {RolloutStatus::State::waiting, std::move(m)}; }

}  // namespace

const char* to_string(RolloutStatus::State s) noexcept {
  switch (s) {
    case RolloutStatus::State::waiting: return "waiting";
    case RolloutStatus::State::success: return "success";
    case RolloutStatus::State::failed: return "failed";
    case RolloutStatus::State::error: return "error";
  }
  return "error";
}

std::string go_quote(std::string_view s) {
  // Kubernetes names are DNS labels, so the ASCII subset of strconv.Quote is all that can occur; bytes >= 0x80 are
  // passed through (Go keeps printable UTF-8 as is).
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  out.reserve(s.size() + 2);
  out += '"';
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\a': out += "\\a"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\v': out += "\\v"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          out += "\\x";
          out += hex[c >> 4];
          out += hex[c & 0xf];
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
  return out;
}

ParsedInt go_parse_int64(std::string_view s0) {
  auto syntax = [&] { return ParsedInt{std::nullopt, "strconv.ParseInt: parsing " + go_quote(s0) + ": invalid syntax"}; };
  auto range = [&] { return ParsedInt{std::nullopt, "strconv.ParseInt: parsing " + go_quote(s0) + ": value out of range"}; };
  if (s0.empty()) return syntax();
  std::string_view s = s0;
  bool neg = false;
  if (s[0] == '+' || s[0] == '-') {
    neg = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s.empty()) return syntax();
  // Same order as Go's ParseUint: a bad digit is a syntax error unless an overflow was already hit before it.
  std::uint64_t n = 0;
  constexpr std::uint64_t kMaxU = std::numeric_limits<std::uint64_t>::max();
  for (char c : s) {
    if (c < '0' || c > '9') return syntax();
    const auto d = static_cast<std::uint64_t>(c - '0');
    if (n > kMaxU / 10 || n * 10 > kMaxU - d) return range();
    n = n * 10 + d;
  }
  constexpr std::uint64_t cutoff = std::uint64_t{1} << 63;
  if (!neg && n >= cutoff) return range();
  if (neg && n > cutoff) return range();
  std::int64_t v = neg ? static_cast<std::int64_t>(0 - n) : static_cast<std::int64_t>(n);
  return ParsedInt{v, {}};
}

RolloutStatus deployment_rollout_status(const DeploymentView& d, std::int64_t revision,
                                        std::optional<TimePoint> ignore_deadline_before) {
  const std::string name = go_quote(d.meta.name);
  if (revision > 0) {
    // deploymentutil.Revision: a missing annotation is revision 0, not an error.
    std::int64_t running = 0;
    if (const std::string* v = find_value(d.meta.annotations, kRevisionAnnotation)) {
      ParsedInt p = go_parse_int64(*v);
      if (!p.value)
        return {RolloutStatus::State::error, "cannot get the revision of deployment " + name + ": " + p.error};
      running = *p.value;
    }
    if (running != revision)
      return {RolloutStatus::State::error, "desired revision (" + std::to_string(revision) +
                                               ") is different from the running revision (" +
                                               std::to_string(running) + ")"};
  }
  if (d.meta.generation > d.observed_generation) return waiting("Waiting for deployment spec update to be observed...\n");

  if (const Condition* c = d.condition("Progressing"); c && c->reason == kProgressDeadlineExceeded) {
    // kubectl ignores the condition's status here; so do we.
    const bool stale = ignore_deadline_before && c->last_update < *ignore_deadline_before;
    if (!stale) return {RolloutStatus::State::failed, "deployment " + name + " exceeded its progress deadline"};
  }
  if (d.replicas_set && d.updated_replicas < d.spec_replicas)
    return waiting("Waiting for deployment " + name + " rollout to finish: " + std::to_string(d.updated_replicas) +
                   " out of " + std::to_string(d.spec_replicas) + " new replicas have been updated...\n");
  if (d.replicas > d.updated_replicas)
    return waiting("Waiting for deployment " + name + " rollout to finish: " +
                   std::to_string(static_cast<std::int64_t>(d.replicas) - d.updated_replicas) +
                   " old replicas are pending termination...\n");
  if (d.available_replicas < d.updated_replicas)
    return waiting("Waiting for deployment " + name + " rollout to finish: " + std::to_string(d.available_replicas) +
                   " of " + std::to_string(d.updated_replicas) + " updated replicas are available...\n");
  return {RolloutStatus::State::success, "deployment " + name + " successfully rolled out\n"};
}

RolloutStatus daemonset_rollout_status(const DaemonSetView& ds) {
  // Exactly kubectl: a stored apps/v1 DaemonSet always has a defaulted strategy, so "" is treated like OnDelete.
  if (ds.update_strategy != "RollingUpdate")
    return {RolloutStatus::State::error, "rollout status is only available for RollingUpdate strategy type"};
  if (ds.meta.generation > ds.observed_generation)
    return waiting("Waiting for daemon set spec update to be observed...\n");
  const std::string name = go_quote(ds.meta.name);
  if (ds.updated_number_scheduled < ds.desired_number_scheduled)
    return waiting("Waiting for daemon set " + name + " rollout to finish: " +
                   std::to_string(ds.updated_number_scheduled) + " out of " +
                   std::to_string(ds.desired_number_scheduled) + " new pods have been updated...\n");
  if (ds.number_available < ds.desired_number_scheduled)
    return waiting("Waiting for daemon set " + name + " rollout to finish: " + std::to_string(ds.number_available) +
                   " of " + std::to_string(ds.desired_number_scheduled) + " updated pods are available...\n");
  return {RolloutStatus::State::success, "daemon set " + name + " successfully rolled out\n"};
}

}  // namespace canary_guard::probes
