#include "tests/sandbox/podsim/simulator.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <exception>

#include <spdlog/spdlog.h>

#include "daemon/kube/resources.hpp"

namespace canary_guard::podsim {

namespace asio = boost::asio;
using nlohmann::json;
using SteadyClock = std::chrono::steady_clock;

namespace {

const json& child(const json& j, const char* key) {
  static const json null_json;
  if (!j.is_object()) return null_json;
  const auto it = j.find(key);
  return it == j.end() ? null_json : *it;
}

std::string str(const json& j) { return j.is_string() ? j.get<std::string>() : std::string{}; }

bool same_containers(const std::vector<ContainerSpec>& a, const std::vector<ContainerSpec>& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](const ContainerSpec& x, const ContainerSpec& y) {
    return x.name == y.name && x.image == y.image;
  });
}

}  // namespace

Simulator::Simulator(asio::io_context& ioc, kube::Client& client, Traffic& traffic, const Clock& clock,
                     SimulatorOptions options)
    : ioc_(ioc), client_(client), traffic_(traffic), clock_(clock), options_(options), wakeup_(ioc) {
  for (int i = 1; i <= options_.nodes; ++i) node_names_.push_back(node_name(i));
  // Set once: workers wait on it and enqueue() cancels it to wake them. Re-arming it would cancel the others.
  wakeup_.expires_at(SteadyClock::time_point::max());
}

void Simulator::start() {
  spawn(node_loop(), "nodes");
  spawn(pod_watch_loop(), "pod-watch");
  spawn(tick_loop(), "tick");
  for (int i = 0; i < std::max(1, options_.workers); ++i) spawn(worker(), "worker");
}

void Simulator::spawn(kube::Task<void> task, const char* what) {
  // co_spawn(detached) would swallow exceptions: log them so a dead loop is visible.
  asio::co_spawn(ioc_, std::move(task), [what](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      spdlog::critical("loop={} stopped error=\"{}\"", what, ex.what());
    } catch (...) {
      spdlog::critical("loop={} stopped error=unknown", what);
    }
  });
}

kube::Task<void> Simulator::sleep_for(Duration d) {
  asio::steady_timer timer(ioc_, d);
  boost::system::error_code ec;
  co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
}

Duration Simulator::jitter(Duration base) {
  std::uniform_real_distribution<double> f(0.8, 1.2);
  return Duration{static_cast<std::int64_t>(static_cast<double>(base.count()) * f(rng_))};
}

bool Simulator::our_node(const std::string& name) const {
  return std::find(node_names_.begin(), node_names_.end(), name) != node_names_.end();
}

// ---------------------------------------------------------------------------------------------------------------
// Nodes

kube::Task<void> Simulator::node_loop() {
  for (;;) {
    bool all_ok = true;
    for (int i = 1; i <= options_.nodes; ++i) {
      try {
        co_await ensure_node(i);
      } catch (const std::exception& e) {
        spdlog::error("node={} action=ensure error=\"{}\"", node_name(i), e.what());
        all_ok = false;
      }
      if (!node_ready_since_.count(node_name(i))) all_ok = false;
    }
    co_await sleep_for(all_ok ? options_.node_refresh : jitter(Duration{2000}));
  }
}

