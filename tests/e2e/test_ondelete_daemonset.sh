#!/usr/bin/env bash
# OnDelete DaemonSets are not judged. With updateStrategy OnDelete a new template changes no pod until someone
# deletes one, so there is no rollout to judge (kubectl rollout status refuses it, spec §7.3 row 0): the guard
# says so once and does nothing else. v1 (RollingUpdate) is the baseline; the strategy is switched to OnDelete;
# a new image v2 (crash-looping, were it ever started) then gets exactly one Event with reason OnDeleteNotJudged
# on the DaemonSet within 15 s, no rollback, and no healthy verdict on v2's ControllerRevision.
. "$(dirname "$0")/lib.sh"
e2e_init ondelete
cg_start

ds_create agent agent:v1
wait_rollout daemonset agent 60
cr_verdict() { cr_ann_of_image agent "$1" canary-guard.io/verdict | awk '{print $1}'; }
wait_until 20 "v1 ControllerRevision verdict healthy (baseline)" eval 'test "$(cr_verdict agent:v1)" = healthy'
kubectl -n "$NS" patch daemonset agent --type merge \
  -p '{"spec":{"updateStrategy":{"type":"OnDelete","rollingUpdate":null}}}' >/dev/null
expect_eq "update strategy" OnDelete "$(kubectl -n "$NS" get ds agent -o 'jsonpath={.spec.updateStrategy.type}')"

set_image daemonset agent agent:v2-crashloop
wait_until 10 "v2 ControllerRevision exists" \
  eval 'kubectl -n "$NS" get controllerrevisions -l app=agent -o json | jq -e "[.items[] | select(.data.spec.template.spec.containers[0].image == \"agent:v2-crashloop\")] | length == 1" >/dev/null'
wait_until 15 "OnDeleteNotJudged Event on the DaemonSet" has_event agent OnDeleteNotJudged
say "OnDeleteNotJudged: $(event_messages agent OnDeleteNotJudged | head -n1)"
sleep 5  # several more reconciles
expect_eq "exactly one OnDeleteNotJudged Event" 1 "$(event_count agent OnDeleteNotJudged)"
expect_eq "no RollbackStarted Event" 0 "$(event_count agent RollbackStarted)"
expect_eq "no rollback decision logged" 0 "$(log_count "$(decision_re agent rollback)")"
expect_eq "template stays v2" agent:v2-crashloop "$(image_of daemonset agent)"
expect "no healthy verdict on v2's ControllerRevision ('$(cr_ann_of_image agent agent:v2-crashloop canary-guard.io/verdict)')" \
  test "$(cr_verdict agent:v2-crashloop)" != healthy
expect_eq "no rollback record on v2's ControllerRevision" "" \
  "$(cr_ann_of_image agent agent:v2-crashloop canary-guard.io/rollback)"
expect_eq "the pods still run v1 (OnDelete)" agent:v1 \
  "$(kubectl -n "$NS" get pods -l app=agent -o json | jq -r '[.items[].spec.containers[0].image] | unique | join(",")')"
e2e_pass
