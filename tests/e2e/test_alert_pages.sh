#!/usr/bin/env bash
# The daemon tells people: after an alert-driven rollback, the sandbox's Alertmanager shows CanaryGuardRollback
# (labels namespace, workload, kind, severity, reason) while it holds, and its resolution (endsAt in the past) once a
# new revision replaces the rolled-back state; two [[notify]] webhooks (JSON with a bearer token, and Slack format)
# receive RollbackStarted and RollbackSucceeded, also though the receiver was down when they happened (retried, not
# lost). /metrics carries time to detect and restore and passes `promtool check metrics`.
. "$(dirname "$0")/lib.sh"
e2e_init alertpage
RECV_PORT=$(free_port)
printf 'notify-secret\n' >"$E2E_DIR/notify-token"
cg_config 'bake_time = "300s"'
cg_alerts_config 'repost_interval = "2s"'
cat >>"$E2E_DIR/canary-guard.toml" <<EOT

[[notify]]
url = "http://127.0.0.1:$RECV_PORT/json"
format = "json"
bearer_token_file = "$E2E_DIR/notify-token"

[[notify]]
url = "http://127.0.0.1:$RECV_PORT/slack"
format = "slack"
events = ["RollbackStarted", "RollbackSucceeded"]
EOT
cg_start
alerts_route

deploy_create web web:v1 2
wait_rollout deployment web
wait_until 30 "v1 verdict healthy (baseline)" verdict_is web web:v1 healthy
set_image deployment web web:v2
wait_until 10 "v2 ReplicaSet exists" rs_exists web 2
am_inject BadRelease web
wait_until 30 "RollbackStarted Event" has_event web RollbackStarted
wait_until 30 "RollbackSucceeded Event" has_event web RollbackSucceeded

own_alert() {  # prints the CanaryGuardRollback alert of this namespace as Alertmanager holds it
  curl -sf --max-time 5 -G "$ALERTMANAGER_URL/api/v2/alerts" --data-urlencode 'filter=alertname="CanaryGuardRollback"' \
    --data-urlencode "filter=namespace=\"$NS\"" | jq -c '.[0] // empty'
}
own_alert_active() { local a; a=$(own_alert); [ -n "$a" ] && [ "$(jq -r .status.state <<<"$a")" = active ]; }
wait_until 10 "Alertmanager shows CanaryGuardRollback" own_alert_active
a=$(own_alert)
say "own alert: $(jq -c .labels <<<"$a")"
expect_eq "labels" "Deployment|warning|alert|web" "$(jq -r '[.labels.kind, .labels.severity, .labels.reason, .labels.workload] | join("|")' <<<"$a")"
expect "summary names the workload" grep -q "$NS/web" <<<"$(jq -r .annotations.summary <<<"$a")"
# Alertmanager routes the daemon's own alert back to the webhook only after group_wait (1 s in the sandbox), and
# later still when it joins a group that already notified: wait for the delivery, never assume it has happened.
wait_until 15 "the daemon ignored its own alert routed back to it" log_has "alertname=CanaryGuardRollback reason=own_alert"
ends1=$(jq -r .endsAt <<<"$a")
wait_until 10 "re-posted while it holds (endsAt moves on; repost_interval 2 s)" \
  eval 'test "$(jq -r .endsAt <<<"$(own_alert)")" != "$ends1"'

# The receiver comes up only now: what was not delivered is retried.
python3 "$E2E_ROOT/tests/e2e/receiver.py" "$RECV_PORT" "$E2E_DIR/received.jsonl" &
E2E_BG_PIDS+=($!)
got() { [ -s "$E2E_DIR/received.jsonl" ] && jq -r "select(.path == \"$1\") | .body | $2" "$E2E_DIR/received.jsonl" | grep -- "$3" >/dev/null; }
wait_until 90 "JSON RollbackStarted delivered after the receiver came up" got /json .event RollbackStarted
wait_until 30 "JSON RollbackSucceeded delivered" got /json .event RollbackSucceeded
wait_until 30 "Slack RollbackStarted delivered" got /slack .text 'RollbackStarted\* Deployment `'"$NS"'/web`'
expect "the JSON target got its bearer token" \
  grep -q '"auth": "Bearer notify-secret"' "$E2E_DIR/received.jsonl"
expect "JSON names the workload" got /json .workload web

# A new release ends the rolled-back condition: the page is resolved.
set_image deployment web web:v3
wait_rollout deployment web 60
resolved() {
  local a; a=$(own_alert)
  [ -z "$a" ] || [ "$(date -d "$(jq -r .endsAt <<<"$a")" +%s)" -le "$(date +%s)" ]
}
wait_until 20 "CanaryGuardRollback resolved in Alertmanager" resolved
m=$(metrics)
expect "time to detect observed" grep -qE '^canary_guard_time_to_detect_seconds_count\{kind="Deployment",reason="alert"\} 1' <<<"$m"
expect "time to restore observed" grep -qE '^canary_guard_time_to_restore_seconds_count\{kind="Deployment",reason="alert"\} 1' <<<"$m"
expect "process_resident_memory_bytes exported" grep -q '^process_resident_memory_bytes ' <<<"$m"
expect "build_info carries a revision" grep -qE '^canary_guard_build_info\{.*revision="[^"u]' <<<"$m"
if command -v promtool >/dev/null; then
  out=$(promtool check metrics <<<"$m" 2>&1) && ok "promtool check metrics accepts /metrics" ||
    fail "promtool check metrics: $out"
else
  fail "promtool not installed (package prometheus)"
fi
e2e_pass
