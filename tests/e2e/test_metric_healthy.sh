#!/usr/bin/env bash
# A healthy release under metric analysis becomes healthy only after its check passed at least once, never on
# complete + baked alone. The check error-ratio is gated on a second Deployment, "gate": its query is the error
# ratio `and on(namespace)` the gate's request series, so Prometheus has no data for the check (empty result,
# NO_DATA) exactly while no gate pod serves. The check applies to app=web only (selector), not to the gate.
#   v1 (gate up) healthy; gate deleted; v2 rolls out and its 10 s bake passes: no verdict for bake + 15 s while the
#   check has no data; gate back: v2 healthy, after the gate came back and >= bake after completion; no rollback.
# Then `canary-guard query --check error-ratio` prints the rendered PromQL for v2 and the outcome pass.
. "$(dirname "$0")/lib.sh"
e2e_init mhealthy
gated="($E2E_ERROR_RATIO_QUERY) and on(namespace) count by (namespace) (http_requests_total{namespace=\"{{namespace}}\", pod=~\"gate-.*\"})"
CG_GUARD_TOML='bake_time = "10s"' CG_MAX_BLIND=60s cg_metrics_config \
  "$(metric_check error-ratio "$gated" 'max = 0.05' 'selector = "app=web"')"
cg_start

gate_open() { [ -n "$(prom_values "count by (namespace) (http_requests_total{namespace=\"$NS\", pod=~\"gate-.*\"})")" ]; }
deploy_create gate web:v1 1
wait_until 30 "gate pod serving (Prometheus has its series)" gate_open
deploy_create web web:v1 2
wait_rollout deployment web
wait_until 60 "v1 verdict healthy" verdict_is web web:v1 healthy

kubectl -n "$NS" delete deployment gate --wait=false >/dev/null
wait_until 30 "gate series gone from Prometheus (the check now has no data)" eval '! gate_open'
set_image deployment web web:v2
wait_rollout deployment web
t_complete=$(elapsed)
expect_eq "premise: the check's query is empty for v2" "" "$(prom_values "$(prom_render "$gated" web 2)")"
hold_for 25 "no v2 verdict while its check has no data (bake 10 s passed)" eval '[ -z "$(verdict_of_image web web:v2)" ]'
expect_eq "no RollbackStarted Event" 0 "$(event_count web RollbackStarted)"

deploy_create gate web:v1 1
wait_until 30 "gate pod serving again" gate_open
t_gate=$(elapsed)
wait_until 60 "v2 verdict healthy" verdict_is web web:v2 healthy
t_healthy=$(elapsed)
expect "v2 verdict came after the check had data ($(echo "$t_healthy - $t_gate" | bc) s after the gate)" \
  num_cmp "$t_healthy > $t_gate"
expect "v2 verdict came no earlier than the 10 s bake ($(echo "$t_healthy - $t_complete" | bc) s after completion)" \
  num_cmp "$t_healthy - $t_complete >= 9"
expect_eq "v2 verdict hash is v2's pod-template-hash" "$(rs_hash web 2)" "$(field "$(verdict_of_image web web:v2)" hash)"
wait_until 10 "RevisionHealthy Events for v1 and v2" eval 'test "$(event_count web RevisionHealthy)" -ge 2'

out=$("$CANARY_GUARD_BIN" query --config "$E2E_DIR/canary-guard.toml" --kubeconfig "$CANARY_GUARD_KUBECONFIG" \
  --check error-ratio -n "$NS" web 2>&1) || fail "canary-guard query exited non-zero: $out"
say "canary-guard query output:"; printf '%s\n' "$out" | head -n 20
expect "query output has the rendered PromQL (v2's hash and the namespace)" \
  grep -q "pod_template_hash=~\?\"$(rs_hash web 2)\"" <<<"$out"
expect "query output names the namespace" grep -q "namespace=~\?\"$NS\"" <<<"$out"
expect "query output gives the outcome pass" grep -qiE '(^|[^a-z])pass([^a-z]|$)' <<<"$out"

expect_eq "template image stays v2" web:v2 "$(image_of deployment web)"
expect_eq "no RollbackStarted Event" 0 "$(event_count web RollbackStarted)"
expect_eq "no rollback annotation on any ReplicaSet" "" \
  "$(kubectl -n "$NS" get rs -o json | jq -r '.items[].metadata.annotations["canary-guard.io/rollback"] // empty')"
e2e_pass
