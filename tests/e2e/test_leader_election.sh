#!/usr/bin/env bash
# Two replicas, one actor (issue #13 §1), against the sandbox with short durations (lease 4 s, renew deadline 3 s,
# retry 1 s):
#  1. A and B start; exactly one leads (canary_guard_leader 1/0, the Lease names it); the follower writes nothing.
#  2. kill -9 of the leader while a crash-looping v2 is under way: the follower, its caches and probes warm, takes
#     over within the lease duration and rolls v2 back exactly once. Takeover time printed.
#  3. SIGTERM of the new leader: it releases the Lease; A (restarted as follower) takes over within 2 s.
#  4. The leader's connection to the apiserver freezes (a hung load balancer, tests/e2e/freeze_proxy.py) for longer
#     than the renew deadline: it stops leading (log line, canary_guard_leader 0, /healthz 503) and the other takes
#     over; when the connection flows again it follows, healthy.
# e2e-timeout: 300
. "$(dirname "$0")/lib.sh"
e2e_init leader
freeze_proxy
proxy_pid=$PROXY_PID

cg_config 'bake_time = "5s"'
cat >>"$E2E_DIR/canary-guard.toml" <<EOT

[leader_election]
enabled = true
lease_namespace = "$NS"
lease_name = "canary-guard"
lease_duration = "4s"
renew_deadline = "3s"
retry_period = "1s"
EOT

# Daemon slots: A (the lib's CG_* variables) and B (its own), each with its identity.
B_PID=""; B_PORT=""; B_LOG=""
start_b() {  # KUBECONFIG IDENTITY
  B_PORT=$(free_port)
  B_LOG="$E2E_DIR/b.$RANDOM.log"
  sed "/^identity = /d; s/^enabled = true/enabled = true\nidentity = \"$2\"/" "$E2E_DIR/canary-guard.toml" >"$E2E_DIR/b.toml"
  "$CANARY_GUARD_BIN" run --config "$E2E_DIR/b.toml" --kubeconfig "$1" --listen "127.0.0.1:$B_PORT" >"$B_LOG" 2>&1 </dev/null &
  B_PID=$!
  E2E_BG_PIDS+=("$B_PID")
  wait_until 30 "daemon $2 synced" grep -q 'event=caches_synced' "$B_LOG"
}
start_a() {  # KUBECONFIG IDENTITY
  sed -i "/^identity = /d; s/^enabled = true/enabled = true\nidentity = \"$2\"/" "$E2E_DIR/canary-guard.toml"
  local saved=$CANARY_GUARD_KUBECONFIG
  CANARY_GUARD_KUBECONFIG=$1
  cg_start
  CANARY_GUARD_KUBECONFIG=$saved
}
leader_of() { curl -sf --max-time 2 "http://127.0.0.1:$1/metrics" | awk '$1 == "canary_guard_leader" {print $2}'; }
holder() { kubectl -n "$NS" get lease canary-guard -o jsonpath='{.spec.holderIdentity}' 2>/dev/null; }
holder_is() { [ "$(holder)" = "$1" ]; }
healthz_is() { [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$1/healthz")" = "$2" ]; }
now_ms() { date +%s%3N; }

start_a "$E2E_DIR/proxied.kubeconfig" alpha
wait_until 10 "alpha leads (the Lease names it)" holder_is alpha
start_b "$CANARY_GUARD_KUBECONFIG" beta
expect_eq "alpha canary_guard_leader" 1 "$(leader_of "$CG_PORT")"
expect_eq "beta canary_guard_leader" 0 "$(leader_of "$B_PORT")"
expect "beta is ready as a follower (/readyz 200)" curl -sf --max-time 2 "http://127.0.0.1:$B_PORT/readyz"

deploy_create web web:v1 2
wait_rollout deployment web
wait_until 30 "v1 verdict healthy (by the leader)" verdict_is web web:v1 healthy
expect "the follower decided nothing" bash -c "! grep -q 'decision=mark_healthy' '$B_LOG'"

# 2. kill -9 of the leader mid-rollout of a crash-looping release.
set_image deployment web web:v2-crashloop
wait_until 10 "v2 ReplicaSet exists" rs_exists web 2
sleep 2
t_kill=$(now_ms)
cg_kill9
wait_until 10 "beta takes over" grep -q 'event=started_leading' "$B_LOG"
t_lead=$(sed -nE 's/^([0-9T:.-]+Z).*event=started_leading.*/\1/p' "$B_LOG" | tail -n1)
takeover_ms=$(( $(date -d "$t_lead" +%s%3N) - t_kill ))
say "takeover after kill -9: ${takeover_ms} ms (lease duration 4000 ms)"
expect "takeover within lease duration + 2 s" test "$takeover_ms" -le 6000
wait_until 60 "RollbackStarted by beta" has_event web RollbackStarted
wait_rollout deployment web 60
expect_eq "template back to v1" web:v1 "$(image_of deployment web)"
t_patch=$(sed -nE 's/^([0-9T:.-]+Z).*decision=rollback reason=.*/\1/p' "$B_LOG" | head -n1)
say "first rollback decision by the successor $(( $(date -d "$t_patch" +%s%3N) - t_kill )) ms after the kill"
hold_for 4 "exactly one rollback" eval 'test "$(event_count web RollbackStarted)" = 1'

# 3. SIGTERM handover: alpha comes back as a follower, beta is stopped cleanly.
start_a "$E2E_DIR/proxied.kubeconfig" alpha
expect_eq "alpha follows" 0 "$(leader_of "$CG_PORT")"
t_term=$(now_ms)
kill -TERM "$B_PID"
wait_until 5 "beta exited" bash -c "! kill -0 $B_PID 2>/dev/null"
expect "beta released the Lease" grep -q 'event=released' "$B_LOG"
wait_until 5 "alpha leads again" grep -q 'event=started_leading' "$CG_LOG"
t_lead=$(sed -nE 's/^([0-9T:.-]+Z).*event=started_leading.*/\1/p' "$CG_LOG" | tail -n1)
handover_ms=$(( $(date -d "$t_lead" +%s%3N) - t_term ))
say "handover after SIGTERM: ${handover_ms} ms"
expect "handover within 2 s" test "$handover_ms" -le 2000

# 4. alpha's apiserver connection freezes for longer than the renew deadline.
start_b "$CANARY_GUARD_KUBECONFIG" beta
kill -USR2 "$proxy_pid"
say "froze alpha's connections to the apiserver"
wait_until 8 "alpha stops leading (renew deadline 3 s)" grep -q 'event=stopped_leading .*reason=not_renewed_within_renew_deadline' "$CG_LOG"
expect_eq "alpha canary_guard_leader 0" 0 "$(leader_of "$CG_PORT")"
expect_eq "alpha /healthz 503" 503 "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$CG_PORT/healthz")"
wait_until 10 "beta takes over" holder_is beta
kill -HUP "$proxy_pid"
say "thawed"
wait_until 40 "alpha healthy again as a follower" healthz_is "$CG_PORT" 200
expect_eq "alpha follows" 0 "$(leader_of "$CG_PORT")"
expect_eq "still exactly one rollback" 1 "$(event_count web RollbackStarted)"
e2e_pass
