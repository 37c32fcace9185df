#!/usr/bin/env bash
# Never-ready release rolled back at its deadline: v2 runs but never becomes Ready. With the pod ready-grace set
# far beyond the deadline, only the Deployment's own progressDeadlineSeconds (15) can fail it: the rollback must
# come at (not before) the deadline, with reason progress_deadline, and the rollout of v1 must then succeed.
. "$(dirname "$0")/lib.sh"
e2e_init deadline
cg_start

deploy_create web web:v1 2 15 'canary-guard.io/ready-grace: "10m"'
wait_rollout deployment web
wait_until 20 "v1 verdict healthy (baseline)" verdict_is web web:v1 healthy

set_image deployment web web:v2-unready
t_set=$(elapsed)
wait_until 60 "rollback of v2 started" has_event web RollbackStarted
t_rb=$(elapsed)
dt=$(echo "$t_rb - $t_set" | bc)
say "MEASURE set_image_to_rollback_started_seconds=$dt (progressDeadlineSeconds=15)"
# The controller-manager only declares ProgressDeadlineExceeded after 15 s without progress; the guard may not
# act earlier (that would be the pod signal, which the 10m ready-grace rules out).
expect "rollback not before the 15 s deadline (${dt}s)" test "$(echo "$dt >= 14" | bc)" = 1
wait_rollout deployment web 40
expect_eq "template image back to v1" web:v1 "$(image_of deployment web)"
wait_until 20 "v2 rollback record state=succeeded" rollback_state_is web web:v2-unready succeeded
rec=$(rollback_of_image web web:v2-unready)
expect_eq "rollback reason" progress_deadline "$(field "$rec" reason)"
expect "v2 verdict failed with reason progress_deadline" \
  grep -qE '^failed .*reason=progress_deadline' <<<"$(verdict_of_image web web:v2-unready)"
expect "decision=rollback reason=progress_deadline logged" \
  log_has "workload=$NS/web kind=deployment revision=2 decision=rollback reason=progress_deadline"
expect_eq "rollout history" "2 3" "$(history_revisions deployment web)"
wait_until 10 "RollbackSucceeded Event" has_event web RollbackSucceeded
expect_eq "exactly one RollbackStarted Event" 1 "$(event_count web RollbackStarted)"
e2e_pass
