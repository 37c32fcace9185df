#!/usr/bin/env bash
# Metric rollback on the error ratio: v1 (no errors) is healthy; v2 answers 50 % of its requests with 500 (podsim
# errors50; Prometheus shows a ratio near 0.50 within ~10 s of the pods starting). The check error-ratio (max 0.05,
# 3 FAIL of the last 5 decisive evaluations, every 2 s) must roll v2 back to v1: one RollbackStarted Event naming
# the check, the value, the threshold and the window; record and verdict reason metric:error-ratio; v1 stays
# healthy. Pod signals alone would never roll v2 back: its pods are Running and Ready.
. "$(dirname "$0")/lib.sh"
e2e_init merrors
CG_GUARD_TOML='bake_time = "10s"' cg_metrics_config \
  "$(metric_check error-ratio "$E2E_ERROR_RATIO_QUERY" 'max = 0.05')"
cg_start

deploy_create web web:v1 2
wait_rollout deployment web
wait_until 60 "v1 verdict healthy" verdict_is web web:v1 healthy

set_image deployment web web:v2-errors50
wait_until 10 "v2 ReplicaSet exists" rs_exists web 2
wait_until 60 "RollbackStarted Event" has_event web RollbackStarted
msg=$(event_messages web RollbackStarted | head -n1)
say "RollbackStarted: $msg"
expect "RollbackStarted names check, value (~0.5), threshold and window" \
  metric_rollback_message_ok error-ratio "$msg" '0\.(4[5-9]|5[0-5])' 0.05

wait_rollout deployment web 60
expect_eq "template image back to v1" web:v1 "$(image_of deployment web)"
wait_until 30 "v2 rollback record state=succeeded" rollback_state_is web web:v2-errors50 succeeded
rec=$(rollback_of_image web web:v2-errors50)
expect_eq "rollback record reason" metric:error-ratio "$(field "$rec" reason)"
expect "v2 verdict failed" verdict_is web web:v2-errors50 failed
expect_eq "v2 verdict reason" metric:error-ratio "$(field "$(verdict_of_image web web:v2-errors50)" reason)"
expect "v1 verdict still healthy" verdict_is web web:v1 healthy
expect "decision=rollback logged with reason=metric:error-ratio" \
  log_has "workload=$NS/web kind=deployment revision=2 decision=rollback reason=metric:error-ratio"
wait_until 10 "RollbackSucceeded Event" has_event web RollbackSucceeded
sleep 3  # a second rollback would show within a few evaluations
expect_eq "exactly one RollbackStarted Event" 1 "$(event_count web RollbackStarted)"
expect_eq "template image stays v1" web:v1 "$(image_of deployment web)"
e2e_pass
