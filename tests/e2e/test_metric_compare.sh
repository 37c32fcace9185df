#!/usr/bin/env bash
# Compare mode: the new revision judged against the stable one while both serve. Stable v1 web:v1-errors2 (ratio
# ~0.02), new v2 web:v2-errors6-slow15 (~0.06). 4 replicas, maxSurge 1, maxUnavailable 0 and a new pod Ready only
# after 15 s make the rollout take ~60 s, with v1 pods serving throughout (podsim: a pod serves as soon as its
# containers run, Ready or not). Sandbox figures: stable 0.017..0.023, new 0.050..0.061.
#   error-ratio   (max 0.1 alone) passes v2: the control, it must not be the reason;
#   error-compare (max 0.1, [check.compare] max_ratio 1.5, margin 0.005: FAIL when new > stable x 1.5 + 0.005,
#                 here ~0.04) fails v2: rolled back with reason metric:error-compare before the rollout completes.
. "$(dirname "$0")/lib.sh"
e2e_init mcompare
CG_GUARD_TOML='bake_time = "10s"' cg_metrics_config \
  "$(metric_check error-ratio "$E2E_ERROR_RATIO_QUERY" 'max = 0.1')" \
  "$(metric_check error-compare "$E2E_ERROR_RATIO_QUERY" 'max = 0.1' '[check.compare]' 'max_ratio = 1.5' 'margin = 0.005')"
cg_start

deploy_create web web:v1-errors2 4
wait_rollout deployment web
wait_until 60 "v1 verdict healthy (stable)" verdict_is web web:v1-errors2 healthy

# every change of v1's replica count, to show it never reached 0 (status.replicas is omitted at 0: an empty line)
kubectl -n "$NS" get rs "$(rs_of web 1)" -w -o 'jsonpath={.status.replicas}{"\n"}' >"$E2E_DIR/rs1.watch" 2>/dev/null &
E2E_BG_PIDS+=($!)
set_image deployment web web:v2-errors6-slow15
wait_until 10 "v2 ReplicaSet exists" rs_exists web 2
premise() {
  local s n
  s=$(prom_values "$(prom_render "$E2E_ERROR_RATIO_QUERY" web 1)") || return 1
  n=$(prom_values "$(prom_render "$E2E_ERROR_RATIO_QUERY" web 2)") || return 1
  num_cmp "$n < 0.1" && num_cmp "$n > $s * 1.5 + 0.005" || return 1
  say "premise seen: stable $s, new $n"
}
wait_until 30 "premise: both revisions serve; v2 below max 0.1 but above stable x 1.5 + 0.005" premise

wait_until 60 "RollbackStarted Event" has_event web RollbackStarted
msg=$(event_messages web RollbackStarted | head -n1)
say "RollbackStarted: $msg"
expect "RollbackStarted names error-compare" grep -qF error-compare <<<"$msg"
expect "v1 kept serving pods until the rollback (replicas seen: $(tr '\n' ' ' <"$E2E_DIR/rs1.watch"))" \
  eval '[ -s "$E2E_DIR/rs1.watch" ] && ! grep -qxE "0?" "$E2E_DIR/rs1.watch"'
wait_rollout deployment web 90
expect_eq "template image back to v1" web:v1-errors2 "$(image_of deployment web)"
wait_until 30 "v2 rollback record state=succeeded" rollback_state_is web web:v2-errors6-slow15 succeeded
expect_eq "rollback record reason" metric:error-compare "$(field "$(rollback_of_image web web:v2-errors6-slow15)" reason)"
expect_eq "v2 verdict reason" metric:error-compare "$(field "$(verdict_of_image web web:v2-errors6-slow15)" reason)"
expect "v1 verdict still healthy" verdict_is web web:v1-errors2 healthy
expect_eq "the absolute check was never a rollback reason" 0 "$(log_count "decision=rollback reason=metric:error-ratio( |$)")"
expect_eq "exactly one RollbackStarted Event" 1 "$(event_count web RollbackStarted)"
e2e_pass
