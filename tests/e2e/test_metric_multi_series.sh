#!/usr/bin/env bash
# A check judged per series: every series is judged and any FAIL fails (spec/probes.md R2.4). pod-error-ratio keeps
# the pod label, so it returns one series per pod. v2 (2 pods, healthy image, bake 40 s) rolls out; then one of its
# two pods is switched to web:v2-errors50 (a pod's container image is mutable; podsim restarts the simulation with
# the new behaviour, keeping the pod Ready and its pod-template-hash, so pod signals see nothing): per pod the
# ratios are ~0.5 and 0, the revision's aggregate only ~0.25. With max 0.3 an aggregate check would pass; the
# per-pod check must roll v2 back, and the Event must give the worst series' value (~0.5, not 0 and not 0.25).
. "$(dirname "$0")/lib.sh"
e2e_init mmulti
per_pod='sum by (namespace, {{revision_label}}, pod) (rate(http_requests_total{namespace="{{namespace}}", {{revision_label}}="{{revision_hash}}", code=~"5.."}[10s])) / sum by (namespace, {{revision_label}}, pod) (rate(http_requests_total{namespace="{{namespace}}", {{revision_label}}="{{revision_hash}}"}[10s]))'
CG_GUARD_TOML='bake_time = "40s"' cg_metrics_config "$(metric_check pod-error-ratio "$per_pod" 'max = 0.3')"
cg_start

deploy_create web web:v1 2
wait_rollout deployment web
wait_until 60 "v1 verdict healthy" verdict_is web web:v1 healthy

set_image deployment web web:v2
wait_rollout deployment web
h2=$(rs_hash web 2)
bad_pod=$(kubectl -n "$NS" get pods -l "app=web,pod-template-hash=$h2" -o 'jsonpath={.items[0].metadata.name}')
[ -n "$bad_pod" ] || fail "no v2 pod found"
kubectl -n "$NS" patch pod "$bad_pod" --type=json \
  -p '[{"op":"replace","path":"/spec/containers/0/image","value":"web:v2-errors50"}]' >/dev/null
say "pod $bad_pod now runs web:v2-errors50"

# premise: several series, one of them above the threshold, while the aggregate over the revision stays below it
premise() {
  local per agg
  per=$(prom_values "$(prom_render "$per_pod" web 2)" | sort -g) || return 1
  agg=$(prom_values "$(prom_render "$E2E_ERROR_RATIO_QUERY" web 2)") || return 1
  [ "$(wc -l <<<"$per")" -ge 2 ] && num_cmp "$(tail -n1 <<<"$per") > 0.3" && num_cmp "$agg < 0.3" || return 1
  say "premise seen: per-pod ratios $(tr '\n' ' ' <<<"$per"), aggregate $agg"
}
wait_until 30 "premise: one v2 pod above 0.3, the revision's aggregate below it" premise

wait_until 40 "RollbackStarted Event" has_event web RollbackStarted
msg=$(event_messages web RollbackStarted | head -n1)
say "RollbackStarted: $msg"
expect "RollbackStarted names check, worst value (0.3..0.59), threshold and window" \
  metric_rollback_message_ok pod-error-ratio "$msg" '0\.[3-5][0-9]' 0.3
wait_rollout deployment web 60
expect_eq "template image back to v1" web:v1 "$(image_of deployment web)"
wait_until 30 "v2 rollback record state=succeeded" rollback_state_is web web:v2 succeeded
expect_eq "rollback record reason" metric:pod-error-ratio "$(field "$(rollback_of_image web web:v2)" reason)"
expect "v2 verdict failed" verdict_is web web:v2 failed
expect_eq "exactly one RollbackStarted Event" 1 "$(event_count web RollbackStarted)"
e2e_pass
