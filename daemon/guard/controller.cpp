#include "daemon/guard/controller.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "daemon/kube/resources.hpp"

namespace canary_guard::guard {

namespace asio = boost::asio;
using asio::awaitable;

namespace {

constexpr int kWorkers = 16;  // coroutines, not threads: enough that a burst of breaches is not queued behind 4
constexpr std::size_t kAnalysisWriters = 2;  // analysis records in flight at once (LatestWrites coalesces the rest)

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

bool open_record(const std::optional<RollbackRecord>& r) {
  return r && (r->state == RollbackState::started || r->state == RollbackState::waiting);
}

std::function<void(std::exception_ptr)> log_errors(const char* what) {
  return [what](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      spdlog::error("component=controller task={} event=crashed error=\"{}\"", what, ex.what());
    }
  };
}

}  // namespace

// ClusterView over the informer caches and the owner indexes.
class Controller::CacheView final : public ClusterView {
 public:
  explicit CacheView(const Controller& c) : c_(c) {}
  template <class Informer>
  static std::vector<const typename Informer::value_type*> owned(const std::unordered_map<std::string, std::set<std::string>>& index, const Informer& informer,
                    const std::string& uid) {
    std::vector<const typename Informer::value_type*> out;
    if (uid.empty()) return out;
    if (auto it = index.find(uid); it != index.end())
      for (const auto& k : it->second)
        if (const auto* v = informer.find(k)) out.push_back(v);
    return out;
  }
  const probes::DeploymentView* deployment(const std::string& ns, const std::string& name) const override {
    return c_.deployments_.find(ns + "/" + name);
  }
  const probes::DaemonSetView* daemonset(const std::string& ns, const std::string& name) const override {
    return c_.daemonsets_.find(ns + "/" + name);
  }
  std::vector<const probes::ReplicaSetView*> replicasets_of(const std::string& uid) const override {
    return owned(c_.rs_by_owner_, c_.replicasets_, uid);
  }
  std::vector<const probes::ControllerRevisionView*> revisions_of(const std::string& uid) const override {
    return owned(c_.cr_by_owner_, c_.revisions_, uid);
  }
  std::vector<const probes::PodView*> pods_of(const std::string& uid) const override {
    return owned(c_.pods_by_owner_, c_.pods_, uid);
  }

 private:
  const Controller& c_;
};

Controller::Controller(asio::io_context& ioc, kube::Client& client, const config::Config& config, const Clock& clock,
                       GuardMetrics* metrics, std::string host, Analyzer* analyzer)
    : ioc_(ioc),
      config_(config),
      clock_(clock),
      metrics_(metrics),
      events_(client, clock, config.event_component, std::move(host)),
      writer_(ioc, client, events_,
              [metrics](const PendingEvent&) {
                if (metrics) metrics->event_dropped();
              }),
      queue_(ioc, steady_),
      deployments_(client, &kube::paths::deployments, config.selection.namespaces),
      replicasets_(client, &kube::paths::replicasets, config.selection.namespaces),
      daemonsets_(client, &kube::paths::daemonsets, config.selection.namespaces),
      revisions_(client, &kube::paths::controllerrevisions, config.selection.namespaces),
      pods_(client, &kube::paths::pods, config.selection.namespaces),
      client_(client),
      view_(std::make_unique<CacheView>(*this)),
      slots_(config.max_concurrent_rollbacks),
      analysis_writes_(ioc, kAnalysisWriters,
                       [this](const std::string& path, const std::string& payload) {
                         return write_analysis(path, payload);
                       }),
      analyzer_(analyzer && analyzer->enabled() ? analyzer : nullptr),
      started_at_(clock.now()) {
  wire_handlers();
  if (analyzer_)
    analyzer_->set_callbacks([this](const WorkloadKey& k) { queue_.add(k.str()); },
                             [this](const WorkloadKey& k, const std::string& object, const std::string& text) {
                               persist_analysis(k, object, text);
                             });
}

void Controller::persist_analysis(const WorkloadKey& key, const std::string& object, const std::string& text) {
  if (!acting()) return;  // the leader persists its own analysis
  std::string path = key.kind == Kind::deployment ? kube::paths::replicasets(key.ns, object)
                                                  : kube::paths::controllerrevisions(key.ns, object);
  nlohmann::json body = {{"metadata", {{"annotations", {{std::string(probes::kAnalysisAnnotation), text}}}}}};
  analysis_writes_.put(path, body.dump());
}

