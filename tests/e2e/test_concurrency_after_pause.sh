#!/usr/bin/env bash
# The fleet limit stays hard across a person's pause (issue #10 §4). max_concurrent_rollbacks = 1. web-b failed and
# its rollback was decided, but the fresh read found it paused: its `started` record stays and holds no slot (made
# here by writing that record on its paused, crash-looping v2, exactly as the guard leaves it). Then web-a fails and
# its rollback takes the slot (Recreate, v1 Ready 8 s after start: the slot is held for several seconds). web-b is
# resumed while web-a's rollback runs: its rollback must wait for the slot, so at no moment is web-b patched back
# while web-a's record is still open. Both end rolled back.
. "$(dirname "$0")/lib.sh"
e2e_init concpause
cg_start 'max_concurrent_rollbacks = 1'

for n in web-a web-b; do E2E_STRATEGY='    type: Recreate' deploy_create "$n" web:v1-slow8 1; done
for n in web-a web-b; do wait_rollout deployment "$n" 60; done
for n in web-a web-b; do wait_until 30 "$n: v1 verdict healthy (baseline)" verdict_is "$n" web:v1-slow8 healthy; done

# web-b: v2 crash-loops, it is paused, and it carries the guard's `started` record of an interrupted rollback.
set_image deployment web-b web:v2-crashloop
wait_until 10 "web-b: v2 ReplicaSet exists" rs_exists web-b 2
kubectl -n "$NS" rollout pause deployment/web-b >/dev/null
h1=$(rs_hash web-b 1) h2=$(rs_hash web-b 2)
at=$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)
kubectl -n "$NS" annotate rs "$(rs_of web-b 2)" --overwrite >/dev/null \
  "canary-guard.io/verdict=failed hash=$h2 at=${at%.*}Z reason=pod_signal:crash_loop" \
  "canary-guard.io/rollback=state=started from=$h2 to=$h1 to-revision=1 at=$at reason=pod_signal:crash_loop"
wait_until 30 "web-b: the paused rollback is held" log_has "workload=$NS/web-b .*decision=hold reason=paused"

# web-a fails and takes the one slot.
set_image deployment web-a web:v2-crashloop
wait_until 60 "web-a: rollback started" has_event web-a RollbackStarted
a_state() { rollback_of_image web-a web:v2-crashloop | sed -nE 's/.*state=([^ ]*).*/\1/p'; }
[ "$(a_state)" = waiting ] || [ "$(a_state)" = started ] || fail "web-a's rollback already ended ($(a_state)): too fast to test"
kubectl -n "$NS" rollout resume deployment/web-b >/dev/null
say "web-b resumed while web-a's rollback holds the slot"

deadline=$((SECONDS + 90)) polls=0 overlap=0
while :; do
  ((SECONDS < deadline)) || fail "web-b was not rolled back within 90 s of its resume"
  sa=$(a_state) ib=$(image_of deployment web-b)
  polls=$((polls + 1))
  if [ "$ib" = web:v1-slow8 ] && { [ "$sa" = started ] || [ "$sa" = waiting ]; }; then overlap=1; break; fi
  [ "$ib" = web:v1-slow8 ] && break
  sleep 0.2
done
expect_eq "web-b patched back only after web-a's rollback ended (state when web-b moved: $sa)" 0 "$overlap"
ok "$polls polls"
for n in web-a web-b; do
  wait_rollout deployment "$n" 60
  expect_eq "$n: template image back to v1" web:v1-slow8 "$(image_of deployment "$n")"
done
wait_until 30 "web-b: rollback record succeeded" rollback_state_is web-b web:v2-crashloop succeeded
e2e_pass
