#!/usr/bin/env bash
# Pods that crash-looped before the daemon started count in full. The daemon records v1's baseline and is stopped;
# v2 (crash-looping) is deployed while no daemon runs and crash-loops until a pod waits in CrashLoopBackOff after 3
# restarts (about 35 s under the kubelet's back-off, podsim's default; about 5 s with CG_SANDBOX_RESTART_BACKOFF=fixed),
# all of them since v2's pods were created. Started again, the guard must count the restarts the pods already have
# (they are pods of the new revision, created after it) and roll back at once: RollbackStarted within 4 s of
# caches_synced. Waiting for 3 further restarts (the restartCount at first sight taken as a baseline) would take
# >= 6 s (minutes under the kubelet's back-off). The never-Ready rule (crashloop_unready_restarts) cannot be what
# acts here: the guard first sees these pods after their restarts, so it has no evidence they were never Ready.
. "$(dirname "$0")/lib.sh"
e2e_init preexisting
cg_start

deploy_create web web:v1 2
wait_rollout deployment web
wait_until 20 "v1 verdict healthy (baseline)" verdict_is web web:v1 healthy
cg_stop
say "daemon stopped"

set_image deployment web web:v2-crashloop
max_restarts() {
  kubectl -n "$NS" get pods -l app=web -o json |
    jq '[.items[] | select(.spec.containers[0].image == "web:v2-crashloop") | .status.containerStatuses[0].restartCount // 0] | max // 0'
}
clbo3() {  # a v2 pod waits in CrashLoopBackOff after >= 3 restarts
  kubectl -n "$NS" get pods -l app=web -o json | jq -e '[.items[] | select(.spec.containers[0].image == "web:v2-crashloop")
    | .status.containerStatuses[0] | select(.restartCount >= 3 and .state.waiting.reason == "CrashLoopBackOff")] | length > 0'
}
wait_until 60 "a v2 pod in CrashLoopBackOff after >= 3 restarts (no daemon running)" clbo3
say "v2 pods crash-looped without a daemon; highest restartCount $(max_restarts)"
expect_eq "no rollback while no daemon ran" 0 "$(event_count web RollbackStarted)"

cg_start
t_synced=$(date +%s.%N)
wait_until 4 "RollbackStarted within 4 s of caches_synced" has_event web RollbackStarted
say "MEASURE synced_to_rollback_started_seconds=$(echo "$(date +%s.%N) - $t_synced" | bc)"
wait_rollout deployment web 40
expect_eq "template image back to v1" web:v1 "$(image_of deployment web)"
wait_until 20 "v2 rollback record state=succeeded" rollback_state_is web web:v2-crashloop succeeded
expect "rollback reason is the crash loop" grep -q 'reason=pod_signal:crash_loop' <<<"$(rollback_of_image web web:v2-crashloop)"
expect_eq "exactly one RollbackStarted Event" 1 "$(event_count web RollbackStarted)"
e2e_pass