awaitable<void> Controller::write_analysis(const std::string& path, const std::string& payload) {
  auto r = co_await client_.patch(path, kube::PatchType::merge, payload);
  if (!r) spdlog::warn("object={} event=analysis_persist_failed {}", path, kube::describe(r.error()));
}

Controller::~Controller() = default;

template <class F>
void Controller::for_each_informer(F&& f) const {
  f(deployments_, "deployments", std::optional<Kind>{Kind::deployment});
  f(replicasets_, "replicasets", std::optional<Kind>{Kind::deployment});
  f(daemonsets_, "daemonsets", std::optional<Kind>{Kind::daemonset});
  f(revisions_, "controllerrevisions", std::optional<Kind>{Kind::daemonset});
  f(pods_, "pods", std::optional<Kind>{});
}

std::string Controller::caches_not_live(Kind kind) const {
  std::string out;
  for_each_informer([&](const auto& informer, const char* resource, std::optional<Kind> used_by) {
    if (!out.empty() || (used_by && *used_by != kind)) return;
    if (std::string why = informer.why_not_live(); !why.empty()) out = std::string(resource) + ": " + why;
  });
  return out;
}

std::string Controller::not_ready() const {
  std::string out;
  for_each_informer([&](const auto& informer, const char* resource, std::optional<Kind>) {
    std::string why = informer.why_not_live();
    if (!why.empty()) out += (out.empty() ? "" : "; ") + std::string("informer ") + resource + " not live: " + why;
  });
  return out;
}

