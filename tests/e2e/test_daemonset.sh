#!/usr/bin/env bash
# DaemonSet bad release rolled back: v1 (one pod per podsim node) becomes the baseline on its ControllerRevision;
# v2 crash-loops; the guard rolls the DaemonSet back to v1's template, records it on v2's ControllerRevision, and
# `kubectl rollout status ds` succeeds.
. "$(dirname "$0")/lib.sh"
e2e_init ds
cg_start

ds_create agent agent:v1
wait_rollout daemonset agent 60
cr_verdict() { cr_ann_of_image agent "$1" canary-guard.io/verdict | awk '{print $1}'; }
wait_until 20 "v1 ControllerRevision verdict healthy (baseline)" eval 'test "$(cr_verdict agent:v1)" = healthy'

set_image daemonset agent agent:v2-crashloop
wait_until 60 "rollback of v2 started (RollbackStarted Event)" has_event agent RollbackStarted
wait_rollout daemonset agent 60
expect_eq "template image back to v1" agent:v1 "$(image_of daemonset agent)"
cr_state() { field "$(cr_ann_of_image agent agent:v2-crashloop canary-guard.io/rollback)" state; }
wait_until 20 "v2 ControllerRevision rollback record state=succeeded" eval 'test "$(cr_state)" = succeeded'
expect_eq "v2 ControllerRevision verdict" failed "$(cr_verdict agent:v2-crashloop)"
expect "rollback reason is a pod signal" grep -q 'reason=pod_signal' \
  <<<"$(cr_ann_of_image agent agent:v2-crashloop canary-guard.io/rollback)"
wait_until 10 "RollbackSucceeded Event" has_event agent RollbackSucceeded
expect_eq "exactly one RollbackStarted Event" 1 "$(event_count agent RollbackStarted)"
expect "decision=rollback logged (kind=daemonset)" \
  log_has "workload=$NS/agent kind=daemonset revision=2 decision=rollback "
# A DaemonSet rollback re-uses v1's ControllerRevision with a new, higher revision number: history 2 3.
expect_eq "rollout history" "2 3" "$(history_revisions daemonset agent)"
all_v1_ready() {
  kubectl -n "$NS" get pods -l app=agent -o json | jq -e '[.items[] | select(.metadata.deletionTimestamp == null)] as $p
    | ($p | length) > 0 and all($p[]; .spec.containers[0].image == "agent:v1"
      and any(.status.conditions[]?; .type == "Ready" and .status == "True"))' >/dev/null
}
wait_until 30 "every DaemonSet pod runs v1 and is Ready" all_v1_ready
e2e_pass
