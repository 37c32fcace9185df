#!/usr/bin/env bash
# revisionHistoryLimit 0 must not skip the bake. With limit 0 the controller deletes every old ReplicaSet as soon
# as a rollout completes (spec §2.5), v1's verdict with it. What is left, v2 alone with no verdict, looks like a
# workload seen for the first time, but it is not: v1 was verified, so v2 is a new release and must bake. Expected:
# no healthy verdict on v2 in the first ~15 s after it completed (bake 20 s), then healthy with reason baked (not
# baseline), no earlier than the bake time.
. "$(dirname "$0")/lib.sh"
e2e_init histzero
cg_start 'bake_time = "20s"'

deploy_create web web:v1 2
kubectl -n "$NS" patch deployment web -p '{"spec":{"revisionHistoryLimit":0}}' >/dev/null
wait_rollout deployment web
wait_until 20 "v1 verdict healthy (baseline)" verdict_is web web:v1 healthy
expect_eq "v1 verdict reason" baseline "$(field "$(verdict_of_image web web:v1)" reason)"
v1_rs=$(rs_of web 1)

set_image deployment web web:v2
wait_rollout deployment web
t_complete=$(date +%s.%N)
v1_gone() { ! kubectl -n "$NS" get rs "$v1_rs" >/dev/null 2>&1; }
wait_until 10 "v1's ReplicaSet $v1_rs deleted by the controller (revisionHistoryLimit 0)" v1_gone

while [ "$(echo "$(date +%s.%N) < $t_complete + 15" | bc)" = 1 ]; do
  v=$(verdict_of_image web web:v2)
  [ "$(awk '{print $1}' <<<"$v")" != healthy ] ||
    fail "v2 verified $(echo "$(date +%s.%N) - $t_complete" | bc) s after completion, inside the 20 s bake: '$v'"
  sleep 0.5
done
ok "no healthy verdict on v2 during the first 15 s after completion"
wait_until 20 "v2 verdict healthy (baked)" verdict_is web web:v2 healthy
t_healthy=$(date +%s.%N)
expect_eq "v2 verdict reason" baked "$(field "$(verdict_of_image web web:v2)" reason)"
expect "v2 verdict no earlier than the 20 s bake ($(echo "$t_healthy - $t_complete" | bc) s after completion)" \
  test "$(echo "$t_healthy - $t_complete >= 19" | bc)" = 1
expect_eq "rollout history (v1 gone)" "2" "$(history_revisions deployment web)"
expect_eq "no RollbackStarted Event" 0 "$(event_count web RollbackStarted)"
e2e_pass
