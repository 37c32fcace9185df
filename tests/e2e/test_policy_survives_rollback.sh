#!/usr/bin/env bash
# The guard's own settings survive its rollback. A rollback restores the target ReplicaSet's annotations onto the
# Deployment, as `kubectl rollout undo` does (spec §4.3); but the canary-guard.io/* keys are the guard's policy for
# this workload, not part of the release, and must keep their values from before the rollback. Opt-in mode
# ([selection] mode = "opt-in"): only canary-guard.io/enabled="true" workloads are guarded; losing the key in the
# middle of a rollback would also orphan its record at waiting.
#   v1 with enabled=true, bake-time=5s, crashloop-restarts=4: the baseline. Then one PATCH (a GitOps apply of a new
#   commit) sets the bad image v2 and changes the guard's settings: crashloop-restarts 4 -> 2, new
#   image-pull-grace=90s. v1's ReplicaSet carries only the old values (the controller copies annotations onto the
#   new ReplicaSet only). v2 crash-loops and is rolled back. Expected after the rollback: the Deployment still has
#   enabled=true, bake-time=5s, crashloop-restarts=2 and image-pull-grace=90s, and the record ends succeeded.
. "$(dirname "$0")/lib.sh"
e2e_init policy
cat >"$E2E_DIR/canary-guard.toml" <<TOML
[selection]
namespaces = ["$NS"]
mode = "opt-in"
[guard]
bake_time = "1h"
[log]
level = "debug"
TOML
cg_start

deploy_create web web:v1 2 600 'canary-guard.io/enabled: "true"' 'canary-guard.io/bake-time: "5s"' \
  'canary-guard.io/crashloop-restarts: "4"'
wait_rollout deployment web
wait_until 20 "v1 verdict healthy (baseline; opted in)" verdict_is web web:v1 healthy

# Checked before the release: once v1's ReplicaSet is the new one again, the controller copies the Deployment's
# (kept) values onto it, so afterwards it says nothing about what a plain undo would have restored.
expect_eq "v1's ReplicaSet has crashloop-restarts 4 (what a plain undo would restore)" 4 \
  "$(rs_ann web "$(rs_rev_with_image web web:v1)" canary-guard.io/crashloop-restarts)"
kubectl -n "$NS" patch deployment web -p '{"metadata":{"annotations":{
    "canary-guard.io/crashloop-restarts":"2","canary-guard.io/image-pull-grace":"90s"}},
  "spec":{"template":{"spec":{"containers":[{"name":"app","image":"web:v2-crashloop"}]}}}}' >/dev/null
wait_until 10 "v2 ReplicaSet exists" rs_exists web 2
wait_until 60 "v2 rolled back (RollbackStarted Event)" has_event web RollbackStarted
wait_rollout deployment web 40
expect_eq "template image back to v1" web:v1 "$(image_of deployment web)"

expect_eq "after the rollback: canary-guard.io/enabled" true "$(deploy_ann web canary-guard.io/enabled)"
expect_eq "after the rollback: canary-guard.io/bake-time" 5s "$(deploy_ann web canary-guard.io/bake-time)"
expect_eq "after the rollback: canary-guard.io/crashloop-restarts keeps its new value" 2 \
  "$(deploy_ann web canary-guard.io/crashloop-restarts)"
expect_eq "after the rollback: canary-guard.io/image-pull-grace (added with v2) kept" 90s \
  "$(deploy_ann web canary-guard.io/image-pull-grace)"
wait_until 20 "v2 rollback record state=succeeded (not orphaned at started/waiting)" \
  rollback_state_is web web:v2-crashloop succeeded
wait_until 10 "RollbackSucceeded Event" has_event web RollbackSucceeded
expect "v2 verdict failed" verdict_is web web:v2-crashloop failed
sleep 3
expect_eq "settings still there a few reconciles later" "true 2 90s" \
  "$(deploy_ann web canary-guard.io/enabled) $(deploy_ann web canary-guard.io/crashloop-restarts) $(deploy_ann web canary-guard.io/image-pull-grace)"
expect_eq "exactly one RollbackStarted Event" 1 "$(event_count web RollbackStarted)"
e2e_pass
