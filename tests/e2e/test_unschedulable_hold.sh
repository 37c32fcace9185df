#!/usr/bin/env bash
# Unschedulable pods and an exhausted quota are holds, also at the progress deadline: lack of capacity is usually
# not the release's fault (pods.unschedulable_is_failure = false, the default), and rolling back would not fix it.
#   (a) web, namespace $NS: v2 adds nodeSelector disktype=none-such, which no podsim node has, so its surge pod stays
#       Pending with PodScheduled=False reason Unschedulable (the podsim scheduler rule). progressDeadlineSeconds 10:
#       the controller reports ProgressDeadlineExceeded at ~11 s. After 20 s: no RollbackStarted, a RollbackHeld
#       Event whose message mentions Unschedulable, and the template still has the nodeSelector.
#   (b) web, namespace $NS-quota: a ResourceQuota pods=2 with both v1 pods counted, so v2's surge pod is refused
#       (ReplicaFailure=True reason FailedCreate, then ProgressDeadlineExceeded). After 20 s: no RollbackStarted,
#       a RollbackHeld Event (message naming the ReplicaFailure / FailedCreate / quota), template still v2.
# Both run side by side under one daemon.
. "$(dirname "$0")/lib.sh"
e2e_init unsched
extra_namespace quota
QNS=$XNS
cat >"$E2E_DIR/canary-guard.toml" <<TOML
[selection]
namespaces = ["$NS", "$QNS"]
[guard]
bake_time = "5s"
[log]
level = "debug"
TOML
cg_start

deploy_create web web:v1 2 10
NS=$QNS deploy_create web web:v1 2 10
wait_rollout deployment web
NS=$QNS wait_rollout deployment web
wait_until 20 "(a) v1 verdict healthy (baseline)" verdict_is web web:v1 healthy
NS=$QNS wait_until 20 "(b) v1 verdict healthy (baseline)" verdict_is web web:v1 healthy

NS=$QNS quota_block pods 2
ok "(b) ResourceQuota pods=2 in $QNS, both v1 pods counted"

kubectl -n "$NS" patch deployment web -p '{"spec":{"template":{"spec":{"nodeSelector":{"disktype":"none-such"}}}}}' >/dev/null
NS=$QNS set_image deployment web web:v2
t_release=$(date +%s.%N)

unschedulable_pod() {
  kubectl -n "$NS" get pods -l app=web -o json | jq -e '[.items[] | select(.spec.nodeSelector.disktype == "none-such")
    | select(any(.status.conditions[]?; .type == "PodScheduled" and .status == "False" and .reason == "Unschedulable"))]
    | length > 0' >/dev/null
}
replica_failure() {
  [ "$(kubectl -n "$QNS" get deploy web -o 'jsonpath={.status.conditions[?(@.type=="ReplicaFailure")].status}')" = True ]
}
wait_until 15 "(b) ReplicaFailure=True on the Deployment (quota refused the surge pod)" replica_failure

# 20 s after the release: well past the 10 s deadline.
sleep "$(echo "$t_release + 20 - $(date +%s.%N)" | bc | sed 's/^-.*/0/')"
pde() {
  kubectl -n "${1:-$NS}" get deploy web -o 'jsonpath={.status.conditions[?(@.type=="Progressing")].reason}'
}
say "(a) Progressing reason now: $(pde); (b): $(pde "$QNS")"

NS=$QNS expect_eq "(b) no RollbackStarted Event" 0 "$(NS=$QNS event_count web RollbackStarted)"
expect_eq "(b) no decision=rollback logged" 0 "$(NS=$QNS log_count "$(NS=$QNS decision_re web rollback)")"
expect_eq "(b) template stays v2 (not rolled back)" web:v2 "$(NS=$QNS image_of deployment web)"
NS=$QNS expect "(b) RollbackHeld Event" has_event web RollbackHeld
msg=$(NS=$QNS event_messages web RollbackHeld | head -n1)
expect "(b) RollbackHeld message names the cause: $msg" grep -qiE 'ReplicaFailure|FailedCreate|quota' <<<"$msg"
expect "(b) no failed verdict on v2" test "$(NS=$QNS verdict_of_image web web:v2 | awk '{print $1}')" != failed
wait_until 5 "(a) a v2 pod is Pending with PodScheduled=False reason Unschedulable (podsim's scheduler rule)" unschedulable_pod
expect_eq "(a) no RollbackStarted Event" 0 "$(event_count web RollbackStarted)"
expect_eq "(a) no decision=rollback logged" 0 "$(log_count "$(decision_re web rollback)")"
expect_eq "(a) template keeps the nodeSelector (not rolled back)" none-such \
  "$(kubectl -n "$NS" get deploy web -o 'jsonpath={.spec.template.spec.nodeSelector.disktype}')"
expect "(a) RollbackHeld Event" has_event web RollbackHeld
expect "(a) RollbackHeld message mentions Unschedulable: $(event_messages web RollbackHeld | head -n1)" \
  grep -qi unschedulable <<<"$(event_messages web RollbackHeld)"
expect "(a) no failed verdict on v2" test "$(rs_ann web 2 canary-guard.io/verdict | awk '{print $1}')" != failed

e2e_pass
