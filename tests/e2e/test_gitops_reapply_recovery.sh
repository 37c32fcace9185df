#!/usr/bin/env bash
# Crash recovery must not overwrite a newer change. A daemon that crashed right after recording its rollback intent
# (state=started, written by hand here exactly as the guard writes it) and before its PATCH finds, when it comes
# back, a Deployment that someone else changed meanwhile:
#   web-a: a GitOps tool applied a new, healthy v3. The guard must not PATCH back to v1: template stays v3, v2's
#          record ends superseded, no RollbackStarted Event; v3 is judged on its own (healthy after the bake).
#   web-b: a person paused the Deployment (`kubectl rollout pause`), still on v2. The guard must not PATCH a paused
#          Deployment (kubectl refuses to undo one): template stays v2, generation unchanged, no RollbackStarted,
#          and a hold is told (RollbackHeld Event, or decision=hold reason=paused logged).
. "$(dirname "$0")/lib.sh"
e2e_init gitops
cg_start

for n in web-a web-b; do deploy_create "$n" web:v1 2; done
for n in web-a web-b; do wait_rollout deployment "$n"; done
for n in web-a web-b; do wait_until 20 "$n: v1 verdict healthy (baseline)" verdict_is "$n" web:v1 healthy; done
cg_stop
say "daemon stopped (as if it crashed)"

for n in web-a web-b; do set_image deployment "$n" web:v2-crashloop; done
for n in web-a web-b; do wait_until 10 "$n: v2 ReplicaSet exists" rs_exists "$n" 2; done
# The records the guard writes before its PATCH (daemon/guard/records.cpp formats; see test_kill9.sh).
for n in web-a web-b; do
  h1=$(rs_hash "$n" 1) h2=$(rs_hash "$n" 2)
  kubectl -n "$NS" annotate rs "$(rs_of "$n" 2)" --overwrite \
    "canary-guard.io/verdict=failed hash=$h2 at=$(date -u +%Y-%m-%dT%H:%M:%SZ) reason=pod_signal:crash_loop" \
    "canary-guard.io/rollback=state=started from=$h2 to=$h1 to-revision=1 at=$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ) reason=pod_signal:crash_loop" \
    >/dev/null
  say "$n: wrote state=started from=$h2 to=$h1 on $(rs_of "$n" 2)"
done

set_image deployment web-a web:v3  # the GitOps apply
kubectl -n "$NS" rollout pause deployment/web-b >/dev/null
wait_rollout deployment web-a 30
wait_until 10 "web-b: pause observed" \
  eval 'test "$(kubectl -n "$NS" get deploy web-b -o "jsonpath={.status.observedGeneration}")" = "$(kubectl -n "$NS" get deploy web-b -o "jsonpath={.metadata.generation}")"'
gen_a=$(kubectl -n "$NS" get deploy web-a -o 'jsonpath={.metadata.generation}')
gen_b=$(kubectl -n "$NS" get deploy web-b -o 'jsonpath={.metadata.generation}')

cg_start
# web-a
wait_until 20 "web-a: v2 rollback record state=superseded" rollback_state_is web-a web:v2-crashloop superseded
wait_until 30 "web-a: v3 verdict healthy (judged on its own)" verdict_is web-a web:v3 healthy
expect_eq "web-a: template stays v3" web:v3 "$(image_of deployment web-a)"
expect_eq "web-a: generation unchanged (no PATCH by the guard)" "$gen_a" \
  "$(kubectl -n "$NS" get deploy web-a -o 'jsonpath={.metadata.generation}')"
expect_eq "web-a: no RollbackStarted Event" 0 "$(event_count web-a RollbackStarted)"
expect_eq "web-a: no rollback decision logged" 0 \
  "$(log_count "workload=$NS/web-a kind=deployment revision=[0-9]+ decision=(rollback|resume_rollback|confirm_patched) ")"
# web-b
held_b() { has_event web-b RollbackHeld || log_has "workload=$NS/web-b kind=deployment revision=[0-9]+ decision=hold reason=paused"; }
wait_until 20 "web-b: hold told (RollbackHeld Event or decision=hold reason=paused)" held_b
sleep 5  # several more reconciles
expect_eq "web-b: template stays v2 (paused)" web:v2-crashloop "$(image_of deployment web-b)"
expect_eq "web-b: generation unchanged (no PATCH by the guard)" "$gen_b" \
  "$(kubectl -n "$NS" get deploy web-b -o 'jsonpath={.metadata.generation}')"
expect_eq "web-b: no RollbackStarted Event" 0 "$(event_count web-b RollbackStarted)"
expect_eq "web-b: no rollback decision logged" 0 \
  "$(log_count "workload=$NS/web-b kind=deployment revision=[0-9]+ decision=(rollback|resume_rollback|confirm_patched) ")"
expect_eq "web-b: rollout history unchanged" "1 2" "$(history_revisions deployment web-b)"
say "web-b: record now '$(rollback_of_image web-b web:v2-crashloop)'"
e2e_pass
