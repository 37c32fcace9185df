#!/usr/bin/env bash
# Rollback delay under 429s (issue #11 §3): canary-guard talks to a second kube-apiserver on the sandbox's etcd
# with priority and fairness off and one mutating request in flight (tests/e2e/second_apiserver.sh). BENCH_THROTTLE_
# WORKLOADS (10) Deployments get a crash-looping release at once, twice: unloaded, then while BENCH_THROTTLE_PROCESSES
# (2) processes PATCH ConfigMaps through the same apiserver as fast as they can (most writes then get 429 +
# Retry-After). For each rollback: the delay from the daemon's decision (its log line) to the rolled-back template
# seen on a watch of the sandbox's own apiserver. The load runs as a ServiceAccount (system:masters would pass the
# max-in-flight filter uncounted) and PATCHes small ConfigMaps (tests/e2e/mutating_load.py, LOAD_KB). Prints p50 / p99 / max per round, the daemon's throttled requests
# and the load's status counts. Printed, not asserted (style.md §6).
#
#   tests/bench/throttled_rollback.sh        (sandbox up; CANARY_GUARD_BIN or a build under build/)
# shellcheck source=tests/bench/guard_lib.sh
. "$(dirname "$0")/guard_lib.sh"
# shellcheck source=tests/e2e/second_apiserver.sh
. "$(dirname "$0")/../e2e/second_apiserver.sh"
COUNT=${BENCH_THROTTLE_WORKLOADS:-10}
PROCS=${BENCH_THROTTLE_PROCESSES:-2}

bench_init
NS="bench-throttle-$(openssl rand -hex 3)"
bench_namespace "$NS"
apiserver2_start "$BENCH_DIR/apiserver2.log" || die "could not start the second apiserver"
BENCH_PIDS+=("$APISERVER2_PID")
say "second apiserver pid $APISERVER2_PID on $APISERVER2_URL"
apiserver2_kubeconfig "$CANARY_GUARD_KUBECONFIG" "$BENCH_DIR/cg-apiserver2.kubeconfig"
CANARY_GUARD_KUBECONFIG="$BENCH_DIR/cg-apiserver2.kubeconfig"

for ((i = 1; i <= COUNT; i++)); do deploy_yaml "$(printf 'thr-%02d' "$i")" bench:v1 1 600 thr; done >"$BENCH_DIR/deploy.yaml"
kubectl -n "$NS" create -f "$BENCH_DIR/deploy.yaml" >/dev/null
all_v1_ready() {
  [ "$(kubectl -n "$NS" get deploy -o json | jq '[.items[] | select(.spec.template.spec.containers[0].image == "bench:v1"
    and (.status.observedGeneration // 0) >= .metadata.generation and (.status.updatedReplicas // 0) == .spec.replicas
    and (.status.availableReplicas // 0) == .spec.replicas and (.status.replicas // 0) == .spec.replicas)] | length')" -ge "$COUNT" ]
}
wait_until 180 "all $COUNT on v1" all_v1_ready
printf '[selection]\nnamespaces = ["%s"]\n\n[guard]\nbake_time = "5s"\n\n[log]\nlevel = "info"\n' "$NS" >"$BENCH_DIR/canary-guard.toml"
cg_start "$BENCH_DIR/canary-guard.toml"
baselined() { [ "$(grep -c "workload=$NS/thr-[0-9]* kind=deployment revision=1 decision=mark_healthy" "$CG_LOG" || true)" -ge "$COUNT" ]; }
wait_until 120 "all $COUNT baselined" baselined
watch_start "$NS" deploy "$BENCH_DIR/deploy.watch"
sleep 1

# round LABEL IMAGE: all Deployments to IMAGE at once; waits until all are back on v1 and Ready; prints the figures.
round() {
  local label=$1 image=$2 t_set line0 throttled
  line0=$(wc -l <"$CG_LOG")
  t_set=$(date +%s.%N)
  kubectl -n "$NS" set image deploy -l bench-group=thr "app=$image" >/dev/null
  wait_until 300 "$label: all $COUNT rolled back and Ready" all_v1_ready
  throttled=$(tail -n +"$((line0 + 1))" "$CG_LOG" | grep -c 'event=throttled status=429' || true)
  tail -n +"$((line0 + 1))" "$CG_LOG" >"$BENCH_DIR/round-$label.log"
  python3 - "$BENCH_DIR/round-$label.log" "$BENCH_DIR/deploy.watch" "$t_set" "$NS" "$label" "$throttled" <<'PY'
import json, re, sys
from datetime import datetime, timezone
log, watch, t_set, ns, label, throttled = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4], sys.argv[5], sys.argv[6]
decided = {}
for line in open(log):
    m = re.match(r"(\S+) .*workload=%s/(\S+) kind=deployment .*decision=rollback( |$)" % re.escape(ns), line)
    if m and m.group(2) not in decided:
        decided[m.group(2)] = datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc).timestamp()
bad_seen, back = set(), {}
for line in open(watch):
    e = json.loads(line)
    if e.get("t", 0) < t_set or not e.get("name"):
        continue
    n = e["name"]
    if e.get("image") != "bench:v1":
        bad_seen.add(n)
    elif n in bad_seen and n not in back:
        back[n] = e["t"]
d = sorted((back[n] - decided[n]) * 1000 for n in decided if n in back)
def pct(p):
    return d[min(len(d) - 1, int(round(p / 100 * (len(d) - 1))))] if d else float("nan")
print("  %-9s rollbacks measured %d of %d decided; decision -> template back on v1: p50 %.0f ms, p99 %.0f ms, max %.0f ms;"
      " daemon requests answered 429: %s" % (label, len(d), len(decided), pct(50), pct(99), d[-1] if d else float("nan"), throttled))
PY
}

figure "== throttled_rollback: $COUNT crash-looping releases at once, daemon on a second apiserver (APF off, 1 mutating in flight)"
round unloaded bench:v2-crashloop
token=$(load_token "$NS") || die "no token for the load's ServiceAccount"
mutating_load_start "$APISERVER2_URL" "$token" "$NS" "$PROCS" "$BENCH_DIR/load.log"
BENCH_PIDS+=("$LOAD_PID")
sleep 3
round loaded bench:v3-crashloop
mutating_load_stop
figure "  load: $(cat "$BENCH_DIR/load.log")"
cg_stop
apiserver2_stop
bench_delete_namespace "$NS"
