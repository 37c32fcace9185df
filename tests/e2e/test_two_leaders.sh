#!/usr/bin/env bash
# Two processes that both believe they lead (issue #13 §1: "test it by forcing two leaders"): A and B run with leader
# election on two different Leases (a split brain: a mistyped lease_name, or an old leader that has not yet noticed),
# so each leads its own and acts. Every write carries a precondition (the rollback record's resourceVersion, the
# PATCH's; the first record of a revision tests it absent), so:
#  - when v1 completes, both see it at once; exactly one RevisionHealthy Event (before the first record was a
#    compare-and-swap, both wrote it and both told: two Events, CI of 2026-12-07);
#  - when a crash-looping release makes both decide the same rollback at the same moment (forced: both processes
#    are stopped while v2 starts crash-looping and continued by one signal, so both read the same backlog), exactly
#    one rollback PATCH lands: the Deployment's revision goes 2 -> 3 (v1 re-used), never 4;
#  - exactly one RollbackStarted and one RollbackSucceeded Event;
#  - the release is back on v1 and both daemons agree on it afterwards (no second undo, no loop).
# The leases are long (60s / 45s renew deadline) so that the stop does not cost either process its leadership.
. "$(dirname "$0")/lib.sh"
e2e_init twolead

cg_config 'bake_time = "5s"'
cat >>"$E2E_DIR/canary-guard.toml" <<EOT

[leader_election]
enabled = true
lease_namespace = "$NS"
lease_name = "lease-a"
lease_duration = "60s"
renew_deadline = "45s"
retry_period = "1s"
EOT
sed 's/^lease_name = "lease-a"/lease_name = "lease-b"/' "$E2E_DIR/canary-guard.toml" >"$E2E_DIR/b.toml"

cg_start
B_PORT=$(free_port)
B_LOG="$E2E_DIR/b.log"
"$CANARY_GUARD_BIN" run --config "$E2E_DIR/b.toml" --kubeconfig "$CANARY_GUARD_KUBECONFIG" \
  --listen "127.0.0.1:$B_PORT" >"$B_LOG" 2>&1 </dev/null &
B_PID=$!
E2E_BG_PIDS+=("$B_PID")
wait_until 30 "B synced" grep -q 'event=caches_synced' "$B_LOG"
leader_of() { curl -sf --max-time 2 "http://127.0.0.1:$1/metrics" | awk '$1 == "canary_guard_leader" {print $2}'; }
wait_until 10 "A leads lease-a" eval 'test "$(leader_of "$CG_PORT")" = 1'
wait_until 10 "B leads lease-b" eval 'test "$(leader_of "$B_PORT")" = 1'

deploy_create web web:v1 2
wait_rollout deployment web
wait_until 30 "v1 verdict healthy" verdict_is web web:v1 healthy
sleep 1  # the loser of the verdict's compare-and-swap re-reads; an Event it would wrongly send is sent by now
expect_eq "exactly one RevisionHealthy Event (one verdict writer)" 1 "$(event_count web RevisionHealthy)"

set_image deployment web web:v2-crashloop
wait_until 10 "v2 ReplicaSet exists" rs_exists web 2
# Both daemons stop before v2 can fail, and continue together once it crash-loops: each then reads the same
# backlog of watch events and decides the rollback in the same moment.
kill -STOP "$CG_PID" "$B_PID"
v2_crashlooping() {
  kubectl -n "$NS" get pods -o 'jsonpath={range .items[*]}{.spec.containers[0].image} {.status.containerStatuses[0].state.waiting.reason} {.status.containerStatuses[0].restartCount}{"\n"}{end}' |
    awk '$1 == "web:v2-crashloop" && $2 == "CrashLoopBackOff" && $3 >= 2 {found = 1} END {exit !found}'
}
stopped_at=$SECONDS
wait_until 40 "v2 crash-loops while both daemons are stopped" v2_crashlooping
kill -CONT "$CG_PID" "$B_PID"
say "both daemons continued after $((SECONDS - stopped_at))s stopped"
wait_until 60 "RollbackStarted Event" has_event web RollbackStarted
wait_rollout deployment web 60
expect_eq "template back to v1" web:v1 "$(image_of deployment web)"
wait_until 20 "RollbackSucceeded Event" has_event web RollbackSucceeded
hold_for 8 "the Deployment stays at revision 3 (one undo, never a second)" eval 'test "$(deploy_revision web)" = 3'
expect_eq "exactly one RollbackStarted Event" 1 "$(event_count web RollbackStarted)"
expect_eq "exactly one RollbackSucceeded Event" 1 "$(event_count web RollbackSucceeded)"
# Both went for the PATCH: each decided the rollback, or found the other's `started` record a few milliseconds old
# and resumed it (resume_rollback: it sends the PATCH too, and the generation test refuses the second).
went='decision=(rollback|resume_rollback) reason='
a=$(log_count "$went")
b=$(grep -cE "$went" "$B_LOG" || true)
say "rollback decisions logged: A $a, B $b; conflicts: A $(log_count 'conflict|409'), B $(grep -cE 'conflict|409' "$B_LOG" || true)"
expect "both daemons went for the rollback PATCH (the race happened)" test "$a" -ge 1 -a "$b" -ge 1
expect "v2 is recorded failed" verdict_is web web:v2-crashloop failed
expect "A still runs" cg_alive
expect "B still runs" kill -0 "$B_PID"
e2e_pass
