#include "daemon/guard/controller.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <charconv>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "daemon/app/metrics.hpp"
#include "daemon/guard/rollback_plan.hpp"
#include "daemon/kube/projection.hpp"
#include "daemon/kube/resources.hpp"
#include "probes/rollout_probe.hpp"
#include "probes/rollout_status.hpp"

namespace canary_guard::guard {

namespace asio = boost::asio;
using asio::awaitable;
using kube::Result;

// Everything reconcile() learnt from the caches about one workload, and what act() needs to carry out a decision.
struct Controller::Observation {
  Kind kind = Kind::deployment;
  ObjectRef ref;
  std::int64_t generation = 0;
  config::Policy policy;
  Snapshot snapshot;
  std::vector<std::string> problems;  // invalid annotations
};

// What the guard remembers about a workload between reconciles. Only conveniences live here (when a revision was
// first seen, pod-signal grace timers, which hold Events were already sent); everything that matters for
// correctness is in annotations on the cluster objects.
struct Controller::WorkloadState {
  std::string hash;
  std::int64_t number = -1;
  TimePoint revision_started{};
  std::optional<TimePoint> complete_since;
  std::unique_ptr<probes::PodSignalTracker> tracker;
  std::optional<probes::DaemonSetView> ds_last;
  std::optional<TimePoint> ds_last_progress;
  std::optional<TimePoint> last_observed;
  std::set<std::string> said;  // "<hash>|<reason>" of hold/dry-run Events already recorded
  // Read-your-writes: annotation values this process wrote, by revision object name, until the informer cache shows
  // them. Without it the next reconcile can see the cache from before our own write and repeat a decision.
  struct Written {
    std::optional<std::string> verdict, rollback;
  };
  std::map<std::string, Written> written;
  bool problems_reported = false;
  bool active = false;
  // Generation our own rollback PATCH produced: a cached workload older than that is from before our write.
  std::int64_t min_generation = 0;
};

namespace {

void index_add(std::unordered_map<std::string, std::set<std::string>>& by_owner,
               std::unordered_map<std::string, std::string>& owner_of, const std::string& key, const std::string& owner) {
  auto it = owner_of.find(key);
  if (it != owner_of.end()) {
    if (it->second == owner) return;
    auto o = by_owner.find(it->second);
    if (o != by_owner.end()) {
      o->second.erase(key);
      if (o->second.empty()) by_owner.erase(o);
    }
  }
  owner_of[key] = owner;
  if (!owner.empty()) by_owner[owner].insert(key);
}

void index_remove(std::unordered_map<std::string, std::set<std::string>>& by_owner,
                  std::unordered_map<std::string, std::string>& owner_of, const std::string& key) {
  auto it = owner_of.find(key);
  if (it == owner_of.end()) return;
  auto o = by_owner.find(it->second);
  if (o != by_owner.end()) {
    o->second.erase(key);
    if (o->second.empty()) by_owner.erase(o);
  }
  owner_of.erase(it);
}

std::optional<std::int64_t> parse_revision(const probes::KeyValues& annotations) {
  const std::string* v = probes::find_value(annotations, "deployment.kubernetes.io/revision");
  if (!v) return 0;
  std::int64_t n = 0;
  auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
  if (ec != std::errc{} || p != v->data() + v->size()) return std::nullopt;
  return n;
}

template <class View>
Revision make_revision(const View& v, std::string hash, std::int64_t number) {
  Revision r;
  r.name = v.meta.name;
  r.hash = std::move(hash);
  r.number = number;
  if (const std::string* t = probes::find_value(v.meta.annotations, kVerdictAnnotation)) r.verdict = parse_verdict(*t, r.hash);
  if (const std::string* t = probes::find_value(v.meta.annotations, kRollbackAnnotation))
    r.rollback = parse_rollback(*t, r.hash);
  return r;
}

// Replaces a cached record with the one we wrote when the cache has not caught up yet; forgets ours once it has.
template <class Overlay>
void overlay_records(Revision& r, const probes::KeyValues& cached, std::map<std::string, Overlay>& written) {
  auto it = written.find(r.name);
  if (it == written.end()) return;
  auto apply = [&](std::optional<std::string>& mine, std::string_view key, auto parse, auto& field) {
    if (!mine) return;
    const std::string* c = probes::find_value(cached, key);
    if (c && *c == *mine) {
      mine.reset();  // the cache has it
    } else {
      field = parse(*mine, r.hash);
    }
  };
  apply(it->second.verdict, kVerdictAnnotation, parse_verdict, r.verdict);
  apply(it->second.rollback, kRollbackAnnotation, parse_rollback, r.rollback);
  if (!it->second.verdict && !it->second.rollback) written.erase(it);
}

std::optional<TimePoint> earliest(std::optional<TimePoint> a, std::optional<TimePoint> b) {
  if (!a) return b;
  if (!b) return a;
  return std::min(*a, *b);
}

// The waiting rollback record whose target is the current revision, if any: its time anchors the deadline and
// marks a ProgressDeadlineExceeded older than our PATCH as stale (spec §7.4a).
std::optional<TimePoint> waiting_anchor(const std::vector<Revision>& revs, const std::string& current) {
  std::optional<TimePoint> at;
  for (const auto& r : revs)
    if (r.rollback && r.rollback->to == current &&
        (r.rollback->state == RollbackState::waiting || r.rollback->state == RollbackState::started))
      at = at ? std::max(*at, r.rollback->at) : r.rollback->at;
  return at;
}

std::string_view kind_token(Kind k) { return k == Kind::deployment ? "deployment" : "daemonset"; }

}  // namespace

Controller::Controller(asio::io_context& ioc, kube::Client& client, const config::Config& config, const Clock& clock,
                       app::Metrics* metrics, std::string host)
    : ioc_(ioc),
      client_(client),
      config_(config),
      clock_(clock),
      metrics_(metrics),
      events_(client, clock, config.event_component, std::move(host)),
      queue_(ioc, clock),
      deployments_(client, {.path = kube::paths::deployments()}),
      replicasets_(client, {.path = kube::paths::replicasets()}),
      daemonsets_(client, {.path = kube::paths::daemonsets()}),
      revisions_(client, {.path = kube::paths::controllerrevisions()}),
      pods_(client, {.path = kube::paths::pods()}),
      started_at_(clock.now()) {
  wire_handlers();
}

Controller::~Controller() = default;

std::string Controller::key_of(Kind kind, std::string_view ns, std::string_view name) {
  std::string k(to_string(kind));
  k += '/';
  k += ns;
  k += '/';
  k += name;
  return k;
}

bool Controller::synced() const {
  return deployments_.has_synced() && replicasets_.has_synced() && daemonsets_.has_synced() &&
         revisions_.has_synced() && pods_.has_synced();
}

void Controller::wire_handlers() {
  // Deployments and DaemonSets: remember uid -> workload key (owned objects find their workload by it) and enqueue.
  auto wire_workload = [this](auto& informer, Kind kind) {
    auto upsert = [this, kind](const std::string&, const auto* w) {
      std::string key = key_of(kind, w->meta.ns, w->meta.name);
      workload_by_uid_[w->meta.uid] = key;
      queue_.add(key);
    };
    informer.on_add(upsert);
    informer.on_update(upsert);
    informer.on_delete([this, kind](const std::string&, const auto* w) {
      workload_by_uid_.erase(w->meta.uid);
      queue_.add(key_of(kind, w->meta.ns, w->meta.name));
    });
  };
  wire_workload(deployments_, Kind::deployment);
  wire_workload(daemonsets_, Kind::daemonset);

  auto on_rs = [this](const std::string& key, const probes::ReplicaSetView* rs) {
    index_add(rs_by_owner_, owner_of_rs_, key, rs->meta.controller_uid);
    rs_owner_uid_[rs->meta.uid] = rs->meta.controller_uid;
    enqueue_owner_of(rs->meta);
  };
  replicasets_.on_add(on_rs);
  replicasets_.on_update(on_rs);
  replicasets_.on_delete([this](const std::string& key, const probes::ReplicaSetView* rs) {
    index_remove(rs_by_owner_, owner_of_rs_, key);
    rs_owner_uid_.erase(rs->meta.uid);
    enqueue_owner_of(rs->meta);
  });

  auto on_cr = [this](const std::string& key, const probes::ControllerRevisionView* cr) {
    index_add(cr_by_owner_, owner_of_cr_, key, cr->meta.controller_uid);
    enqueue_owner_of(cr->meta);
  };
  revisions_.on_add(on_cr);
  revisions_.on_update(on_cr);
  revisions_.on_delete([this](const std::string& key, const probes::ControllerRevisionView* cr) {
    index_remove(cr_by_owner_, owner_of_cr_, key);
    enqueue_owner_of(cr->meta);
  });

  auto on_pod = [this](const std::string& key, const probes::PodView* p) {
    index_add(pods_by_owner_, owner_of_pod_, key, p->meta.controller_uid);
    enqueue_pod_owner(*p);
  };
  pods_.on_add(on_pod);
  pods_.on_update(on_pod);
  pods_.on_delete([this](const std::string& key, const probes::PodView* p) {
    index_remove(pods_by_owner_, owner_of_pod_, key);
    enqueue_pod_owner(*p);
  });
}

void Controller::enqueue_owner_of(const probes::ObjectMeta& meta) {
  auto it = workload_by_uid_.find(meta.controller_uid);
  if (it != workload_by_uid_.end()) queue_.add(it->second);
}

void Controller::enqueue_pod_owner(const probes::PodView& pod) {
  const std::string& owner = pod.meta.controller_uid;
  if (owner.empty()) return;
  auto rs = rs_owner_uid_.find(owner);
  const std::string& workload_uid = rs != rs_owner_uid_.end() ? rs->second : owner;
  auto it = workload_by_uid_.find(workload_uid);
  if (it != workload_by_uid_.end()) queue_.add(it->second);
}

awaitable<void> Controller::run() {
  auto log_errors = [](const char* what) {
    return [what](std::exception_ptr e) {
      if (!e) return;
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        spdlog::error("component=controller task={} event=crashed error=\"{}\"", what, ex.what());
      }
    };
  };
  asio::co_spawn(ioc_, deployments_.run(), log_errors("informer_deployments"));
  asio::co_spawn(ioc_, replicasets_.run(), log_errors("informer_replicasets"));
  asio::co_spawn(ioc_, daemonsets_.run(), log_errors("informer_daemonsets"));
  asio::co_spawn(ioc_, revisions_.run(), log_errors("informer_controllerrevisions"));
  asio::co_spawn(ioc_, pods_.run(), log_errors("informer_pods"));

