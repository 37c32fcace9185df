// observe(): the snapshot the decision core sees, built from in-memory cache views on a manual clock. Each test is a
// situation an operator's cluster produces (a scale-up during the bake, a controller-manager outage, unschedulable
// pods at the deadline, a release at zero replicas, a restart in the middle of a crash loop ...).
#include <gtest/gtest.h>

#include <map>

#include "daemon/guard/decide.hpp"
#include "daemon/guard/observe.hpp"

namespace cg = canary_guard;
using namespace canary_guard::guard;
using namespace std::chrono_literals;
using cg::probes::Condition;
using cg::probes::ContainerStateView;
using cg::probes::ControllerRevisionView;
using cg::probes::DaemonSetView;
using cg::probes::DeploymentView;
using cg::probes::PodView;
using cg::probes::ReplicaSetView;

namespace {

const cg::TimePoint T0{std::chrono::seconds{1'800'000'000}};

struct FakeCluster final : ClusterView {
  std::map<std::string, DeploymentView> deployments;
  std::map<std::string, DaemonSetView> daemonsets;
  std::vector<ReplicaSetView> replicasets;
  std::vector<ControllerRevisionView> revisions;
  std::vector<PodView> pods;

  const DeploymentView* deployment(const std::string& ns, const std::string& name) const override {
    auto it = deployments.find(ns + "/" + name);
    return it == deployments.end() ? nullptr : &it->second;
  }
  const DaemonSetView* daemonset(const std::string& ns, const std::string& name) const override {
    auto it = daemonsets.find(ns + "/" + name);
    return it == daemonsets.end() ? nullptr : &it->second;
  }
  std::vector<const ReplicaSetView*> replicasets_of(const std::string& uid) const override { return of(replicasets, uid); }
  std::vector<const ControllerRevisionView*> revisions_of(const std::string& uid) const override { return of(revisions, uid); }
  std::vector<const PodView*> pods_of(const std::string& uid) const override { return of(pods, uid); }

  template <class T>
  static std::vector<const T*> of(const std::vector<T>& v, const std::string& uid) {
    std::vector<const T*> out;
    for (const auto& x : v)
      if (x.meta.controller_uid == uid) out.push_back(&x);
    return out;
  }
};

Condition cond(std::string type, std::string status, std::string reason, cg::TimePoint t) {
  return Condition{std::move(type), std::move(status), std::move(reason), t, t};
}

// A Deployment "web" in "shop" whose revision 1 (hash h1) is healthy and complete, with 2 Ready pods.
struct World {
  cg::config::Config config;
  FakeCluster cluster;
  WorkloadState st;
  WorkloadKey key{Kind::deployment, "shop", "web"};

  World() {
    DeploymentView d;
    d.meta.ns = "shop";
    d.meta.name = "web";
    d.meta.uid = "d-uid";
    d.meta.generation = 1;
    d.meta.annotations = {{"deployment.kubernetes.io/revision", "1"}};
    d.observed_generation = 1;
    d.spec_replicas = 2;
    d.progress_deadline_seconds = 10;
    complete(d);
    cluster.deployments["shop/web"] = d;
    add_rs("h1", 1, T0 - 1h, "healthy hash=h1 at=2027-01-15T08:00:00Z reason=baseline");
    add_pods("h1", 2, T0 - 1h);
  }
  DeploymentView& dep() { return cluster.deployments["shop/web"]; }
  static void complete(DeploymentView& d) {
    d.replicas = d.updated_replicas = d.ready_replicas = d.available_replicas = d.spec_replicas;
    d.conditions = {cond("Progressing", "True", "NewReplicaSetAvailable", T0 - 1h),
                    cond("Available", "True", "MinimumReplicasAvailable", T0 - 1h)};
  }
  ReplicaSetView& add_rs(const std::string& hash, std::int64_t rev, cg::TimePoint created, std::string verdict = {}) {
    ReplicaSetView rs;
    rs.meta.ns = "shop";
    rs.meta.name = "web-" + hash;
    rs.meta.uid = "rs-" + hash;
    rs.meta.controller_uid = "d-uid";
    rs.meta.created = created;
    rs.revision = rev;
    rs.pod_template_hash = hash;
    rs.template_hash = "fp-" + hash;
    rs.spec_replicas = 2;
    if (!verdict.empty()) rs.meta.annotations = {{"canary-guard.io/verdict", verdict}};
    cluster.replicasets.push_back(rs);
    return cluster.replicasets.back();
  }
  ReplicaSetView* rs(const std::string& hash) {
    for (auto& r : cluster.replicasets)
      if (r.pod_template_hash == hash) return &r;
    return nullptr;
  }
  void add_pods(const std::string& hash, int n, cg::TimePoint created, bool ready = true) {
    for (int i = 0; i < n; ++i) {
      PodView p;
      p.meta.ns = "shop";
      p.meta.name = "web-" + hash + "-" + std::to_string(cluster.pods.size());
      p.meta.uid = p.meta.name;
      p.meta.controller_uid = "rs-" + hash;
      p.meta.created = created;
      p.pod_template_hash = hash;
      p.phase = "Running";
      p.conditions = {cond("PodScheduled", "True", "", created), cond("Ready", ready ? "True" : "False", "", created)};
      ContainerStateView c;
      c.ready = ready;
      c.running = true;
      p.containers = {c};
      cluster.pods.push_back(p);
    }
    if (ready)
      if (auto* r = rs(hash)) r->ready_replicas = r->available_replicas = r->replicas = r->ready_replicas + n;
  }
  // Releases revision `rev` with hash `hash`; the controller has created its RS and reports progress.
  void release(const std::string& hash, std::int64_t rev, cg::TimePoint at) {
    auto& d = dep();
    d.meta.generation += 1;
    d.observed_generation = d.meta.generation;
    d.meta.annotations = {{"deployment.kubernetes.io/revision", std::to_string(rev)}};
    d.updated_replicas = 0;
    d.replicas = 2;
    d.conditions = {cond("Progressing", "True", "NewReplicaSetCreated", at)};
    add_rs(hash, rev, at);
  }
  std::optional<Observation> look(cg::TimePoint now, cg::TimePoint daemon_started = T0 - 2h) {
    const ObserveContext ctx{config, daemon_started, 0, nullptr, caches_not_live};
    return observe(key, cluster, st, ctx, now);
  }
  std::string caches_not_live;
};

TEST(Observe, GoneOrUnguardedWorkloadGivesNothing) {
  World w;
  w.key.name = "other";
  EXPECT_FALSE(w.look(T0));
  World w2;
  w2.dep().meta.annotations.push_back({"canary-guard.io/enabled", "false"});
  EXPECT_FALSE(w2.look(T0));
}

TEST(Observe, HealthyCompleteDeployment) {
  World w;
  auto o = w.look(T0);
  ASSERT_TRUE(o);
  const Snapshot& s = o->snapshot;
  EXPECT_TRUE(s.status_current);
  EXPECT_EQ(s.current_hash, "h1");
  EXPECT_TRUE(s.rollout_complete);
  EXPECT_EQ(s.pods_expected, 2);
  EXPECT_FALSE(s.failure);
  EXPECT_FALSE(o->watching);
  ASSERT_EQ(s.revisions.size(), 1u);
  EXPECT_EQ(s.revisions[0].template_fingerprint, "fp-h1");
  EXPECT_EQ(s.rollback_wait_limit, 10s);
  EXPECT_FALSE(s.records_on_workload);
}

TEST(Observe, ScaleUpAfterCompleteIsNotATimedOutRollout) {
  World w;
  w.release("h2", 2, T0);
  ASSERT_TRUE(w.look(T0 + 100ms));
  // v2 completes.
  w.add_pods("h2", 2, T0 + 1s);
  w.complete(w.dep());
  w.dep().conditions = {cond("Progressing", "True", "NewReplicaSetAvailable", T0 + 3s)};
  auto o = w.look(T0 + 3s);
  ASSERT_TRUE(o);
  EXPECT_TRUE(o->snapshot.rollout_complete);
  // 14 s later an HPA scales to 5: 3 new pods are not Ready yet; the controller keeps NewReplicaSetAvailable.
  auto& d = w.dep();
  d.spec_replicas = 5;
  d.replicas = d.updated_replicas = 5;
  d.available_replicas = d.ready_replicas = 2;
  w.add_pods("h2", 3, T0 + 17s, /*ready=*/false);
  // Past the deadline counted from the release (T0 + 10 s), and from completion: no timeout. (The new pods are
  // looked at before their ready grace of deadline / 2 runs out: a pod that never becomes Ready is a pod signal.)
  for (auto t : {T0 + 17s, T0 + 19s, T0 + 21s}) {
    o = w.look(t);
    ASSERT_TRUE(o);
    EXPECT_FALSE(o->snapshot.rollout_complete);
    EXPECT_FALSE(o->snapshot.failure) << o->snapshot.failure->detail;
    EXPECT_FALSE(o->snapshot.deadline_passed);
  }
  // Even with another Progressing reason, the guard saw this revision complete: still no timeout.
  d.conditions = {cond("Progressing", "True", "ReplicaSetUpdated", T0 + 17s)};
  o = w.look(T0 + 21500ms);
  EXPECT_FALSE(o->snapshot.failure);
  // Pod signals keep applying during the bake.
  auto& p = w.cluster.pods.back();
  p.containers[0].waiting_reason = "CrashLoopBackOff";
  p.containers[0].restart_count = 3;
  o = w.look(T0 + 22s);
  ASSERT_TRUE(o->snapshot.failure);
  EXPECT_EQ(o->snapshot.failure->reason, "pod_signal:crash_loop");
}

TEST(Observe, OwnTimerStillFailsARolloutThatNeverCompleted) {
  World w;
  w.release("h2", 2, T0);
  w.add_pods("h2", 1, T0 + 1s, /*ready=*/false);
  auto o = w.look(T0 + 100ms);
  EXPECT_FALSE(o->snapshot.failure);
  ASSERT_TRUE(o->snapshot.next_check);
  EXPECT_LE(*o->snapshot.next_check, T0 + 10s);
  o = w.look(T0 + 10s);
  ASSERT_TRUE(o->snapshot.failure);
  EXPECT_EQ(o->snapshot.failure->reason, "progress_deadline");
  EXPECT_TRUE(o->snapshot.deadline_passed);
}

TEST(Observe, FrozenStatusDoesNotFailTheRelease) {
  // The controller-manager stops after the release: the status stays at 0 ready of the new ReplicaSet while the
  // kubelet reports both new pods Ready. The own timer must not read the frozen status as "no progress".
  World w;
  w.release("h2", 2, T0);
  w.look(T0 + 100ms);
  w.add_pods("h2", 2, T0 + 1s, /*ready=*/true);
  w.rs("h2")->ready_replicas = 0;  // frozen
  auto o = w.look(T0 + 30s);
  ASSERT_TRUE(o);
  EXPECT_FALSE(o->snapshot.failure);
  ASSERT_TRUE(o->snapshot.next_check);
  EXPECT_LE(*o->snapshot.next_check, T0 + 31s);
  // A genuine ProgressDeadlineExceeded from the controller still counts.
  w.dep().conditions = {cond("Progressing", "False", "ProgressDeadlineExceeded", T0 + 30s)};
  o = w.look(T0 + 31s);
  ASSERT_TRUE(o->snapshot.failure);
}

TEST(Observe, UnschedulableAtTheDeadlineIsAHold) {
  World w;
  w.release("h2", 2, T0);
  w.add_pods("h2", 1, T0 + 1s, /*ready=*/false);
  auto& p = w.cluster.pods.back();
  p.phase = "Pending";
  p.conditions = {cond("PodScheduled", "False", "Unschedulable", T0 + 1s)};
  p.containers.clear();
  w.look(T0 + 100ms);
  auto o = w.look(T0 + 11s);
  ASSERT_TRUE(o);
  EXPECT_FALSE(o->snapshot.failure);
  ASSERT_TRUE(o->snapshot.hold);
  EXPECT_EQ(o->snapshot.hold->reason, "unschedulable");
  EXPECT_TRUE(o->snapshot.deadline_passed);
  // The controller's own ProgressDeadlineExceeded does not change that.
  w.dep().conditions = {cond("Progressing", "False", "ProgressDeadlineExceeded", T0 + 11s)};
  o = w.look(T0 + 12s);
  EXPECT_FALSE(o->snapshot.failure);
  EXPECT_EQ(o->snapshot.hold->reason, "unschedulable");
}

TEST(Observe, QuotaAtTheDeadlineIsAHold) {
  World w;
  w.release("h2", 2, T0);
  w.dep().conditions.push_back(cond("ReplicaFailure", "True", "FailedCreate", T0 + 1s));
  w.look(T0 + 100ms);
  auto o = w.look(T0 + 11s);
  EXPECT_FALSE(o->snapshot.failure);
  ASSERT_TRUE(o->snapshot.hold);
  EXPECT_EQ(o->snapshot.hold->reason, "replica_failure");
  EXPECT_TRUE(o->snapshot.deadline_passed);
}

TEST(Observe, ZeroReplicasExpectNoPods) {
  World w;
  w.release("h2", 2, T0);
  auto& d = w.dep();
  d.spec_replicas = 0;
  d.replicas = d.updated_replicas = d.available_replicas = d.ready_replicas = 0;
  d.conditions = {cond("Progressing", "True", "NewReplicaSetAvailable", T0 + 1s)};
  auto o = w.look(T0 + 1s);
  EXPECT_TRUE(o->snapshot.rollout_complete);
  EXPECT_EQ(o->snapshot.pods_expected, 0);
  EXPECT_FALSE(o->snapshot.complete_since);  // the bake does not start without pods
  EXPECT_FALSE(w.st.completed_once);
}

TEST(Observe, BaselineEligibility) {
  {  // first look, no verdict anywhere: the revision it was on is eligible
    World w;
    w.cluster.replicasets[0].meta.annotations.clear();
    EXPECT_TRUE(w.look(T0)->snapshot.baseline_eligible);
  }
  {  // a verdict exists: not eligible
    World w;
    w.release("h2", 2, T0);
    EXPECT_FALSE(w.look(T0 + 1s)->snapshot.baseline_eligible);
  }
  {  // revisionHistoryLimit 0: v1 (healthy) was deleted after v2 completed; v2 is the only revision left
    World w;
    w.dep().revision_history_limit = 0;
    w.release("h2", 2, T0);
    EXPECT_FALSE(w.look(T0 + 1s)->snapshot.baseline_eligible);
    w.cluster.replicasets.erase(w.cluster.replicasets.begin());
    EXPECT_FALSE(w.look(T0 + 5s)->snapshot.baseline_eligible);  // seen start (and a verdict) in this process
    WorkloadState fresh;  // a restart in the middle of the bake: still not a baseline
    w.st = std::move(fresh);
    EXPECT_FALSE(w.look(T0 + 6s)->snapshot.baseline_eligible);
  }
  {  // a revision change seen by this process: never a baseline, even with no verdicts at all
    World w;
    w.cluster.replicasets[0].meta.annotations.clear();
    w.look(T0);
    w.release("h2", 2, T0 + 1s);
    EXPECT_FALSE(w.look(T0 + 2s)->snapshot.baseline_eligible);
  }
}

TEST(Observe, CopiedRecordsOnTheDeployment) {
  World w;
  w.dep().meta.annotations.push_back({"canary-guard.io/verdict", "healthy hash=h1 at=2027-01-15T08:00:00Z"});
  EXPECT_TRUE(w.look(T0)->snapshot.records_on_workload);
}

TEST(Observe, PreexistingCrashLoopCountsFromThePod) {
  // The daemon starts while v2 already crash-loops (restartCount 4): its restarts are the revision's own history.
  World w;
  w.release("h2", 2, T0);
  w.add_pods("h2", 1, T0 + 1s, /*ready=*/false);
  auto& p = w.cluster.pods.back();
  p.containers[0].waiting_reason = "CrashLoopBackOff";
  p.containers[0].restart_count = 4;
  auto o = w.look(T0 + 20s, /*daemon_started=*/T0 + 19s);
  ASSERT_TRUE(o->snapshot.failure);
  EXPECT_EQ(o->snapshot.failure->reason, "pod_signal:crash_loop");
}

TEST(Observe, DaemonSetCurrentRevisionIsTheOneWithItsTemplate) {
  World w;
  w.key = WorkloadKey{Kind::daemonset, "shop", "agent"};
  DaemonSetView ds;
  ds.meta.ns = "shop";
  ds.meta.name = "agent";
  ds.meta.uid = "ds-uid";
  ds.update_strategy = "RollingUpdate";
  ds.meta.generation = ds.observed_generation = 3;
  ds.template_hash = "fp-a";
  ds.desired_number_scheduled = ds.updated_number_scheduled = ds.number_available = ds.number_ready = 3;
  w.cluster.daemonsets["shop/agent"] = ds;
  auto cr = [&](std::string hash, std::int64_t rev, std::string fp) {
    ControllerRevisionView c;
    c.meta.ns = "shop";
    c.meta.name = "agent-" + hash;
    c.meta.controller_uid = "ds-uid";
    c.hash = std::move(hash);
    c.revision = rev;
    c.template_hash = std::move(fp);
    w.cluster.revisions.push_back(c);
  };
  // An undo back to template a: the status arrived before the controller bumped a's number above b's.
  cr("a", 1, "fp-a");
  cr("b", 2, "fp-b");
  auto o = w.look(T0);
  ASSERT_TRUE(o);
  EXPECT_TRUE(o->snapshot.status_current);
  EXPECT_EQ(o->snapshot.current_hash, "a");
  // No revision with the DaemonSet's template yet: doubt, nothing judged.
  w.cluster.daemonsets["shop/agent"].template_hash = "fp-c";
  EXPECT_FALSE(w.look(T0 + 1s)->snapshot.status_current);
  // OnDelete is reported.
  w.cluster.daemonsets["shop/agent"].template_hash = "fp-a";
  w.cluster.daemonsets["shop/agent"].update_strategy = "OnDelete";
  EXPECT_TRUE(w.look(T0 + 2s)->snapshot.on_delete);
}

TEST(Observe, DaemonSetDipAfterCompleteIsNotATimeout) {
  World w;
  w.config.defaults.daemonset_progress_deadline = 8s;
  w.key = WorkloadKey{Kind::daemonset, "shop", "agent"};
  DaemonSetView ds;
  ds.meta.ns = "shop";
  ds.meta.name = "agent";
  ds.meta.uid = "ds-uid";
  ds.update_strategy = "RollingUpdate";
  ds.meta.generation = ds.observed_generation = 2;
  ds.template_hash = "fp-b";
  ds.desired_number_scheduled = ds.updated_number_scheduled = ds.number_available = ds.number_ready = 3;
  w.cluster.daemonsets["shop/agent"] = ds;
  ControllerRevisionView c;
  c.meta.ns = "shop";
  c.meta.name = "agent-b";
  c.meta.controller_uid = "ds-uid";
  c.meta.created = T0;
  c.hash = "b";
  c.revision = 2;
  c.template_hash = "fp-b";
  w.cluster.revisions.push_back(c);
  auto o = w.look(T0 + 1s);
  EXPECT_TRUE(o->snapshot.rollout_complete);
  // A node joins: desired 4, the new pod is slow.
  auto& d = w.cluster.daemonsets["shop/agent"];
  d.desired_number_scheduled = d.updated_number_scheduled = 4;
  for (auto t : {T0 + 2s, T0 + 20s, T0 + 60s}) {
    o = w.look(t);
    EXPECT_FALSE(o->snapshot.failure) << o->snapshot.failure->detail;
  }
}

}  // namespace

TEST(Observe, ACacheThatIsNotLiveJudgesNothing) {
  // The own timer would fail this rollout at T0 + 10s (OwnTimerStillFailsARolloutThatNeverCompleted); while a cache
  // it is judged from is not live (a frozen watch), the picture may be minutes old: no failure reaches decide.
  World w;
  w.release("h2", 2, T0);
  w.add_pods("h2", 1, T0 + 1s, /*ready=*/false);
  w.look(T0 + 100ms);
  w.caches_not_live = "pods: no sign of life for 61 s (frozen watch?)";
  auto o = w.look(T0 + 10s);
  ASSERT_TRUE(o);
  ASSERT_TRUE(o->snapshot.cache_not_live);
  EXPECT_EQ(decide(o->snapshot, o->policy, T0 + 10s).action, Action::none);
  EXPECT_EQ(decide(o->snapshot, o->policy, T0 + 10s).reason, "cache_not_live");
  // Live again: the same picture is judged as before.
  w.caches_not_live.clear();
  o = w.look(T0 + 11s);
  ASSERT_TRUE(o);
  EXPECT_FALSE(o->snapshot.cache_not_live);
  ASSERT_TRUE(o->snapshot.failure);
  EXPECT_EQ(o->snapshot.failure->reason, "progress_deadline");
}

namespace {

// The Analyzer as a freshly started daemon has it: nothing tracked yet (observe() starts from the annotation).
struct NoAnalysisYet final : AnalysisView {
  const cg::probes::RevisionAnalysis* state(const WorkloadKey&, std::string_view) const override { return nullptr; }
};

// The live Analyzer still holding one rollout's state.
struct OneAnalysis final : AnalysisView {
  cg::probes::RevisionAnalysis a;
  const cg::probes::RevisionAnalysis* state(const WorkloadKey&, std::string_view hash) const override {
    return hash == a.hash ? &a : nullptr;
  }
};

cg::config::Check error_ratio() {
  cg::config::Check c;
  c.name = "error-ratio";
  c.query = "sum(rate(x[10s]))";
  c.max = 0.05;
  c.interval = 2s;
  c.range_window = 10s;
  return c;
}

}  // namespace

// Issue #10 §2, the reported case: v2 had one PASS in its first rollout (revision 2); v3 replaced it; v2's template
// deployed again is revision 4, with Prometheus down. The first rollout's PASS must not make v2 "every check passed",
// in a restarted daemon (from the annotation) nor in the running one (the Analyzer may still hold the old rollout).
TEST(Observe, AnalysisOfAnEarlierRolloutIsNoEvidence) {
  struct Row {
    const char* what;
    std::int64_t record_rollout;
    bool live;  // the state comes from the running Analyzer, not the annotation
    bool passed;
  };
  for (const Row& r : {Row{"annotation, this rollout", 4, false, true}, Row{"annotation, earlier rollout", 2, false, false},
                       Row{"live, this rollout", 4, true, true}, Row{"live, earlier rollout", 2, true, false}}) {
    World w;
    w.config.checks.push_back(error_ratio());
    const auto fp = cg::probes::check_fingerprint(w.config.checks[0]);
    w.release("h2", 4, T0);
    w.add_pods("h2", 2, T0);
    OneAnalysis live;
    NoAnalysisYet none;
    if (r.live) {
      live.a.hash = "h2";
      live.a.rollout = r.record_rollout;
      live.a.started = T0;
      live.a.first_ready = T0;
      live.a.last_decisive = T0 + 30s;
      live.a.checks["error-ratio"].passed = true;
      live.a.checks["error-ratio"].window = "P";
      live.a.checks["error-ratio"].fingerprint = fp;
    } else {
      w.rs("h2")->meta.annotations.push_back(
          {"canary-guard.io/analysis", "hash=h2 rollout=" + std::to_string(r.record_rollout) + " error-ratio=P!@" + fp});
    }
    const ObserveContext ctx{w.config, T0 - 2h, 0, r.live ? static_cast<const AnalysisView*>(&live) : &none};
    auto o = observe(w.key, w.cluster, w.st, ctx, T0 + 31s);
    ASSERT_TRUE(o) << r.what;
    EXPECT_TRUE(o->snapshot.metrics_required) << r.what;
    EXPECT_EQ(o->snapshot.metrics_passed, r.passed) << r.what;
    ASSERT_TRUE(o->analysis) << r.what;
    EXPECT_EQ(o->analysis->rollout, 4) << r.what;
  }
}

// Issue #10 §2: a restart while the guard's own blind pause is in place does not lift it: the new daemon is blind
// (from the record, or from the pause note itself when the record was lost) until outcomes are back.
TEST(Observe, ARestartDuringTheBlindPauseKeepsIt) {
  struct Row {
    const char* what;
    bool record_blind;
    bool note;            // the guard's own blind-pause note (for h2) on the Deployment
    std::string note_hash;
    bool blind;
  };
  for (const Row& r : {Row{"record says blind", true, true, "h2", true}, Row{"record lost, note", false, true, "h2", true},
                       Row{"note for another revision", false, true, "h1", false},
                       Row{"record blind, no note", true, false, "", true}, Row{"neither", false, false, "", false}}) {
    World w;
    w.config.checks.push_back(error_ratio());
    w.config.analysis.pause_when_blind = true;
    const auto fp = cg::probes::check_fingerprint(w.config.checks[0]);
    w.release("h2", 2, T0);
    w.add_pods("h2", 2, T0);
    w.rs("h2")->meta.annotations.push_back(
        {"canary-guard.io/analysis", std::string("hash=h2 rollout=2") + (r.record_blind ? " blind=1" : "") +
                                         " error-ratio=P!@" + fp});
    if (r.note) {
      w.dep().paused = true;
      w.dep().meta.annotations.push_back({"canary-guard.io/hold", "paused-blind hash=" + r.note_hash +
                                                                      " at=2027-01-15T08:01:00Z"});
    }
    NoAnalysisYet none;
    const cg::TimePoint restart = T0 + 5min;
    const ObserveContext ctx{w.config, restart, 0, &none};
    auto o = observe(w.key, w.cluster, w.st, ctx, restart + 10ms);
    ASSERT_TRUE(o) << r.what;
    const bool blind = o->snapshot.hold && o->snapshot.hold->reason == "metrics_blind";
    EXPECT_EQ(blind, r.blind) << r.what;
    ASSERT_TRUE(o->analysis) << r.what;
    EXPECT_EQ(o->analysis->blind, r.blind) << r.what;  // handed to the Analyzer, which keeps (and persists) it
    if (r.note && r.note_hash == "h2") {
      const Decision d = decide(o->snapshot, o->policy, restart + 10ms);
      EXPECT_NE(d.action, Action::resume_after_blind) << r.what << " " << d.reason;
    }
  }
}
