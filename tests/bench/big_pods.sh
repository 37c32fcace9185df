#!/usr/bin/env bash
# canary-guard starting against BENCH_BIGPODS (500) pods of ~BENCH_BIGPODS_KB (40) KB each (a large annotation, as
# sidecar-injected pods or large environments are) in one namespace: 20 MB of pods, over the daemon's 16 MiB body
# cap for one response. Prints the time from start to /readyz 200 (every informer listed and live) and the
# daemon's peak resident memory (VmHWM from /proc/PID/status), with the list path it took (the watch cache's one
# response over the cap, then pages halved to fit). Before issue #11 §2 the daemon logged `list_failed ... response
# body over 16777216 bytes` every few seconds and never became ready.
#
#   tests/bench/big_pods.sh        (sandbox up; CANARY_GUARD_BIN or a build under build/)
#
# The daemon is restricted to the benchmark's namespace ([selection] namespaces), so it lists only those pods.
# Deletes its namespace afterwards (bounded wait).
# shellcheck source=tests/bench/guard_lib.sh
. "$(dirname "$0")/guard_lib.sh"
COUNT=${BENCH_BIGPODS:-500}
KB=${BENCH_BIGPODS_KB:-40}
BATCH=25
CREATORS=4

bench_init
NS="bench-bigpods-$(openssl rand -hex 3)"
bench_namespace "$NS"

# One JSON List of BATCH pods per file; each pod carries KB kilobytes of annotation (random hex: does not compress).
python3 - "$BENCH_DIR" "$COUNT" "$KB" "$BATCH" <<'PY'
import json, os, sys
d, count, kb, batch = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
for b in range(0, count, batch):
    items = []
    for i in range(b, min(count, b + batch)):
        items.append({"apiVersion": "v1", "kind": "Pod",
                      "metadata": {"name": "big-%04d" % i, "labels": {"app": "big"},
                                   "annotations": {"bench/blob": os.urandom(kb * 512).hex()}},
                      "spec": {"terminationGracePeriodSeconds": 0,
                               "containers": [{"name": "app", "image": "bench:v1"}]}})
    with open(os.path.join(d, "pods.%04d.json" % (b // batch)), "w") as f:
        json.dump({"apiVersion": "v1", "kind": "List", "items": items}, f)
PY
files=("$BENCH_DIR"/pods.*.json)
t_create=$(date +%s.%N)
created=0
for ((i = 0; i < ${#files[@]}; i += CREATORS)); do
  pids=()
  for ((j = i; j < i + CREATORS && j < ${#files[@]}; j++)); do
    kubectl -n "$NS" create -f "${files[$j]}" >/dev/null &
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p" || die "kubectl create failed"; done
  created=$((created + ${#pids[@]} * BATCH))
  say "created $((created > COUNT ? COUNT : created)) of $COUNT pods"
done
say "$COUNT pods of ~$KB KB created in $(echo "$(date +%s.%N) - $t_create" | bc) s"
bytes=$(kubectl -n "$NS" get pods -o json | wc -c)
say "the namespace's pods as one JSON list: $((bytes / 1024 / 1024)) MiB"

printf '[selection]\nnamespaces = ["%s"]\n\n[log]\nlevel = "info"\n' "$NS" >"$BENCH_DIR/canary-guard.toml"
CG_LOG="$BENCH_DIR/canary-guard.log"
CG_PORT=$(free_port)
t_start=$(date +%s.%N)
"$CANARY_GUARD_BIN" run --config "$BENCH_DIR/canary-guard.toml" --kubeconfig "$CANARY_GUARD_KUBECONFIG" \
  --listen "127.0.0.1:$CG_PORT" >"$CG_LOG" 2>&1 </dev/null &
CG_PID=$!
ready() { [ "$(curl -s --max-time 2 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$CG_PORT/readyz")" = 200 ]; }
failures() { grep -c 'event=list_failed' "$CG_LOG" || true; }
deadline=$((SECONDS + 300))
next_report=$((SECONDS + 10))
until ready; do
  kill -0 "$CG_PID" 2>/dev/null || { CG_PID=""; die "canary-guard exited: $(tail -n 5 "$CG_LOG")"; }
  if ((SECONDS >= deadline)); then
    figure "== big_pods: NOT READY within 300 s; $(failures) failed lists"
    die "canary-guard not ready within 300 s: $(grep -m1 'event=list_failed' "$CG_LOG" || true)"
  fi
  if ((SECONDS >= next_report)); then
    say "waiting for /readyz ($(failures) failed lists so far)"
    next_report=$((SECONDS + 10))
  fi
  sleep 0.1
done
t_ready=$(date +%s.%N)
sleep 2  # the first watches open; then read the peak
hwm=$(hwm_kb "$CG_PID")
rss=$(rss_kb "$CG_PID")
synced_line=$(grep -m1 'event=caches_synced' "$CG_LOG" | sed -E 's/.*event=caches_synced //')
cg_stop

mb() { echo "scale=1; $1 / 1024" | bc; }
figure "== big_pods: $COUNT pods of ~$KB KB in one namespace ($((bytes / 1024 / 1024)) MiB as one list; body cap 16 MiB)"
figure "  start -> /readyz 200: $(printf '%.2f' "$(echo "$t_ready - $t_start" | bc)") s; caches at sync: $synced_line"
figure "  peak RSS (VmHWM) $(mb "$hwm") MB; RSS 2 s after ready $(mb "$rss") MB"
figure "  list path: $(grep -c 'event=cache_list_too_large' "$CG_LOG" || true) watch-cache list(s) over the cap, $(grep -c 'event=page_too_large' "$CG_LOG" || true) page(s) halved, $(failures) failed list(s)"

bench_delete_namespace "$NS"
