#!/usr/bin/env bash
# Memory and CPU with BENCH_RSS_WORKLOADS (1000) Deployments under metric analysis: three checks (error ratio, p99
# latency from the duration histogram, request rate) every 5 s against the sandbox's real Prometheus scraping podsim.
# Each Deployment (1 replica) gets a baseline v1, then a healthy v2 whose bake time (1 h) keeps it under analysis for
# the whole sample. Prints, over BENCH_RSS_SECONDS (60) once every v2 carries analysis state and its windows are
# full: the daemon's RSS (VmRSS min/max/end, VmHWM), its CPU per interval, and the Prometheus queries per interval
# (the daemon's own canary_guard_prometheus_requests_total). Targets (printed, not asserted: style.md §6): RSS <= 48 MB
# with 1,000 workloads under analysis, queries per interval = number of checks. The daemon logs at info, as in
# production (debug would log a line per workload and evaluation).
#
#   tests/bench/metric_rss.sh     (sandbox up; CANARY_GUARD_BIN or a build under build/)
#
# Setup speed is the sandbox's: 2,000 rollouts at the controller-manager's client QPS. scripts/sandbox up takes
# CG_SANDBOX_KCM_QPS (scripts/bench sets 200 when it starts the sandbox); at client-go's default 20 the setup takes
# several minutes, and this script says so. The figures themselves are the daemon's: /proc of its pid.
# shellcheck source=tests/bench/guard_lib.sh
. "$(dirname "$0")/guard_lib.sh"
COUNT=${BENCH_RSS_WORKLOADS:-1000}
SAMPLE=${BENCH_RSS_SECONDS:-60}
CREATORS=8  # parallel kubectl: kubectl 1.20 throttles itself to 5 requests/s
INTERVAL=5

bench_init
[ -n "${PROMETHEUS_URL:-}" ] || skip "PROMETHEUS_URL unset (scripts/sandbox env)"
qps=$(tr '\0' ' ' <"/proc/$(pgrep -f 'kube-controller-manager.*--kubeconfig' | head -n1)/cmdline" 2>/dev/null |
  grep -oE -- '--kube-api-qps [0-9.]+' | awk '{print $2}' || true)
say "controller-manager client QPS: ${qps:-20 (client-go default)}$([ -z "$qps" ] && echo '; setup will be slow (CG_SANDBOX_KCM_QPS=200 scripts/sandbox up)')"
NS="bench-rss-$(openssl rand -hex 3)"
bench_namespace "$NS"

names=()
for ((i = 1; i <= COUNT; i++)); do names+=("$(printf 'rss-%04d' "$i")"); done
for ((c = 0; c < CREATORS; c++)); do : >"$BENCH_DIR/workloads.$c.yaml"; done
for ((i = 0; i < COUNT; i++)); do
  deploy_yaml "${names[$i]}" bench:v1 1 600 rss >>"$BENCH_DIR/workloads.$((i % CREATORS)).yaml"
