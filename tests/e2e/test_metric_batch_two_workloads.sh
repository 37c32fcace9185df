#!/usr/bin/env bash
# Batching must not change what a query selects (issue #10 §1). Two Deployments, web and api, are analysed at once
# by one check whose template selects pods by a pattern built from the workload's name,
# pod=~"{{workload}}-.*" (pods are named <workload>-<hash>-<suffix>). The batch query must select for each workload
# exactly its own pods: the old rendering, pod=~"web|api-.*", read by RE2 as "web" or "api-.*", selected no pod of
# web at all (web stayed NO_DATA: neither rolled back nor verified). Both move to v2 at the same time: web to
# web:v2-errors50 (5xx ratio ~0.5), api to web:v2 (no errors). web must be rolled back by the check, api verified
# healthy by it, the log must show rounds of one query for both workloads, and no evaluation of either v2 may be
# NO_DATA (the old rendering left the first workload of each batch without series; rounds where only one
# workload was due hid it from the verdicts alone).
. "$(dirname "$0")/lib.sh"
e2e_init mbatch
by_pod='sum by (namespace, {{revision_label}}) (rate(http_requests_total{namespace="{{namespace}}", pod=~"{{workload}}-.*", {{revision_label}}="{{revision_hash}}", code=~"5.."}[10s])) / sum by (namespace, {{revision_label}}) (rate(http_requests_total{namespace="{{namespace}}", pod=~"{{workload}}-.*", {{revision_label}}="{{revision_hash}}"}[10s]))'
CG_GUARD_TOML='bake_time = "30s"' cg_metrics_config "$(metric_check pod-error-ratio "$by_pod" 'max = 0.1')"
cg_start

deploy_create web web:v1 2
deploy_create api web:v1 2
wait_rollout deployment web
wait_rollout deployment api
wait_until 60 "web v1 verdict healthy" verdict_is web web:v1 healthy
wait_until 60 "api v1 verdict healthy" verdict_is api web:v1 healthy

set_image deployment web web:v2-errors50
set_image deployment api web:v2
wait_rollout deployment api
h_web=$(rs_hash web 2)
h_api=$(rs_hash api 2)
# premise: web's own query sees its errors (the one-workload rendering, for this Prometheus)
premise() {
  local t=${by_pod//'{{workload}}'/web} v
  t=${t//'{{namespace}}'/$NS}; t=${t//'{{revision_label}}'/pod_template_hash}; t=${t//'{{revision_hash}}'/$h_web}
  v=$(prom_values "$t") || return 1
  num_cmp "$v > 0.1" || return 1
  say "premise seen: web v2 ratio $v from its own query"
}
wait_until 40 "premise: web v2 serves errors above 0.1" premise
wait_until 30 "a round of one query for both workloads" log_has 'event=round check=pod-error-ratio queries=1 tracked=2'

wait_until 40 "web: RollbackStarted Event" has_event web RollbackStarted
msg=$(event_messages web RollbackStarted | head -n1)
say "web RollbackStarted: $msg"
expect "RollbackStarted names check, value (0.3..0.7), threshold and window" \
  metric_rollback_message_ok pod-error-ratio "$msg" '0\.[3-6][0-9]' 0.1
wait_rollout deployment web 60
expect_eq "web template image back to v1" web:v1 "$(image_of deployment web)"
wait_until 30 "web v2 rollback record state=succeeded" rollback_state_is web web:v2-errors50 succeeded
expect_eq "web rollback reason" metric:pod-error-ratio "$(field "$(rollback_of_image web web:v2-errors50)" reason)"
wait_until 60 "api v2 verdict healthy (its check passed)" verdict_is api web:v2 healthy
expect_eq "api was never rolled back" 0 "$(event_count api RollbackStarted)"
# Both serve from their first Ready pod on, so every evaluation of either v2 (after the warm-up) has data: a
# NO_DATA means a batch did not select that workload's pods (which one depends on the order in the batch).
v2_outcomes=$(cg_logs | grep -cE "component=analysis check=pod-error-ratio workload=[^ ]+ revision_hash=($h_web|$h_api) outcome=" || true)
say "v2 evaluations logged: $v2_outcomes"
expect "v2 evaluations were logged" [ "$v2_outcomes" -gt 0 ]
expect_eq "no NO_DATA outcome for either v2: each batch selected both workloads' pods" 0 \
  "$(log_count "component=analysis check=pod-error-ratio workload=[^ ]+ revision_hash=($h_web|$h_api) outcome=no_data")"
e2e_pass
