#!/usr/bin/env bash
# A DaemonSet pod replaced after the rollout completed is not a timed-out rollout. v2 (agent:v2-slow12: Ready 12 s
# after start) rolls out on all three podsim nodes and completes; then its progress deadline is lowered to 8 s
# (annotation canary-guard.io/progress-deadline) and, 10 s after completion and inside the 30 s bake, one v2 pod
# is deleted. The DaemonSet controller replaces it with another v2 pod that needs 12 s to become Ready: the
# DaemonSet is below full availability for longer than the deadline, but no rollout is in progress (every pod is
# already updated). Expected: no RollbackStarted Event and no decision=rollback for deadline + 10 s after the
# deletion; v2's ControllerRevision ends healthy (reason baked).
#
# Numbers: maxUnavailable 3 replaces all three pods at once, so the initial v2 rollout completes ~13 s after the
# change, inside the default 30 s DaemonSet deadline of the test config; the 8 s deadline applies only from the
# annotation on. ready-grace 10m keeps the pod not-Ready signal out of it.
. "$(dirname "$0")/lib.sh"
e2e_init dsreplaced
cg_start 'bake_time = "30s"'

ds_create agent agent:v1 'canary-guard.io/ready-grace: "10m"'
kubectl -n "$NS" patch daemonset agent -p '{"spec":{"updateStrategy":{"rollingUpdate":{"maxUnavailable":3}}}}' >/dev/null
wait_rollout daemonset agent 60
cr_verdict() { cr_ann_of_image agent "$1" canary-guard.io/verdict | awk '{print $1}'; }
wait_until 20 "v1 ControllerRevision verdict healthy (baseline)" eval 'test "$(cr_verdict agent:v1)" = healthy'

set_image daemonset agent agent:v2-slow12
wait_rollout daemonset agent 60
t_complete=$(date +%s.%N)
kubectl -n "$NS" annotate daemonset agent canary-guard.io/progress-deadline=8s >/dev/null
expect_eq "v2 not verified yet (bake 30 s)" "" "$(cr_verdict agent:v2-slow12)"

sleep "$(echo "$t_complete + 10 - $(date +%s.%N)" | bc | sed 's/^-.*/0/')"
victim=$(kubectl -n "$NS" get pods -l app=agent -o 'jsonpath={.items[0].metadata.name}')
kubectl -n "$NS" delete pod "$victim" --wait=false >/dev/null
t_del=$(date +%s.%N)
say "deleted pod $victim $(echo "$t_del - $t_complete" | bc) s after v2 completed"

dip_seen_past_deadline=0
while [ "$(echo "$(date +%s.%N) < $t_del + 18" | bc)" = 1 ]; do
  expect_eq "no RollbackStarted Event after the pod was replaced" 0 "$(event_count agent RollbackStarted)" >/dev/null
  [ "$(log_count "$(decision_re agent rollback)")" = 0 ] || fail "decision=rollback logged after the pod was replaced"
  if [ "$(echo "$(date +%s.%N) > $t_del + 8.5" | bc)" = 1 ] &&
    [ "$(kubectl -n "$NS" get ds agent -o 'jsonpath={.status.numberAvailable}')" -lt 3 ]; then
    dip_seen_past_deadline=1
  fi
  sleep 0.5
done
expect "availability was still below 3 more than 8 s (the deadline) after the deletion" test "$dip_seen_past_deadline" = 1
ok "no RollbackStarted Event and no decision=rollback within deadline + 10 s of the deletion"
expect_eq "template image stays v2" agent:v2-slow12 "$(image_of daemonset agent)"
expect "no failed verdict on v2" test "$(cr_verdict agent:v2-slow12)" != failed
expect_eq "no rollback record on v2" "" "$(cr_ann_of_image agent agent:v2-slow12 canary-guard.io/rollback)"

wait_rollout daemonset agent 30
wait_until 60 "v2 ControllerRevision verdict healthy (baked)" eval 'test "$(cr_verdict agent:v2-slow12)" = healthy'
expect_eq "v2 verdict reason" baked "$(field "$(cr_ann_of_image agent agent:v2-slow12 canary-guard.io/verdict)" reason)"
expect_eq "still no RollbackStarted Event" 0 "$(event_count agent RollbackStarted)"
e2e_pass
