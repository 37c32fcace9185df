#!/usr/bin/env bash
# A check whose PromQL Prometheus rejects: a CheckError Event naming the check and Prometheus' own error, no rollback,
# no healthy verdict, and pod signals still work. The query calls `rates(...)`, an unknown function: valid-looking
# text that a loader without a PromQL parser cannot catch (Prometheus 2.42 answers 400 bad_data "1:40: parse
# error: unknown function with name \"rates\""). v1 is made the baseline by a first daemon without metric analysis;
# a second daemon with the check watches v2 (healthy image: CheckError, no verdict within 3 x bake, no rollback),
# then v3 (crash-looping): rolled back to v1, the last healthy revision, by pod_signal.
. "$(dirname "$0")/lib.sh"
e2e_init mbadquery
cg_start
deploy_create web web:v1 2
wait_rollout deployment web
wait_until 20 "v1 verdict healthy (baseline, no metric analysis yet)" verdict_is web web:v1 healthy
cg_stop

bad='sum by (namespace, {{revision_label}}) (rates(http_requests_total{namespace="{{namespace}}", {{revision_label}}="{{revision_hash}}", code=~"5.."}[10s]))'
CG_GUARD_TOML='bake_time = "10s"' cg_metrics_config "$(metric_check bad-query "$bad" 'max = 0.05')"
cg_start

set_image deployment web web:v2
wait_rollout deployment web
t_complete=$(elapsed)
perr=$(curl -s --max-time 5 "$PROMETHEUS_URL/api/v1/query" --data-urlencode "query=$(prom_render "$bad" web 2)" | jq -r .error)
expect "premise: Prometheus rejects the query ($perr)" grep -q 'unknown function' <<<"$perr"
wait_until 30 "CheckError Event" has_event web CheckError
msg=$(event_messages web CheckError | head -n1)
say "CheckError: $msg"
expect "CheckError names the check" grep -qF bad-query <<<"$msg"
expect "CheckError carries Prometheus' error" grep -qF 'unknown function with name' <<<"$msg"
expect "CheckError is a Warning" test "$(kubectl -n "$NS" get events --field-selector involvedObject.name=web,reason=CheckError -o 'jsonpath={.items[0].type}')" = Warning
left=$(echo "$t_complete + 30 - $(elapsed)" | bc | cut -d. -f1)
[ "${left:-0}" -ge 3 ] 2>/dev/null || left=3
hold_for "$left" "no v2 verdict within 3 x bake (30 s) after completion" eval '[ -z "$(verdict_of_image web web:v2)" ]'
expect_eq "no RollbackStarted Event for v2" 0 "$(event_count web RollbackStarted)"
expect_eq "template image stays v2" web:v2 "$(image_of deployment web)"

out=$("$CANARY_GUARD_BIN" query --config "$E2E_DIR/canary-guard.toml" --kubeconfig "$CANARY_GUARD_KUBECONFIG" \
  --check bad-query -n "$NS" web 2>&1) || true
say "canary-guard query output:"; printf '%s\n' "$out" | head -n 20
expect "canary-guard query shows Prometheus' error" grep -qF 'unknown function with name' <<<"$out"

set_image deployment web web:v3-crashloop
wait_until 60 "v3: RollbackStarted Event (pod signal despite the broken check)" has_event web RollbackStarted
wait_rollout deployment web 60
wait_until 30 "v3 rollback record state=succeeded" rollback_state_is web web:v3-crashloop succeeded
expect_eq "v3 rollback reason is the pod signal" pod_signal \
  "$(field "$(rollback_of_image web web:v3-crashloop)" reason | cut -d: -f1)"
expect_eq "template image back to v1, the last healthy revision" web:v1 "$(image_of deployment web)"
expect "v3 verdict failed" verdict_is web web:v3-crashloop failed
expect_eq "exactly one RollbackStarted Event" 1 "$(event_count web RollbackStarted)"
e2e_pass
