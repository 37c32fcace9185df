#!/usr/bin/env bash
# A completed rollout that later dips below full availability has not timed out. v2 (web:v2-slow12: Ready 12 s
# after start) rolls out and completes; 14 s later, inside the 30 s bake but past the 10 s progress deadline, the
# Deployment is scaled from 2 to 5. The 3 new pods need 12 s to become Ready, so availability stays below 5 for
# longer than progressDeadlineSeconds. The Kubernetes controller never estimates progress for a complete
# Deployment (Progressing stays NewReplicaSetAvailable; spec §3.2 "Already complete"), so neither may the guard:
# no RollbackStarted Event and no decision=rollback for deadline + 10 s after the scale, and v2 ends healthy
# (reason baked) once it is complete again and the bake has passed.
#
# Numbers: the initial v2 rollout runs with progressDeadlineSeconds 600 and maxSurge 2 (both new pods at once,
# complete ~13 s after the change), because with a 10 s deadline the controller itself would report
# ProgressDeadlineExceeded 11 s into a step that takes 12 s. The deadline is lowered to 10 s only once v2 is
# complete (a spec change that is no template change: no new ReplicaSet). ready-grace 10m keeps the pod
# not-Ready signal out of it: the question here is the deadline alone.
. "$(dirname "$0")/lib.sh"
e2e_init scaleafter
cg_start 'bake_time = "30s"'

E2E_STRATEGY=$'    type: RollingUpdate\n    rollingUpdate: {maxSurge: 2, maxUnavailable: 0}' \
  deploy_create web web:v1 2 600 'canary-guard.io/ready-grace: "10m"'
wait_rollout deployment web
wait_until 20 "v1 verdict healthy (baseline)" verdict_is web web:v1 healthy

set_image deployment web web:v2-slow12
wait_rollout deployment web 60
t_complete=$(date +%s.%N)
kubectl -n "$NS" patch deployment web -p '{"spec":{"progressDeadlineSeconds":10}}' >/dev/null
observed() {
  [ "$(kubectl -n "$NS" get deploy web -o 'jsonpath={.status.observedGeneration}/{.metadata.generation}' |
    awk -F/ '{print ($1 >= $2)}')" = 1 ]
}
wait_until 10 "progressDeadlineSeconds 10 observed" observed
expect_eq "Progressing reason after completion" NewReplicaSetAvailable \
  "$(kubectl -n "$NS" get deploy web -o 'jsonpath={.status.conditions[?(@.type=="Progressing")].reason}')"
expect_eq "v2 not verified yet (bake 30 s)" "" "$(verdict_of_image web web:v2-slow12)"

# Scale 14 s after completion: past the 10 s deadline counted from the last progress, still inside the bake.
sleep "$(echo "$t_complete + 14 - $(date +%s.%N)" | bc | sed 's/^-.*/0/')"
kubectl -n "$NS" scale deployment/web --replicas=5 >/dev/null
t_scale=$(date +%s.%N)
say "scaled to 5 replicas $(echo "$t_scale - $t_complete" | bc) s after v2 completed"

# Watch for deadline + 10 s: no rollback, and the dip really lasts longer than the deadline.
dip_seen_past_deadline=0
while [ "$(echo "$(date +%s.%N) < $t_scale + 20" | bc)" = 1 ]; do
  expect_eq "no RollbackStarted Event after the scale-up" 0 "$(event_count web RollbackStarted)" >/dev/null
  [ "$(log_count "$(decision_re web rollback)")" = 0 ] || fail "decision=rollback logged after the scale-up"
  if [ "$(echo "$(date +%s.%N) > $t_scale + 10.5" | bc)" = 1 ] &&
    [ "$(kubectl -n "$NS" get deploy web -o 'jsonpath={.status.availableReplicas}')" -lt 5 ]; then
    dip_seen_past_deadline=1
  fi
  sleep 0.5
done
expect "availability was still below 5 more than 10 s (the deadline) after the scale-up" test "$dip_seen_past_deadline" = 1
ok "no RollbackStarted Event and no decision=rollback within deadline + 10 s of the scale-up"
expect_eq "template image stays v2" web:v2-slow12 "$(image_of deployment web)"
expect "no failed verdict on v2" test "$(verdict_of_image web web:v2-slow12 | awk '{print $1}')" != failed
expect_eq "no rollback record on v2" "" "$(rollback_of_image web web:v2-slow12)"
expect_eq "no decision with reason=progress_deadline" 0 "$(log_count "workload=$NS/web .*reason=progress_deadline")"

wait_rollout deployment web 30
wait_until 60 "v2 verdict healthy once complete again and baked" verdict_is web web:v2-slow12 healthy
expect_eq "v2 verdict reason" baked "$(field "$(verdict_of_image web web:v2-slow12)" reason)"
expect_eq "still no RollbackStarted Event" 0 "$(event_count web RollbackStarted)"
expect_eq "rollout history" "1 2" "$(history_revisions deployment web)"
e2e_pass
