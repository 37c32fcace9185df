#!/usr/bin/env bash
# Metric analysis: from the evaluation that reaches k-of-n FAIL to the rollback PATCH accepted, over
# BENCH_WORKLOADS x BENCH_ROUNDS rollbacks (default 10 x 5 = 50) of errors50 releases against the sandbox's real
# Prometheus scraping podsim. Prints figures; asserts no timing (style.md §6).
#   tests/bench/metric_latency.sh     (sandbox up; CANARY_GUARD_BIN or a build under build/)
#  trip         the daemon's own log stamp of `component=analysis ... event=tripped` for the workload (the evaluation
#               that reached k-of-n, logged as soon as its result was recorded)
#  PATCH        the stamp of the first Deployment watch event, after the round started, whose template runs the
#               good image again
# Both clocks are this machine's; the daemon logs in ms.
# shellcheck source=tests/bench/guard_lib.sh
. "$(dirname "$0")/guard_lib.sh"
N=${BENCH_WORKLOADS:-10}
R=${BENCH_ROUNDS:-5}
# Seconds between the releases of one round. 0: all N trip in the same evaluation round (the worst case: N rollbacks
# start in the same millisecond); the default 2.5 s (> the 2 s check interval) gives each its own round.
STAGGER=${BENCH_STAGGER:-2.5}
GOOD=bench:v1

bench_init
[ -n "${PROMETHEUS_URL:-}" ] || skip "PROMETHEUS_URL unset (scripts/sandbox env)"
NS="bench-metric-$(openssl rand -hex 3)"
bench_namespace "$NS"

cat >"$BENCH_DIR/canary-guard.toml" <<EOF2
[selection]
namespaces = ["$NS"]

[guard]
bake_time = "5s"
max_concurrent_rollbacks = $((N > 3 ? N : 3))

[prometheus]
url = "$PROMETHEUS_URL"
eval_lag = "1s"
timeout = "3s"

[[check]]
name = "error-ratio"
query = '''sum by (namespace, {{revision_label}}) (rate(http_requests_total{namespace="{{namespace}}", {{revision_label}}="{{revision_hash}}", code=~"5.."}[5s])) / sum by (namespace, {{revision_label}}) (rate(http_requests_total{namespace="{{namespace}}", {{revision_label}}="{{revision_hash}}"}[5s]))'''
max = 0.05
interval = "2s"
failures = 3
of = 5

[log]
level = "debug"
EOF2

: >"$BENCH_DIR/workloads.yaml"
for ((i = 1; i <= N; i++)); do
  deploy_yaml "$(printf 'm-%02d' "$i")" "$GOOD" 1 600 "m" >>"$BENCH_DIR/workloads.yaml"
done
watch_start "$NS" deploy "$BENCH_DIR/deploy.jsonl"
kubectl -n "$NS" create -f "$BENCH_DIR/workloads.yaml" >/dev/null
all_back() {
  kubectl -n "$NS" get deploy -l bench-group=m -o json | jq -e --arg img "$GOOD" '.items | length > 0 and all(.[];
    .spec.template.spec.containers[0].image == $img and (.status.observedGeneration // 0) >= .metadata.generation
    and (.status.updatedReplicas // 0) == .spec.replicas and (.status.availableReplicas // 0) == .spec.replicas
    and (.status.replicas // 0) == .spec.replicas)' >/dev/null
}
log_count() { grep -cE -- "$1" "$CG_LOG" || true; }
at_least() { [ "$(log_count "$1")" -ge "$2" ]; }
wait_until 180 "all Deployments rolled out" all_back
cg_start "$BENCH_DIR/canary-guard.toml"
wait_until 120 "baseline verdicts of $N Deployments" at_least 'decision=mark_healthy' "$N"

done_n=0
for ((r = 1; r <= R; r++)); do
  bad="bench:r$r-errors50"
  printf '%d %s %s\n' "$r" "$bad" "$(date +%s.%N)" >>"$BENCH_DIR/rounds.tsv"
  if [ "$STAGGER" = 0 ]; then
    kubectl -n "$NS" set image deploy -l bench-group=m "app=$bad" >/dev/null
  else
    for ((i = 1; i <= N; i++)); do
      kubectl -n "$NS" set image "deploy/$(printf 'm-%02d' "$i")" "app=$bad" >/dev/null
      sleep "$STAGGER"
    done
  fi
  done_n=$((done_n + N))
  wait_until 180 "round $r: $done_n metric rollbacks started" at_least 'decision=rollback reason=metric:' "$done_n"
  wait_until 120 "round $r: every Deployment back on $GOOD" all_back
  wait_until 60 "round $r: rollback records closed" at_least 'decision=rollback_(succeeded|failed) ' "$done_n"
  say "round $r done ($bad)"
done
cg_stop
sleep 1
for p in "${BENCH_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
for p in "${BENCH_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
BENCH_PIDS=()

figure "== metric_latency: $N Deployments x $R rounds, errors50 releases $( [ "$STAGGER" = 0 ] && echo 'all at once' || echo "${STAGGER}s apart"), check interval 2s, 3 of 5"
python3 - "$BENCH_DIR" "$CG_LOG" "$NS" <<'PY'
import json, math, re, sys
from datetime import datetime, timezone
d, log, ns = sys.argv[1], sys.argv[2], sys.argv[3]
rounds = [l.split() for l in open(f"{d}/rounds.tsv") if l.strip()]
trips = {}  # (workload, round) -> stamp
stamp_re = re.compile(r'^(\S+Z) .*component=analysis check=\S+ workload=' + re.escape(ns) + r'/(\S+) event=tripped')
events = []
for line in open(log):
    m = stamp_re.match(line)
    if m:
        t = datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc).timestamp()
        events.append((t, m.group(2)))
deploy = {}
for line in open(f"{d}/deploy.jsonl"):
    try:
        e = json.loads(line)
    except ValueError:
        continue
    if e.get("name"):
        deploy.setdefault(e["name"], []).append(e)
samples = []
for i, (r, bad, start) in enumerate(rounds):
    start = float(start)
    end = float(rounds[i + 1][2]) if i + 1 < len(rounds) else 1e18
    for t, w in events:
        if not (start <= t < end):
            continue
        # PATCH accepted: the first event after the trip whose template is the good image again.
        seen_bad = False
        for e in sorted(deploy.get(w, []), key=lambda e: e["t"]):
            if e["t"] < start:
                continue
            if e.get("image") == bad:
                seen_bad = True
            elif seen_bad and e.get("image") == "bench:v1" and e["t"] >= t - 0.001:
                samples.append(e["t"] - t)
                break
samples.sort()
def pct(p):
    return samples[min(len(samples) - 1, max(0, math.ceil(p / 100 * len(samples)) - 1))]
if samples:
    print(f"  trip (k-of-n reached) -> rollback PATCH accepted: n={len(samples)} p50={pct(50)*1000:.1f} ms "
          f"p90={pct(90)*1000:.1f} ms p99={pct(99)*1000:.1f} ms max={samples[-1]*1000:.1f} ms")
else:
    print("  no samples (no trip lines matched)")
PY
figure "  daemon decisions (from its log): $(grep -cE 'kind=deployment revision=[0-9]+ decision=rollback reason=metric:' "$CG_LOG") metric rollbacks, $(grep -cE 'kind=deployment revision=[0-9]+ decision=rollback_succeeded' "$CG_LOG") succeeded"
