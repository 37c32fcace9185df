#!/usr/bin/env bash
# e2e-serial (stops the sandbox's Prometheus, which every metric test shares)
# Analysis state is trusted only for the rollout that wrote it (issue #10 §2, the reported case). error-ratio (max
# 0.05, every 2 s) judges web; bake_time is 25 s, so v2 is not verified before v3 replaces it; max_blind is 45 s, so
# the second rollout's bake ends well before the guard goes blind (as with the defaults in the report). v2 (web:v2,
# healthy) gets one decisive PASS (persisted on its ReplicaSet, canary-guard.io/analysis, with '!'); v3 (web:v3)
# replaces it; then Prometheus is stopped and v2's template is applied again: Kubernetes re-uses v2's ReplicaSet with
# a new revision number (a new rollout). Every query is refused for the whole second rollout, so v2 must NOT be
# marked healthy after its bake (it was before the fix, on the first rollout's PASS: "every metric check passed"); it
# waits for evidence, then goes blind (MetricsBlind). When Prometheus is back, outcomes return: at once a
# MetricsRestored Event (before the fix a PASS after the first rollout's PASS was "no change" and nothing re-judged
# the workload), and v2 is verified on fresh evidence.
. "$(dirname "$0")/lib.sh"
e2e_init mredeploy
CG_GUARD_TOML='bake_time = "25s"' CG_MAX_BLIND=45s cg_metrics_config \
  "$(metric_check error-ratio "$E2E_ERROR_RATIO_QUERY" 'max = 0.05')"
cg_start

deploy_create web web:v1 2
wait_rollout deployment web
wait_until 60 "v1 verdict healthy" verdict_is web web:v1 healthy

set_image deployment web web:v2
wait_until 10 "v2 ReplicaSet exists" rs_exists web 2
h2=$(rs_hash web 2)
passed_once() { grep -qE "(^| )error-ratio=[PF]*!" <<<"$(rs_ann web 2 canary-guard.io/analysis)"; }
wait_until 60 "v2 had a decisive PASS, persisted on its ReplicaSet" passed_once
say "v2's record: $(rs_ann web 2 canary-guard.io/analysis)"
expect "v2 is not verified yet (25 s bake)" eval '! verdict_is web web:v2 healthy'

set_image deployment web web:v3
wait_until 10 "v3 ReplicaSet exists" rs_exists web 3
wait_rollout deployment web 60
expect "v2 was replaced before it was verified" eval '! verdict_is web web:v2 healthy'

healthy_before=$(event_count web RevisionHealthy)
prometheus_stop
set_image deployment web web:v2
wait_until 10 "v2's template is revision 4 (its ReplicaSet re-used)" eval '[ "$(rs_rev_with_image web web:v2)" = 4 ]'
expect_eq "the re-used ReplicaSet is v2's" "$h2" "$(rs_hash web 4)"
wait_rollout deployment web 60
# The bake (25 s) ends during this hold; a verdict on the first rollout's PASS would show here.
hold_for 35 "v2 is not verified healthy while every query is refused" eval '! verdict_is web web:v2 healthy'
wait_until 60 "MetricsBlind Event for the second rollout of v2" has_event web MetricsBlind
expect "v2 is still not verified" eval '! verdict_is web web:v2 healthy'
expect_eq "no RevisionHealthy Event (\"every metric check passed\") for the second rollout" "$healthy_before" \
  "$(event_count web RevisionHealthy)"
expect_eq "no RollbackStarted" 0 "$(event_count web RollbackStarted)"

prometheus_start
wait_until 60 "MetricsRestored Event once outcomes are back" has_event web MetricsRestored
wait_until 60 "v2 verified healthy on fresh outcomes" verdict_is web web:v2 healthy
expect "the record names the current rollout" grep -q " rollout=4 " <<<"$(rs_ann web 4 canary-guard.io/analysis) "
e2e_pass
