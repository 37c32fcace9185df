#!/usr/bin/env bash
# Crash-looping release rolled back in seconds: v2 crash-loops (podsim's default timing is the kubelet's back-off:
# first restart at once, then 10 s, 20 s ...), the guard rolls back to v1 on the pod signal (CrashLoopBackOff after 2
# restarts in a pod never Ready: about 13 s after the pod started) long before any progress deadline (600 s here),
# the record ends succeeded, and `kubectl rollout status` succeeds. Prints the time from the first CrashLoopBackOff
# after 2 restarts (the evidence) to all pods of the healthy revision Ready (target <= 10 s; printed, not asserted:
# timing on a shared 2-core machine is a benchmark).
. "$(dirname "$0")/lib.sh"
e2e_init crashloop
cg_start

deploy_create web web:v1 3
wait_rollout deployment web
wait_until 20 "v1 verdict healthy (baseline)" verdict_is web web:v1 healthy

watch_pods web "$E2E_DIR/pods.watch"
set_image deployment web web:v2-crashloop
t_set=$(date +%s.%N)
t_clbo="" t_back=""
deadline=$((SECONDS + 60))
while [ -z "$t_back" ]; do
  ((SECONDS < deadline)) || fail "no rollback to a Ready v1 within 60 s of the crash-looping release"
  [ -n "$t_clbo" ] || t_clbo=$(awk '/ CrashLoopBackOff- / && $NF >= 2 { print $1; exit }' "$E2E_DIR/pods.watch")
  snap=$(kubectl -n "$NS" get deploy,pods -l app=web -o json 2>/dev/null) || continue
  now=$(date +%s.%N)
  # Back: the template is v1 again and every pod that exists runs v1 and is Ready, as many as spec.replicas.
  if [ -n "$t_clbo" ] && jq -e '([.items[] | select(.kind == "Deployment")][0]) as $d
        | [.items[] | select(.kind == "Pod" and .metadata.deletionTimestamp == null)] as $p
        | $d.spec.template.spec.containers[0].image == "web:v1"
          and ($p | length) == $d.spec.replicas
          and all($p[]; .spec.containers[0].image == "web:v1"
                  and any(.status.conditions[]?; .type == "Ready" and .status == "True"))' >/dev/null <<<"$snap"; then
    t_back=$now
  fi
  sleep 0.2
done
say "first CrashLoopBackOff after 2 restarts (watch) $(echo "$t_clbo - $t_set" | bc) s after set image"
m=$(echo "$t_back - $t_clbo" | bc)
say "MEASURE crashloop_to_healthy_ready_seconds=$m (target <= 10; from first CrashLoopBackOff after 2 restarts to all v1 pods Ready)"
if [ "$(echo "$m > 10" | bc)" = 1 ]; then say "WARNING: above the 10 s target"; fi

wait_rollout deployment web 30
expect_eq "template image back to v1" web:v1 "$(image_of deployment web)"
wait_until 20 "v2 rollback record state=succeeded" rollback_state_is web web:v2-crashloop succeeded
rec=$(rollback_of_image web web:v2-crashloop)
expect "rollback record names a pod-signal reason: $rec" grep -qE 'reason=pod_signal' <<<"$rec"
expect_eq "rollback record targets revision 1" 1 "$(field "$rec" to-revision)"
expect "v2 verdict failed" verdict_is web web:v2-crashloop failed
expect_eq "rollout history (v1's ReplicaSet re-used as revision 3)" "2 3" "$(history_revisions deployment web)"
wait_until 10 "RollbackSucceeded Event" has_event web RollbackSucceeded
expect_eq "exactly one RollbackStarted Event" 1 "$(event_count web RollbackStarted)"
expect "decision=rollback logged with reason=pod_signal" log_has "workload=$NS/web kind=deployment revision=2 decision=rollback reason=pod_signal"
expect "decision=rollback_succeeded logged" log_has_decision web rollback_succeeded
expect "progress deadline was not the reason" test "$(log_count "workload=$NS/web .*reason=progress_deadline")" = 0

# Deleting the workload deletes every series naming it (spec R5.2), its counters included, though no rollout of it
# is watched any more (the daemon once forgot only workloads in the middle of a rollout).
web_series() { metrics | grep -F "{namespace=\"$NS\",workload=\"web\"" || true; }
expect "premise: /metrics names web, its pod signal counter among them" grep -q '^canary_guard_pod_signals_total{' <<<"$(web_series)"
kubectl -n "$NS" delete deployment web --wait=false >/dev/null
wait_until 20 "no series names web once it is deleted" eval '[ -z "$(web_series)" ]'
e2e_pass
