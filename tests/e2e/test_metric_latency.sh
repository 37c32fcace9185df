#!/usr/bin/env bash
# Metric rollback on latency: v2 (podsim latency800: log-normal latency around 800 ms) has a p99 near 2.4 s in the
# sandbox (histogram_quantile interpolates inside the 1..2.5 s bucket); v1 (20 ms) has a p99 near 0.05 s. The check
# latency-p99 (max 0.5 s) rolls v2 back to v1 with reason metric:latency-p99; its pods are Ready throughout, so no
# pod signal could have done it.
. "$(dirname "$0")/lib.sh"
e2e_init mlatency
p99='histogram_quantile(0.99, sum by (le, namespace, {{revision_label}}) (rate(http_request_duration_seconds_bucket{namespace="{{namespace}}", {{revision_label}}="{{revision_hash}}"}[10s])))'
CG_GUARD_TOML='bake_time = "10s"' cg_metrics_config "$(metric_check latency-p99 "$p99" 'max = 0.5')"
cg_start

deploy_create web web:v1 2
wait_rollout deployment web
wait_until 60 "v1 verdict healthy" verdict_is web web:v1 healthy
# v1 is the baseline at once (first sight); its p99 needs a few scrapes before Prometheus has it.
v1_p99_ok() { local v; v=$(prom_values "$(prom_render "$p99" web 1)" | head -n1); [ -n "$v" ] && num_cmp "$v < 0.5"; }
wait_until 30 "premise: v1's p99 is below 0.5 s" v1_p99_ok

set_image deployment web web:v2-latency800
wait_until 10 "v2 ReplicaSet exists" rs_exists web 2
wait_until 60 "RollbackStarted Event" has_event web RollbackStarted
msg=$(event_messages web RollbackStarted | head -n1)
say "RollbackStarted: $msg"
expect "RollbackStarted names check, value (> 1 s), threshold and window" \
  metric_rollback_message_ok latency-p99 "$msg" '[1-9][0-9]*\.[0-9]' 0.5

wait_rollout deployment web 60
expect_eq "template image back to v1" web:v1 "$(image_of deployment web)"
wait_until 30 "v2 rollback record state=succeeded" rollback_state_is web web:v2-latency800 succeeded
expect_eq "rollback record reason" metric:latency-p99 "$(field "$(rollback_of_image web web:v2-latency800)" reason)"
expect "v2 verdict failed" verdict_is web web:v2-latency800 failed
expect_eq "v2 verdict reason" metric:latency-p99 "$(field "$(verdict_of_image web web:v2-latency800)" reason)"
expect "v1 verdict still healthy" verdict_is web web:v1 healthy
sleep 3  # a second rollback would show within a few evaluations
expect_eq "exactly one RollbackStarted Event" 1 "$(event_count web RollbackStarted)"
e2e_pass
