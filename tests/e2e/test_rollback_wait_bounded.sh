#!/usr/bin/env bash
# No wait without an end: a rollback whose target cannot roll out fails within its deadline, and the failed target
# is not used again.
#
# How the target is made unable to roll out: v1 requests cpu 10m (a NotBestEffort pod); v2 and v3 request nothing
# (BestEffort). Once v1 is the baseline, a ResourceQuota scoped NotBestEffort with pods=0 refuses every new v1
# pod and no v2/v3 pod. With the Recreate strategy v1's pods are gone while v2 runs, so the rollback to v1 needs
# new v1 pods, which the quota refuses (ReplicaFailure=True FailedCreate): the target never becomes available, and
# nothing about it changes on its own (the sandbox runs no quota controller; see quota_block in lib.sh).
#
# Expected (progressDeadlineSeconds 10):
#   - v2 crash-loops; RollbackStarted; within deadline + 20 s of it a RollbackFailed Event and v2's record
#     state=failed (not waiting for ever: no ReplicaFailure "hold" may stretch the rollback's own deadline);
#   - a second bad release v3 (crash-looping, BestEffort, so its pods do run) is not rolled back to the target of the
#     failed rollback: no second RollbackStarted, a hold (decision=hold for v3's revision and a new RollbackHeld
#     Event; the reason token is printed, e.g. no_healthy_revision), template stays v3.
. "$(dirname "$0")/lib.sh"
e2e_init waitbounded
cg_start

# deploy_create's Deployment, Recreate, progressDeadlineSeconds 10, with requests on the container.
kubectl -n "$NS" create -f - >/dev/null <<EOF
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
  annotations: {e2e: "true"}
spec:
  replicas: 2
  progressDeadlineSeconds: 10
  revisionHistoryLimit: 10
  selector:
    matchLabels: {app: web}
  strategy: {type: Recreate}
  template:
    metadata:
      labels: {app: web}
    spec:
      terminationGracePeriodSeconds: 0
      containers:
      - name: app
        image: web:v1
        resources: {requests: {cpu: 10m}}
EOF
wait_rollout deployment web 60
v1_rev=$(deploy_revision web)
wait_until 20 "v1 (requests cpu 10m) verdict healthy" verdict_is web web:v1 healthy
quota_block no-burstable 0 NotBestEffort
ok "ResourceQuota: no new NotBestEffort pod in $NS"

# v2: BestEffort and crash-looping (drop the requests together with the image change).
kubectl -n "$NS" patch deployment web --type json -p '[
  {"op":"remove","path":"/spec/template/spec/containers/0/resources"},
  {"op":"replace","path":"/spec/template/spec/containers/0/image","value":"web:v2-crashloop"}]' >/dev/null
wait_until 60 "v2 rolled back (RollbackStarted Event)" has_event web RollbackStarted
t_rb=$(date +%s.%N)
expect_eq "the rollback targets v1" web:v1 "$(image_of deployment web)"
refused() {
  kubectl -n "$NS" get events --field-selector reason=FailedCreate -o jsonpath='{.items[*].message}' | grep 'exceeded quota' >/dev/null
}
wait_until 15 "the quota refuses v1's new pods (FailedCreate: exceeded quota)" refused
wait_until 30 "RollbackFailed Event within deadline + 20 s of RollbackStarted" has_event web RollbackFailed
say "MEASURE rollback_started_to_failed_seconds=$(echo "$(date +%s.%N) - $t_rb" | bc) (progressDeadlineSeconds=10)"
wait_until 10 "v2 rollback record state=failed" rollback_state_is web web:v2-crashloop failed
expect_eq "no RollbackSucceeded Event" 0 "$(event_count web RollbackSucceeded)"
held_before=$(event_count web RollbackHeld)

# v3: another bad release, BestEffort so its pods run and crash-loop (the template is v1's again, requests included).
kubectl -n "$NS" patch deployment web --type json -p '[
  {"op":"remove","path":"/spec/template/spec/containers/0/resources"},
  {"op":"replace","path":"/spec/template/spec/containers/0/image","value":"web:v3-crashloop"}]' >/dev/null
wait_until 10 "v3 ReplicaSet exists" eval 'test -n "$(rs_rev_with_image web web:v3-crashloop)"'
v3_rev=$(rs_rev_with_image web web:v3-crashloop)
v3_restarts() {
  kubectl -n "$NS" get pods -l app=web -o json | jq '[.items[] | select(.spec.containers[0].image == "web:v3-crashloop")
    | .status.containerStatuses[0].restartCount // 0] | max // 0'
}
# Until v3 has crash-looped long enough to fail (2 restarts of a pod never Ready: about 13 s under the kubelet's
# back-off) and a hold for it is logged: never a second rollback.
deadline=$((SECONDS + 60))
until log_has "workload=$NS/web kind=deployment revision=$v3_rev decision=hold " && (($(v3_restarts) >= 2)); do
  ((SECONDS < deadline)) || fail "v3 (revision $v3_rev) not held within 60 s (restarts $(v3_restarts))"
  [ "$(event_count web RollbackStarted)" = 1 ] ||
    fail "v3 was rolled back to the target of the failed rollback: $(event_messages web RollbackStarted | tail -n1)"
  sleep 0.5
done
ok "v3 crash-looped ($(v3_restarts) restarts) and was held, not rolled back"
say "v3 hold: $(cg_logs | grep -E "revision=$v3_rev decision=hold " | head -n1 | grep -oE 'reason=[^ ]*')"
wait_until 10 "a new RollbackHeld Event for v3" eval 'test "$(event_count web RollbackHeld)" -gt "$held_before"'
sleep 3
expect_eq "v3 not rolled back to the failed target (one RollbackStarted Event)" 1 "$(event_count web RollbackStarted)"
expect_eq "template stays v3" web:v3-crashloop "$(image_of deployment web)"
expect_eq "no rollback decision for v3" 0 \
  "$(log_count "workload=$NS/web kind=deployment revision=$v3_rev decision=(rollback|resume_rollback) ")"
expect "v1's revision ($v1_rev) was never re-deployed a second time" test "$(rs_rev_with_image web web:v1)" -lt "$v3_rev"
e2e_pass
