#!/usr/bin/env bash
# Paused -> held: v2 crash-loops on a Deployment that was paused mid-rollout. The guard must not touch a paused
# Deployment: RollbackHeld Event (reason paused, once), decision=hold reason=paused logged, template stays v2.
# After `kubectl rollout resume` the hold ends and the failed release is rolled back (the Event tells people to
# "resume it, or roll back by hand").
. "$(dirname "$0")/lib.sh"
e2e_init paused
cg_start

# 5 restarts (~10 s) before the crash loop fails v2: time enough to pause once its ReplicaSet exists.
deploy_create web web:v1 2 600 'canary-guard.io/crashloop-restarts: "5"'
wait_rollout deployment web
wait_until 20 "v1 verdict healthy (baseline)" verdict_is web web:v1 healthy

set_image deployment web web:v2-crashloop
# Pause as soon as the v2 ReplicaSet exists: the crash loop needs several restarts (~2 s each) before it fails.
wait_until 10 "v2 ReplicaSet exists" rs_exists web 2
kubectl -n "$NS" rollout pause deployment/web >/dev/null
expect_eq "no rollback before the pause took effect" 0 "$(event_count web RollbackStarted)"
wait_until 40 "decision=hold reason=paused logged" log_has "workload=$NS/web kind=deployment revision=2 decision=hold reason=paused"
wait_until 10 "RollbackHeld Event" has_event web RollbackHeld
expect "RollbackHeld message says paused" grep -qi paused <<<"$(event_messages web RollbackHeld)"
sleep 5  # several more reconciles of a crash-looping, paused Deployment
expect_eq "template image stays v2 while paused" web:v2-crashloop "$(image_of deployment web)"
expect_eq "no RollbackStarted Event while paused" 0 "$(event_count web RollbackStarted)"
expect_eq "RollbackHeld told once" 1 "$(event_count web RollbackHeld)"
expect_eq "no rollback record while paused" "" "$(rollback_of_image web web:v2-crashloop)"
expect_eq "rollout history unchanged" "1 2" "$(history_revisions deployment web)"

kubectl -n "$NS" rollout resume deployment/web >/dev/null
wait_until 40 "after resume: rollback started" has_event web RollbackStarted
wait_rollout deployment web 40
expect_eq "template image back to v1 after resume" web:v1 "$(image_of deployment web)"
wait_until 20 "v2 rollback record state=succeeded" rollback_state_is web web:v2-crashloop succeeded
e2e_pass
