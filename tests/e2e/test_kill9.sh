#!/usr/bin/env bash
# kill -9 mid-rollback -> exactly one rollback. The guard keeps its rollback intent in the ReplicaSet annotation
# (state=started before the PATCH, waiting after it), so a restarted daemon must finish the same rollback and never
# start a second one. Two crash points:
#   A  as soon as a watch on v2's ReplicaSet shows the rollback record (state=started or waiting: whichever the
#      watch delivered first; the test reports which, and whether the PATCH had landed);
#   B  during state=waiting (Recreate strategy, target Ready only after 8 s).
# After each restart: the record ends state=succeeded, the Deployment gained exactly one revision, at most one
# RollbackStarted Event (best effort: a kill right after the `waiting` record can lose it) and exactly one
# RollbackSucceeded Event exist, and the template is v1.
. "$(dirname "$0")/lib.sh"
e2e_init kill9

# Exactly-one checks shared by both phases. NAME IMAGE_V1 IMAGE_V2
check_one_rollback() {
  local name=$1 v1=$2 v2=$3
  wait_rollout deployment "$name" 60
  expect_eq "$name: template image back to v1" "$v1" "$(image_of deployment "$name")"
  wait_until 30 "$name: rollback record state=succeeded" rollback_state_is "$name" "$v2" succeeded
  wait_until 10 "$name: RollbackSucceeded Event" has_event "$name" RollbackSucceeded
  sleep 3  # a duplicate rollback would show within a few reconciles
  expect_eq "$name: one undo added exactly one revision (history)" "2 3" "$(history_revisions deployment "$name")"
  # Events are best effort (a bounded queue, never awaited before the `waiting` record): a kill -9 between that
  # record and the Event's POST loses the Event, and the restarted daemon, finding `waiting`, does not tell again.
  # Never two; the record and RollbackSucceeded always tell.
  local started
  started=$(event_count "$name" RollbackStarted)
  expect "$name: at most one RollbackStarted Event (got $started)" test "$started" -le 1
  expect_eq "$name: exactly one RollbackSucceeded Event" 1 "$(event_count "$name" RollbackSucceeded)"
  # One fresh decision in all; a restart may resume it once (killed between the started record and the PATCH) or
  # find it waiting (killed after the PATCH), never decide it anew.
  expect_eq "$name: exactly one fresh rollback decision across both runs" 1 \
    "$(log_count "workload=$NS/$name kind=deployment revision=[0-9]+ decision=rollback ")"
  local resumes
  resumes=$(log_count "workload=$NS/$name kind=deployment revision=[0-9]+ decision=(resume_rollback|confirm_patched) ")
  expect "$name: at most one resume after the restart (got $resumes)" test "$resumes" -le 1
  expect_eq "$name: template image still v1" "$v1" "$(image_of deployment "$name")"
}

# ---- phase A: kill at the first sight of the rollback record
cg_start
deploy_create web-a web:v1 2
wait_rollout deployment web-a
wait_until 20 "web-a: v1 verdict healthy (baseline)" verdict_is web-a web:v1 healthy
set_image deployment web-a web:v2-crashloop
wait_until 10 "web-a: v2 ReplicaSet exists" rs_exists web-a 2
rs2=$(rs_of web-a 2)
coproc WATCH { exec kubectl -n "$NS" get rs "$rs2" -w -o 'jsonpath={.metadata.annotations.canary-guard\.io/rollback}{"\n"}' 2>/dev/null; }
watch_pid=$WATCH_PID
seen=""
while IFS= read -r -t 60 line <&"${WATCH[0]}"; do
  case "$line" in *state=*) cg_kill9; seen=$line; break ;; esac
done
kill "$watch_pid" 2>/dev/null || true
wait "$watch_pid" 2>/dev/null || true
[ -n "$seen" ] || fail "web-a: no rollback record appeared within 60 s"
say "web-a: killed on record '$seen'; image now $(image_of deployment web-a); record now '$(rollback_of_image web-a web:v2-crashloop)'"
say "web-a: the killed daemon's last decision lines:"; grep 'decision=' "$CG_LOG" | tail -n 3 || true
killed_before_patch=no
case "$(image_of deployment web-a) $(rollback_of_image web-a web:v2-crashloop)" in
  "web:v2-crashloop state=started"*) killed_before_patch=yes ;;
esac
cg_start
check_one_rollback web-a web:v1 web:v2-crashloop
if [ "$killed_before_patch" = yes ]; then
  expect_eq "web-a: killed before the PATCH, so the restart resumed it exactly once" 1 \
    "$(log_count "workload=$NS/web-a kind=deployment revision=[0-9]+ decision=resume_rollback ")"
fi
cg_stop

# ---- phase B: kill while the rollback waits for a slow target
cg_start
E2E_STRATEGY='    type: Recreate' deploy_create web-b web:v1-slow8 2
wait_rollout deployment web-b 60
wait_until 20 "web-b: v1 verdict healthy (baseline)" verdict_is web-b web:v1-slow8 healthy
set_image deployment web-b web:v2-crashloop
wait_until 60 "web-b: rollback record state=waiting" rollback_state_is web-b web:v2-crashloop waiting
cg_kill9
expect "web-b: v1 not Ready yet at the kill" test "$(kubectl -n "$NS" get deploy web-b -o 'jsonpath={.status.readyReplicas}')" != 2
cg_start
check_one_rollback web-b web:v1-slow8 web:v2-crashloop
e2e_pass
