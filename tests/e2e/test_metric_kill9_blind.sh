#!/usr/bin/env bash
# e2e-serial (stops the sandbox's Prometheus, which every metric test shares)
# A restart while blind keeps the guard's own blind pause (issue #10 §2). As test_metric_pause_when_blind: v2
# (web:v2-slow12, 4 replicas, each new pod Ready after 12 s) is under analysis by error-ratio when Prometheus is
# stopped; after max_blind (10 s) the guard pauses the Deployment. Then the daemon is killed with SIGKILL and started
# again while Prometheus is still down: the new daemon must stay exactly as blind (the analysis record says blind=1,
# and its own paused-blind note is on the Deployment), so it must NOT lift the pause (before the fix it logged
# resume_after_blind reason=metrics_restored just after start). Once Prometheus is back: BlindPauseLifted and
# MetricsRestored, the rollout completes, v2 is verified.
. "$(dirname "$0")/lib.sh"
e2e_init mkblind
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
wait_until 10 "v2's analysis record says blind" grep -q ' blind=1' <<<"$(rs_ann web 2 canary-guard.io/analysis) "
sleep 1
cg_kill9
cg_start
hold_for 20 "the restarted daemon keeps its blind pause while Prometheus is down" paused
expect_eq "the restarted daemon did not lift the pause" 0 "$(log_count "$(decision_re web resume_after_blind)")"
expect_eq "no BlindPauseLifted while blind" 0 "$(event_count web BlindPauseLifted)"
expect_eq "no RollbackStarted" 0 "$(event_count web RollbackStarted)"

prometheus_start
wait_until 60 "BlindPauseLifted Event once outcomes are back" has_event web BlindPauseLifted
wait_until 10 "MetricsRestored Event" has_event web MetricsRestored
wait_until 10 "the Deployment is resumed" eval '! paused'
wait_rollout deployment web 90
wait_until 60 "v2 verdict healthy" verdict_is web web:v2-slow12 healthy
expect_eq "no RollbackStarted" 0 "$(event_count web RollbackStarted)"
e2e_pass
