#!/usr/bin/env bash
# The Grafana dashboard (config/monitoring/grafana-dashboard.json) against the real Prometheus scraping a running
# daemon: the daemon listens on the port the sandbox's Prometheus scrapes as job "canary-guard" ($CG_METRICS_PORT; no
# other test uses it), a crash-looping release is rolled back so that the rollback, detect and restore series have
# data, and then every panel's expression must parse and return data. The alerting rules for the daemon
# (config/monitoring/canary-guard-rules.yml) are checked by promtool (ctest monitoring_rules).
. "$(dirname "$0")/lib.sh"
e2e_init monitoring
[ -n "${CG_METRICS_PORT:-}" ] || skip "scripts/sandbox env gave no CG_METRICS_PORT"
DASH="$E2E_ROOT/config/monitoring/grafana-dashboard.json"
CG_LISTEN_PORT=$CG_METRICS_PORT cg_start 'bake_time = "5s"'
scraped() { [ "$(prom_values 'up{job="canary-guard"}' | head -n1)" = 1 ]; }
wait_until 20 "Prometheus scrapes the daemon (job canary-guard)" scraped
deploy_create web web:v1 2
wait_rollout deployment web
wait_until 30 "v1 verdict healthy (baseline)" verdict_is web web:v1 healthy
set_image deployment web web:v2-crashloop
wait_until 60 "RollbackStarted" has_event web RollbackStarted
wait_until 30 "RollbackSucceeded" has_event web RollbackSucceeded
restored() { [ -n "$(prom_values 'canary_guard_time_to_restore_seconds_count{job="canary-guard"} > 0')" ]; }
wait_until 15 "Prometheus has the restore observation" restored
n=0
while IFS=$'\t' read -r title expr; do
  n=$((n + 1))
  out=$(curl -sf --max-time 5 "$PROMETHEUS_URL/api/v1/query" --data-urlencode "query=$expr") ||
    fail "panel '$title': Prometheus refused the expression: $expr"
  [ "$(jq -r .status <<<"$out")" = success ] || fail "panel '$title': $(jq -r .error <<<"$out")"
  [ "$(jq '.data.result | length' <<<"$out")" -gt 0 ] || fail "panel '$title' returns no data: $expr"
  ok "panel '$title': $(jq -c '[.data.result[] | .value[1]] | .[:3]' <<<"$out")"
done < <(jq -r '.panels[] | [.title, .targets[0].expr] | @tsv' "$DASH")
expect "every panel checked" test "$n" -ge 10
e2e_pass
