// act(): the order of writes, the slot limit, the fresh re-checks before the PATCH, counting, through a fake Writer.
// The fake yields to the io_context at every call, as a real request would, so concurrent acts interleave.
#include <gtest/gtest.h>

#include <algorithm>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "daemon/guard/act.hpp"

namespace cg = canary_guard;
namespace asio = boost::asio;
using namespace canary_guard::guard;
using namespace std::chrono_literals;
using canary_guard::Ok;
using canary_guard::unexpected;

namespace {

const cg::TimePoint T0{std::chrono::seconds{1'800'000'000}};

struct FakeWriter final : Writer {
  std::vector<std::string> calls;  // in order: "record:<rev>:<verdict>:<rollback state>", "prepare", "send", ...
  std::vector<std::string> events;  // reasons
  FreshRollback fresh;
  bool fail_prepare = false;
  std::int64_t generation_after = 8;
  // The rollback state whose record write loses its compare-and-swap (another writer moved the record on).
  std::optional<RollbackState> swap_lost_on;
  std::vector<std::string> expected_rollback_texts;  // Revision::rollback_text of each record write, in order
  std::vector<std::string> sent_bodies;

  asio::awaitable<Result<Ok>> write_record(const Observation&, const Revision& rev, std::optional<VerdictRecord> v,
                                           std::optional<RollbackRecord> r) override {
    co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
    calls.push_back("record:" + rev.hash + ":" + (v ? std::string(to_string(v->verdict)) : "-") + ":" +
                    (r ? std::string(to_string(r->state)) : "-"));
    expected_rollback_texts.push_back(rev.rollback_text);
    if (r && swap_lost_on && r->state == *swap_lost_on)
      co_return unexpected(cg::kube::make_error(cg::kube::ErrorKind::conflict, "the record changed since it was read"));
    co_return Ok{};
  }
  asio::awaitable<Result<FreshRollback>> prepare_rollback(const Observation&, const Revision& target) override {
    co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
    calls.push_back("prepare:" + target.hash);
    if (fail_prepare) co_return unexpected(cg::kube::make_error(cg::kube::ErrorKind::timeout, "slow"));
    co_return fresh;
  }
  asio::awaitable<Result<std::int64_t>> send_rollback(const Observation&, const FreshRollback& plan) override {
    co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
    calls.push_back("send");
    sent_bodies.push_back(plan.body);
    co_return generation_after;
  }
  asio::awaitable<Result<Ok>> remove_workload_records(const Observation&) override {
    calls.push_back("remove_records");
    co_return Ok{};
  }
  asio::awaitable<Result<Ok>> set_paused(const Observation&, bool paused, std::optional<std::string> note) override {
    calls.push_back(std::string(paused ? "pause" : "resume") + (note ? ":" + note->substr(0, 12) : std::string(":-")));
    co_return Ok{};
  }
  void event(const ObjectRef&, std::string, std::string reason, std::string) override {
    calls.push_back("event:" + reason);
    events.push_back(std::move(reason));
  }
};

struct CountingMetrics final : GuardMetrics {
  int rollbacks = 0, pod_signals = 0;
  std::vector<std::string> finished;
  void rollout_finished(const std::string&, const std::string&, std::string_view, std::string_view o) override {
    finished.emplace_back(o);
  }
  void rollback(const std::string&, const std::string&, std::string_view, std::string_view) override { ++rollbacks; }
  void rollout_active(const std::string&, const std::string&, std::string_view, bool, double) override {}
  void pod_signal(const std::string&, const std::string&, std::string_view) override { ++pod_signals; }
  void decision(std::string_view) override {}
  void forget_workload(const std::string&, const std::string&, std::string_view) override {}
};

Revision rev(std::string hash, std::int64_t n) {
  Revision r;
  r.name = "web-" + hash;
  r.hash = hash;
  r.number = n;
  r.template_fingerprint = "fp-" + hash;
  return r;
}

Observation obs(std::string name = "web") {
  Observation o;
  o.key = WorkloadKey{Kind::deployment, "shop", name};
  o.ref = ObjectRef{"Deployment", "shop", name, "uid", "1"};
  o.generation = 7;
  o.snapshot.current_hash = "b";
  return o;
}

Decision rollback_decision() {
  Decision d;
  d.action = Action::rollback;
  d.reason = "pod_signal:crash_loop";
  d.message = "revision 2 (b) failed: x. Rolling back to revision 1 (a), the last revision verified healthy.";
  d.current = rev("b", 2);
  d.target = rev("a", 1);
  return d;
}

struct Rig {
  asio::io_context ioc;
  cg::ManualClock clock{T0};
  FakeWriter writer;
  CountingMetrics metrics;
  RollbackSlots slots{1};
  ActContext ctx{writer, slots, &metrics, clock};

  Rig() {
    writer.fresh.generation = 7;
    writer.fresh.template_fingerprint = "fp-b";
    writer.fresh.body = "[]";
  }
  Result<ActOutcome> run(const Observation& o, const Decision& d, WorkloadState& st) {
    std::optional<Result<ActOutcome>> out;
    asio::co_spawn(
        ioc, [&]() -> asio::awaitable<void> { out.emplace(co_await act(o, d, st, ctx)); }, asio::detached);
    ioc.run();
    ioc.restart();
    return std::move(*out);
  }
};

TEST(Act, RollbackWritesIntentThenPatchesThenWaiting) {
  Rig rig;
  WorkloadState st;
  auto r = rig.run(obs(), rollback_decision(), st);
  ASSERT_TRUE(r);
  const auto& c = rig.writer.calls;
  // Intent (failed verdict + started) and the fresh GETs run together; then the PATCH, `waiting` (a swap on the
  // `started` text just written), then the Event.
  ASSERT_EQ(c.size(), 5u) << testing::PrintToString(c);
  EXPECT_TRUE((c[0] == "record:b:failed:started" && c[1] == "prepare:a") ||
              (c[1] == "record:b:failed:started" && c[0] == "prepare:a"));
  EXPECT_EQ(c[2], "send");
  EXPECT_EQ(c[3], "record:b:-:waiting");
  EXPECT_EQ(c[4], "event:RollbackStarted");
  ASSERT_EQ(rig.writer.expected_rollback_texts.size(), 2u);
  EXPECT_EQ(rig.writer.expected_rollback_texts[0], "");  // a first record: nothing to test
  EXPECT_NE(rig.writer.expected_rollback_texts[1].find("started"), std::string::npos)
      << "the `waiting` write must test the `started` text this process wrote";
  EXPECT_TRUE(rig.slots.holds("Deployment/shop/web"));
  EXPECT_EQ(st.min_generation, 8);
  EXPECT_EQ(rig.metrics.rollbacks, 1);
  EXPECT_EQ(rig.metrics.pod_signals, 1);
  // Read-your-writes: what was written is remembered until the cache shows it.
  ASSERT_TRUE(st.written.count("web-b"));
  EXPECT_NE(st.written["web-b"].rollback->find("state=waiting"), std::string::npos);
}

TEST(Act, ARequestPreparedFromTheFreshReadIsSentWithoutReadingAgain) {
  Rig rig;
  FreshRollback prepared = rig.writer.fresh;
  prepared.body = R"([{"op":"test","path":"/metadata/generation","value":7}])";
  rig.ctx.prepared = &prepared;
  WorkloadState st;
  auto r = rig.run(obs(), rollback_decision(), st);
  ASSERT_TRUE(r);
  EXPECT_EQ(rig.writer.calls, (std::vector<std::string>{"record:b:failed:started", "send", "record:b:-:waiting",
                                                         "event:RollbackStarted"}));
  EXPECT_EQ(rig.writer.sent_bodies, std::vector<std::string>{prepared.body});
}

TEST(Act, APreparedRequestForAChangedWorkloadIsRefusedAsAnyOther) {
  // The fresh read's generation differs from the observation's: the same refusal as after prepare_rollback's GETs.
  Rig rig;
  FreshRollback prepared = rig.writer.fresh;
  prepared.generation = 8;
  rig.ctx.prepared = &prepared;
  WorkloadState st;
  auto r = rig.run(obs(), rollback_decision(), st);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, cg::kube::ErrorKind::conflict);
  EXPECT_EQ(rig.writer.calls, std::vector<std::string>{"record:b:failed:started"});
}

TEST(Act, SlotLimitIsHardEvenForConcurrentRollbacks) {
  // Two workloads fail in the same millisecond with max_concurrent_rollbacks = 1: both decisions said "rollback"
  // (each saw 0 in flight); only one may proceed.
  Rig rig;
  WorkloadState st1, st2;
  const Observation o1 = obs("web-1"), o2 = obs("web-2");
  const Decision d = rollback_decision();
  std::optional<Result<ActOutcome>> r1, r2;
  asio::co_spawn(rig.ioc, [&]() -> asio::awaitable<void> { r1.emplace(co_await act(o1, d, st1, rig.ctx)); }, asio::detached);
  asio::co_spawn(rig.ioc, [&]() -> asio::awaitable<void> { r2.emplace(co_await act(o2, d, st2, rig.ctx)); }, asio::detached);
  rig.ioc.run();
  ASSERT_TRUE(*r1);
  ASSERT_TRUE(*r2);
  int sends = 0;
  for (const auto& c : rig.writer.calls) sends += c == "send";
  EXPECT_EQ(sends, 1) << testing::PrintToString(rig.writer.calls);
  EXPECT_EQ(rig.slots.size(), 1u);
  EXPECT_EQ(std::count(rig.writer.events.begin(), rig.writer.events.end(), "RollbackHeld"), 1);
  EXPECT_TRUE((*r2)->requeue_after || (*r1)->requeue_after);  // the held one looks again for a slot
}

// Issue #10 §4: a rollback whose fresh read found the Deployment paused gave its slot back and kept its `started`
// record; resuming it later must take a slot like starting one, so two rollbacks never run with a limit of 1.
TEST(Act, ResumingAStartedRollbackTakesASlotWithinTheLimit) {
  Rig rig;
  ASSERT_EQ(rig.slots.limit(), 1);
  ASSERT_TRUE(rig.slots.try_reserve("Deployment/shop/other"));  // another workload's rollback is running
  WorkloadState st;
  Decision d;
  d.action = Action::resume_rollback;
  d.reason = "pod_signal:crash_loop";
  d.current = rev("b", 2);
  d.target = rev("a", 1);
  d.record_owner = rev("b", 2);
  d.record_owner->rollback = RollbackRecord{RollbackState::started, "b", "a", 1, T0 - 5s, "pod_signal:crash_loop"};
  auto r = rig.run(obs(), d, st);
  ASSERT_TRUE(r);
  for (const auto& c : rig.writer.calls) EXPECT_NE(c, "send") << "a second rollback went out with a limit of 1";
  EXPECT_FALSE(rig.slots.holds("Deployment/shop/web"));
  EXPECT_EQ(rig.slots.size(), 1u);
  EXPECT_TRUE((*r).requeue_after) << "the held resume looks again for a slot";
  EXPECT_EQ(std::count(rig.writer.events.begin(), rig.writer.events.end(), "RollbackHeld"), 1);

  // Once the other rollback ended, the same resume goes out and holds the slot.
  rig.slots.release("Deployment/shop/other");
  rig.writer.calls.clear();
  auto again = rig.run(obs(), d, st);
  ASSERT_TRUE(again);
  EXPECT_EQ(std::count(rig.writer.calls.begin(), rig.writer.calls.end(), "send"), 1);
  EXPECT_TRUE(rig.slots.holds("Deployment/shop/web"));
}

// A rollback whose PATCH already went out (confirm) is running: it is counted, limit or not.
TEST(Act, ConfirmingASentRollbackIsCountedEvenOverTheLimit) {
  Rig rig;
  ASSERT_TRUE(rig.slots.try_reserve("Deployment/shop/other"));
  WorkloadState st;
  Decision d;
  d.action = Action::confirm_patched;
  d.reason = "pod_signal:crash_loop";
  d.current = rev("a", 1);
  d.target = rev("a", 1);
  d.record_owner = rev("b", 2);
  d.record_owner->rollback = RollbackRecord{RollbackState::started, "b", "a", 1, T0 - 5s, "pod_signal:crash_loop"};
  auto r = rig.run(obs(), d, st);
  ASSERT_TRUE(r);
  EXPECT_TRUE(rig.slots.holds("Deployment/shop/web"));
  EXPECT_EQ(rig.slots.size(), 2u);
}

TEST(Act, FreshPausedWorkloadIsNotPatched) {
  Rig rig;
  rig.writer.fresh.paused = true;
  WorkloadState st;
  auto r = rig.run(obs(), rollback_decision(), st);
  ASSERT_TRUE(r);
  for (const auto& c : rig.writer.calls) EXPECT_NE(c, "send");
  EXPECT_EQ(rig.writer.events, std::vector<std::string>{"RollbackHeld"});
  EXPECT_FALSE(rig.slots.holds("Deployment/shop/web"));
  EXPECT_EQ(rig.metrics.rollbacks, 0);
}

TEST(Act, TemplateChangedSinceTheDecisionIsNeverOverwritten) {
  // Crash recovery: `started` record, but a GitOps tool applied a new template meanwhile.
  Rig rig;
  rig.writer.fresh.template_fingerprint = "fp-c";
  WorkloadState st;
  Decision d;
  d.action = Action::resume_rollback;
  d.reason = "pod_signal:crash_loop";
  d.current = rev("b", 2);
  d.target = rev("a", 1);
  d.record_owner = rev("b", 2);
  d.record_owner->rollback = RollbackRecord{RollbackState::started, "b", "a", 1, T0 - 5s, "pod_signal:crash_loop"};
  auto r = rig.run(obs(), d, st);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, cg::kube::ErrorKind::conflict);
  for (const auto& c : rig.writer.calls) EXPECT_NE(c, "send");
  // A generation that moved is a conflict too.
  rig.writer.fresh.template_fingerprint = "fp-b";
  rig.writer.fresh.generation = 9;
  rig.writer.calls.clear();
  r = rig.run(obs(), d, st);
  ASSERT_FALSE(r);
  for (const auto& c : rig.writer.calls) EXPECT_NE(c, "send");
}

TEST(Act, RollbackIsCountedOnceAcrossResumes) {
  Rig rig;
  WorkloadState st;
  rig.writer.fail_prepare = true;  // the first attempt records the intent, then the GET times out
  auto r = rig.run(obs(), rollback_decision(), st);
  ASSERT_FALSE(r);
  EXPECT_TRUE(rig.slots.holds("Deployment/shop/web"));  // the intent is recorded: the slot stays taken
  rig.writer.fail_prepare = false;
  Decision d;
  d.action = Action::resume_rollback;
  d.reason = "pod_signal:crash_loop";
  d.current = rev("b", 2);
  d.target = rev("a", 1);
  d.record_owner = rev("b", 2);
  d.record_owner->rollback = RollbackRecord{RollbackState::started, "b", "a", 1, T0, "pod_signal:crash_loop"};
  ASSERT_TRUE(rig.run(obs(), d, st));
  // The `waiting` write is retried (say it failed): confirm_patched, the same rollback.
  d.action = Action::confirm_patched;
  ASSERT_TRUE(rig.run(obs(), d, st));
  EXPECT_EQ(rig.metrics.rollbacks, 1);
}

TEST(Act, FailedRollbackMarksTheTargetUnfitAndFreesTheSlot) {
  Rig rig;
  WorkloadState st;
  rig.slots.adopt("Deployment/shop/web");
  Decision d;
  d.action = Action::rollback_failed;
  d.reason = "rollback_timeout";
  d.current = rev("a", 3);
  d.record_owner = rev("b", 2);
  d.record_owner->rollback = RollbackRecord{RollbackState::waiting, "b", "a", 1, T0 - 700s, "pod_signal:crash_loop"};
  ASSERT_TRUE(rig.run(obs(), d, st));
  EXPECT_EQ(rig.writer.calls,
            (std::vector<std::string>{"record:b:-:failed", "record:a:unfit:-", "event:RollbackFailed"}));
  EXPECT_FALSE(rig.slots.holds("Deployment/shop/web"));
}

TEST(Act, CopiedRecordsAreRemovedAndLookedAtAgain) {
  Rig rig;
  WorkloadState st;
  Decision d;
  d.action = Action::remove_copied_records;
  d.reason = "copied_records";
  auto r = rig.run(obs(), d, st);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->requeue_now);
  EXPECT_EQ(rig.writer.calls, std::vector<std::string>{"remove_records"});
}

