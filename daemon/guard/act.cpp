#include "daemon/guard/act.hpp"

#include "daemon/guard/pages.hpp"

#include "config/rfc3339.hpp"

#include <spdlog/spdlog.h>

namespace canary_guard::guard {

namespace {

using boost::asio::awaitable;

constexpr Duration kSlotRecheck{std::chrono::seconds{5}};

std::string counted_key(const RollbackRecord& r) {
  return r.from + "|" + std::to_string(r.at.time_since_epoch().count());
}

kube::Error conflict(std::string what) { return kube::make_error(kube::ErrorKind::conflict, std::move(what)); }

// One line per decision (style.md §5).
void log_decision(const Observation& obs, const Decision& d, std::string_view extra = {}) {
  spdlog::info("workload={}/{} kind={} revision={} decision={} reason={}{}{}", obs.key.ns, obs.key.name,
               kind_token(obs.key.kind), d.current ? std::to_string(d.current->number) : std::string("-"),
               to_string(d.action), d.reason, d.dry_run ? " dry_run=true" : "", extra);
}

class Acting {
 public:
  Acting(const Observation& obs, const Decision& d, WorkloadState& st, ActContext& ctx)
      : obs_(obs), d_(d), st_(st), ctx_(ctx), key_(obs.key.str()), kind_(to_string(obs.key.kind)) {}

  awaitable<Result<ActOutcome>> run();

 private:
  bool once(const std::string& what) { return st_.said.insert(obs_.snapshot.current_hash + "|" + what).second; }
  void event(const char* type, std::string reason, std::string message) {
    ctx_.writer.event(obs_.ref, type, std::move(reason), std::move(message));
  }
  void decided(const Decision& d) {
    if (ctx_.metrics) ctx_.metrics->decision(to_string(d.action));
  }
  void count_rollback(const RollbackRecord& rec) {
    if (!st_.counted.insert(counted_key(rec)).second) return;
    if (!ctx_.metrics) return;
    ctx_.metrics->rollback(obs_.key.ns, obs_.key.name, kind_, rec.reason);
    if (rec.at >= obs_.revision_started && obs_.revision_started.time_since_epoch().count() > 0)
      ctx_.metrics->time_to_detect(kind_, reason_class(rec.reason),
                                   std::chrono::duration<double>(rec.at - obs_.revision_started).count());
    if (rec.reason.rfind("pod_signal:", 0) == 0)
      ctx_.metrics->pod_signal(obs_.key.ns, obs_.key.name, rec.reason.substr(11));
  }
  // write_record through the writer, remembering what was written until the cache shows it (read-your-writes).
  // A record that replaces one is a compare-and-swap on the text this process last saw or wrote (Revision::*_text,
  // or what it wrote since: st_.written). When the swap fails (another writer), what we wrote is forgotten, so the
  // next observation believes the cache, and the error (a conflict) requeues the workload.
  awaitable<Result<Ok>> write(const Revision& rev, std::optional<VerdictRecord> v, std::optional<RollbackRecord> r) {
    Revision expected = rev;
    if (auto it = st_.written.find(rev.name); it != st_.written.end()) {
      if (it->second.verdict) expected.verdict_text = *it->second.verdict;
      if (it->second.rollback) expected.rollback_text = *it->second.rollback;
    }
    auto res = co_await ctx_.writer.write_record(obs_, expected, v, r);
    if (res) {
      auto& w = st_.written[rev.name];
      if (v) w.verdict = format_verdict(*v);
      if (r) w.rollback = format_rollback(*r);
    } else if (res.error().kind == kube::ErrorKind::conflict) {
      st_.written.erase(rev.name);
    }
    co_return res;
  }
  awaitable<Result<ActOutcome>> hold(const Decision& d);
  awaitable<Result<ActOutcome>> rollback();
  awaitable<Result<ActOutcome>> resume(bool patch_needed);
  awaitable<Result<ActOutcome>> finish_record();
  // Sends the PATCH (unless the workload already has the target) after re-checking the fresh workload against
  // the decision. nullopt = sent or not needed; otherwise the outcome to return (a hold) or an error.
  awaitable<Result<std::optional<ActOutcome>>> patch_checked(const Revision& failed, const FreshRollback& fresh);
  awaitable<Result<ActOutcome>> after_patch(RollbackRecord rec, const Revision& owner);

