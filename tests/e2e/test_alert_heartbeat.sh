#!/usr/bin/env bash
# The heartbeat (issue #12 §1: `heartbeat_alert`, `heartbeat_timeout`): an always-firing alert routed to the daemon.
# Its absence makes the alert channel blind, and Alertmanager's silence is then never healthy evidence:
#  - while heartbeats arrive, a release bakes and is verified healthy as usual;
#  - heartbeats stop: canary_guard_alert_channel_blind 1, a new release that rolls out fine is NOT verified after its
#    bake: an AlertChannelBlind Event, a CanaryGuardBlind page reason alerts_blind;
#  - heartbeats resume: AlertChannelRestored, and the release is verified healthy;
#  - blind again, a crash-looping release is still rolled back (blindness holds the verdict, never the rollback).
. "$(dirname "$0")/lib.sh"
e2e_init heartbeat
cg_config 'bake_time = "3s"'
cg_alerts_config $'heartbeat_alert = "E2eWatchdog"\nheartbeat_timeout = "3s"'
cg_start

beat() { webhook_post "$(webhook_body E2eWatchdog heartbeat 00000000000000aa "$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)")" >/dev/null; }
start_beating() {
  (while true; do beat; sleep 1; done) &
  BEAT_PID=$!
  E2E_BG_PIDS+=("$BEAT_PID")
}
stop_beating() { kill "$BEAT_PID" 2>/dev/null || true; wait "$BEAT_PID" 2>/dev/null || true; }
blind_metric() { metric_value canary_guard_alert_channel_blind; }

start_beating
deploy_create web web:v1 2
wait_rollout deployment web
wait_until 30 "v1 verdict healthy while heartbeats arrive" verdict_is web web:v1 healthy
expect_eq "the channel is not blind" 0 "$(blind_metric)"

stop_beating
wait_until 10 "canary_guard_alert_channel_blind 1 after the timeout" eval 'test "$(blind_metric)" = 1'
set_image deployment web web:v2
wait_rollout deployment web 60
wait_until 20 "AlertChannelBlind Event" has_event web AlertChannelBlind
expect "the Event says why" grep -q "E2eWatchdog heartbeat" <<<"$(event_messages web AlertChannelBlind)"
hold_for 6 "v2 is not verified while blind (bake 3 s)" eval '! verdict_is web web:v2 healthy'
expect "the daemon logged the blind channel" log_has 'event=alert_channel_blind'
blind_page() {
  curl -sf --max-time 5 -G "$ALERTMANAGER_URL/api/v2/alerts" --data-urlencode 'filter=alertname="CanaryGuardBlind"' \
    --data-urlencode "filter=namespace=\"$NS\"" | jq -r '.[0].labels.reason // empty'
}
wait_until 15 "Alertmanager shows the daemon's CanaryGuardBlind page (reason alerts_blind)" eval 'test "$(blind_page)" = alerts_blind'

start_beating
wait_until 20 "v2 verified healthy once heartbeats are back" verdict_is web web:v2 healthy
expect "AlertChannelRestored Event" has_event web AlertChannelRestored
expect_eq "the channel is not blind any more" 0 "$(blind_metric)"

stop_beating
wait_until 10 "blind again" eval 'test "$(blind_metric)" = 1'
set_image deployment web web:v3-crashloop
wait_until 60 "a crash-looping release is still rolled back while blind" has_event web RollbackStarted
wait_rollout deployment web 60
expect_eq "template back to v2" web:v2 "$(image_of deployment web)"
e2e_pass
