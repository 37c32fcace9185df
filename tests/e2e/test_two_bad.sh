#!/usr/bin/env bash
# Two bad releases in a row -> back to the last healthy one, not the previous one. v1 is healthy; v2 never becomes
# Ready (and is not judged yet: long deadline and ready-grace); v3 crash-loops. `kubectl rollout undo` would go to
# v2, the previous revision; the guard must go to v1, the newest revision verified healthy.
. "$(dirname "$0")/lib.sh"
e2e_init twobad
cg_start

deploy_create web web:v1 2 600 'canary-guard.io/ready-grace: "10m"'
wait_rollout deployment web
wait_until 20 "v1 verdict healthy (baseline)" verdict_is web web:v1 healthy

set_image deployment web web:v2-unready
wait_until 20 "v2 ReplicaSet exists" rs_exists web 2
sleep 2
expect_eq "v2 has no verdict (not judged yet)" "" "$(verdict_of_image web web:v2-unready)"
set_image deployment web web:v3-crashloop
wait_until 60 "rollback of v3 started" has_event web RollbackStarted
wait_rollout deployment web 40
expect_eq "template image is v1 (last healthy), not v2 (previous)" web:v1 "$(image_of deployment web)"
wait_until 20 "v3 rollback record state=succeeded" rollback_state_is web web:v3-crashloop succeeded
rec=$(rollback_of_image web web:v3-crashloop)
expect_eq "rollback record targets revision 1" 1 "$(field "$rec" to-revision)"
expect_eq "rollback record's target hash is v1's" \
  "$(kubectl -n "$NS" get rs "$(rs_of web "$(rs_rev_with_image web web:v1)")" -o 'jsonpath={.metadata.labels.pod-template-hash}')" \
  "$(field "$rec" to)"
expect_eq "rollout history: v1's ReplicaSet re-used as revision 4" "2 3 4" "$(history_revisions deployment web)"
expect_eq "exactly one RollbackStarted Event" 1 "$(event_count web RollbackStarted)"
sleep 3
expect_eq "still v1 a few seconds later" web:v1 "$(image_of deployment web)"
e2e_pass
