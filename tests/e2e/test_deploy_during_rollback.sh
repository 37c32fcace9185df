#!/usr/bin/env bash
# Someone deploys during the rollback -> not overwritten. Recreate strategy and a slow healthy revision (slow8:
# Ready 8 s after start) keep the rollback in state=waiting for several seconds; a healthy v3 deployed then must
# stay: template image v3, v2's record ends superseded (RollbackSuperseded Event), v3 is judged on its own
# (verified healthy after bake) and never rolled back.
. "$(dirname "$0")/lib.sh"
e2e_init during
cg_start

E2E_STRATEGY='    type: Recreate' deploy_create web web:v1-slow8 2
wait_rollout deployment web 60
wait_until 20 "v1 verdict healthy (baseline)" verdict_is web web:v1-slow8 healthy

set_image deployment web web:v2-crashloop
wait_until 60 "rollback of v2 in state=waiting" rollback_state_is web web:v2-crashloop waiting
expect "v1 is not Ready yet (the rollback really is waiting)" test "$(kubectl -n "$NS" get deploy web -o 'jsonpath={.status.readyReplicas}')" != 2
set_image deployment web web:v3
say "v3 deployed while the rollback waited"
wait_until 20 "v2 rollback record state=superseded" rollback_state_is web web:v2-crashloop superseded
wait_until 10 "RollbackSuperseded Event" has_event web RollbackSuperseded
wait_rollout deployment web 40
expect_eq "template image is v3" web:v3 "$(image_of deployment web)"
wait_until 30 "v3 verdict healthy (baked)" verdict_is web web:v3 healthy
sleep 3
expect_eq "template image still v3" web:v3 "$(image_of deployment web)"
expect_eq "exactly one RollbackStarted Event (none for v3)" 1 "$(event_count web RollbackStarted)"
v3rev=$(rs_rev_with_image web web:v3)
expect_eq "no rollback decision for v3 (revision $v3rev)" 0 \
  "$(log_count "workload=$NS/web kind=deployment revision=$v3rev decision=(rollback|resume_rollback) ")"
expect_eq "no rollback record on v3" "" "$(rollback_of_image web web:v3)"
expect_eq "rollout history: 1 v1-slow8 (re-used as 3), 2 v2, 4 v3" "2 3 4" "$(history_revisions deployment web)"
e2e_pass
