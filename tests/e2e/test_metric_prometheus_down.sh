#!/usr/bin/env bash
# e2e-serial (stops the sandbox's Prometheus, which every metric test shares)
# Prometheus down during analysis: doubt means no action. v2 (healthy image, bake 30 s) is under analysis by
# error-ratio when the sandbox's Prometheus is stopped (scripts/sandbox stop prometheus: only that component; the
# EXIT trap starts it again whatever happens). Expected: a Warning Event MetricsBlind on web within max_blind (10 s)
# + 10 s, exactly once; no rollback and no healthy verdict while down, though the bake time passes; pod signals
# still act at once (a crash-looping release of a second Deployment, api, is rolled back by pod_signal while
# Prometheus is down). After Prometheus is back: MetricsRestored, and v2 becomes healthy.
. "$(dirname "$0")/lib.sh"
e2e_init mpromdown
CG_GUARD_TOML='bake_time = "30s"' CG_MAX_BLIND=10s cg_metrics_config \
  "$(metric_check error-ratio "$E2E_ERROR_RATIO_QUERY" 'max = 0.05')"
cg_start

deploy_create web web:v1 2
deploy_create api web:v1 2
wait_rollout deployment web
wait_rollout deployment api
wait_until 60 "web: v1 verdict healthy" verdict_is web web:v1 healthy
wait_until 60 "api: v1 verdict healthy" verdict_is api web:v1 healthy

set_image deployment web web:v2
wait_rollout deployment web
t_complete=$(elapsed)
prometheus_stop
wait_until 20 "web: MetricsBlind Event within max_blind + 10 s of the stop" has_event web MetricsBlind
expect "MetricsBlind is a Warning" test "$(kubectl -n "$NS" get events --field-selector involvedObject.name=web,reason=MetricsBlind -o 'jsonpath={.items[0].type}')" = Warning

set_image deployment api web:v2-crashloop
wait_until 40 "api: RollbackStarted while Prometheus is down" has_event api RollbackStarted
wait_until 30 "api: v2 rollback record state=succeeded" rollback_state_is api web:v2-crashloop succeeded
expect_eq "api: rollback reason is the pod signal" pod_signal \
  "$(field "$(rollback_of_image api web:v2-crashloop)" reason | cut -d: -f1)"

left=$(echo "$t_complete + 40 - $(elapsed)" | bc | cut -d. -f1)
[ "${left:-0}" -ge 5 ] 2>/dev/null || left=5
hold_for "$left" "web: no v2 verdict while Prometheus is down (bake 30 s passes meanwhile)" \
  eval '[ -z "$(verdict_of_image web web:v2)" ]'
expect_eq "web: no RollbackStarted while Prometheus is down" 0 "$(event_count web RollbackStarted)"
expect_eq "web: template image stays v2" web:v2 "$(image_of deployment web)"
expect_eq "web: exactly one MetricsBlind Event" 1 "$(event_count web MetricsBlind)"

prometheus_start
wait_until 60 "web: MetricsRestored Event" has_event web MetricsRestored
wait_until 60 "web: v2 verdict healthy after Prometheus is back" verdict_is web web:v2 healthy
expect_eq "web: still exactly one MetricsBlind Event" 1 "$(event_count web MetricsBlind)"
expect_eq "web: no RollbackStarted Event" 0 "$(event_count web RollbackStarted)"
expect_eq "web: template image stays v2" web:v2 "$(image_of deployment web)"
e2e_pass