kube::Task<void> Simulator::ensure_node(int index) {
  const std::string name = node_name(index);
  const std::string path = kube::paths::nodes(name);
  auto node = co_await client_.get(path);
  if (!node && node.error().kind == kube::ErrorKind::not_found) {
    auto created = co_await client_.create(kube::paths::nodes(), node_create_body(name));
    if (!created && !kube::is_already_exists(created.error())) {
      ++stats_.errors;
      spdlog::warn("node={} action=create {}", name, kube::describe(created.error()));
      co_return;
    }
    if (created) spdlog::info("node={} action=created", name);
    node = co_await client_.get(path);
  }
  if (!node) {
    ++stats_.errors;
    spdlog::warn("node={} action=get {}", name, kube::describe(node.error()));
    co_return;
  }
  if (auto labels = node_labels_patch_body(*node, name)) {
    auto r = co_await client_.patch(path, kube::PatchType::merge, *labels);
    if (r) {
      spdlog::info("node={} action=label added=standard", name);
      node = std::move(r);
    } else if (r.error().kind != kube::ErrorKind::conflict) {  // conflict: next refresh tries again
      ++stats_.errors;
      spdlog::warn("node={} action=label {}", name, kube::describe(r.error()));
    }
  }

  // Keep Ready's transition time stable across heartbeats and podsim restarts.
  const TimePoint now = clock_.now();
  auto since_it = node_ready_since_.find(name);
  TimePoint since = now;
  if (since_it != node_ready_since_.end()) {
    since = since_it->second;
  } else if (const json& conds = child(child(*node, "status"), "conditions"); conds.is_array()) {
    for (const auto& c : conds)
      if (str(child(c, "type")) == "Ready" && str(child(c, "status")) == "True")
        if (auto t = parse_time(str(child(c, "lastTransitionTime")))) since = *t;
  }
  auto patched = co_await client_.patch(kube::paths::status(path), kube::PatchType::merge,
                                        node_status_patch_body(name, node_ip(index), now, since));
  if (!patched) {
    ++stats_.errors;
    spdlog::warn("node={} action=status {}", name, kube::describe(patched.error()));
    co_return;
  }
  // Labels and allocatable as the server has them now (a `kubectl label node` shows up here).
  if (auto sched = parse_sched_node(*patched)) {
    auto& known = sched_nodes_[name];
    if (known.labels != sched->labels || known.cpu_milli != sched->cpu_milli ||
        known.memory_bytes != sched->memory_bytes)
      spdlog::info("node={} action=scheduling-info labels={} cpu_milli={} memory_bytes={}", name, sched->labels.size(),
                   sched->cpu_milli, sched->memory_bytes);
    known = std::move(*sched);
  } else {
    spdlog::warn("node={} action=scheduling-info error=unreadable_allocatable", name);
  }
  if (since_it == node_ready_since_.end()) {
    node_ready_since_[name] = since;
    spdlog::info("node={} action=ready ip={}", name, node_ip(index));
  }

  // The apiserver taints a new Node not-ready; without a node-lifecycle controller nobody lifts it.
  json current = std::move(*patched);
  for (int attempt = 0; attempt < 3; ++attempt) {
    auto keep = taints_without_lifecycle(current);
    if (!keep) co_return;
    const auto rv = str(child(child(current, "metadata"), "resourceVersion"));
    auto r = co_await client_.patch(path, kube::PatchType::merge, taints_patch_body(rv, *keep));
    if (r) {
      spdlog::info("node={} action=untaint removed=not-ready,unreachable", name);
      co_return;
    }
    if (r.error().kind != kube::ErrorKind::conflict) {
      ++stats_.errors;
      spdlog::warn("node={} action=untaint {}", name, kube::describe(r.error()));
      co_return;
    }
    ++stats_.conflicts;
    auto fresh = co_await client_.get(path);
    if (!fresh) co_return;
    current = std::move(*fresh);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Pod cache

void Simulator::upsert(PodInfo info) {
  const std::string key = info.key();
  auto [it, inserted] = pods_.try_emplace(key);
  Record& rec = it->second;
  if (!inserted && rec.info.uid != info.uid) {
    // Same name, new pod: start over.
    traffic_.remove(key);
    const bool in_flight = rec.in_flight;
    rec = Record{};
    rec.in_flight = in_flight;
  }
  if (info.deleting && !rec.info.deleting) {
    traffic_.remove(key);
    spdlog::info("pod={} action=terminating", key);
  }
  if (!info.node_name.empty()) rec.bind_done = false;
  if (rec.sim && (info.node_name != rec.sim->placement().node || !same_containers(info.containers, rec.sim->containers()))) {
    spdlog::info("pod={} action=restart-simulation reason=spec_changed", key);
    rec.sim.reset();
  }
  rec.info = std::move(info);
  ensure_sim(rec);
  if (next_action(rec) != Action::none) enqueue(key);
}

void Simulator::ensure_sim(Record& rec) {
  const PodInfo& p = rec.info;
  if (rec.sim || p.deleting || p.terminal() || p.containers.empty() || !our_node(p.node_name)) return;
  const TimePoint now = clock_.now();
  const auto node_index = std::find(node_names_.begin(), node_names_.end(), p.node_name) - node_names_.begin() + 1;
  SimPod::Placement placement{p.node_name, node_ip(static_cast<int>(node_index)),
                              p.pod_ip.empty() ? allocate_pod_ip() : p.pod_ip, p.scheduled_time.value_or(now),
                              p.start_time.value_or(now)};
  // A pod podsim already drove (startTime set) keeps its clock and its Ready transition time.
  std::optional<ConditionMemory> seed = p.start_time ? p.ready : std::nullopt;
  PodIdentity id{p.ns, p.name, p.uid, p.pod_template_hash, p.controller_revision_hash};
  rec.sim = std::make_unique<SimPod>(std::move(id), p.containers, p.init_containers, std::move(placement), seed);
  rec.sim->advance(now, options_.timing);
  // After a podsim restart most pods already show exactly this: no need to write them all again.
  rec.dirty = !status_contains(p.status, rec.sim->status_json());
  ++rec.sim_version;
  spdlog::info("pod={} node={} action=start {}", p.key(), p.node_name, rec.sim->describe());
}

void Simulator::forget(const std::string& key) {
  traffic_.remove(key);
  if (pods_.erase(key)) spdlog::debug("pod={} action=gone", key);
}

std::string Simulator::allocate_pod_ip() {
  const std::uint32_t n = next_ip_++;
  return fmt::format("10.244.{}.{}", (n / 250) % 256, n % 250 + 2);
}

std::optional<SchedulingDecision> Simulator::decide(const PodInfo& pod) const {
  std::vector<SchedNode> nodes;
  for (const auto& name : node_names_)
    if (auto it = sched_nodes_.find(name); it != sched_nodes_.end()) nodes.push_back(it->second);
  if (nodes.empty()) return std::nullopt;
  return decide_scheduling(pod.scheduling, nodes);
}

std::string Simulator::pick_node(const PodInfo& pod) {
  const auto d = decide(pod);
  if (!d || d->feasible.empty()) return {};
  if (!pod.scheduling.problems.empty())
    spdlog::warn("pod={} action=schedule-anyway reason=unreadable_spec problem=\"{}\"", pod.key(),
                 pod.scheduling.problems.front());
  // A DaemonSet pod goes to its own node (its matchFields already says so; this also covers an unreadable spec).
  if (!pod.affinity_node.empty())
    return std::find(d->feasible.begin(), d->feasible.end(), pod.affinity_node) != d->feasible.end()
               ? pod.affinity_node
               : std::string{};
  return d->feasible[next_node_++ % d->feasible.size()];
}

Simulator::Action Simulator::next_action(const Record& rec) const {
  const PodInfo& p = rec.info;
  if (p.deleting) return rec.delete_done ? Action::none : Action::remove;
  if (p.terminal()) return Action::none;
  if (p.node_name.empty()) {
    if (rec.bind_done) return Action::none;
    if (!p.affinity_node.empty() && !our_node(p.affinity_node)) return Action::none;  // meant for another node
    const auto d = decide(p);
    if (!d) return Action::none;  // no node known yet
    if (!d->feasible.empty()) return Action::bind;
    // Re-checked on every tick: a node label change or a new allocatable can make it fit.
    return status_contains(p.status, unschedulable_status(p.status, d->message, clock_.now()))
               ? Action::none
               : Action::mark_unschedulable;
  }
  if (rec.sim && rec.dirty) return Action::write_status;
  return Action::none;
}

void Simulator::enqueue(const std::string& key) {
  if (!queued_.insert(key).second) return;
  queue_.push_back(key);
  wakeup_.cancel();
}

void Simulator::failed(Record& rec) {
  ++stats_.errors;
  rec.failures = std::min(rec.failures + 1, 10);
  const Duration backoff = std::min(Duration{30'000}, Duration{250} * (1 << std::min(rec.failures, 7)));
  rec.next_attempt = SteadyClock::now() + jitter(backoff);
}

// ---------------------------------------------------------------------------------------------------------------
// Watch

void Simulator::replace_all(const json& items) {
  std::unordered_set<std::string> seen;
  if (items.is_array()) {
    for (const auto& item : items) {
      auto info = parse_pod(item);
      if (!info) continue;
      seen.insert(info->key());
      upsert(std::move(*info));
    }
  }
  std::vector<std::string> stale;
  for (const auto& [key, rec] : pods_)
    if (!seen.count(key)) stale.push_back(key);
  for (const auto& key : stale) forget(key);
}

void Simulator::handle_watch_line(std::string_view line, std::string& rv, bool& gone) {
  auto event = json::parse(line, nullptr, false);
  if (event.is_discarded() || !event.is_object()) {
    spdlog::warn("watch=pods event=unparsable bytes={}", line.size());
    return;
  }
  ++stats_.watch_events;
  const auto type = str(child(event, "type"));
  const json& object = child(event, "object");
  if (type == "ERROR") {
    const auto err = kube::error_from_status_json(object.dump(-1, ' ', false, json::error_handler_t::replace));
    if (err.kind == kube::ErrorKind::gone) gone = true;
    spdlog::warn("watch=pods event=error {}", kube::describe(err));
    return;
  }
  const auto new_rv = str(child(child(object, "metadata"), "resourceVersion"));
  if (!new_rv.empty()) rv = new_rv;
  if (type == "BOOKMARK") return;
  auto info = parse_pod(object);
  if (!info) return;
  if (type == "DELETED") {
    auto it = pods_.find(info->key());
    if (it != pods_.end() && it->second.info.uid == info->uid) {
      spdlog::info("pod={} action=deleted", info->key());
      forget(info->key());
    }
    return;
  }
  if (type == "ADDED" || type == "MODIFIED") upsert(std::move(*info));
}

kube::Task<void> Simulator::pod_watch_loop() {
  int failures = 0;
  for (;;) {
    try {
      // A named argument, not `{}`: g++ 12 mis-destroys a braced temporary passed to a coroutine.
      kube::ListOptions list_opts;
      auto list = co_await client_.list_all(kube::paths::pods(), list_opts);
      if (!list) {
        ++stats_.errors;
        spdlog::warn("watch=pods action=list {}", kube::describe(list.error()));
        co_await sleep_for(jitter(std::min(Duration{30'000}, Duration{500} * (1 << std::min(++failures, 6)))));
        continue;
      }
      replace_all(child(*list, "items"));
      std::string rv = str(child(child(*list, "metadata"), "resourceVersion"));
      spdlog::info("watch=pods action=listed pods={} resourceVersion={}", pods_.size(), rv);
      failures = 0;
      int watch_failures = 0;
      for (;;) {
        bool gone = false;
        kube::WatchOptions opts;
        opts.resource_version = rv;
        opts.timeout_seconds = std::max(1, options_.watch_timeout_seconds);
        auto r = co_await client_.watch(kube::paths::pods(), opts, [&](std::string_view line) {
          try {
            handle_watch_line(line, rv, gone);
          } catch (const std::exception& e) {
            spdlog::error("watch=pods event=handler-error error=\"{}\"", e.what());
          }
          return !gone;
        });
        if (gone || (!r && r.error().kind == kube::ErrorKind::gone)) {
          spdlog::info("watch=pods action=relist reason=gone");
          break;
        }
        if (r) {
          watch_failures = 0;
          continue;  // the server ended the stream (timeoutSeconds): resume from rv
        }
        ++stats_.errors;
        spdlog::warn("watch=pods action=watch {}", kube::describe(r.error()));
        if (++watch_failures >= 5) break;  // resume keeps failing: relist
        co_await sleep_for(jitter(Duration{250} * (1 << watch_failures)));
      }
    } catch (const std::exception& e) {
      ++stats_.errors;
      spdlog::error("watch=pods action=loop error=\"{}\"", e.what());
    }
    co_await sleep_for(jitter(Duration{1000}));  // only reached after a relist is due
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Timers and workers

kube::Task<void> Simulator::tick_loop() {
  auto last_traffic = SteadyClock::now();
  for (;;) {
    co_await sleep_for(options_.tick);
    try {
      const TimePoint now = clock_.now();
      const auto steady_now = SteadyClock::now();
      const double traffic_elapsed = std::chrono::duration<double>(steady_now - last_traffic).count();
      const bool traffic_due = traffic_elapsed >= 1.0;
      if (traffic_due) last_traffic = steady_now;
      for (auto& [key, rec] : pods_) {
        if (rec.sim && !rec.info.deleting) {
          if (rec.sim->advance(now, options_.timing)) {
            rec.dirty = true;
            ++rec.sim_version;
            spdlog::info("pod={} node={} {}", key, rec.sim->placement().node, rec.sim->describe());
          }
          if (traffic_due && rec.sim->serving())
            traffic_.advance(rec.sim->id(), traffic_elapsed, rec.sim->error_percent(), rec.sim->latency_ms());
        }
        if (!rec.in_flight && steady_now >= rec.next_attempt && next_action(rec) != Action::none) enqueue(key);
      }
    } catch (const std::exception& e) {
      spdlog::error("loop=tick error=\"{}\"", e.what());
    }
  }
}

kube::Task<void> Simulator::worker() {
  for (;;) {
    while (queue_.empty()) {
      boost::system::error_code ec;
      co_await wakeup_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
    std::string key = std::move(queue_.front());
    queue_.pop_front();
    queued_.erase(key);
    try {
      co_await sync(std::move(key));
    } catch (const std::exception& e) {
      ++stats_.errors;
      spdlog::error("loop=worker error=\"{}\"", e.what());
    }
  }
}

kube::Task<void> Simulator::sync(std::string key) {
  auto it = pods_.find(key);
  if (it == pods_.end() || it->second.in_flight || SteadyClock::now() < it->second.next_attempt) co_return;
  const Action action = next_action(it->second);
  if (action == Action::none) co_return;
  const std::string uid = it->second.info.uid;
  it->second.in_flight = true;
  bool ok = false;
  switch (action) {
    case Action::remove: ok = co_await do_delete(key, it->second); break;
    case Action::bind: ok = co_await do_bind(key, it->second); break;
    case Action::mark_unschedulable: ok = co_await do_mark_unschedulable(key, it->second); break;
    case Action::write_status: ok = co_await do_write_status(key, it->second); break;
    case Action::none: break;
  }
  // The record may have gone (or been replaced) while the request ran.
  it = pods_.find(key);
  if (it == pods_.end()) co_return;
  Record& rec = it->second;
  rec.in_flight = false;
  if (rec.info.uid != uid) {
    enqueue(key);
    co_return;
  }
  if (ok) rec.failures = 0;
  else failed(rec);
  if (ok && next_action(rec) != Action::none) enqueue(key);
}

// Each do_* gets the record for the inputs it needs before its first co_await, and looks it up again by key after.

kube::Task<bool> Simulator::do_delete(const std::string& key, Record& rec) {
  const PodInfo info = rec.info;
  auto r = co_await client_.request("DELETE", kube::paths::pods(info.ns, info.name), delete_body(info.uid));
  if (!r) {
    spdlog::warn("pod={} action=delete {}", key, kube::describe(r.error()));
    co_return false;
  }
  const int code = r->status;
  // 404: already gone; 409: the uid precondition failed, so that pod is gone and a new one holds the name.
  if ((code >= 200 && code < 300) || code == 404 || code == 409) {
    auto it = pods_.find(key);
    if (it != pods_.end() && it->second.info.uid == info.uid) it->second.delete_done = true;
    if (code < 300) {
      ++stats_.deletes;
      spdlog::info("pod={} action=delete grace=0", key);
    }
    co_return true;
  }
  spdlog::warn("pod={} action=delete {}", key, kube::describe(kube::error_from_response(code, r->body)));
  co_return false;
}

kube::Task<bool> Simulator::do_bind(const std::string& key, Record& rec) {
  const PodInfo info = rec.info;
  const std::string node = pick_node(info);
  if (node.empty()) co_return true;
  auto r = co_await client_.create(kube::paths::pods(info.ns, info.name) + "/binding", binding_body(info, node));
  auto it = pods_.find(key);
  if (r) {
    ++stats_.binds;
    spdlog::info("pod={} node={} action=bind", key, node);
    if (it != pods_.end() && it->second.info.uid == info.uid) it->second.bind_done = true;
    co_return true;
  }
  // Conflict: already bound (the watch will show where); not found: the pod went away.
  if (r.error().kind == kube::ErrorKind::conflict || r.error().kind == kube::ErrorKind::not_found) {
    spdlog::info("pod={} action=bind skipped {}", key, kube::describe(r.error()));
    if (it != pods_.end() && it->second.info.uid == info.uid) it->second.bind_done = true;
    co_return true;
  }
  spdlog::warn("pod={} node={} action=bind {}", key, node, kube::describe(r.error()));
  co_return false;
}

kube::Task<bool> Simulator::do_mark_unschedulable(const std::string& key, Record& rec) {
  const PodInfo info = rec.info;
  const auto d = decide(info);
  if (!d || !d->feasible.empty()) co_return true;  // things changed: next_action will say what now
  const json status = unschedulable_status(info.status, d->message, clock_.now());
  auto r = co_await client_.patch(kube::paths::status(kube::paths::pods(info.ns, info.name)), kube::PatchType::merge,
                                  status_patch_body(info.resource_version, status));
  if (r) {
    ++stats_.unschedulable;
    spdlog::info("pod={} action=unschedulable message=\"{}\"", key, d->message);
    // The watch brings the new status; until then, remember it so the tick does not write it again.
    auto it = pods_.find(key);
    if (it != pods_.end() && it->second.info.uid == info.uid) {
      if (const auto rv = str(child(child(*r, "metadata"), "resourceVersion")); !rv.empty())
        it->second.info.resource_version = rv;
      it->second.info.status = child(*r, "status");
    }
    co_return true;
  }
  // Conflict: a newer pod version (bound, deleted or changed) is on its way through the watch.
  if (r.error().kind == kube::ErrorKind::conflict || r.error().kind == kube::ErrorKind::not_found) {
    spdlog::debug("pod={} action=unschedulable skipped {}", key, kube::describe(r.error()));
    co_return true;
  }
  spdlog::warn("pod={} action=unschedulable {}", key, kube::describe(r.error()));
  co_return false;
}

kube::Task<bool> Simulator::do_write_status(const std::string& key, Record& rec) {
  const PodInfo info = rec.info;
  // If the simulation moves on while the write runs, the record stays dirty.
  const std::uint64_t version = rec.sim_version;
  const std::string body = status_patch_body(info.resource_version, rec.sim->status_json());
  auto r = co_await client_.patch(kube::paths::status(kube::paths::pods(info.ns, info.name)), kube::PatchType::merge,
                                  body);
  auto it = pods_.find(key);
  if (it == pods_.end() || it->second.info.uid != info.uid) co_return true;
  Record& now_rec = it->second;
  if (r) {
    ++stats_.status_writes;
    const auto rv = str(child(child(*r, "metadata"), "resourceVersion"));
    if (!rv.empty()) now_rec.info.resource_version = rv;
    now_rec.conflicts = 0;
    if (now_rec.sim_version == version) now_rec.dirty = false;
    co_return true;
  }
  switch (r.error().kind) {
    case kube::ErrorKind::not_found:
      now_rec.dirty = false;  // the pod is gone; the watch will say so
      co_return true;
    case kube::ErrorKind::conflict: {
      // Stale resourceVersion: fetch the latest and let the worker retry at once.
      ++stats_.conflicts;
      spdlog::debug("pod={} action=status conflict resourceVersion={}", key, info.resource_version);
      auto fresh = co_await client_.get(kube::paths::pods(info.ns, info.name));
      if (!fresh) co_return false;
      auto parsed = parse_pod(*fresh);
      if (!parsed) co_return false;
      it = pods_.find(key);
      if (it == pods_.end() || it->second.info.uid != parsed->uid) co_return true;
      // Only the version moves forward here; everything else arrives through the watch.
      it->second.info.resource_version = parsed->resource_version;
      if (++it->second.conflicts < 3) co_return true;
      it->second.conflicts = 0;
      co_return false;
    }
    default:
      spdlog::warn("pod={} action=status {}", key, kube::describe(r.error()));
      co_return false;
  }
}

}  // namespace canary_guard::podsim
