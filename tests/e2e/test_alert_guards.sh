#!/usr/bin/env bash
# What an alert must not do, against the sandbox's real Alertmanager (alerts injected with POST /api/v2/alerts, as
# Prometheus sends them, routed to this daemon's webhook):
#  - a silence a person set before the alert fires stops it (no rollback);
#  - an alert that started before the release is pre-existing: an AlertPreexisting Event, no rollback;
#  - an alert Alertmanager does not hold (posted straight to the webhook) fails the re-check: AlertNotActive, no
#    rollback;
#  - the webhook refuses a wrong token (401), a malformed body (400) and an oversized one (413);
#  - then a real alert rolls back once, and the same notification delivered again (an HA peer, a retry) is a
#    duplicate that acts on nothing.
. "$(dirname "$0")/lib.sh"
e2e_init alertguard
cg_config 'bake_time = "300s"'
cg_alerts_config
cg_start
alerts_route

deploy_create web web:v1 2
wait_rollout deployment web
wait_until 30 "v1 verdict healthy (baseline)" verdict_is web web:v1 healthy

before=$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)
am_inject PreexistingAlert web "$before"
sleep 2
set_image deployment web web:v2
wait_until 10 "v2 ReplicaSet exists" rs_exists web 2
silence=$(am_silence SilencedAlert)
expect "silence created" test -n "$silence"
am_inject SilencedAlert web
wait_until 20 "AlertPreexisting Event" has_event web AlertPreexisting
expect "the pre-existing Event names the alert" grep -q PreexistingAlert <<<"$(event_messages web AlertPreexisting)"

code=$(webhook_post "$(webhook_body Ghost web 0123456789abcdef "$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)")")
expect_eq "a well-formed notification is accepted" 200 "$code"
wait_until 15 "AlertNotActive Event (re-check at Alertmanager)" has_event web AlertNotActive
expect "the Event says why" grep -q "not among Alertmanager's alerts" <<<"$(event_messages web AlertNotActive)"

expect_eq "wrong token: 401" 401 "$(webhook_post "$(webhook_body X web 1 "$before")" wrong)"
expect_eq "no token: 401" 401 "$(curl -s -o /dev/null -w '%{http_code}' -X POST -d '{}' "http://127.0.0.1:$CG_PORT/v1/alertmanager")"
expect_eq "malformed body: 400" 400 "$(webhook_post '{"version":"4","alerts":[{]')"
head -c 2000000 /dev/zero | tr '\0' 'a' >"$E2E_DIR/big.json"
expect_eq "oversized body: 413" 413 "$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -X POST \
  -H "Authorization: Bearer $CG_TOKEN" --data-binary @"$E2E_DIR/big.json" "http://127.0.0.1:$CG_PORT/v1/alertmanager")"
expect_eq "GET on the webhook: 405" 405 "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$CG_PORT/v1/alertmanager")"
hold_for 6 "no rollback from a silenced, a pre-existing or a vanished alert" eval 'test "$(event_count web RollbackStarted)" = 0'
expect "daemon still serves /healthz" curl -sf --max-time 2 "http://127.0.0.1:$CG_PORT/healthz"

am_inject RealAlert web
wait_until 30 "RollbackStarted Event" has_event web RollbackStarted
expect "reason alert:RealAlert" grep -q RealAlert <<<"$(event_messages web RollbackStarted)"
wait_rollout deployment web 60
expect_eq "template image back to v1" web:v1 "$(image_of deployment web)"
fp=$(am_fingerprint RealAlert)
expect "Alertmanager knows RealAlert" test -n "$fp"
starts=$(curl -sf -G "$ALERTMANAGER_URL/api/v2/alerts" --data-urlencode "filter=alertname=\"RealAlert\"" | jq -r '.[0].startsAt')
dups0=$(metric_value 'canary_guard_alertmanager_notifications_received_total\{result="duplicate",status="firing"\}')
expect_eq "the replayed notification is accepted" 200 "$(webhook_post "$(webhook_body RealAlert web "$fp" "$starts")")"
dups1=$(metric_value 'canary_guard_alertmanager_notifications_received_total\{result="duplicate",status="firing"\}')
expect "counted as a duplicate ($dups0 -> $dups1)" num_cmp "$dups1 > $dups0"
hold_for 5 "exactly one rollback" eval 'test "$(event_count web RollbackStarted)" = 1'
e2e_pass