  const Observation& obs_;
  const Decision& d_;
  WorkloadState& st_;
  ActContext& ctx_;
  const std::string key_;
  const std::string_view kind_;
};

awaitable<Result<ActOutcome>> Acting::hold(const Decision& d) {
  if (once(d.reason)) {
    log_decision(obs_, d, " detail=\"" + d.message + "\"");
    if (ctx_.metrics) ctx_.metrics->rollout_finished(obs_.key.ns, obs_.key.name, kind_, "held");
    event("Warning",
          d.reason == "known_bad_template" ? "KnownBadTemplate"
          : d.reason == "metrics_blind"    ? "MetricsBlind"
          : d.reason == "alerts_blind"     ? "AlertChannelBlind"
                                           : "RollbackHeld",
          d.message);
    decided(d);
  }
  co_return ActOutcome{};
}

awaitable<Result<std::optional<ActOutcome>>> Acting::patch_checked(const Revision& failed, const FreshRollback& fresh) {
  using R = std::optional<ActOutcome>;
  if (fresh.generation != obs_.generation)
    co_return unexpected(conflict("workload changed since it was observed (generation " +
                                  std::to_string(obs_.generation) + " -> " + std::to_string(fresh.generation) + ")"));
  if (fresh.skipped) co_return R{};  // already on the target: the PATCH went through before
  if (fresh.paused && !fresh.paused_by_guard) {
    // kubectl refuses to undo a paused Deployment, and so do we; the `started` record stays for when it resumes.
    ctx_.slots.release(key_);
    Decision h = d_;
    h.action = Action::hold;
    h.reason = "paused";
    h.message = "The rollback of revision " + std::to_string(failed.number) + " (" + failed.hash +
                ") is not sent: the Deployment is paused now; holding (resume it, or roll back by hand).";
    auto r = co_await hold(h);
    if (!r) co_return unexpected(r.error());
    co_return R{*r};
  }
  if (!failed.template_fingerprint.empty() && fresh.template_fingerprint != failed.template_fingerprint) {
    // Someone (a GitOps tool, a person) applied another template since the decision: never overwrite it. The next
    // reconcile sees the new revision and supersedes our record.
    co_return unexpected(conflict("the workload's template changed since the rollback was decided; re-deciding"));
  }
  auto sent = co_await ctx_.writer.send_rollback(obs_, fresh);
  if (!sent) co_return unexpected(sent.error());
  st_.min_generation = *sent;
  co_return R{};
}

awaitable<Result<ActOutcome>> Acting::after_patch(RollbackRecord rec, const Revision& owner) {
  // The `waiting` record first, as a compare-and-swap on `started`: of two processes that both believe they lead
  // and both see the workload on the target, one moves the record on and tells; the other's swap fails and it
  // re-reads. A crash between the PATCH and this write leaves `started` with the workload on the target: the next
  // start confirms it and tells then.
  rec.state = RollbackState::waiting;
  auto r = co_await write(owner, std::nullopt, rec);
  if (!r) co_return unexpected(r.error());
  count_rollback(rec);
  event("Warning", "RollbackStarted", d_.message);
  decided(d_);
  co_return ActOutcome{};
}

awaitable<Result<ActOutcome>> Acting::rollback() {
  if (d_.dry_run) {
    if (once("dry_run")) {
      log_decision(obs_, d_, " target=" + std::to_string(d_.target->number));
      event("Warning", "DryRunRollback", "dry-run, nothing patched: " + d_.message);
      decided(d_);
    }
    co_return ActOutcome{};
  }
  // The slot is taken before the first await: two workloads failing in the same millisecond cannot both pass.
  if (!ctx_.slots.try_reserve(key_)) {
    Decision h = d_;
    h.action = Action::hold;
    h.reason = "rollback_limit";
    h.message = "revision " + std::to_string(d_.current->number) + " (" + d_.current->hash + ") failed; " +
                std::to_string(ctx_.slots.others(key_)) +
                " rollbacks already running (max_concurrent_rollbacks); waiting for a slot.";
    auto r = co_await hold(h);
    if (!r) co_return r;
    co_return ActOutcome{false, kSlotRecheck};
  }
  const TimePoint now = ctx_.clock.now();
  RollbackRecord rec{RollbackState::started, d_.current->hash, d_.target->hash, d_.target->number, now, d_.reason};
  VerdictRecord verdict{Verdict::failed, d_.current->hash, now, d_.reason};
  log_decision(obs_, d_, " target=" + std::to_string(d_.target->number));
  // Intent first (a crash at any later point finds it), while the fresh GETs run.
  auto prepare = [this]() -> awaitable<Result<FreshRollback>> {
    if (ctx_.prepared) co_return *ctx_.prepared;
    co_return co_await ctx_.writer.prepare_rollback(obs_, *d_.target);
  };
  auto [written, fresh] = co_await both(write(*d_.current, verdict, rec), prepare());
  // "record" alone: the request came from the fresh read (tests/e2e/test_alert_rollback.sh relies on the name).
  if (ctx_.trace) ctx_.trace->mark(ctx_.prepared ? "record" : "record+prepare");
  if (!written) {
    ctx_.slots.release(key_);  // nothing recorded: nothing in flight
    co_return unexpected(written.error());
  }
  if (!fresh) co_return unexpected(fresh.error());  // requeue: the `started` record resumes it
  auto checked = co_await patch_checked(*d_.current, *fresh);
  if (ctx_.trace) ctx_.trace->mark("patch");
  if (!checked) co_return unexpected(checked.error());
  if (*checked) co_return **checked;
  co_return co_await after_patch(rec, *d_.current);
}

awaitable<Result<ActOutcome>> Acting::resume(bool patch_needed) {
  const Revision& owner = *d_.record_owner;
  if (!patch_needed) {
    ctx_.slots.adopt(key_);  // the PATCH went out: that rollback is running, limit or not
  } else if (!ctx_.slots.try_reserve(key_)) {
    // A `started` record whose PATCH is still to be sent (after a person's pause, a restart, a failed attempt) is a
    // rollback about to start: it takes a slot like starting one, so the limit stays hard across pauses.
    Decision h = d_;
    h.action = Action::hold;
    h.reason = "rollback_limit";
    h.message = "The rollback of revision " + std::to_string(owner.number) + " (" + owner.hash + ") waits: " +
                std::to_string(ctx_.slots.others(key_)) +
                " rollbacks already running (max_concurrent_rollbacks); waiting for a slot.";
    auto r = co_await hold(h);
    if (!r) co_return r;
    co_return ActOutcome{false, kSlotRecheck};
  }
  log_decision(obs_, d_, d_.target ? " target=" + std::to_string(d_.target->number) : std::string());
  if (patch_needed) {
    auto fresh = co_await ctx_.writer.prepare_rollback(obs_, *d_.target);
    if (ctx_.trace) ctx_.trace->mark("prepare");
    if (!fresh) co_return unexpected(fresh.error());
    auto checked = co_await patch_checked(owner, *fresh);
    if (ctx_.trace) ctx_.trace->mark("patch");
    if (!checked) co_return unexpected(checked.error());
    if (*checked) co_return **checked;
  }
  co_return co_await after_patch(*owner.rollback, owner);
}

awaitable<Result<ActOutcome>> Acting::finish_record() {
  RollbackRecord rec = *d_.record_owner->rollback;
  rec.state = d_.action == Action::rollback_succeeded ? RollbackState::succeeded
              : d_.action == Action::rollback_failed  ? RollbackState::failed
                                                      : RollbackState::superseded;
  auto r = co_await write(*d_.record_owner, std::nullopt, rec);
  if (!r) co_return unexpected(r.error());
  if (d_.action == Action::rollback_failed && d_.current && d_.current->hash == rec.to) {
    // The target did not roll out: it is no rollback target any more until it is verified again.
    const VerdictRecord unfit{Verdict::unfit, d_.current->hash, ctx_.clock.now(), "rollback_failed"};
    auto u = co_await write(*d_.current, unfit, std::nullopt);
    if (!u) co_return unexpected(u.error());
  }
  ctx_.slots.release(key_);
  log_decision(obs_, d_, " from=" + d_.record_owner->hash);
  ActOutcome out;
  if (d_.action == Action::rollback_succeeded) {
    if (ctx_.metrics) {
      ctx_.metrics->rollout_finished(obs_.key.ns, obs_.key.name, kind_, "rolled_back");
      const TimePoint now = ctx_.clock.now();
      if (now >= rec.at)
        ctx_.metrics->time_to_restore(kind_, reason_class(rec.reason), std::chrono::duration<double>(now - rec.at).count());
    }
    event("Normal", "RollbackSucceeded", d_.message);
  } else if (d_.action == Action::rollback_failed) {
    event("Warning", "RollbackFailed", d_.message);
  } else {
    if (ctx_.metrics) ctx_.metrics->rollout_finished(obs_.key.ns, obs_.key.name, kind_, "superseded");
    event("Normal", "RollbackSuperseded", d_.message);
    out.requeue_now = true;  // judge the new revision now
  }
  decided(d_);
  co_return out;
}

awaitable<Result<ActOutcome>> Acting::run() {
  switch (d_.action) {
    case Action::none:
      co_return ActOutcome{};

    case Action::not_judged:
      if (once(d_.reason)) {
        log_decision(obs_, d_);
        event("Normal", "OnDeleteNotJudged", d_.message);
        decided(d_);
      }
      co_return ActOutcome{};

    case Action::remove_copied_records: {
      auto r = co_await ctx_.writer.remove_workload_records(obs_);
      if (!r) co_return unexpected(r.error());
      log_decision(obs_, d_);
      decided(d_);
      co_return ActOutcome{true, std::nullopt};
    }

    case Action::pause_blind: {
      const std::string note = "paused-blind hash=" + obs_.snapshot.current_hash + " at=" + format_rfc3339(ctx_.clock.now());
      auto r = co_await ctx_.writer.set_paused(obs_, true, note);
      if (!r) co_return unexpected(r.error());
      if (once(d_.reason)) {
        if (ctx_.metrics) ctx_.metrics->rollout_finished(obs_.key.ns, obs_.key.name, kind_, "held");
        event("Warning", "MetricsBlind", d_.message);
      }
      log_decision(obs_, d_);
      decided(d_);
      co_return ActOutcome{};
    }

    case Action::resume_after_blind: {
      auto r = co_await ctx_.writer.set_paused(obs_, false, std::nullopt);
      if (!r) co_return unexpected(r.error());
      log_decision(obs_, d_);
      event("Normal", "BlindPauseLifted", d_.message);
      decided(d_);
      co_return ActOutcome{true, std::nullopt};
    }

    case Action::mark_healthy: {
      // A named record, not a braced temporary: g++ 12 can destroy braced temporaries passed to coroutines twice.
      const VerdictRecord healthy{Verdict::healthy, d_.current->hash, ctx_.clock.now(), d_.reason};
      auto r = co_await write(*d_.current, healthy, std::nullopt);
      if (!r) co_return unexpected(r.error());
      log_decision(obs_, d_);
      if (ctx_.metrics && d_.reason == "baked") ctx_.metrics->rollout_finished(obs_.key.ns, obs_.key.name, kind_, "completed");
      event("Normal", "RevisionHealthy", d_.message);
      decided(d_);
      co_return ActOutcome{};
    }

    case Action::hold:
      co_return co_await hold(d_);

    case Action::rollback:
      co_return co_await rollback();

    case Action::resume_rollback:
      co_return co_await resume(/*patch_needed=*/true);

    case Action::confirm_patched:
      co_return co_await resume(/*patch_needed=*/false);

    case Action::rollback_succeeded:
    case Action::rollback_failed:
    case Action::supersede:
      co_return co_await finish_record();
  }
  co_return ActOutcome{};
}

}  // namespace

awaitable<Result<ActOutcome>> act(const Observation& obs, const Decision& d, WorkloadState& st, ActContext& ctx) {
  Acting a(obs, d, st, ctx);
  co_return co_await a.run();
}

}  // namespace canary_guard::guard