awaitable<void> Controller::watch_liveness() {
  asio::steady_timer timer(ioc_);
  while (!stopped_) {
    bool became_live = false;
    for_each_informer([&](const auto& informer, const char* resource, std::optional<Kind>) {
      const std::string why = informer.why_not_live();
      const bool live = why.empty();
      auto [it, first] = informer_live_.try_emplace(resource, live);
      if (!first && it->second == live) return;
      it->second = live;
      if (metrics_) metrics_->informer_live(resource, live);
      if (first && live) return;
      if (live) {
        became_live = true;
        spdlog::info("component=controller informer={} event=live", resource);
      } else if (!first || informer.has_synced()) {
        spdlog::warn("component=controller informer={} event=not_live reason=\"{}\"", resource, why);
      }
    });
    if (became_live)
      for (const auto& [uid, key] : workload_by_uid_) queue_.add(key);
    timer.expires_after(std::chrono::seconds(1));
    boost::system::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
}

awaitable<Result<bool>> Controller::evidence_confirmed(const WorkloadKey& key, const WorkloadState& st,
                                                       const ObserveContext& ctx, const Decision& d,
                                                       std::optional<FreshRollback>& prepared) {
  std::vector<std::string> hashes, names;  // named: they live across the await
  if (key.kind == Kind::deployment && d.current && d.target) {
    hashes = {d.current->hash, d.target->hash};
    names = {d.current->name, d.target->name};
  }
  auto fresh = co_await FreshView::read(client_, key, hashes, names);
  if (!fresh) co_return unexpected(fresh.error());
  WorkloadState copy = st;  // the grace timers and baselines as they are; the real state is left alone
  ObserveContext fresh_ctx = ctx;
  fresh_ctx.caches_not_live.clear();  // read from the apiserver just now
  const TimePoint now = clock_.now();
  auto obs = observe(key, **fresh, copy, fresh_ctx, now);
  std::string why;
  if (!obs) {
    why = "the workload is gone or no longer guarded";
  } else {
    const Decision again = decide(obs->snapshot, obs->policy, now);
    if (again.action != Action::rollback) {
      why = "fresh decision=" + std::string(to_string(again.action)) + " reason=" + again.reason;
    } else if (!again.current || !d.current || again.current->hash != d.current->hash || !again.target ||
               !d.target || again.target->hash != d.target->hash) {
      why = "fresh decision names another revision";
    }
  }
  if (why.empty()) {
    // The workload and the target were read just now: the rollback request is built from them, not read again.
    const auto* w = (*fresh)->workload_document();
    const auto* t = d.target ? (*fresh)->revision_document(d.target->name) : nullptr;
    if (w && t)
      if (auto plan = plan_rollback(*obs, *w, *t)) prepared = std::move(*plan);
    co_return true;
  }
  spdlog::warn("workload={}/{} kind={} decision=none reason=evidence_not_confirmed cached_reason={} detail=\"{}\"",
               key.ns, key.name, kind_token(key.kind), d.reason, why);
  // The cache disagreed with the apiserver: it may have stopped updating without anyone noticing. Relist.
  if (key.kind == Kind::deployment) {
    deployments_.request_relist(key.ns);
    replicasets_.request_relist(key.ns);
  } else {
    daemonsets_.request_relist(key.ns);
    revisions_.request_relist(key.ns);
  }
  pods_.request_relist(key.ns);
  co_return false;
}

void Controller::count_state(Kind kind, WorkloadState& st, const std::string& state) {
  if (st.state == state) return;
  const std::string k(to_string(kind));
  if (!st.state.empty()) --state_counts_[{k, st.state}];
  if (!state.empty()) ++state_counts_[{k, state}];
  st.state = state;
  if (metrics_) metrics_->workloads(state_counts_);
}

void Controller::leadership_changed(bool leading) {
  if (leading) requeue_all();
}

void Controller::requeue_all() {
  for (const auto& [uid, key] : workload_by_uid_) queue_.add(key);
}

void Controller::alerts_changed(const std::set<std::pair<std::string, std::string>>& workloads) {
  for (const auto& [ns, name] : workloads) {
    queue_.add(WorkloadKey{Kind::deployment, ns, name}.str());
    queue_.add(WorkloadKey{Kind::daemonset, ns, name}.str());
  }
}

awaitable<bool> Controller::alerts_confirmed(const WorkloadKey& key, const Observation& obs, WorkloadState& st) {
  if (!alert_recheck_ || !alerts_) co_return false;  // cannot ask: doubt
  std::string unknown;
  for (const auto& fp : obs.alert_fingerprints) {
    const StoredAlert* held = alerts_->find(fp);
    if (!held) continue;  // resolved while this reconcile ran
    const std::string alertname = held->alertname, ns = held->ns;  // the store may change during the await
    auto c = co_await alert_recheck_->check(fp, alertname, ns);
    if (c.status == AlertStatus::active) co_return true;
    if (c.status == AlertStatus::gone) {
      alerts_->forget(fp);
      spdlog::info("workload={}/{} kind={} decision=none reason=alert_not_active detail=\"{}\"", key.ns, key.name,
                   kind_token(key.kind), c.detail);
      writer_.event(obs.ref, "Normal", "AlertNotActive",
                    "Alertmanager no longer shows the alert as active (" + c.detail + "); no rollback from it.");
    } else {
      unknown = c.detail;
    }
  }
  if (!unknown.empty()) {
    spdlog::warn("workload={}/{} kind={} decision=hold reason=alert_recheck_failed detail=\"{}\"", key.ns, key.name,
                 kind_token(key.kind), unknown);
    if (st.said.insert(obs.snapshot.current_hash + "|alert_recheck_failed").second)
      writer_.event(obs.ref, "Warning", "AlertRecheckFailed",
                    "An alert calls for a rollback but Alertmanager could not confirm it is still active (" + unknown +
                        "); holding, asking again.");
  }
  co_return false;
}

bool Controller::synced() const {
  return deployments_.has_synced() && replicasets_.has_synced() && daemonsets_.has_synced() &&
         revisions_.has_synced() && pods_.has_synced();
}

void Controller::wire_handlers() {
  // Deployments and DaemonSets: remember uid -> workload key (owned objects find their workload by it) and enqueue.
  auto wire_workload = [this](auto& informer, Kind kind) {
    auto upsert = [this, kind](const std::string&, const auto* w) {
      std::string key = WorkloadKey{kind, w->meta.ns, w->meta.name}.str();
      workload_by_uid_[w->meta.uid] = key;
      queue_.add(key);
    };
    informer.on_add(upsert);
    informer.on_update(upsert);
    informer.on_delete([this, kind](const std::string&, const auto* w) {
      workload_by_uid_.erase(w->meta.uid);
      queue_.add(WorkloadKey{kind, w->meta.ns, w->meta.name}.str());
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

void Controller::adopt_open_rollbacks() {
  // Rollbacks whose PATCH went out first (they run, whatever the limit), then those still to be sent, while slots
  // are free: what is left waits for a slot in its reconcile (Acting::resume), so the limit holds across restarts.
  std::vector<std::string> to_send;
  auto consider = [&](const std::string& key, const std::optional<RollbackRecord>& rec, bool paused) {
    if (!open_record(rec)) return;
    if (rec->state != RollbackState::started) slots_.adopt(key);
    else if (!paused) to_send.push_back(key);
  };
  deployments_.for_each([&](const std::string&, const probes::DeploymentView& d) {
    for (const auto* rs : view_->replicasets_of(d.meta.uid))
      if (const std::string* t = probes::find_value(rs->meta.annotations, kRollbackAnnotation))
        consider(WorkloadKey{Kind::deployment, d.meta.ns, d.meta.name}.str(), parse_rollback(*t, rs->pod_template_hash),
                 d.paused);
  });
  daemonsets_.for_each([&](const std::string&, const probes::DaemonSetView& ds) {
    for (const auto* cr : view_->revisions_of(ds.meta.uid))
      if (const std::string* t = probes::find_value(cr->meta.annotations, kRollbackAnnotation))
        consider(WorkloadKey{Kind::daemonset, ds.meta.ns, ds.meta.name}.str(), parse_rollback(*t, cr->hash), false);
  });
  for (const auto& key : to_send) slots_.try_reserve(key);
}

void Controller::sync_slot(const std::string& k, const Snapshot& s) {
  // The slot set follows the records: an open record anywhere (ours, or another replica's) holds one once its PATCH
  // went out (`waiting`). A `started` record keeps a slot it holds, takes none by itself (Acting::resume reserves
  // one, within the limit, before it sends the PATCH), and gives it back while a person's pause holds it.
  bool running = false, to_send = false;
  for (const auto& r : s.revisions) {
    if (!open_record(r.rollback)) continue;
    if (r.rollback->state == RollbackState::started) to_send = true;
    else running = true;
  }
  if (running) slots_.adopt(k);
  else if (!to_send || s.paused) slots_.release(k);
}

awaitable<void> Controller::run() {
  auto spawn = [this](auto& informer, const char* what) {
    for (auto* part : informer.parts()) asio::co_spawn(ioc_, part->run(), log_errors(what));
  };
  spawn(deployments_, "informer_deployments");
  spawn(replicasets_, "informer_replicasets");
  spawn(daemonsets_, "informer_daemonsets");
  spawn(revisions_, "informer_controllerrevisions");
  spawn(pods_, "informer_pods");
  asio::co_spawn(ioc_, watch_liveness(), log_errors("liveness"));

  asio::steady_timer timer(ioc_);
  while (!synced() && !stopped_) {
    timer.expires_after(std::chrono::milliseconds(50));
    boost::system::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  if (stopped_) co_return;
  adopt_open_rollbacks();
  spdlog::info("component=controller event=caches_synced deployments={} replicasets={} daemonsets={} "
               "controllerrevisions={} pods={} rollbacks_in_flight={}",
               deployments_.size(), replicasets_.size(), daemonsets_.size(), revisions_.size(), pods_.size(),
               slots_.size());
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
    auto text = co_await queue_.get();
    if (!text) co_return;
    Result<std::optional<Duration>> r = unexpected(kube::make_error(kube::ErrorKind::bad_data, "unparsable key"));
    if (auto key = WorkloadKey::parse(*text)) {
      try {
        r = co_await reconcile(*key);
      } catch (const std::exception& ex) {
        // Nothing from the network may crash the daemon: an unexpected exception is a bug, logged and retried.
        r = unexpected(kube::make_error(kube::ErrorKind::bad_data, std::string("unexpected exception: ") + ex.what()));
      }
    } else {
      spdlog::error("component=controller event=bad_key key=\"{}\"", *text);
      queue_.done(*text);
      continue;
    }
    if (r) {
      queue_.forget(*text);
      if (*r) queue_.add_after(*text, **r);
    } else {
      auto delay = queue_.add_rate_limited(*text);
      spdlog::warn("workload={} event=reconcile_failed retry_in_ms={} {}", *text, delay.count(), kube::describe(r.error()));
    }
    queue_.done(*text);
  }
}

awaitable<Result<std::optional<Duration>>> Controller::reconcile(const WorkloadKey& key) {
  const TimePoint now = clock_.now();
  const std::string k = key.str();
  auto& slot = state_[k];
  if (!slot) slot = std::make_unique<WorkloadState>();
  WorkloadState& st = *slot;
  StepTrace trace(steady_);  // marked only on the way to a rollback PATCH
  const ObserveContext ctx{config_, started_at_, slots_.others(k), analyzer_, caches_not_live(key.kind), alerts_};
  auto obs = observe(key, *view_, st, ctx, now);
  if (!obs) {
    // Deleted or not guarded (any more): forget it.
    // Whatever the rollout's state: an idle workload has series too (its counters exist from its first sight).
    if (metrics_) metrics_->forget_workload(key.ns, key.name, to_string(key.kind));
    if (analyzer_) analyzer_->untrack(key);
    if (pages_) pages_->set(key, {});
    count_state(key.kind, st, "");
    state_.erase(k);
    slots_.release(k);
    co_return std::optional<Duration>{};
  }
  if (metrics_ && (obs->watching != st.active || !st.reported))
    metrics_->rollout_active(key.ns, key.name, to_string(key.kind), obs->watching, to_unix_seconds(obs->revision_started));
  st.active = obs->watching;
  st.reported = true;
  const bool act_now = acting();
  if (!obs->problems.empty() && !st.problems_reported && act_now) {
    st.problems_reported = true;
    std::string msg;
    for (const auto& p : obs->problems) msg += (msg.empty() ? "" : "; ") + p;
    spdlog::warn("workload={}/{} decision=none reason=invalid_annotation detail=\"{}\"", key.ns, key.name, msg);
    writer_.event(obs->ref, "Warning", "InvalidAnnotation", msg);
  }
  if (analyzer_) {
    // Level-triggered: under analysis while the current revision has no verdict; analysis stops with the verdict.
    if (obs->analysis) analyzer_->track(*obs->analysis);
    else if (obs->analysis_decided) analyzer_->untrack(key);
    for (const auto& [check, detail] : obs->check_errors) {
      if (!act_now) break;
      writer_.event(obs->ref, "Warning", "CheckError",
                    "Check " + check + " cannot be evaluated: " + detail + " No rollback and no verdict from it.");
      analyzer_->error_told(key, check);
    }
    const bool blind = obs->snapshot.hold && obs->snapshot.hold->reason == "metrics_blind";
    if (!blind && obs->analysis_decided && act_now && st.said.erase(obs->snapshot.current_hash + "|metrics_blind"))
      writer_.event(obs->ref, "Normal", "MetricsRestored",
                    "Metric checks are decisive again for " + obs->snapshot.current_hash + "; analysis continues.");
  }
  {
    // The alert channel is back (or the revision was judged meanwhile): said once per blind episode, like metrics.
    const bool alerts_blind = obs->snapshot.hold && obs->snapshot.hold->reason == "alerts_blind";
    if (!alerts_blind && act_now && st.said.erase(obs->snapshot.current_hash + "|alerts_blind"))
      writer_.event(obs->ref, "Normal", "AlertChannelRestored",
                    "The " + config_.alertmanager.heartbeat_alert + " heartbeat arrives again: alerts count as "
                    "evidence again for " + obs->snapshot.current_hash + ".");
  }
  for (const auto& note : obs->notes) {
    if (!act_now) break;
    if (!st.said.insert(obs->snapshot.current_hash + "|" + note.reason).second) continue;
    spdlog::info("workload={}/{} kind={} decision=none reason=alert_preexisting detail=\"{}\"", key.ns, key.name,
                 kind_token(key.kind), note.detail);
    writer_.event(obs->ref, "Normal", "AlertPreexisting", note.detail + ".");
  }
  sync_slot(k, obs->snapshot);
  // A follower keeps its caches and probes warm and writes nothing; leadership_changed() re-queues everything.
  if (!act_now) co_return std::optional<Duration>{};

  const Decision d = decide(obs->snapshot, obs->policy, now);
  spdlog::debug("workload={} revision_hash={} decision={} reason={} complete={} failure={} hold={}", k,
                obs->snapshot.current_hash, to_string(d.action), d.reason, obs->snapshot.rollout_complete,
                obs->snapshot.failure ? obs->snapshot.failure->reason : "-", obs->snapshot.hold ? obs->snapshot.hold->reason : "-");
  if (pages_) pages_->set(key, pages_for(obs->snapshot, d, now));
  {
    const auto* cur = d.current ? &*d.current : nullptr;
    const bool healthy = cur && cur->verdict && cur->verdict->verdict == Verdict::healthy;
    std::string state = d.action == Action::not_judged ? "not_judged"
                        : d.action == Action::hold     ? "held"
                        : healthy || !obs->watching    ? "guarded"
                        : obs->snapshot.metrics_required ? "under_analysis"
                                                         : "under_bake";
    if (obs->snapshot.status_current) count_state(key.kind, st, state);
  }
  const bool tracing = (d.action == Action::rollback && !d.dry_run) || d.action == Action::resume_rollback;
  Duration late{0};
  std::optional<Duration> webhook_wait;  // an alert's rollback: webhook received -> this reconcile began
  if (tracing) {
    // Breach -> PATCH: how late this reconcile ran after the time it asked for, and each step from here on.
    if (st.recheck_due && now > *st.recheck_due) {
      late = std::chrono::duration_cast<Duration>(now - *st.recheck_due);
      trace.before("late", late);
    }
    trace.mark("observe+decide");
    if (alerts_ && d.reason.rfind("alert:", 0) == 0)
      for (const auto& fp : obs->alert_fingerprints)
        if (const StoredAlert* a = alerts_->find(fp)) {
          const Duration w = std::chrono::duration_cast<Duration>(now - a->received);
          webhook_wait = webhook_wait ? std::min(*webhook_wait, w) : w;
        }
  }
  std::optional<FreshRollback> prepared;  // from the fresh read, when it had the workload and the target
  if (d.action == Action::rollback && !d.dry_run) {
    // The evidence is read again from the apiserver itself before anything is written: a cache that silently
    // stopped updating (frozen watch) must never roll back a release that is fine by now.
    // An alert's rollback asks Alertmanager at the same time (still active, not silenced): both are reads.
    const bool by_alert = d.reason.rfind("alert:", 0) == 0;
    auto recheck = [&](bool ask) -> awaitable<bool> {
      if (!ask) co_return true;
      co_return co_await alerts_confirmed(key, *obs, st);
    };
    auto [confirmed, holds] = co_await both(evidence_confirmed(key, st, ctx, d, prepared), recheck(by_alert));
    trace.mark(by_alert ? "fresh_read+alert_recheck" : "fresh_read");
    if (!confirmed) co_return unexpected(confirmed.error());
    if (!*confirmed) co_return std::optional<Duration>{std::chrono::seconds{1}};
    if (!holds) co_return std::optional<Duration>{std::chrono::seconds{2}};
  }
  ActContext actx{writer_, slots_, metrics_, clock_, tracing ? &trace : nullptr, prepared ? &*prepared : nullptr};
  auto r = co_await act(*obs, d, st, actx);
  if (tracing)
    spdlog::info("workload={} event=rollback_trace decision={} ok={} total_ms={} {}{}", k, to_string(d.action),
                 r.has_value(), trace.total().count(), trace.str(),
                 webhook_wait ? " webhook_to_patch_ms=" + std::to_string((*webhook_wait + trace.total() - late).count())
                              : std::string());
  st.recheck_due.reset();
  if (!r) co_return unexpected(r.error());
  std::optional<Duration> again;
  auto sooner = [&](Duration x) { again = again ? std::min(*again, x) : x; };
  if (r->requeue_now) sooner(Duration{0});
  if (r->requeue_after) sooner(*r->requeue_after);
  if (d.recheck_at) {
    // +1 ms: the probes' "longer than" boundaries fire one millisecond after the grace period.
    sooner(std::max(Duration{0}, std::chrono::duration_cast<Duration>(*d.recheck_at - clock_.now())) + Duration{1});
    st.recheck_due = *d.recheck_at;
  }
  co_return again;
}

}  // namespace canary_guard::guard
