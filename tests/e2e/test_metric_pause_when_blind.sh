#!/usr/bin/env bash
# e2e-serial (stops the sandbox's Prometheus, which every metric test shares)
# pause_when_blind: a rolling update that goes blind is paused, and resumed when the checks are decisive again.
# v2 (healthy, slow: each new pod Ready after 12 s, 4 replicas, maxSurge 1 / maxUnavailable 0, so the rollout takes
# about 50 s) is under analysis by error-ratio when the sandbox's Prometheus is stopped (the EXIT trap starts it
# again). Expected: once the analysis starts (after the first v2 pod is Ready, 12 s) and max_blind (10 s) passes, the Deployment is paused by canary-guard (spec.paused, its note
# canary-guard.io/hold) with one MetricsBlind Event; no rollback. After Prometheus is back: BlindPauseLifted, the
# Deployment is resumed, the rollout completes and v2 is verified healthy. Then v3 goes blind too and its checks are
# switched off (canary-guard.io/checks: none): the guard lifts its own pause and judges v3 without metrics.
# While v2's resumed rollout is still under analysis: the daemon's GET /analysis lists v2 with a numeric value for
# the check and `canary-guard status --daemon` shows it (last=...); with a daemon address nobody listens on, status
# still prints the rows, says so on stderr and exits 0.
. "$(dirname "$0")/lib.sh"
e2e_init mpause
CG_GUARD_TOML='bake_time = "5s"' CG_MAX_BLIND=10s CG_ANALYSIS_TOML='pause_when_blind = true' cg_metrics_config \
  "$(metric_check error-ratio "$E2E_ERROR_RATIO_QUERY" 'max = 0.05')"
cg_start

deploy_create web web:v1 4
wait_rollout deployment web
wait_until 60 "v1 verdict healthy" verdict_is web web:v1 healthy

set_image deployment web web:v2-slow12
wait_until 10 "v2 ReplicaSet exists" rs_exists web 2
prometheus_stop
paused() { [ "$(kubectl -n "$NS" get deploy web -o 'jsonpath={.spec.paused}')" = true ]; }
wait_until 60 "the Deployment is paused by canary-guard while blind" paused
expect "the pause carries canary-guard's note" \
  grep -q '^paused-blind ' <<<"$(deploy_ann web canary-guard.io/hold)"
wait_until 10 "MetricsBlind Event" has_event web MetricsBlind
expect_eq "no RollbackStarted while blind" 0 "$(event_count web RollbackStarted)"
expect "the rollout is not complete (paused mid-way)" eval '! rollout_done deployment web'

prometheus_start
wait_until 60 "BlindPauseLifted Event" has_event web BlindPauseLifted
wait_until 10 "the Deployment is resumed" eval '! paused'
expect_eq "the note is gone" "" "$(deploy_ann web canary-guard.io/hold)"
h2=$(rs_hash web 2)
live_value() {
  curl -sf --max-time 3 "http://127.0.0.1:$CG_PORT/analysis" | jq -e --arg ns "$NS" --arg h "$h2" \
    '[.[] | select(.kind == "Deployment" and .namespace == $ns and .workload == "web" and .revision_hash == $h)
     | .checks[] | select(.name == "error-ratio" and (.value | type) == "number")] | length == 1'
}
wait_until 10 "GET /analysis lists web v2 with a numeric error-ratio value" live_value
status_live=$("$CANARY_GUARD_BIN" status --kubeconfig "$CANARY_GUARD_KUBECONFIG" -n "$NS" \
  --daemon "http://127.0.0.1:$CG_PORT" 2>&1) || fail "status --daemon exited non-zero: $status_live"
say "status --daemon: $(grep -E "(^| )web " <<<"$status_live")"
expect "status --daemon shows v2's live value and outcome" \
  grep -qE "$h2 .*error-ratio=[PF!-]+ last=[0-9.e+-]+ (pass|fail)" <<<"$status_live"
nobody=$(free_port)
status_rc=0
status_out=$("$CANARY_GUARD_BIN" status --kubeconfig "$CANARY_GUARD_KUBECONFIG" -n "$NS" \
  --daemon "http://127.0.0.1:$nobody" 2>"$E2E_DIR/status.err") || status_rc=$?
expect_eq "status with an unreachable daemon exits 0" 0 "$status_rc"
expect "status with an unreachable daemon still lists web v2" grep -qE "(^| )web .*$h2" <<<"$status_out"
expect "status with an unreachable daemon says so on stderr" \
  grep -q "daemon at http://127.0.0.1:$nobody not reachable (.*): showing persisted windows only" "$E2E_DIR/status.err"
wait_rollout deployment web 90
wait_until 60 "v2 verdict healthy" verdict_is web web:v2-slow12 healthy
expect_eq "no RollbackStarted" 0 "$(event_count web RollbackStarted)"
expect_eq "exactly one MetricsBlind Event" 1 "$(event_count web MetricsBlind)"

# Phase 2: blind again with v3, then the checks are switched off for this Deployment (canary-guard.io/checks:
# none). Nothing is left to be blind about, so the guard lifts its own pause (a pause left behind would stop the
# Deployment for good), and v3 is judged without metrics.
set_image deployment web web:v3-slow12
wait_until 10 "v3 ReplicaSet exists" rs_exists web 3
prometheus_stop
wait_until 60 "v3: paused by canary-guard while blind" paused
kubectl -n "$NS" annotate deploy web canary-guard.io/checks=none >/dev/null
wait_until 30 "v3: a second BlindPauseLifted Event" eval '[ "$(event_count web BlindPauseLifted)" -ge 2 ]'
wait_until 10 "v3: the Deployment is resumed" eval '! paused'
expect_eq "v3: the note is gone" "" "$(deploy_ann web canary-guard.io/hold)"
wait_rollout deployment web 90
wait_until 60 "v3 verdict healthy (no check applies)" verdict_is web web:v3-slow12 healthy
expect_eq "v3: no RollbackStarted" 0 "$(event_count web RollbackStarted)"
prometheus_start
e2e_pass
