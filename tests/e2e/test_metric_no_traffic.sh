#!/usr/bin/env bash
# A release whose checks get no data is neither rolled back nor promoted. podsim has no image tag without traffic
# (every pod whose containers run serves 20 requests/s, Ready or not), so the two checks select what this app never
# gets, as a real app without traffic would show it:
#   checkout-errors: the error ratio on handler="/checkout", a label podsim never sets: empty result;
#   error-share:     the share of 5xx among 5xx requests: rate 0 / rate 0 = NaN for a revision without errors.
# Both are NO_DATA (spec/probes.md R1.9), which by default never counts as a pass nor as a fail. v1 is made the
# baseline by a first daemon without metric analysis (so whether a first revision waits for checks does not
# matter here); a second daemon with the checks then watches v2: MetricsBlind within max_blind + 10 s (once), no
# verdict and no rollback within 3 x bake after completion, no MetricsRestored.
. "$(dirname "$0")/lib.sh"
e2e_init mnotraffic
cg_start
deploy_create web web:v1 2
wait_rollout deployment web
wait_until 20 "v1 verdict healthy (baseline, no metric analysis yet)" verdict_is web web:v1 healthy
cg_stop

checkout='sum by (namespace, {{revision_label}}) (rate(http_requests_total{namespace="{{namespace}}", {{revision_label}}="{{revision_hash}}", handler="/checkout", code=~"5.."}[10s])) / sum by (namespace, {{revision_label}}) (rate(http_requests_total{namespace="{{namespace}}", {{revision_label}}="{{revision_hash}}", handler="/checkout"}[10s]))'
share='sum by (namespace, {{revision_label}}) (rate(http_requests_total{namespace="{{namespace}}", {{revision_label}}="{{revision_hash}}", code=~"5.."}[10s])) / sum by (namespace, {{revision_label}}) (rate(http_requests_total{namespace="{{namespace}}", {{revision_label}}="{{revision_hash}}", code=~"5.."}[10s]))'
CG_GUARD_TOML='bake_time = "10s"' CG_MAX_BLIND=10s cg_metrics_config \
  "$(metric_check checkout-errors "$checkout" 'max = 0.05')" \
  "$(metric_check error-share "$share" 'max = 0.05')"
cg_start

set_image deployment web web:v2
wait_rollout deployment web
t_complete=$(elapsed)
wait_until 20 "premise: v2 serves traffic (its request rate is in Prometheus)" eval \
  'num_cmp "$(prom_values "sum(rate(http_requests_total{namespace=\"$NS\", pod_template_hash=\"$(rs_hash web 2)\"}[10s]))") > 0"'
expect_eq "premise: checkout-errors is empty for v2" "" "$(prom_values "$(prom_render "$checkout" web 2)")"
expect_eq "premise: error-share is NaN for v2" NaN "$(prom_values "$(prom_render "$share" web 2)")"

wait_until 20 "MetricsBlind Event within max_blind + 10 s" has_event web MetricsBlind
left=$(echo "$t_complete + 30 - $(elapsed)" | bc | cut -d. -f1)
[ "${left:-0}" -ge 3 ] 2>/dev/null || left=3
hold_for "$left" "no v2 verdict within 3 x bake (30 s) after completion" eval '[ -z "$(verdict_of_image web web:v2)" ]'
expect_eq "no RollbackStarted Event" 0 "$(event_count web RollbackStarted)"
expect_eq "no rollback decision logged" 0 "$(log_count "$(decision_re web rollback)")"
expect_eq "template image stays v2" web:v2 "$(image_of deployment web)"
expect_eq "exactly one MetricsBlind Event" 1 "$(event_count web MetricsBlind)"
expect_eq "no MetricsRestored Event" 0 "$(event_count web MetricsRestored)"
e2e_pass
