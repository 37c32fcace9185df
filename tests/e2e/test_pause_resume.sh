#!/usr/bin/env bash
# A person pauses a rolling update (the everyday manual canary) for longer than progressDeadlineSeconds, then
# resumes it. The controller times nothing out while paused and restarts the deadline at the resume
# (Progressing=Unknown reason DeploymentResumed); the guard's own timer must do the same, so the healthy release is
# not rolled back at the resume. Deadline 10 s, pause 20 s; v2 pods are Ready 4 s after they start (web:v2-slow4),
# so after the resume every step of the rollout progresses well within the deadline and v2 is verified healthy.
. "$(dirname "$0")/lib.sh"
e2e_init pauseresume
cg_start

deploy_create web web:v1 3 10
wait_rollout deployment web
wait_until 20 "v1 verdict healthy (baseline)" verdict_is web web:v1 healthy

set_image deployment web web:v2-slow4
wait_until 10 "v2 ReplicaSet exists" rs_exists web 2
kubectl -n "$NS" rollout pause deployment/web >/dev/null
say "paused mid-rollout; waiting 20 s, twice the 10 s deadline"
sleep 20
expect "the rollout is still incomplete (the pause took effect mid-rollout)" bash -c "! kubectl -n $NS rollout status deployment/web --timeout=1s >/dev/null 2>&1"
expect_eq "no rollback while paused" 0 "$(event_count web RollbackStarted)"
expect_eq "template still v2 while paused" web:v2-slow4 "$(image_of deployment web)"

kubectl -n "$NS" rollout resume deployment/web >/dev/null
say "resumed"
wait_rollout deployment web 60
wait_until 30 "v2 verdict healthy" verdict_is web web:v2-slow4 healthy
expect_eq "no rollback at or after the resume" 0 "$(event_count web RollbackStarted)"
expect_eq "no rollback decision logged" 0 "$(log_count "$(decision_re web rollback)")"
expect_eq "template is v2" web:v2-slow4 "$(image_of deployment web)"
e2e_pass
