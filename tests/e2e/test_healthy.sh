#!/usr/bin/env bash
# Healthy release verified: the first complete revision becomes the baseline at once; a healthy v2 is marked
# healthy after the bake time (RevisionHealthy Event, verdict annotation, decision log line) and nothing is rolled back.
. "$(dirname "$0")/lib.sh"
e2e_init healthy
cg_start

deploy_create web web:v1 2
wait_rollout deployment web
wait_until 20 "v1 verdict healthy (baseline)" verdict_is web web:v1 healthy
expect_eq "v1 verdict reason" baseline "$(field "$(verdict_of_image web web:v1)" reason)"
wait_until 10 "decision=mark_healthy logged for v1" log_has_decision web mark_healthy

set_image deployment web web:v2
wait_rollout deployment web
t_complete=$(elapsed)
wait_until 30 "v2 verdict healthy (baked)" verdict_is web web:v2 healthy
t_healthy=$(elapsed)
expect_eq "v2 verdict reason" baked "$(field "$(verdict_of_image web web:v2)" reason)"
# bake_time is 5 s: the verdict must not come before it.
expect "v2 verdict came no earlier than the 5 s bake time ($(echo "$t_healthy - $t_complete" | bc) s after completion)" \
  test "$(echo "$t_healthy - $t_complete >= 4" | bc)" = 1
expect_eq "v2 verdict hash is v2's pod-template-hash" \
  "$(kubectl -n "$NS" get rs "$(rs_of web 2)" -o 'jsonpath={.metadata.labels.pod-template-hash}')" \
  "$(field "$(verdict_of_image web web:v2)" hash)"
wait_until 10 "RevisionHealthy Events for v1 and v2" eval 'test "$(event_count web RevisionHealthy)" -ge 2'
sleep 3  # a later wrong decision would show within a few reconciles
expect_eq "template image stays v2" web:v2 "$(image_of deployment web)"
expect_eq "rollout history" "1 2" "$(history_revisions deployment web)"
expect_eq "no RollbackStarted Event" 0 "$(event_count web RollbackStarted)"
expect_eq "no rollback decision logged" 0 "$(log_count "$(decision_re web rollback)")"
expect_eq "no rollback annotation on any ReplicaSet" "" \
  "$(kubectl -n "$NS" get rs -o json | jq -r '.items[].metadata.annotations["canary-guard.io/rollback"] // empty')"
expect "metrics endpoint answers with canary_guard_decisions_total" sh -c "curl -sf http://127.0.0.1:$CG_PORT/metrics | grep canary_guard_decisions_total >/dev/null"
e2e_pass
