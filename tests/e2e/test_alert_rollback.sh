#!/usr/bin/env bash
# Alert-driven rollback with the real peers: the sandbox's Prometheus evaluates an alerting rule on podsim's 5xx
# ratio for this namespace, its Alertmanager routes the alert to this daemon's POST /v1/alertmanager (Bearer token),
# the daemon re-checks it with Alertmanager's GET /api/v2/alerts and rolls v2 back to v1 with reason
# alert:HighErrorRatio. v2 is Running and Ready and no metric check is configured: only the alert can roll it back.
# After the rollback the alert still fires for a while; it is older than the restored revision, so nothing more
# happens (exactly one rollback).
. "$(dirname "$0")/lib.sh"
e2e_init alertrb
cg_config 'bake_time = "300s"'
cg_alerts_config
cg_start
alerts_route
prom_rule errors "      - alert: HighErrorRatio
        expr: sum by (namespace) (rate(http_requests_total{namespace=\"$NS\", code=~\"5..\"}[10s])) / sum by (namespace) (rate(http_requests_total{namespace=\"$NS\"}[10s])) > 0.2
        for: 2s
        labels: {severity: page, workload: web}
        annotations: {summary: \"5xx ratio above 20%\"}"

deploy_create web web:v1 2
wait_rollout deployment web
wait_until 30 "v1 verdict healthy (baseline)" verdict_is web web:v1 healthy

set_image deployment web web:v2-errors50
t_release=$(date +%s.%N)
wait_until 10 "v2 ReplicaSet exists" rs_exists web 2
wait_until 90 "RollbackStarted Event" has_event web RollbackStarted
say "detected $(echo "$(date +%s.%N) - $t_release" | bc | cut -c1-5) s after the release"
msg=$(event_messages web RollbackStarted | head -n1)
say "RollbackStarted: $msg"
expect "the Event names the alert and its summary" grep -q 'HighErrorRatio.*5xx ratio above 20%' <<<"$msg"
wait_rollout deployment web 60
expect_eq "template image back to v1" web:v1 "$(image_of deployment web)"
rec=$(rollback_of_image web web:v2-errors50)
expect_eq "rollback record reason" alert:HighErrorRatio "$(field "$rec" reason)"
expect_eq "v2 verdict reason" alert:HighErrorRatio "$(field "$(verdict_of_image web web:v2-errors50)" reason)"
expect "decision=rollback logged with reason=alert:HighErrorRatio" \
  log_has "workload=$NS/web kind=deployment revision=2 decision=rollback reason=alert:HighErrorRatio"
expect "the alert was re-checked with Alertmanager before the PATCH" log_has "event=rollback_trace .*alert_recheck="
expect "the PATCH was built from the fresh read's own documents, not read again (trace step record, not record+prepare)" \
  log_has "event=rollback_trace .*alert_recheck=[0-9]+ms record=[0-9]+ms patch="
expect "canary_guard_rollbacks_total{reason=alert} counted" \
  num_cmp "$(metric_value "canary_guard_rollbacks_total\{.*reason=\"alert\".*\}") >= 1"
expect "notifications accepted" \
  num_cmp "$(metric_value 'canary_guard_alertmanager_notifications_received_total\{result="accepted",status="firing"\}') >= 1"
wait_until 10 "RollbackSucceeded Event" has_event web RollbackSucceeded
hold_for 8 "no second rollback while the alert still fires (v1 is older than it)" \
  eval 'test "$(event_count web RollbackStarted)" = 1'
expect_eq "template image stays v1" web:v1 "$(image_of deployment web)"

# What on-call runs after the page: the timeline from the cluster (as an operator: $KUBECONFIG, the admin).
ex=$("$CANARY_GUARD_BIN" explain -n "$NS" deployment/web)
say "explain:"$'\n'"$ex"
expect "explain: revision 2 failed by the alert, with time to detect" grep -qE 'verdict   failed: alert:HighErrorRatio at .* \(detected [0-9.]+ s after it started\)' <<<"$ex"
expect "explain: the rollback to revision 1 and time to restore" grep -qE 'rollback  to revision 1 .*: succeeded, .*restored in about [0-9.]+ s' <<<"$ex"
expect "explain: the current revision (rollout undo numbers it 3)" grep -qE 'revision 3 .*\[current\]' <<<"$ex"
expect "explain: the guard's Events" grep -q 'Warning  RollbackStarted' <<<"$ex"
exj=$("$CANARY_GUARD_BIN" explain -n "$NS" deployment/web -o json)
expect_eq "explain -o json: rollback reason" alert:HighErrorRatio "$(jq -r '.revisions[] | select(.number == 2) | .rollback.reason' <<<"$exj")"
expect "explain -o json: time to restore" num_cmp "$(jq -r '.revisions[] | select(.number == 2) | .rollback.time_to_restore_seconds' <<<"$exj") >= 0"
expect "explain of a missing workload fails clearly" bash -c "! '$CANARY_GUARD_BIN' explain -n '$NS' deployment/nope 2>&1 | grep 'internal' >/dev/null"
e2e_pass
