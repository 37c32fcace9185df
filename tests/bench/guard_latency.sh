#!/usr/bin/env bash
# Breach-to-PATCH latency of canary-guard against the shell idiom
#   kubectl rollout status deploy/X --timeout=<deadline>s || kubectl rollout undo deploy/X
# on identical Deployments in the same run, for two breaches, plus the crash-loop recovery time. Prints figures;
# asserts no timing (style.md §6). Definitions of every moment measured: tests/bench/guard_analyze.sh.
#
#   tests/bench/guard_latency.sh     (sandbox up; CANARY_GUARD_BIN or a build under build/)
#
# Per scenario, BENCH_WORKLOADS guarded Deployments (prefix <s>-g-) and as many unguarded ones
# (canary-guard.io/enabled=false, prefix <s>-i-) get the same bad image BENCH_ROUNDS times; each round ends when
# every one of them is back on the good image with its rollout complete. Scenarios (BENCH_SCENARIOS):
#   deadline   image tag "unready" (Running, never Ready), progressDeadlineSeconds BENCH_DEADLINE (10). The daemon
#              runs with [pods] ready_grace = "10m": its default (half the deadline) would roll the release back on
#              the not-Ready pod signal before the deadline, which is a different breach.
#   crashloop  image tag "crashloop" (podsim: CrashLoopBackOff, with the sandbox's restart timing: the kubelet's
#              back-off by default, restartCount +1 every ~2 s with CG_SANDBOX_RESTART_BACKOFF=fixed), progressDeadlineSeconds
#              and idiom timeout BENCH_CRASH_DEADLINE (30): the idiom can only act at its timeout.
# Deployments: BENCH_REPLICAS (2) replicas, maxSurge 0 / maxUnavailable 1, so a rollback must bring a healthy pod
# back. Default total: 2 scenarios x 10 guarded x 5 rounds = 100 guarded rollbacks (50 per breach), same for the
# idiom; about 5 minutes.
# shellcheck source=tests/bench/guard_lib.sh
. "$(dirname "$0")/guard_lib.sh"
N=${BENCH_WORKLOADS:-10}
R=${BENCH_ROUNDS:-5}
DL=${BENCH_DEADLINE:-10}
CD=${BENCH_CRASH_DEADLINE:-30}
REPLICAS=${BENCH_REPLICAS:-2}
SCENARIOS=${BENCH_SCENARIOS:-deadline crashloop}
GOOD=bench:v1

bench_init
NS="bench-guard-$(openssl rand -hex 3)"
bench_namespace "$NS"

cat >"$BENCH_DIR/canary-guard.toml" <<EOF
[selection]
namespaces = ["$NS"]

[guard]
bake_time = "5s"
max_concurrent_rollbacks = $((N > 3 ? N : 3))

[pods]
ready_grace = "10m"

[log]
level = "info"
EOF

prefix_of() { [ "$1" = deadline ] && echo dl || echo cl; }
deadline_of() { [ "$1" = deadline ] && echo "$DL" || echo "$CD"; }

: >"$BENCH_DIR/workloads.yaml"
for s in $SCENARIOS; do
  p=$(prefix_of "$s")
  for ((i = 1; i <= N; i++)); do
    deploy_yaml "$(printf '%s-g-%02d' "$p" "$i")" "$GOOD" "$REPLICAS" "$(deadline_of "$s")" "$p-g" >>"$BENCH_DIR/workloads.yaml"
    deploy_yaml "$(printf '%s-i-%02d' "$p" "$i")" "$GOOD" "$REPLICAS" "$(deadline_of "$s")" "$p-i" \
      '"canary-guard.io/enabled": "false"' >>"$BENCH_DIR/workloads.yaml"
  done
done

watch_start "$NS" deploy "$BENCH_DIR/deploy.jsonl"
watch_start "$NS" pod "$BENCH_DIR/pod.jsonl"
kubectl -n "$NS" create -f "$BENCH_DIR/workloads.yaml" >/dev/null
say "namespace $NS: $(grep -c '^kind: Deployment' "$BENCH_DIR/workloads.yaml") Deployments x $REPLICAS replicas"