  asio::steady_timer timer(ioc_);
  while (!synced() && !stopped_) {
    timer.expires_after(std::chrono::milliseconds(50));
    boost::system::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  if (stopped_) co_return;
  spdlog::info("component=controller event=caches_synced deployments={} replicasets={} daemonsets={} "
               "controllerrevisions={} pods={}",
               deployments_.cache().size(), replicasets_.cache().size(), daemonsets_.cache().size(),
               revisions_.cache().size(), pods_.cache().size());
  constexpr int kWorkers = 4;
  for (int i = 1; i < kWorkers; ++i) asio::co_spawn(ioc_, worker(), log_errors("worker"));
  co_await worker();
}

void Controller::stop() {
  stopped_ = true;
  deployments_.stop();
  replicasets_.stop();
  daemonsets_.stop();
  revisions_.stop();
  pods_.stop();
  client_.cancel_watches();
  queue_.shutdown();
}

awaitable<void> Controller::worker() {
  for (;;) {
    auto key = co_await queue_.get();
    if (!key) co_return;
    Result<Ok> r = unexpected(kube::make_error(kube::ErrorKind::transport, "not run"));
    try {
      r = co_await reconcile(*key);
    } catch (const std::exception& ex) {
      // Nothing from the network may crash the daemon: an unexpected exception is a bug, logged and retried.
      r = unexpected(kube::make_error(kube::ErrorKind::bad_data, std::string("unexpected exception: ") + ex.what()));
    }
    if (r) {
      queue_.forget(*key);
    } else {
      auto delay = queue_.add_rate_limited(*key);
      spdlog::warn("workload={} event=reconcile_failed retry_in_ms={} {}", *key, delay.count(), kube::describe(r.error()));
    }
    queue_.done(*key);
  }
}

std::optional<Controller::Observation> Controller::observe(const std::string& key, WorkloadState& st, TimePoint now) {
  // key = Kind/ns/name
  auto s1 = key.find('/');
  auto s2 = key.find('/', s1 + 1);
  if (s1 == std::string::npos || s2 == std::string::npos) return std::nullopt;
  const std::string kind_s = key.substr(0, s1), ns = key.substr(s1 + 1, s2 - s1 - 1), name = key.substr(s2 + 1);
  const std::string obj_key = ns + "/" + name;

  Observation obs;
  obs.kind = kind_s == "Deployment" ? Kind::deployment : Kind::daemonset;
  Snapshot& s = obs.snapshot;
  s.kind = obs.kind;
  s.ns = ns;
  s.name = name;
  s.max_concurrent_rollbacks = config_.max_concurrent_rollbacks;
  s.rollbacks_in_flight = static_cast<int>(in_flight_.size()) - (in_flight_.count(key) ? 1 : 0);

  const probes::ObjectMeta* meta = nullptr;
  const probes::DeploymentView* dv = nullptr;
  const probes::DaemonSetView* dsv = nullptr;
  if (obs.kind == Kind::deployment) {
    dv = deployments_.find(obj_key);
    if (dv) meta = &dv->meta;
  } else {
    dsv = daemonsets_.find(obj_key);
    if (dsv) meta = &dsv->meta;
  }
  if (!meta || meta->deleted) return std::nullopt;
  if (!config::is_guarded(config_, ns, meta->labels, meta->annotations, to_string(obs.kind))) return std::nullopt;
  auto resolved = config::resolve_policy(config_, meta->annotations);
  obs.policy = resolved.policy;
  obs.policy.enabled = true;  // is_guarded() already said yes
  obs.problems = std::move(resolved.problems);
  obs.ref = ObjectRef{std::string(to_string(obs.kind)), ns, name, meta->uid, meta->resource_version};
  obs.generation = meta->generation;
  const bool cache_has_our_patch = meta->generation >= st.min_generation;

  // Revisions and the current one.
  TimePoint current_created{};
  std::string current_uid;
  if (dv) {
    std::int64_t max_rev = 0;
    const probes::ReplicaSetView* cur = nullptr;
    auto d_rev = parse_revision(dv->meta.annotations);
    if (auto it = rs_by_owner_.find(dv->meta.uid); it != rs_by_owner_.end()) {
      for (const auto& k : it->second) {
        const auto* rs = replicasets_.find(k);
        if (!rs || rs->meta.deleted || rs->revision < 0 || rs->pod_template_hash.empty()) continue;
        s.revisions.push_back(make_revision(*rs, rs->pod_template_hash, rs->revision));
        overlay_records(s.revisions.back(), rs->meta.annotations, st.written);
        max_rev = std::max(max_rev, rs->revision);
        if (d_rev && rs->revision == *d_rev) cur = rs;
      }
    }
    s.paused = dv->paused;
    // Spec §8: act only when the status describes the latest spec and the revision annotation has caught up.
    s.status_current =
        cache_has_our_patch && dv->observed_generation >= dv->meta.generation && d_rev && cur && *d_rev == max_rev;
    if (cur) {
      s.current_hash = cur->pod_template_hash;
      current_created = cur->meta.created;
      current_uid = cur->meta.uid;
    }
  } else {
    const probes::ControllerRevisionView* cur = nullptr;
    if (auto it = cr_by_owner_.find(dsv->meta.uid); it != cr_by_owner_.end()) {
      for (const auto& k : it->second) {
        const auto* cr = revisions_.find(k);
        if (!cr || cr->meta.deleted) continue;
        s.revisions.push_back(make_revision(*cr, cr->hash, cr->revision));
        overlay_records(s.revisions.back(), cr->meta.annotations, st.written);
        if (!cur || cr->revision > cur->revision) cur = cr;
      }
    }
    s.status_current = cache_has_our_patch && dsv->observed_generation >= dsv->meta.generation && cur;
    if (cur) {
      s.current_hash = cur->hash;
      current_created = cur->meta.created;
    }
  }
  if (!s.status_current || s.current_hash.empty()) {
    st.last_observed = now;
    return obs;
  }
  const Revision* current = nullptr;
  for (const auto& r : s.revisions)
    if (r.hash == s.current_hash) current = &r;

  // When did the current revision start? The change happened after our previous look and before now; the
  // object's creation time is the best estimate when it falls in that window (a re-used old revision does not).
  if (st.hash != s.current_hash || st.number != current->number) {
    const TimePoint lower = st.last_observed.value_or(started_at_);
    st.hash = s.current_hash;
    st.number = current->number;
    st.revision_started = std::clamp(current_created, std::min(lower, now), now);
    st.complete_since.reset();
    st.tracker = std::make_unique<probes::PodSignalTracker>(st.revision_started);
    st.ds_last.reset();
    st.ds_last_progress.reset();
  }
  st.last_observed = now;
  const auto anchor_record = waiting_anchor(s.revisions, s.current_hash);
  const TimePoint anchor = anchor_record ? std::max(*anchor_record, st.revision_started) : st.revision_started;

  // Pods of the current revision.
  std::vector<const probes::PodView*> pods;
  const std::string& owner_uid = dv ? current_uid : dsv->meta.uid;
  if (auto it = pods_by_owner_.find(owner_uid); it != pods_by_owner_.end()) {
    for (const auto& k : it->second) {
      const auto* p = pods_.find(k);
      if (!p) continue;
      if (dsv && p->controller_revision_hash != s.current_hash) continue;
      pods.push_back(p);
    }
  }

  probes::ProbeResult progress;
  std::chrono::seconds deadline{600};
  std::optional<TimePoint> next;
  if (dv) {
    if (auto dl = probes::deployment_progress_deadline(*dv)) deadline = *dl;
    // After our PATCH the target's progress clock starts at the PATCH: a ProgressDeadlineExceeded dated before
    // PATCH + deadline was computed by the controller from the failed revision's last progress (or survived the
    // undo, spec §7.4a) and says nothing about the target. A genuine one cannot appear earlier.
    std::optional<TimePoint> stale_before;
    if (anchor_record) stale_before = *anchor_record + deadline;
    progress = probes::evaluate_deployment_progress(*dv, anchor, now, stale_before);
    s.rollout_complete =
        probes::deployment_rollout_status(*dv, 0, stale_before).state == probes::RolloutStatus::State::success;
    next = probes::next_deadline(*dv, anchor);
  } else {
    deadline = obs.policy.daemonset_progress_deadline;
    if (st.ds_last && probes::daemonset_progressed(*st.ds_last, *dsv)) st.ds_last_progress = now;
    st.ds_last = *dsv;
    progress = probes::evaluate_daemonset_progress(*dsv, obs.policy, anchor, now, st.ds_last_progress);
    s.rollout_complete = probes::daemonset_rollout_status(*dsv).state == probes::RolloutStatus::State::success;
    next = probes::next_deadline(*dsv, obs.policy, anchor, st.ds_last_progress);
  }
  st.tracker->observe(pods, now);
  const probes::ProbeResult pod_result = st.tracker->evaluate(obs.policy.pods, deadline, now);
  next = earliest(next, st.tracker->next_check(obs.policy.pods, deadline, now));

  if (progress.outcome == probes::Outcome::fail) {
    s.failure = Finding{"progress_deadline", progress.detail};
  } else if (pod_result.outcome == probes::Outcome::fail) {
    s.failure = Finding{"pod_signal:" + pod_result.reason, pod_result.detail};
  }
  if (progress.hold && progress.reason != "paused") {
    s.hold = Finding{progress.reason, progress.detail};
  } else if (pod_result.hold) {
    s.hold = Finding{pod_result.reason, pod_result.detail};
  }
  if (s.rollout_complete) {
    if (!st.complete_since) st.complete_since = now;
  } else {
    st.complete_since.reset();
  }
  s.complete_since = st.complete_since;
  s.next_check = next;

  const bool watching = !(current->verdict && current->verdict->verdict == Verdict::healthy);
  if (metrics_ && watching != st.active)
    metrics_->rollout_active(ns, name, to_string(obs.kind), watching, to_unix_seconds(st.revision_started));
  st.active = watching;
  return obs;
}

awaitable<Result<Ok>> Controller::reconcile(const std::string& key) {
  const TimePoint now = clock_.now();
  auto& slot = state_[key];
  if (!slot) slot = std::make_unique<WorkloadState>();
  WorkloadState& st = *slot;
  auto obs = observe(key, st, now);
  if (!obs) {
    // Deleted or not guarded (any more): forget it.
    if (st.active && metrics_) {
      auto s1 = key.find('/'), s2 = key.find('/', s1 + 1);
      metrics_->forget_workload(key.substr(s1 + 1, s2 - s1 - 1), key.substr(s2 + 1), key.substr(0, s1));
    }
    state_.erase(key);
    in_flight_.erase(key);
    co_return Ok{};
  }
  if (!obs->problems.empty() && !st.problems_reported) {
    st.problems_reported = true;
    std::string msg;
    for (const auto& p : obs->problems) msg += (msg.empty() ? "" : "; ") + p;
    spdlog::warn("workload={}/{} decision=none reason=invalid_annotation detail=\"{}\"", obs->ref.ns, obs->ref.name, msg);
    co_await event(*obs, "Warning", "InvalidAnnotation", msg);
  }

  const bool rollback_open = std::any_of(obs->snapshot.revisions.begin(), obs->snapshot.revisions.end(), [](const Revision& r) {
    return r.rollback && (r.rollback->state == RollbackState::started || r.rollback->state == RollbackState::waiting);
  });
  if (rollback_open) in_flight_.insert(key);
  else in_flight_.erase(key);

  const Decision d = decide(obs->snapshot, obs->policy, now);
  spdlog::debug("workload={} revision_hash={} decision={} reason={} complete={} failure={} hold={}", key,
                obs->snapshot.current_hash, to_string(d.action), d.reason, obs->snapshot.rollout_complete,
                obs->snapshot.failure ? obs->snapshot.failure->reason : "-", obs->snapshot.hold ? obs->snapshot.hold->reason : "-");
  auto r = co_await act(key, *obs, d);
  if (!r) co_return r;
  if (d.recheck_at) {
    const auto delay = std::max(Duration{0}, std::chrono::duration_cast<Duration>(*d.recheck_at - clock_.now()));
    queue_.add_after(key, delay + Duration{1});
  }
  co_return Ok{};
}

awaitable<void> Controller::event(const Observation& obs, std::string type, std::string reason, std::string message) {
  co_await events_.record(obs.ref, std::move(type), std::move(reason), std::move(message));
}

awaitable<Result<Ok>> Controller::write_record(const Observation& obs, const Revision& rev,
                                               std::optional<VerdictRecord> verdict,
                                               std::optional<RollbackRecord> rollback) {
  nlohmann::json ann = nlohmann::json::object();
  if (verdict) ann[std::string(kVerdictAnnotation)] = format_verdict(*verdict);
  if (rollback) ann[std::string(kRollbackAnnotation)] = format_rollback(*rollback);
  nlohmann::json body = {{"metadata", {{"annotations", ann}}}};
  const std::string path = obs.kind == Kind::deployment ? kube::paths::replicasets(obs.ref.ns, rev.name)
                                                        : kube::paths::controllerrevisions(obs.ref.ns, rev.name);
  auto r = co_await client_.patch(path, kube::PatchType::merge, body.dump());
  if (!r) co_return unexpected(r.error());
  if (auto it = state_.find(key_of(obs.kind, obs.ref.ns, obs.ref.name)); it != state_.end() && it->second) {
    auto& w = it->second->written[rev.name];
    if (ann.contains(kVerdictAnnotation)) w.verdict = ann[std::string(kVerdictAnnotation)].get<std::string>();
    if (ann.contains(kRollbackAnnotation)) w.rollback = ann[std::string(kRollbackAnnotation)].get<std::string>();
  }
  co_return Ok{};
}

// GETs the workload and the target fresh, checks nothing changed since the decision, and PATCHes with a
// generation precondition. Returns the generation the PATCH produced, or nullopt when the workload already has the
// target template (nothing sent).
awaitable<Result<std::optional<std::int64_t>>> Controller::patch_workload(const Observation& obs, const Revision& target) {
  const bool dep = obs.kind == Kind::deployment;
  const std::string wpath = dep ? kube::paths::deployments(obs.ref.ns, obs.ref.name)
                                : kube::paths::daemonsets(obs.ref.ns, obs.ref.name);
  auto w = co_await client_.get(wpath);
  if (!w) co_return unexpected(w.error());
  const auto gen = w->value("/metadata/generation"_json_pointer, std::int64_t{0});
  if (gen != obs.generation)
    co_return unexpected(kube::make_error(kube::ErrorKind::conflict,
                                          "workload changed since it was observed (generation " +
                                              std::to_string(obs.generation) + " -> " + std::to_string(gen) + ")"));
  const std::string tpath = dep ? kube::paths::replicasets(obs.ref.ns, target.name)
                                : kube::paths::controllerrevisions(obs.ref.ns, target.name);
  auto t = co_await client_.get(tpath);
  if (!t) co_return unexpected(t.error());
  auto plan = dep ? deployment_rollback(*w, *t) : daemonset_rollback(*w, *t);
  if (!plan) co_return unexpected(kube::make_error(kube::ErrorKind::bad_data, plan.error()));
  if (plan->skipped) co_return std::optional<std::int64_t>{};
  auto p = co_await client_.patch(wpath, kube::PatchType::json, plan->body);
  if (!p) co_return unexpected(p.error());
  co_return std::optional<std::int64_t>{p->value("/metadata/generation"_json_pointer, gen + 1)};
}

awaitable<Result<Ok>> Controller::act(const std::string& key, const Observation& obs, const Decision& d) {
  const std::string& ns = obs.ref.ns;
  const std::string& name = obs.ref.name;
  const std::string_view kind = to_string(obs.kind);
  auto& st = *state_[key];
  const TimePoint now = clock_.now();
  auto log = [&](std::string_view extra = {}) {
    spdlog::info("workload={}/{} kind={} revision={} decision={} reason={}{}{}", ns, name, kind_token(obs.kind),
                 d.current ? std::to_string(d.current->number) : std::string("-"), to_string(d.action), d.reason,
                 d.dry_run ? " dry_run=true" : "", extra);
  };
  auto once = [&](const std::string& what) { return st.said.insert(obs.snapshot.current_hash + "|" + what).second; };
  auto done = [&](const Decision& dd) {
    if (metrics_) metrics_->decision(to_string(dd.action));
    if (hook_) hook_(key, dd);
  };

  switch (d.action) {
    case Action::none:
      co_return Ok{};

    case Action::mark_healthy: {
      // A named record, not a braced temporary: g++ 12 can destroy braced temporaries passed to coroutines twice.
      const VerdictRecord healthy{Verdict::healthy, d.current->hash, now, d.reason};
      auto r = co_await write_record(obs, *d.current, healthy, std::nullopt);
      if (!r) co_return r;
      log();
      if (metrics_ && d.reason == "baked") metrics_->rollout_finished(ns, name, kind, "completed");
      co_await event(obs, "Normal", "RevisionHealthy", d.message);
      done(d);
      co_return Ok{};
    }

    case Action::hold: {
      if (once(d.reason)) {
        log(" detail=\"" + d.message + "\"");
        if (metrics_) metrics_->rollout_finished(ns, name, kind, "held");
        co_await event(obs, "Warning", d.reason == "known_bad_template" ? "KnownBadTemplate" : "RollbackHeld", d.message);
        done(d);
      }
      co_return Ok{};
    }

    case Action::rollback: {
      if (d.dry_run) {
        if (once("dry_run")) {
          log(" target=" + std::to_string(d.target->number));
          co_await event(obs, "Warning", "DryRunRollback", "dry-run, nothing patched: " + d.message);
          done(d);
        }
        co_return Ok{};
      }
      RollbackRecord rec{RollbackState::started, d.current->hash, d.target->hash, d.target->number, now, d.reason};
      VerdictRecord verdict{Verdict::failed, d.current->hash, now, d.reason};
      // Intent first: after a crash at any later point, the record says what to finish.
      auto r = co_await write_record(obs, *d.current, verdict, rec);
      if (!r) co_return r;
      in_flight_.insert(key);
      auto patched = co_await patch_workload(obs, *d.target);
      if (!patched) co_return unexpected(patched.error());  // re-read and re-decide (conflict: someone deployed)
      if (*patched) st.min_generation = **patched;
      // Tell people before recording `waiting`: a crash in between repeats the Event rather than losing it.
      log(" target=" + std::to_string(d.target->number) + (patched->has_value() ? "" : " patch=skipped"));
      if (metrics_) metrics_->rollback(ns, name, kind, d.reason);
      co_await event(obs, "Warning", "RollbackStarted", d.message);
      rec.state = RollbackState::waiting;
      r = co_await write_record(obs, *d.current, std::nullopt, rec);
      if (!r) co_return r;
      done(d);
      co_return Ok{};
    }

    case Action::resume_rollback: {
      in_flight_.insert(key);
      auto patched = co_await patch_workload(obs, *d.target);
      if (!patched) co_return unexpected(patched.error());
      if (*patched) st.min_generation = **patched;
      log(" target=" + std::to_string(d.target->number) + (patched->has_value() ? "" : " patch=skipped"));
      if (metrics_) metrics_->rollback(ns, name, kind, d.reason);
      co_await event(obs, "Warning", "RollbackStarted", d.message);
      RollbackRecord rec = *d.record_owner->rollback;
      rec.state = RollbackState::waiting;
      auto r = co_await write_record(obs, *d.record_owner, std::nullopt, rec);
      if (!r) co_return r;
      done(d);
      co_return Ok{};
    }

    case Action::confirm_patched: {
      // The PATCH went through but the process stopped before telling anyone: tell now.
      in_flight_.insert(key);
      log();
      if (metrics_) metrics_->rollback(ns, name, kind, d.reason);
      co_await event(obs, "Warning", "RollbackStarted", d.message);
      RollbackRecord rec = *d.record_owner->rollback;
      rec.state = RollbackState::waiting;
      auto r = co_await write_record(obs, *d.record_owner, std::nullopt, rec);
      if (!r) co_return r;
      done(d);
      co_return Ok{};
    }

    case Action::rollback_succeeded:
    case Action::rollback_failed:
    case Action::supersede: {
      RollbackRecord rec = *d.record_owner->rollback;
      rec.state = d.action == Action::rollback_succeeded ? RollbackState::succeeded
                  : d.action == Action::rollback_failed  ? RollbackState::failed
                                                         : RollbackState::superseded;
      auto r = co_await write_record(obs, *d.record_owner, std::nullopt, rec);
      if (!r) co_return r;
      in_flight_.erase(key);
      log(" from=" + d.record_owner->hash);
      if (d.action == Action::rollback_succeeded) {
        if (metrics_) metrics_->rollout_finished(ns, name, kind, "rolled_back");
        co_await event(obs, "Normal", "RollbackSucceeded", d.message);
      } else if (d.action == Action::rollback_failed) {
        co_await event(obs, "Warning", "RollbackFailed", d.message);
      } else {
        if (metrics_) metrics_->rollout_finished(ns, name, kind, "superseded");
        co_await event(obs, "Normal", "RollbackSuperseded", d.message);
        queue_.add(key);  // judge the new revision now
      }
      done(d);
      co_return Ok{};
    }
  }
  co_return Ok{};
}

}  // namespace canary_guard::guard
