#!/usr/bin/env bash
# e2e-timeout: 300
# Compare mode with the default timing catches a bad release of a small Deployment (issue #10 §3). The defaults:
# eval_lag 30s, interval 5s, failures 3 of 5, max_blind 5 x interval; the query's window is 30 s. Stable v1
# web:v1-errors2 (5xx ratio ~0.02), new v2 web:v2-errors6-slow10 (~0.06, three times the stable ratio, below the
# absolute max 0.1). 4 replicas, maxSurge 1, maxUnavailable 0, a new pod Ready 10 s after it starts: the rolling
# update is over ~40 s after it began, so v1's last pod is gone before the first comparison can be evaluated
# (first Ready v2 pod + eval_lag + window = ~60 s). The old daemon took the stable side from who still runs:
# none by then, so every comparison was NO_DATA and v2 was never caught. Now the stable side is the revision the
# rollout replaced, remembered for the whole analysis; its series are still inside the query's range at the
# evaluation time, so v2 is rolled back with reason metric:error-compare. The threshold check error-ratio is the
# control (it passes v2) and keeps the analysis from being blind once the comparison is over.
. "$(dirname "$0")/lib.sh"
e2e_init mcmpdef
query='sum by (namespace, {{revision_label}}) (rate(http_requests_total{namespace="{{namespace}}", {{revision_label}}="{{revision_hash}}", code=~"5.."}[30s])) / sum by (namespace, {{revision_label}}) (rate(http_requests_total{namespace="{{namespace}}", {{revision_label}}="{{revision_hash}}"}[30s]))'
CG_EVAL_LAG=30s CG_MAX_BLIND=25s CG_GUARD_TOML='bake_time = "10s"' cg_metrics_config \
  "$(metric_check error-ratio "$query" 'interval = "5s"' 'max = 0.1')" \
  "$(metric_check error-compare "$query" 'interval = "5s"' '[check.compare]' 'max_ratio = 1.5' 'margin = 0.005')"
expect "check-config accepts it without a timing warning" \
  eval '"$CANARY_GUARD_BIN" check-config "$E2E_DIR/canary-guard.toml" 2>&1 >/dev/null | { ! grep warning >/dev/null; }'
cg_start

deploy_create web web:v1-errors2 4
wait_rollout deployment web
wait_until 60 "v1 verdict healthy (baseline)" verdict_is web web:v1-errors2 healthy
h1=$(rs_hash web 1)

set_image deployment web web:v2-errors6-slow10
t_set=$(date +%s)
wait_until 10 "v2 ReplicaSet exists" rs_exists web 2
v1_gone() { [ "$(kubectl -n "$NS" get pods -l "pod-template-hash=$h1" -o name 2>/dev/null | wc -l)" = 0 ]; }
wait_until 90 "the rolling update removed every v1 pod" v1_gone
t_gone=$(date +%s)
say "v1's last pod gone $((t_gone - t_set)) s after set image; no rollback yet: $(event_count web RollbackStarted)"
expect_eq "no comparison could have tripped before v1's pods were gone" 0 "$(event_count web RollbackStarted)"

wait_until 120 "RollbackStarted Event" has_event web RollbackStarted
t_rb=$(date +%s)
msg=$(event_messages web RollbackStarted | head -n1)
say "RollbackStarted $((t_rb - t_set)) s after set image ($((t_rb - t_gone)) s after v1's last pod): $msg"
expect "RollbackStarted names error-compare" grep -qF error-compare <<<"$msg"
wait_rollout deployment web 90
expect_eq "template image back to v1" web:v1-errors2 "$(image_of deployment web)"
expect_eq "rollback reason" metric:error-compare "$(field "$(rollback_of_image web web:v2-errors6-slow10)" reason)"
expect_eq "the absolute check was never a rollback reason" 0 "$(log_count "decision=rollback reason=metric:error-ratio( |$)")"
e2e_pass
