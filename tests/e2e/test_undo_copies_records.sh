#!/usr/bin/env bash
# `kubectl rollout undo` copies the target ReplicaSet's annotations, canary-guard.io/verdict and
# canary-guard.io/rollback included, onto the Deployment (spec §4.3), and the controller then copies every
# Deployment annotation onto the next new ReplicaSet (spec §2.3), overwriting that revision's own record with
# another revision's. The guard must remove its record keys from the Deployment (within ~10 s).
#   web:  v1 baseline, v2 healthy (baked). `rollout undo` (to v1): the Deployment loses the copied records; a bad
#         v3 is rolled back to the newest healthy revision, v1's template; every ReplicaSet's verdict names its
#         own pod-template-hash.
#   web2: known-bad protection survives undo: v1 healthy, v2 bad and rolled back by the guard. `rollout undo`
#         (back to v2's template): held with KnownBadTemplate, not judged anew. `rollout undo` again (back to v1):
#         the Deployment loses the copied records. `set image` v2 again re-uses v2's ReplicaSet: it still carries
#         its own failed verdict (its own hash), so it is held (on_known_bad=hold) and not rolled back again.
. "$(dirname "$0")/lib.sh"
e2e_init undo
cg_start

# ---- web: an undo to a healthy revision
deploy_create web web:v1 2
wait_rollout deployment web
wait_until 20 "web: v1 verdict healthy (baseline)" verdict_is web web:v1 healthy
set_image deployment web web:v2
wait_rollout deployment web
wait_until 30 "web: v2 verdict healthy (baked)" verdict_is web web:v2 healthy

kubectl -n "$NS" rollout undo deployment/web >/dev/null
say "web: rollout undo; Deployment verdict annotation right after: '$(deploy_ann web canary-guard.io/verdict)'"
wait_rollout deployment web 30
expect_eq "web: undo went to v1" web:v1 "$(image_of deployment web)"
wait_until 10 "web: the Deployment carries no canary-guard.io/verdict or /rollback annotation" \
  eval '! deploy_has_records web'

set_image deployment web web:v3-crashloop
wait_until 60 "web: v3 rolled back (RollbackStarted Event)" has_event web RollbackStarted
wait_rollout deployment web 40
expect_eq "web: template back to v1 (the newest healthy revision)" web:v1 "$(image_of deployment web)"
wait_until 20 "web: v3 rollback record state=succeeded" rollback_state_is web web:v3-crashloop succeeded
rec=$(rollback_of_image web web:v3-crashloop)
expect_eq "web: rollback target is v1's ReplicaSet" "$(rs_hash web "$(rs_rev_with_image web web:v1)")" "$(field "$rec" to)"
expect "web: v3 verdict failed" verdict_is web web:v3-crashloop failed
expect "web: every ReplicaSet's verdict names its own hash" rs_verdicts_own_hash web
wait_until 10 "web: after the guard's own rollback the Deployment carries no records" eval '! deploy_has_records web'

# ---- web2: known-bad protection survives an undo to, and away from, the bad revision
deploy_create web2 web:v1 2
wait_rollout deployment web2
wait_until 20 "web2: v1 verdict healthy (baseline)" verdict_is web2 web:v1 healthy
set_image deployment web2 web:v2-crashloop
wait_until 60 "web2: v2 rollback succeeded" rollback_state_is web2 web:v2-crashloop succeeded
wait_rollout deployment web2 30
v2_hash=$(rs_hash web2 "$(rs_rev_with_image web2 web:v2-crashloop)")

kubectl -n "$NS" rollout undo deployment/web2 >/dev/null  # second-highest revision: v2's template
expect_eq "web2: first undo went back to v2's template" web:v2-crashloop "$(image_of deployment web2)"
wait_until 20 "web2: KnownBadTemplate Event (v2 is known bad)" has_event web2 KnownBadTemplate
expect_eq "web2: no second RollbackStarted after the undo to v2" 1 "$(event_count web2 RollbackStarted)"
kubectl -n "$NS" rollout undo deployment/web2 >/dev/null  # second-highest revision now: v1's template
expect_eq "web2: second undo went back to v1" web:v1 "$(image_of deployment web2)"
wait_rollout deployment web2 40
wait_until 10 "web2: the Deployment carries no canary-guard.io/verdict or /rollback annotation" \
  eval '! deploy_has_records web2'

set_image deployment web2 web:v2-crashloop  # re-uses v2's ReplicaSet
t_reapply=$SECONDS
# A fresh v2 would have failed by then: CrashLoopBackOff after 2 restarts of a pod never Ready comes about 13 s after
# the pod starts under the kubelet's back-off (podsim's default), about 3 s with the fixed 2 s timing.
while ((SECONDS < t_reapply + 20)); do
  v=$(verdict_of_image web2 web:v2-crashloop)
  [ "$(awk '{print $1}' <<<"$v")" = failed ] && [ "$(field "$v" hash)" = "$v2_hash" ] ||
    fail "web2: v2's ReplicaSet lost its own failed verdict after the re-apply: '$v' (own hash $v2_hash)"
  sleep 0.5
done
ok "web2: v2's ReplicaSet keeps its own failed verdict (hash $v2_hash) for 20 s after the re-apply"
expect_eq "web2: held, not rolled back again (one RollbackStarted Event)" 1 "$(event_count web2 RollbackStarted)"
expect_eq "web2: template stays v2 (on_known_bad=hold)" web:v2-crashloop "$(image_of deployment web2)"
expect "web2: KnownBadTemplate told" has_event web2 KnownBadTemplate
expect "web2: every ReplicaSet's verdict names its own hash" rs_verdicts_own_hash web2
expect "web: every ReplicaSet's verdict still names its own hash" rs_verdicts_own_hash web
e2e_pass
