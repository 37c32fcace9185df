#!/usr/bin/env bash
# Analysis state survives a crash. error-ratio (max 0.05, 3 FAIL of the last 5, every 3 s) judges v2 web:v2-errors50.
# The daemon is killed with SIGKILL after its 2nd FAIL outcome and before the 3rd (one debug line per evaluation with
# check=error-ratio and outcome=fail; the kill comes ~1 s after the 2nd, leaving time to persist it, ~2 s before the
# 3rd). The outcomes are kept on v2's ReplicaSet (annotation canary-guard.io/analysis; its format is not asserted),
# so the restarted daemon needs at most ONE more FAIL before its decision=rollback line; one that forgot would need
# three. Exactly one rollback, reason metric:error-ratio.
. "$(dirname "$0")/lib.sh"
e2e_init mkill9
CG_GUARD_TOML='bake_time = "10s"' cg_metrics_config \
  "$(metric_check error-ratio "$E2E_ERROR_RATIO_QUERY" 'max = 0.05' 'interval = "3s"')"
cg_start

# fails_in LOG: evaluation lines of error-ratio with outcome fail.
fails_in() { { grep -E 'check=error-ratio( |$)' "$1" || true; } | grep -ciE 'outcome=fail( |$)' || true; }
# fails_before_rollback LOG: such lines before the first rollback decision for web (all of them if there is none).
fails_before_rollback() {
  awk -v d="$(decision_re web rollback)" '$0 ~ d { exit }
    /check=error-ratio( |$)/ && tolower($0) ~ /outcome=fail( |$)/ { n++ } END { print n + 0 }' "$1"
}

deploy_create web web:v1 2
wait_rollout deployment web
wait_until 60 "v1 verdict healthy" verdict_is web web:v1 healthy

set_image deployment web web:v2-errors50
wait_until 60 "2 FAIL outcomes of error-ratio logged" eval '[ "$(fails_in "$CG_LOG")" -ge 2 ]'
sleep 1  # the daemon may persist an outcome just after logging it; the next evaluation is ~2 s away
log1=$CG_LOG
[ "$(fails_in "$log1")" = 2 ] && ! grep -qE "$(decision_re web rollback)" "$log1" ||
  fail "could not kill between the 2nd and 3rd FAIL: run 1 logged $(fails_in "$log1") FAIL lines already"
expect "v2's ReplicaSet carries the analysis state (canary-guard.io/analysis)" \
  test -n "$(rs_ann web 2 canary-guard.io/analysis)"
cg_kill9
expect_eq "run 1 logged exactly 2 FAIL outcomes before the kill" 2 "$(fails_in "$log1")"
expect_eq "run 1 started no rollback" 0 "$(event_count web RollbackStarted)"

cg_start
wait_until 60 "RollbackStarted Event after the restart" has_event web RollbackStarted
wait_until 10 "run 2 logged the rollback decision" grep -qE "$(decision_re web rollback)" "$CG_LOG"
n=$(fails_before_rollback "$CG_LOG")
expect "run 2 needed at most one more FAIL before decision=rollback (it needed $n)" test "$n" -le 1

wait_rollout deployment web 60
expect_eq "template image back to v1" web:v1 "$(image_of deployment web)"
wait_until 30 "v2 rollback record state=succeeded" rollback_state_is web web:v2-errors50 succeeded
expect_eq "rollback record reason" metric:error-ratio "$(field "$(rollback_of_image web web:v2-errors50)" reason)"
sleep 3  # a second rollback would show within a few evaluations
expect_eq "exactly one RollbackStarted Event" 1 "$(event_count web RollbackStarted)"
expect_eq "exactly one rollback decision across both runs" 1 "$(log_count "$(decision_re web rollback)")"
e2e_pass
