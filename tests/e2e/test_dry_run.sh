#!/usr/bin/env bash
# Dry-run patches nothing. Two Deployments under one daemon, both crash-looping on v2:
#   dry   annotated canary-guard.io/dry-run: "true": DryRunRollback Event and a decision=rollback dry_run=true log
#         line, but no PATCH (generation and template unchanged, history 1 2) and no rollback record;
#   ctl   the control, same history without the annotation: really rolled back (shows the guard was acting).
# Then the daemon is restarted with --dry-run and a third Deployment (opt) crash-loops: again nothing patched.
. "$(dirname "$0")/lib.sh"
e2e_init dryrun
cg_start

deploy_create dry web:v1 2 600 'canary-guard.io/dry-run: "true"'
deploy_create ctl web:v1 2
wait_rollout deployment dry
wait_rollout deployment ctl
wait_until 20 "dry: v1 verdict healthy (verdicts are written in dry-run too)" verdict_is dry web:v1 healthy
wait_until 20 "ctl: v1 verdict healthy" verdict_is ctl web:v1 healthy
set_image deployment dry web:v2-crashloop
set_image deployment ctl web:v2-crashloop
wait_until 30 "dry: v2 ReplicaSet exists" rs_exists dry 2
gen_before=$(kubectl -n "$NS" get deploy dry -o 'jsonpath={.metadata.generation}')

wait_until 60 "ctl (control): rolled back" rollback_state_is ctl web:v2-crashloop succeeded
wait_until 30 "dry: DryRunRollback Event" has_event dry DryRunRollback
expect "dry: decision=rollback ... dry_run=true logged" \
  log_has "workload=$NS/dry kind=deployment revision=2 decision=rollback reason=[^ ]+ dry_run=true"
sleep 5
expect_eq "dry: generation unchanged (no PATCH of the spec)" "$gen_before" "$(kubectl -n "$NS" get deploy dry -o 'jsonpath={.metadata.generation}')"
expect_eq "dry: template image stays v2" web:v2-crashloop "$(image_of deployment dry)"
expect_eq "dry: history unchanged" "1 2" "$(history_revisions deployment dry)"
expect_eq "dry: no rollback record" "" "$(rollback_of_image dry web:v2-crashloop)"
expect_eq "dry: no failed verdict written" "" "$(verdict_of_image dry web:v2-crashloop)"
expect_eq "dry: no RollbackStarted Event" 0 "$(event_count dry RollbackStarted)"
expect_eq "dry: DryRunRollback told once" 1 "$(event_count dry DryRunRollback)"
expect_eq "ctl: template back to v1" web:v1 "$(image_of deployment ctl)"

# Global dry-run from the command line.
cg_stop
CG_LOG="$E2E_DIR/canary-guard.dryflag.log"
CG_PORT=$(free_port)
"$CANARY_GUARD_BIN" run --dry-run --config "$E2E_DIR/canary-guard.toml" --kubeconfig "$CANARY_GUARD_KUBECONFIG" \
  --listen "127.0.0.1:$CG_PORT" >"$CG_LOG" 2>&1 </dev/null &
CG_PID=$!
wait_until 30 "canary-guard --dry-run synced" grep -q 'event=caches_synced' "$CG_LOG"
deploy_create opt web:v1 2
wait_rollout deployment opt
wait_until 20 "opt: v1 verdict healthy" verdict_is opt web:v1 healthy
set_image deployment opt web:v2-crashloop
wait_until 60 "opt: DryRunRollback Event" has_event opt DryRunRollback
sleep 5
expect_eq "opt: template image stays v2" web:v2-crashloop "$(image_of deployment opt)"
expect_eq "opt: history unchanged" "1 2" "$(history_revisions deployment opt)"
expect_eq "opt: no RollbackStarted Event" 0 "$(event_count opt RollbackStarted)"
e2e_pass
