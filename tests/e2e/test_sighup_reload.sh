#!/usr/bin/env bash
# SIGHUP (issue #13 §2): a configuration that fails to load is logged and the old one kept (the daemon keeps
# guarding, same pid); one that loads is applied in place (same pid, caches synced again) and takes effect: here it
# switches on dry-run, so a crash-looping release gets a DryRunRollback Event and is not patched.
. "$(dirname "$0")/lib.sh"
e2e_init sighup
cg_start 'bake_time = "5s"'
pid=$CG_PID
deploy_create web web:v1 2
wait_rollout deployment web
wait_until 30 "v1 verdict healthy (baseline)" verdict_is web web:v1 healthy

cp "$E2E_DIR/canary-guard.toml" "$E2E_DIR/good.toml"
printf '\n[guard]\nbake_time = "nonsense"\n' >>"$E2E_DIR/canary-guard.toml"
kill -HUP "$pid"
wait_until 10 "reload_failed logged with the position" log_has 'event=reload_failed keeping=old_config .*canary-guard.toml:[0-9]+:[0-9]+: error'
expect "same process, still alive" kill -0 "$pid"
expect "still serving" curl -sf --max-time 2 "http://127.0.0.1:$CG_PORT/healthz"

sed 's/^bake_time = "5s"/bake_time = "5s"\ndry_run = true/' "$E2E_DIR/good.toml" >"$E2E_DIR/canary-guard.toml"
syncs_before=$(log_count 'event=caches_synced')
kill -HUP "$pid"
wait_until 10 "reload logged" log_has 'event=reload config='
wait_until 20 "caches synced again" eval 'test "$(log_count event=caches_synced)" -gt '"$syncs_before"
expect "same pid after the re-exec" kill -0 "$pid"
expect "the new process is the same pid (dry_run=true in its start line)" log_has 'event=start .*dry_run=true'
set_image deployment web web:v2-crashloop
wait_until 60 "DryRunRollback Event (the new configuration is in effect)" has_event web DryRunRollback
hold_for 3 "nothing patched: the template stays v2" eval 'test "$(image_of deployment web)" = web:v2-crashloop'
expect_eq "no RollbackStarted" 0 "$(event_count web RollbackStarted)"
e2e_pass