TEST(Act, HoldAndNotJudgedAreToldOnce) {
  Rig rig;
  WorkloadState st;
  Decision d;
  d.action = Action::not_judged;
  d.reason = "on_delete";
  d.message = "not judged.";
  d.current = rev("b", 2);
  ASSERT_TRUE(rig.run(obs(), d, st));
  ASSERT_TRUE(rig.run(obs(), d, st));
  EXPECT_EQ(rig.writer.events, std::vector<std::string>{"OnDeleteNotJudged"});
  d.action = Action::hold;
  d.reason = "unschedulable";
  ASSERT_TRUE(rig.run(obs(), d, st));
  ASSERT_TRUE(rig.run(obs(), d, st));
  EXPECT_EQ(rig.writer.events, (std::vector<std::string>{"OnDeleteNotJudged", "RollbackHeld"}));
}

}  // namespace

TEST(Act, BlindPauseAndResume) {
  Rig rig;
  WorkloadState st;
  Decision d;
  d.action = Action::pause_blind;
  d.reason = "metrics_blind";
  d.message = "blind.";
  d.current = rev("b", 2);
  ASSERT_TRUE(rig.run(obs(), d, st));
  EXPECT_EQ(rig.writer.calls, (std::vector<std::string>{"pause:paused-blind", "event:MetricsBlind"}));
  d.action = Action::resume_after_blind;
  d.reason = "metrics_restored";
  auto r = rig.run(obs(), d, st);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->requeue_now);
  EXPECT_EQ(rig.writer.calls.back(), "event:BlindPauseLifted");
  EXPECT_EQ(rig.writer.calls[2], "resume:-");
}

TEST(Act, ARollbackIsNotStoppedByTheGuardsOwnPause) {
  Rig rig;
  rig.writer.fresh.paused = true;
  rig.writer.fresh.paused_by_guard = true;
  WorkloadState st;
  ASSERT_TRUE(rig.run(obs(), rollback_decision(), st));
  EXPECT_NE(std::find(rig.writer.calls.begin(), rig.writer.calls.end(), "send"), rig.writer.calls.end());
}

// Two processes that both believe they lead (issue #13 §1): the one whose `waiting` swap fails tells nothing, counts
// nothing, forgets what it wrote (so its next observation believes the cache) and returns the conflict (requeue).
TEST(Act, LostRecordSwapTellsNothingAndForgetsItsWrite) {
  Rig rig;
  rig.writer.swap_lost_on = RollbackState::waiting;
  WorkloadState st;
  auto r = rig.run(obs(), rollback_decision(), st);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, cg::kube::ErrorKind::conflict);
  EXPECT_TRUE(rig.writer.events.empty()) << testing::PrintToString(rig.writer.events);
  EXPECT_EQ(rig.metrics.rollbacks, 0);
  EXPECT_EQ(st.written.count("web-b"), 0u);
}