done
# parallel CMD...: runs CMD deploy/NAME... on CREATORS slices of the Deployment names, waits for all.
parallel() {
  local pids=() c
  for ((c = 0; c < CREATORS; c++)); do
    local slice=()
    for ((i = c; i < COUNT; i += CREATORS)); do slice+=("deploy/${names[$i]}"); done
    [ ${#slice[@]} -gt 0 ] && { "$@" "${slice[@]}" >/dev/null & pids+=($!); }
  done
  for p in "${pids[@]}"; do wait "$p" || die "'$*' failed"; done
}
complete_count() {  # IMAGE: Deployments complete on IMAGE
  kubectl -n "$NS" get deploy -o json | jq --arg img "$1" '[.items[] | select(.spec.template.spec.containers[0].image == $img
    and (.status.observedGeneration // 0) >= .metadata.generation and (.status.updatedReplicas // 0) == .spec.replicas
    and (.status.availableReplicas // 0) == .spec.replicas and (.status.replicas // 0) == .spec.replicas)] | length'
}
wait_complete() {  # IMAGE
  local deadline=$((SECONDS + 900)) next=$((SECONDS + 15))
  until [ "$(complete_count "$1")" -ge "$COUNT" ]; do
    ((SECONDS < deadline)) || die "not all $COUNT Deployments complete on $1 within 900 s"
    if ((SECONDS >= next)); then say "complete on $1: $(complete_count "$1") of $COUNT"; next=$((SECONDS + 15)); fi
    sleep 2
  done
}

t0=$(date +%s.%N)
pids=()
for ((c = 0; c < CREATORS; c++)); do
  kubectl -n "$NS" create -f "$BENCH_DIR/workloads.$c.yaml" >/dev/null &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || die "kubectl create failed"; done
say "$COUNT Deployments created; waiting for v1 to roll out"
wait_complete bench:v1
say "v1 complete everywhere after $(echo "$(date +%s.%N) - $t0" | bc) s"

sel='namespace="{{namespace}}", {{revision_label}}="{{revision_hash}}"'
cat >"$BENCH_DIR/canary-guard.toml" <<EOF
[selection]
namespaces = ["$NS"]

[guard]
bake_time = "1h"

[prometheus]
url = "$PROMETHEUS_URL"
eval_lag = "1s"
timeout = "10s"

[analysis]
max_blind = "10m"

[[check]]
name = "error-ratio"
query = '''sum by (namespace, {{revision_label}}) (rate(http_requests_total{$sel, code=~"5.."}[30s])) / sum by (namespace, {{revision_label}}) (rate(http_requests_total{$sel}[30s]))'''
max = 0.05
interval = "${INTERVAL}s"

[[check]]
name = "p99-latency"
query = '''histogram_quantile(0.99, sum by (le, namespace, {{revision_label}}) (rate(http_request_duration_seconds_bucket{$sel}[30s])))'''
max = 0.5
interval = "${INTERVAL}s"

[[check]]
name = "request-rate"
query = '''sum by (namespace, {{revision_label}}) (rate(http_requests_total{$sel}[30s]))'''
min = 0.01
interval = "${INTERVAL}s"

[log]
level = "info"
EOF
cg_start "$BENCH_DIR/canary-guard.toml"
baselined() { grep -c "workload=$NS/rss-[0-9]* kind=deployment revision=1 decision=mark_healthy reason=baseline" "$CG_LOG" || true; }
wait_until 600 "baseline verdicts of all $COUNT" count_at_least baselined "$COUNT"
rss_idle=$(rss_kb "$CG_PID")
say "baseline of all $COUNT recorded (RSS $((rss_idle / 1024)) MB); releasing v2 everywhere"
set_v2() { kubectl -n "$NS" set image "$@" app=bench:v2; }
parallel set_v2
wait_complete bench:v2
say "v2 complete everywhere; waiting until every v2 ReplicaSet carries analysis state"
analysed() {
  kubectl -n "$NS" get rs -o json | jq '[.items[] | select(((.metadata.annotations["canary-guard.io/verdict"] // "") == "")
    and ((.metadata.annotations["canary-guard.io/analysis"] // "") | test(" ")))] | length'
}
wait_until 300 "analysis state on all $COUNT v2 ReplicaSets" count_at_least analysed "$COUNT"
# The windows fill in `of` (5) evaluations; after that the persisted state stops changing (no more PATCHes).
say "all $COUNT under analysis; settling $((INTERVAL * 6)) s until the windows are full, then sampling for $SAMPLE s"
sleep $((INTERVAL * 6))

prom_requests() {
  curl -sf --max-time 3 "http://127.0.0.1:$CG_PORT/metrics" |
    awk '/^canary_guard_prometheus_requests_total/ {s += $NF} END {printf "%d", s}'
}
hz=$(getconf CLK_TCK)
req0=$(prom_requests)
ticks0=$(cpu_ticks "$CG_PID")
ts0=$(date +%s.%N)
rss_min="" rss_max=0
end=$((SECONDS + SAMPLE))
while ((SECONDS < end)); do
  r=$(rss_kb "$CG_PID")
  if [ -z "$rss_min" ] || ((r < rss_min)); then rss_min=$r; fi
  ((r > rss_max)) && rss_max=$r
  sleep 1
done
ticks1=$(cpu_ticks "$CG_PID")
ts1=$(date +%s.%N)
req1=$(prom_requests)
rss_end=$(rss_kb "$CG_PID")
hwm=$(hwm_kb "$CG_PID")
intervals=$(echo "($ts1 - $ts0) / $INTERVAL" | bc -l)
synced_line=$(grep -m1 'event=caches_synced' "$CG_LOG" | sed -E 's/.*event=caches_synced //')
under=$(analysed)
cg_stop

mb() { echo "scale=1; $1 / 1024" | bc; }
secs() { printf '%.3f' "$(echo "$1" | bc -l)"; }
checks=3
figure "== metric_rss: $COUNT Deployments (1 replica) under analysis, $checks checks every ${INTERVAL}s, sampled ${SAMPLE} s"
figure "  caches at sync: $synced_line"
figure "  revisions with analysis state and no verdict (kept under analysis by the 1 h bake): $under of $COUNT"
figure "  RSS under analysis: min $(mb "$rss_min") MB, max $(mb "$rss_max") MB, end $(mb "$rss_end") MB; peak (VmHWM) $(mb "$hwm") MB  (target <= 48 MB); before v2 (baselines only) $(mb "$rss_idle") MB"
figure "  Prometheus queries: $((req1 - req0)) in $(secs "$ts1 - $ts0") s = $(secs "($req1 - $req0) / $intervals") per ${INTERVAL}s interval for $checks checks x $COUNT workloads (batched: target $checks)"
figure "  CPU: $((ticks1 - ticks0)) ticks (1/$hz s) = $(secs "($ticks1 - $ticks0) * 100 / $hz / ($ts1 - $ts0)") % of one core; per interval (all $checks checks for $COUNT workloads): $(secs "($ticks1 - $ticks0) * 1000 / $hz / $intervals") ms"

bench_delete_namespace "$NS"
