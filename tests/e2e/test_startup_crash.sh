#!/usr/bin/env bash
# Pods that crash once or twice at start-up and then run are never rolled back ("doubt means no action"). Under the
# kubelet's back-off (podsim's default timing) web:v2-crash1 is restarted at once and never shows CrashLoopBackOff;
# web:v3-crash2 waits 10 s in CrashLoopBackOff with restartCount 1 and then runs. Both are marked healthy after the
# bake time; neither is rolled back by crashloop_restarts (3) or by crashloop_unready_restarts (2, never Ready).
# The crashes must really have happened: every pod of v2 shows restartCount 1, every pod of v3 restartCount 2 and
# a CrashLoopBackOff in the pod watch.
. "$(dirname "$0")/lib.sh"
e2e_init startupcrash
cg_start
say "podsim restart back-off: $(grep -A1 -x -- --restart-backoff "$CG_SANDBOX_DIR/cmd/podsim.args" 2>/dev/null | tail -1 || echo unknown)"

deploy_create web web:v1 3
wait_rollout deployment web
wait_until 20 "v1 verdict healthy (baseline)" verdict_is web web:v1 healthy

restarts_of() {  # IMAGE: the sorted restartCounts of the live pods running IMAGE
  kubectl -n "$NS" get pods -l app=web -o json | jq -r --arg i "$1" '[.items[] | select(.metadata.deletionTimestamp == null
    and .spec.containers[0].image == $i) | .status.containerStatuses[0].restartCount // 0] | sort | map(tostring) | join(" ")'
}

watch_pods web "$E2E_DIR/pods.watch"
for v in "v2 crash1 1" "v3 crash2 2"; do
  read -r rev tag n <<<"$v"
  image="web:$rev-$tag"
  set_image deployment web "$image"
  wait_rollout deployment web 90
  expect_eq "$image: every pod restarted $n time(s) and then ran" "$n $n $n" "$(restarts_of "$image")"
  wait_until 30 "$image verdict healthy (baked)" verdict_is web "$image" healthy
  expect_eq "template image stays $image" "$image" "$(image_of deployment web)"
done
expect "v3's pods went through CrashLoopBackOff" grep -q ' web:v3-crash2 CrashLoopBackOff- ' "$E2E_DIR/pods.watch"
sleep 3  # a later wrong decision would show within a few reconciles
expect_eq "no RollbackStarted Event" 0 "$(event_count web RollbackStarted)"
expect_eq "no rollback decision logged" 0 "$(log_count "$(decision_re web rollback)")"
expect_eq "no rollback annotation on any ReplicaSet" "" \
  "$(kubectl -n "$NS" get rs -o json | jq -r '.items[].metadata.annotations["canary-guard.io/rollback"] // empty')"
e2e_pass
