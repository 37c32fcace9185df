#!/usr/bin/env bash
# `[alertmanager] receiver` (issue #12 §1): Alertmanager delivers a notification once, then only every
# repeat_interval (4 h by default), so a daemon that restarts, or a replica that takes the lead, would not know an
# alert its predecessor was told about. With `receiver` set it reads the alerts active for that receiver at start
# (GET /api/v2/alerts?receiver=...). Here Alertmanager's route for this namespace points at a closed port, so the
# webhook never delivers anything: the only way the daemon can learn the alert is by reading it.
#  - v1 verified healthy; the daemon stops; v2 is released and an alert fires for it while no daemon runs;
#  - the daemon starts: it reads the alert (event=alerts_seeded accepted=1), re-checks it, and rolls v2 back
#    with reason alert:SeededAlert;
#  - a silenced alert is not read (only active ones are).
. "$(dirname "$0")/lib.sh"
e2e_init alertseed
cg_config 'bake_time = "300s"'
cg_alerts_config "receiver = \"ns-$NS\""
cg_start
# The route for $NS goes to a port nobody listens on: no delivery ever reaches a daemon.
dead=$(free_port)
cp "$E2E_DIR/webhook-token" "$CG_SANDBOX_DIR/alertmanager-token-$NS"
"$E2E_ROOT/scripts/sandbox" route-alerts "$NS" "http://127.0.0.1:$dead/v1/alertmanager" \
  "$CG_SANDBOX_DIR/alertmanager-token-$NS" >&2
E2E_CLEANUP_CMDS+=("'$E2E_ROOT/scripts/sandbox' route-alerts '$NS' --remove; rm -f '$CG_SANDBOX_DIR/alertmanager-token-$NS'")
# The seed runs beside the informers' first lists, not before caches_synced: wait for it, never assume it is done.
wait_until 10 "the first start read the (empty) list" log_has 'event=alerts_seeded why=start .*active=0'

deploy_create web web:v1 2
wait_rollout deployment web
wait_until 30 "v1 verdict healthy (baseline)" verdict_is web web:v1 healthy
cg_stop

set_image deployment web web:v2
wait_rollout deployment web 60
wait_until 10 "v2 ReplicaSet exists" rs_exists web 2
silence=$(am_silence SilencedSeed)
expect "silence created" test -n "$silence"
am_inject SilencedSeed web
am_inject SeededAlert web
active_for_receiver() {
  curl -sf --max-time 5 -G "$ALERTMANAGER_URL/api/v2/alerts" --data-urlencode "receiver=^ns-$NS\$" \
    --data-urlencode 'active=true' --data-urlencode 'silenced=false' | jq 'length'
}
wait_until 10 "Alertmanager routes SeededAlert to the namespace's receiver" eval 'test "$(active_for_receiver)" -ge 1'

cg_start
wait_until 15 "the restarted daemon read the active alert" log_has 'event=alerts_seeded why=start .*active=1 accepted=1'
wait_until 30 "RollbackStarted Event" has_event web RollbackStarted
expect "reason alert:SeededAlert" grep -q SeededAlert <<<"$(event_messages web RollbackStarted)"
expect "the silenced alert was not read" eval '! grep -q SilencedSeed <<<"$(event_messages web RollbackStarted)"'
wait_rollout deployment web 60
expect_eq "template back to v1" web:v1 "$(image_of deployment web)"
e2e_pass
