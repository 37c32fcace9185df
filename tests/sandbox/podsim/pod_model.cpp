#include "tests/sandbox/podsim/pod_model.hpp"

#include <algorithm>
#include <charconv>
#include <ctime>

#include <fmt/format.h>

namespace canary_guard::podsim {

namespace {

// Parses the decimal suffix of a token such as "errors30"; nullopt if absent, malformed or above `max`.
std::optional<int> number_after(std::string_view token, std::string_view prefix, int max) {
  if (token.size() <= prefix.size() || token.substr(0, prefix.size()) != prefix) return std::nullopt;
  const auto digits = token.substr(prefix.size());
  int value = 0;
  const auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (ec != std::errc{} || ptr != digits.data() + digits.size() || value < 0 || value > max) return std::nullopt;
  return value;
}

std::string hex64(std::uint64_t v) { return fmt::format("{:016x}", v); }

// A duration as Go's time.Duration prints whole seconds ("10s", "1m20s", "5m0s"), as in the kubelet's message.
std::string go_seconds(Duration d) {
  const auto s = std::chrono::duration_cast<std::chrono::seconds>(d).count();
  return s < 60 ? fmt::format("{}s", s) : fmt::format("{}m{}s", s / 60, s % 60);
}

constexpr int kMaxRestarts = 1'000'000;

Terminated exited(std::string reason, int exit_code) {
  Terminated t;
  t.reason = std::move(reason);
  t.exit_code = exit_code;
  return t;
}

// RestartBackoff::kubelet: attempts 0, 1, ... each run `run` and then exit with `exit`'s reason and code; all of them when
// `crashes` is empty, else the first *crashes (the next attempt runs for good). A running attempt is Ready once it
// has run `ready_after` (never when empty); a crashing one only if `ready_while_crashing`.
ContainerSnapshot kubelet_timeline(std::optional<int> crashes, Terminated exit, bool ready_while_crashing,
                                   std::optional<Duration> ready_after, TimePoint start, TimePoint now, Duration run) {
  ContainerSnapshot s;
  s.started = true;
  run = std::max(Duration{1}, run);
  TimePoint attempt_start = start;
  std::optional<TimePoint> last_update;  // flowcontrol.Backoff's entry: when the back-off last moved
  Duration backoff{0};
  for (int k = 0;; ++k) {
    const bool crashing = !crashes || k < *crashes;
    const TimePoint finished = attempt_start + run;
    if (!crashing || now < finished || k >= kMaxRestarts) {
      s.kind = StateKind::running;
      s.running_since = attempt_start;
      s.restart_count = k;
      s.ready = (!crashing || ready_while_crashing) && ready_after && now - attempt_start >= *ready_after;
      return s;
    }
    // doBackOff: no entry yet, or none since longer than 2 x max -> restart at once and start at 10 s; otherwise
    // wait the current back-off, then double it (capped).
    Duration wait{0};
    if (!last_update || finished - *last_update > kBackoffReset) {
      backoff = kBackoffInitial;
    } else {
      wait = backoff;
      backoff = std::min(backoff * 2, kBackoffMax);
    }
    exit.started_at = attempt_start;
    exit.finished_at = finished;
    s.last_terminated = exit;
    const TimePoint restart = finished + wait;
    last_update = restart;
    if (now < restart) {
      s.kind = StateKind::waiting;
      s.reason = "CrashLoopBackOff";
      s.message = fmt::format("back-off {} restarting failed container (simulated by podsim)", go_seconds(wait));
      s.restart_count = k;
      return s;
    }
    attempt_start = restart;
  }
}

std::string container_id(std::string_view uid, std::string_view name, int restart) {
  const auto key = fmt::format("{}/{}/{}", uid, name, restart);
  // 64 hex digits like a real runtime ID; four differently salted hashes.
  return fmt::format("containerd://{}{}{}{}", hex64(fnv1a(key)), hex64(fnv1a(key + "#1")), hex64(fnv1a(key + "#2")),
                     hex64(fnv1a(key + "#3")));
}

std::string image_id(std::string_view image) {
  const std::string s(image);
  return fmt::format("podsim.local/{}@sha256:{}{}{}{}", s.substr(0, s.find_first_of(":@")), hex64(fnv1a(s)),
                     hex64(fnv1a(s + "#1")), hex64(fnv1a(s + "#2")), hex64(fnv1a(s + "#3")));
}

nlohmann::json terminated_json(const Terminated& t, const std::string& cid) {
  return {{"exitCode", t.exit_code},
          {"reason", t.reason},
          {"startedAt", format_time(t.started_at)},
          {"finishedAt", format_time(t.finished_at)},
          {"containerID", cid}};
}

nlohmann::json container_json(const ContainerSpec& spec, const ContainerSnapshot& s, const std::string& uid) {
  nlohmann::json j{{"name", spec.name},
                   {"image", spec.image},
                   {"imageID", s.started ? image_id(spec.image) : std::string{}},
                   {"ready", s.ready},
                   {"restartCount", s.restart_count},
                   {"started", s.kind == StateKind::running}};
  if (s.started) j["containerID"] = container_id(uid, spec.name, s.restart_count);
  switch (s.kind) {
    case StateKind::running:
      j["state"] = {{"running", {{"startedAt", format_time(s.running_since)}}}};
      break;
    case StateKind::waiting:
      j["state"] = {{"waiting", {{"reason", s.reason}, {"message", s.message}}}};
      break;
    case StateKind::terminated:
      j["state"] = {{"terminated", terminated_json(s.terminated, container_id(uid, spec.name, s.restart_count))}};
      break;
  }
  j["lastState"] = nlohmann::json::object();
  if (s.last_terminated && s.restart_count > 0)
    j["lastState"] = {
        {"terminated", terminated_json(*s.last_terminated, container_id(uid, spec.name, s.restart_count - 1))}};
  return j;
}

nlohmann::json condition_json(std::string_view type, bool status, TimePoint since, std::string_view reason,
                              std::string_view message) {
  nlohmann::json c{{"type", type},
                   {"status", status ? "True" : "False"},
                   {"lastProbeTime", nullptr},
                   {"lastTransitionTime", format_time(since)}};
  if (!reason.empty()) c["reason"] = reason;
  if (!message.empty()) c["message"] = message;
  return c;
}

}  // namespace

std::uint64_t fnv1a(std::string_view s) noexcept {
  std::uint64_t h = 14695981039346656037ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

std::string_view image_tag(std::string_view image) noexcept {
  if (const auto at = image.find('@'); at != std::string_view::npos) image = image.substr(0, at);
  const auto colon = image.rfind(':');
  if (colon == std::string_view::npos) return {};
  const auto slash = image.rfind('/');
  if (slash != std::string_view::npos && slash > colon) return {};  // "host:5000/web": a port, not a tag
  return image.substr(colon + 1);
}

Behaviour parse_behaviour(std::string_view image) noexcept {
  Behaviour b;
  std::string_view rest = image_tag(image);
  while (!rest.empty()) {
    const auto dash = rest.find('-');
    const auto token = rest.substr(0, dash);
    rest = dash == std::string_view::npos ? std::string_view{} : rest.substr(dash + 1);
    if (token == "crashloop") b.crashloop = true;
    else if (token == "pullfail") b.pullfail = true;
    else if (token == "unready") b.unready = true;
    else if (token == "oom") b.oom = true;
    else if (auto c = number_after(token, "crash", 1000); c && *c > 0) b.startup_crashes = *c;
    else if (auto n = number_after(token, "slow", 86400)) b.slow_seconds = *n;
    else if (auto p = number_after(token, "errors", 100)) b.error_percent = *p;
    else if (auto ms = number_after(token, "latency", 600000)) b.latency_ms = *ms;
  }
  return b;
}

ContainerSnapshot simulate_container(const Behaviour& b, TimePoint start, TimePoint now, const Timing& t,
                                     std::string_view image) {
  ContainerSnapshot s;
  const Duration elapsed = std::max(Duration{0}, now - start);
  const Duration cycle = std::max(Duration{2}, t.crash_interval);

  if (b.pullfail) {
    const Duration period = std::max(Duration{1}, t.pull_interval);
    const bool backoff = (elapsed / period) % 2 == 1;
    s.kind = StateKind::waiting;
    s.reason = backoff ? "ImagePullBackOff" : "ErrImagePull";
    s.message = backoff ? fmt::format("Back-off pulling image \"{}\"", image)
                        : fmt::format("rpc error: code = NotFound desc = failed to pull and unpack image \"{}\": "
                                      "not found (simulated by podsim)",
                                      image);
    return s;
  }

  s.started = true;
  const Duration ready_after = b.slow_seconds ? Duration{std::int64_t{*b.slow_seconds} * 1000} : t.ready_delay;
  if (t.backoff == RestartBackoff::kubelet) {
    if (b.crashloop) return kubelet_timeline(std::nullopt, exited("Error", 1), false, std::nullopt, start, now, t.crash_run);
    if (b.oom) return kubelet_timeline(std::nullopt, exited("OOMKilled", 137), true, t.ready_delay, start, now, t.crash_run);
    if (b.startup_crashes > 0)
      return kubelet_timeline(b.startup_crashes, exited("Error", 1), false,
                              b.unready ? std::nullopt : std::optional{ready_after}, start, now, t.crash_run);
  }
  if (b.crashloop || (b.startup_crashes > 0 && !b.oom && elapsed < cycle * b.startup_crashes)) {
    // Runs for half a cycle, exits 1, then sits in back-off; each later cycle is one more restart.
    const Duration run_for = cycle / 2;
    if (elapsed < run_for) {
      s.kind = StateKind::running;
      s.running_since = start;
      return s;
    }
    const auto crashes = (elapsed - run_for) / cycle;  // completed back-off cycles after the first crash
    s.restart_count = static_cast<int>(std::min<std::int64_t>(crashes + 1, 1'000'000));
    const TimePoint finished = start + run_for + cycle * crashes;
    s.kind = StateKind::waiting;
    s.reason = "CrashLoopBackOff";
    s.message = "back-off restarting failed container (simulated by podsim)";
    s.last_terminated = Terminated{"Error", 1, crashes == 0 ? start : finished - run_for, finished};
    return s;
  }

  if (b.oom) {
    // Each cycle: running for the first half, OOMKilled for the second, then restarted.
    const auto cycles = elapsed / cycle;
    const TimePoint cycle_start = start + cycle * cycles;
    s.restart_count = static_cast<int>(std::min<std::int64_t>(cycles, 1'000'000));
    if (cycles > 0) s.last_terminated = Terminated{"OOMKilled", 137, cycle_start - cycle, cycle_start - cycle / 2};
    if (now - cycle_start < cycle / 2) {
      s.kind = StateKind::running;
      s.running_since = cycle_start;
      s.ready = elapsed >= t.ready_delay;
    } else {
      s.kind = StateKind::terminated;
      s.terminated = Terminated{"OOMKilled", 137, cycle_start, cycle_start + cycle / 2};
    }
    return s;
  }

  if (b.startup_crashes > 0) {
    // fixed, after its last crash: runs for good from the end of that cycle.
    const Duration run_for = cycle / 2;
    const TimePoint since = start + cycle * b.startup_crashes;
    const TimePoint finished = since - cycle + run_for;
    s.kind = StateKind::running;
    s.running_since = since;
    s.restart_count = b.startup_crashes;
    s.last_terminated = Terminated{"Error", 1, b.startup_crashes == 1 ? start : finished - run_for, finished};
    s.ready = !b.unready && now - since >= ready_after;
    return s;
  }

  s.kind = StateKind::running;
  s.running_since = start;
  if (b.unready) return s;
  s.ready = elapsed >= ready_after;
  return s;
}

SimPod::SimPod(PodIdentity id, std::vector<ContainerSpec> containers, std::vector<ContainerSpec> init_containers,
               Placement placement, std::optional<ConditionMemory> ready_seed)
    : id_(std::move(id)),
      containers_(std::move(containers)),
      init_containers_(std::move(init_containers)),
      placement_(std::move(placement)),
      ready_(ready_seed.value_or(ConditionMemory{false, placement_.start})) {}

bool SimPod::advance(TimePoint now, const Timing& t) {
  std::vector<ContainerSnapshot> next;
  next.reserve(containers_.size());
  for (const auto& c : containers_) next.push_back(simulate_container(c.behaviour, placement_.start, now, t, c.image));

  // Like the kubelet: Pending while a container has never started, Running otherwise.
  const bool never_started =
      std::any_of(next.begin(), next.end(), [](const ContainerSnapshot& s) { return !s.started; });
  std::string phase = never_started ? "Pending" : "Running";
  const bool all_ready =
      !next.empty() && std::all_of(next.begin(), next.end(), [](const ContainerSnapshot& s) { return s.ready; });

  bool changed = first_ || next != snapshots_ || phase != phase_ || all_ready != ready_.status;
  if (all_ready != ready_.status) ready_ = ConditionMemory{all_ready, now};
  first_ = false;
  snapshots_ = std::move(next);
  phase_ = std::move(phase);
  return changed;
}

bool SimPod::serving() const {
  return phase_ == "Running" && !snapshots_.empty() &&
         std::all_of(snapshots_.begin(), snapshots_.end(),
                     [](const ContainerSnapshot& s) { return s.kind == StateKind::running; });
}

int SimPod::error_percent() const {
  int p = 0;
  for (const auto& c : containers_) p = std::max(p, c.behaviour.error_percent);
  return p;
}

std::optional<int> SimPod::latency_ms() const {
  std::optional<int> ms;
  for (const auto& c : containers_)
    if (c.behaviour.latency_ms) ms = std::max(ms.value_or(0), *c.behaviour.latency_ms);
  return ms;
}

nlohmann::json SimPod::status_json() const {
  std::string unready;
  for (std::size_t i = 0; i < containers_.size() && i < snapshots_.size(); ++i)
    if (!snapshots_[i].ready) unready += (unready.empty() ? "" : " ") + containers_[i].name;
  const std::string reason = ready_.status ? "" : "ContainersNotReady";
  const std::string message = ready_.status ? "" : fmt::format("containers with unready status: [{}]", unready);

  nlohmann::json status{{"phase", phase_},
                        {"hostIP", placement_.host_ip},
                        {"podIP", placement_.pod_ip},
                        {"podIPs", nlohmann::json::array({{{"ip", placement_.pod_ip}}})},
                        {"startTime", format_time(placement_.start)},
                        {"qosClass", "BestEffort"}};
  status["conditions"] = nlohmann::json::array({
      condition_json("Initialized", true, placement_.start, "", ""),
      condition_json("Ready", ready_.status, ready_.since, reason, message),
      condition_json("ContainersReady", ready_.status, ready_.since, reason, message),
      condition_json("PodScheduled", true, placement_.scheduled, "", ""),
  });
  auto statuses = nlohmann::json::array();
  for (std::size_t i = 0; i < containers_.size() && i < snapshots_.size(); ++i)
    statuses.push_back(container_json(containers_[i], snapshots_[i], id_.uid));
  status["containerStatuses"] = std::move(statuses);
  if (!init_containers_.empty()) {
    // Init containers are not simulated: they completed at start.
    auto inits = nlohmann::json::array();
    for (const auto& c : init_containers_) {
      ContainerSnapshot done;
      done.kind = StateKind::terminated;
      done.started = true;
      done.ready = true;
      done.terminated = Terminated{"Completed", 0, placement_.start, placement_.start};
      auto j = container_json(c, done, id_.uid);
      j["started"] = false;
      inits.push_back(std::move(j));
    }
    status["initContainerStatuses"] = std::move(inits);
  }
  return status;
}

std::string SimPod::describe() const {
  std::string out = fmt::format("phase={} ready={}", phase_, ready_.status);
  for (std::size_t i = 0; i < containers_.size() && i < snapshots_.size(); ++i) {
    const auto& s = snapshots_[i];
    const char* kind = s.kind == StateKind::running ? "running" : s.kind == StateKind::waiting ? "waiting" : "terminated";
    const std::string& reason = s.kind == StateKind::terminated ? s.terminated.reason : s.reason;
    out += fmt::format(" {}={}{}{}/restarts={}{}", containers_[i].name, kind, reason.empty() ? "" : "/", reason,
                       s.restart_count, s.ready ? "/ready" : "");
  }
  return out;
}



}  // namespace canary_guard::podsim
