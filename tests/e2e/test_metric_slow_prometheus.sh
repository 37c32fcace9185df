#!/usr/bin/env bash
# The daemon's own budget is not a Prometheus error (issue #10 §1). Prometheus answers every query 1.2 s late (a
# delaying proxy in front of the sandbox's Prometheus); the check runs once per workload ([analysis] batch =
# false), interval 2s, [prometheus] timeout 3s, on_error = "fail". Three healthy releases analysed at once make a
# round of three queries (~3.6 s) longer than the interval. The old daemon shared one deadline (now + interval)
# among the queries of a round, so the later ones timed out: ERRORs that on_error = "fail" counted as FAILs, and
# healthy releases were rolled back. Each query must get its own 3 s: every v2 verified healthy, no rollback, and
# the slow rounds counted in canary_guard_analysis_round_overruns_total.
. "$(dirname "$0")/lib.sh"
e2e_init mslow
[ -n "${PROMETHEUS_URL:-}" ] || skip "scripts/sandbox env gave no PROMETHEUS_URL"
python3 "$E2E_ROOT/tests/e2e/delay_proxy.py" "$E2E_DIR/proxy.port" "${PROMETHEUS_URL##*:}" 1.2 &
E2E_BG_PIDS+=($!)
wait_until 10 "delay proxy listening" test -s "$E2E_DIR/proxy.port"
real_prometheus=$PROMETHEUS_URL
PROMETHEUS_URL="http://127.0.0.1:$(cat "$E2E_DIR/proxy.port")"
CG_ANALYSIS_TOML='batch = false' CG_MAX_BLIND=30s CG_GUARD_TOML='bake_time = "25s"' cg_metrics_config \
  "$(metric_check error-ratio "$E2E_ERROR_RATIO_QUERY" 'max = 0.1' 'on_error = "fail"')"
PROMETHEUS_URL=$real_prometheus
cg_start

names=(a b c)
for n in "${names[@]}"; do deploy_create "$n" web:v1 1; done
for n in "${names[@]}"; do wait_until 60 "$n v1 verdict healthy" verdict_is "$n" web:v1 healthy; done
for n in "${names[@]}"; do set_image deployment "$n" web:v2; done
for n in "${names[@]}"; do wait_until 90 "$n v2 verdict healthy" verdict_is "$n" web:v2 healthy; done
for n in "${names[@]}"; do expect_eq "$n never rolled back" 0 "$(event_count "$n" RollbackStarted)"; done
expect_eq "no ERROR outcome (no query cut by the round)" 0 \
  "$(log_count 'component=analysis check=error-ratio workload=[^ ]+ revision_hash=[^ ]+ outcome=error')"
overruns=$(metrics | sed -nE 's/^canary_guard_analysis_round_overruns_total\{probe="error-ratio"\} ([0-9.e+]+)$/\1/p')
say "round overruns counted: ${overruns:-none}"
expect "slow rounds counted in canary_guard_analysis_round_overruns_total" num_cmp "${overruns:-0} > 0"
expect "slow rounds logged" log_has 'check=error-ratio event=round_overrun'
e2e_pass
