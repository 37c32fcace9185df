#!/usr/bin/env bash
# Zero pods prove nothing. v1 (2 replicas) is the baseline; then one PATCH sets replicas 0 and a crash-looping
# image v2. The Deployment is "complete" at once (0 of 0 updated and available), but no pod of v2 ever ran, so the
# bake must not verify it: 10 s later (bake 5 s) v2's ReplicaSet has no healthy verdict. Scaled back to 2, v2
# crash-loops and is rolled back to v1 like any bad release (RollbackStarted, template v1, record succeeded).
. "$(dirname "$0")/lib.sh"
e2e_init zero
cg_start

deploy_create web web:v1 2
wait_rollout deployment web
wait_until 20 "v1 verdict healthy (baseline)" verdict_is web web:v1 healthy

kubectl -n "$NS" patch deployment web \
  -p '{"spec":{"replicas":0,"template":{"spec":{"containers":[{"name":"app","image":"web:v2-crashloop"}]}}}}' >/dev/null
wait_until 10 "v2 ReplicaSet exists" rs_exists web 2
wait_rollout deployment web 30
say "the release at 0 replicas is complete; waiting past the 5 s bake"
sleep 10
expect "v2 (never ran a pod) has no healthy verdict: '$(rs_ann web 2 canary-guard.io/verdict)'" \
  test "$(rs_ann web 2 canary-guard.io/verdict | awk '{print $1}')" != healthy
expect_eq "no RevisionHealthy Event beyond v1's baseline" 1 "$(event_count web RevisionHealthy)"

kubectl -n "$NS" scale deployment/web --replicas=2 >/dev/null
wait_until 60 "v2 crash-loops and is rolled back (RollbackStarted Event)" has_event web RollbackStarted
wait_rollout deployment web 40
expect_eq "template image back to v1" web:v1 "$(image_of deployment web)"
wait_until 20 "v2 rollback record state=succeeded" rollback_state_is web web:v2-crashloop succeeded
rec=$(rollback_of_image web web:v2-crashloop)
expect "rollback reason is a pod signal: $rec" grep -q 'reason=pod_signal' <<<"$rec"
expect_eq "rollback record targets revision 1" 1 "$(field "$rec" to-revision)"
expect "v2 verdict failed" verdict_is web web:v2-crashloop failed
expect_eq "exactly one RollbackStarted Event" 1 "$(event_count web RollbackStarted)"
expect_eq "replicas still 2" 2 "$(kubectl -n "$NS" get deploy web -o 'jsonpath={.spec.replicas}')"
e2e_pass
