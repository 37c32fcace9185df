#!/usr/bin/env bash
# Low traffic is not evidence in compare mode either (issue #10 §1, spec/probes.md R1.10). Stable v1 web:v1 (4
# pods, no errors); v2 web:v2-errors50-slow15 (5xx ratio ~0.5, Ready after 15 s). The rollout is paused as soon as
# its first v2 pod exists, so one v2 pod serves (~20 requests/s, ~200 in the 10 s window) next to four v1 pods
# (~800). error-compare (max_ratio 1.5, margin 0.01) would fail v2 at once, but its [check.min_samples] asks for
# 300 requests per side: with one v2 pod its outcome must be NO_DATA (the old daemon ignored min_samples in
# compare mode: FAIL, then RollbackHeld on the paused Deployment). Resumed, a second v2 pod brings the new side
# above 300 and the same check must roll v2 back: the minimum gates, it does not switch the check off.
. "$(dirname "$0")/lib.sh"
e2e_init mcmpmin
samples='sum by (namespace, {{revision_label}}) (increase(http_requests_total{namespace="{{namespace}}", {{revision_label}}="{{revision_hash}}"}[10s]))'
CG_GUARD_TOML='bake_time = "10s"' cg_metrics_config \
  "$(metric_check error-compare "$E2E_ERROR_RATIO_QUERY" 'max = 1' '[check.min_samples]' "query = '''$samples'''" \
     'min = 300' '[check.compare]' 'max_ratio = 1.5' 'margin = 0.01')"
cg_start

deploy_create web web:v1 4
wait_rollout deployment web
wait_until 60 "v1 verdict healthy (stable)" verdict_is web web:v1 healthy

set_image deployment web web:v2-errors50-slow15
v2_pods() { kubectl -n "$NS" get rs "$(rs_of web 2)" -o 'jsonpath={.status.replicas}' 2>/dev/null; }
wait_until 10 "first v2 pod created" eval '[ "$(v2_pods)" = 1 ]'
kubectl -n "$NS" rollout pause deployment/web >/dev/null
say "rollout paused with one v2 pod"
h2=$(rs_hash web 2)

analysis_of() {  # the error-compare check of web in GET /analysis: "<last_outcome> <detail>"
  curl -sf --max-time 3 "http://127.0.0.1:$CG_PORT/analysis" |
    jq -r '.[] | select(.workload == "web") | .checks[] | select(.name == "error-compare") | "\(.last_outcome) \(.detail)"'
}
premise() {
  local n s c
  n=$(prom_values "$(prom_render "$E2E_ERROR_RATIO_QUERY" web 2)") || return 1
  s=$(prom_values "$(prom_render "$E2E_ERROR_RATIO_QUERY" web 1)") || return 1
  c=$(prom_values "$(prom_render "$samples" web 2)") || return 1
  num_cmp "$n > $s * 1.5 + 0.01" && num_cmp "$c < 300" && num_cmp "$c > 0" || return 1
  say "premise seen: new $n, stable $s, new-side samples $c (< 300)"
}
wait_until 40 "premise: v2 fails the comparison but has fewer than 300 samples" premise
no_data_for_new() { analysis_of | grep -E '^no_data .*for the new revision' >/dev/null; }
wait_until 30 "error-compare NO_DATA for the new revision" no_data_for_new
say "analysis: $(analysis_of)"
no_rollback() { [ "$(event_count web RollbackStarted)" = 0 ] && [ "$(event_count web RollbackHeld)" = 0 ]; }
hold_for 20 "no rollback (and no held rollback) while the new side has too few samples" no_rollback
expect_eq "v2 still on the template" web:v2-errors50-slow15 "$(image_of deployment web)"

kubectl -n "$NS" rollout resume deployment/web >/dev/null
say "rollout resumed"
wait_until 90 "RollbackStarted Event once the new side has enough samples" has_event web RollbackStarted
say "RollbackStarted: $(event_messages web RollbackStarted | head -n1)"
wait_rollout deployment web 90
expect_eq "template image back to v1" web:v1 "$(image_of deployment web)"
expect_eq "rollback reason" metric:error-compare "$(field "$(rollback_of_image web web:v2-errors50-slow15)" reason)"
e2e_pass