# all_back SELECTOR: every selected Deployment runs $GOOD and its rollout is complete.
all_back() {
  kubectl -n "$NS" get deploy -l "$1" -o json | jq -e --arg img "$GOOD" '.items | length > 0 and all(.[];
    .spec.template.spec.containers[0].image == $img and (.status.observedGeneration // 0) >= .metadata.generation
    and (.status.updatedReplicas // 0) == .spec.replicas and (.status.readyReplicas // 0) == .spec.replicas
    and (.status.availableReplicas // 0) == .spec.replicas and (.status.replicas // 0) == .spec.replicas)' >/dev/null
}
log_count() { grep -cE -- "$1" "$CG_LOG" || true; }
at_least() { [ "$(log_count "$1")" -ge "$2" ]; }

wait_until 180 "all Deployments rolled out" all_back bench-group
cg_start "$BENCH_DIR/canary-guard.toml"
guarded_total=$((N * $(wc -w <<<"$SCENARIOS")))
wait_until 120 "baseline verdicts of $guarded_total guarded Deployments" at_least 'decision=mark_healthy' "$guarded_total"
say "baseline recorded"

rollbacks_done=0
for s in $SCENARIOS; do
  p=$(prefix_of "$s")
  d=$(deadline_of "$s")
  tag=$([ "$s" = deadline ] && echo unready || echo crashloop)
  for ((r = 1; r <= R; r++)); do
    bad="bench:r$r-$tag"
    printf '%s %d %s %s %d %s %s\n' "$s" "$r" "$bad" "$GOOD" "$d" "$p-g-" "$p-i-" >>"$BENCH_DIR/rounds.tsv"
    kubectl -n "$NS" set image deploy -l "bench-group=$p-g" "app=$bad" >/dev/null
    idiom=()
    for ((i = 1; i <= N; i++)); do
      x=$(printf '%s-i-%02d' "$p" "$i")
      # The idiom as a CD pipeline runs it: deploy, wait at most the deadline, undo on failure.
      (
        kubectl -n "$NS" set image "deploy/$x" "app=$bad" >/dev/null
        kubectl -n "$NS" rollout status "deploy/$x" --timeout="${d}s" >/dev/null 2>&1 ||
          kubectl -n "$NS" rollout undo "deploy/$x" >/dev/null
      ) &
      idiom+=($!)
    done
    for pid in "${idiom[@]}"; do wait "$pid" || say "idiom pipeline $pid exited $?"; done
    rollbacks_done=$((rollbacks_done + N))
    wait_until $((d + 120)) "$s round $r: every Deployment back on $GOOD and complete" all_back "bench-group in ($p-g,$p-i)"
    # Succeeded or failed: either ends the record (a failed record after a good PATCH is a daemon bug, reported in
    # the decision counts below, not a reason to stop measuring).
    wait_until 60 "$s round $r: guarded rollback records closed" at_least 'decision=rollback_(succeeded|failed) ' "$rollbacks_done"
    say "$s round $r done ($bad)"
  done
done
cg_stop
sleep 1  # the watchers' last events
for p in "${BENCH_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
for p in "${BENCH_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
BENCH_PIDS=()

figure "== guard_latency: $N guarded + $N idiom Deployments x $R rounds per scenario ($SCENARIOS), $REPLICAS replicas, deadline ${DL}s (crashloop: ${CD}s)"
"$BENCH_ROOT/tests/bench/guard_analyze.sh" "$BENCH_DIR"
figure "  daemon decisions (from its log):"
grep -oE 'workload=[^ ]+ kind=[a-z]+ revision=[0-9]+ decision=rollback[a-z_]* reason=[^ ]+' "$CG_LOG" |
  sed -E 's/workload=[^/]+\/(..)-g-[0-9]+ kind=[a-z]+ revision=[0-9]+/\1/' | sort | uniq -c | sed 's/^/    /'
figure "  samples: $BENCH_DIR/samples.tsv$([ "$BENCH_KEEP" = 1 ] || echo ' (removed; BENCH_KEEP=1 keeps it)')"
