#!/usr/bin/env bash
# First pod start -> rollback PATCH for a crash-looping release, with the default pod rules, under the sandbox's
# restart timing (podsim's default: the kubelet's back-off, first restart at once, then 10 s, 20 s, 40 s ...).
# Prints figures; asserts no timing (style.md §6).
#
#   tests/bench/crashloop_detect.sh     (sandbox up; CANARY_GUARD_BIN or a build under build/)
#
# BENCH_RELEASES (10) Deployments of BENCH_REPLICAS (2) replicas, maxSurge 0 / maxUnavailable 1, each released
# once with its own crash-looping image (bench:rN-crashloop), one after the other, so that no rollback waits for a
# slot or competes for the two cores. Per rule set in BENCH_CRASH_RULES (default "default classic"):
#   default   the shipped config ([pods] untouched: crashloop_restarts 3, crashloop_unready_restarts 2)
#   classic   crashloop_unready_restarts = 0: only crashloop_restarts (3), the rule before it
# Moments, from timestamped watches (tests/bench/guard_lib.sh):
#   first pod start   the first watch event of a pod of the release in phase Running (its container started)
#   PATCH             the first Deployment event after the release whose template is the good image again
# Takes about 20 s per release with "default" and 40 s with "classic" under kubelet timing.
# shellcheck source=tests/bench/guard_lib.sh
. "$(dirname "$0")/guard_lib.sh"
N=${BENCH_RELEASES:-10}
REPLICAS=${BENCH_REPLICAS:-2}
RULES=${BENCH_CRASH_RULES:-default classic}
GOOD=bench:v1

bench_init
backoff=$(grep -A1 -x -- --restart-backoff "$CG_SANDBOX_DIR/cmd/podsim.args" 2>/dev/null | tail -n1 || true)
say "podsim restart back-off: ${backoff:-unknown (an older podsim: fixed 2 s)}"

all_back() {  # NAME: the Deployment runs $GOOD and its rollout is complete
  kubectl -n "$NS" get deploy "$1" -o json | jq -e --arg img "$GOOD" '.spec.template.spec.containers[0].image == $img
    and (.status.observedGeneration // 0) >= .metadata.generation and (.status.updatedReplicas // 0) == .spec.replicas
    and (.status.readyReplicas // 0) == .spec.replicas and (.status.availableReplicas // 0) == .spec.replicas
    and (.status.replicas // 0) == .spec.replicas' >/dev/null
}
log_count() { grep -cE -- "$1" "$CG_LOG" || true; }
at_least() { [ "$(log_count "$1")" -ge "$2" ]; }

# stats FILE: "p50 X s, max Y s (n=N)" over the numbers in FILE (p50: the nearest-rank median).
stats() {
  sort -g "$1" | awk '{ v[NR] = $1 } END { if (NR == 0) { print "no samples"; exit }
    printf "p50 %.1f s, max %.1f s (n=%d)", v[int((NR + 1) / 2)], v[NR], NR }'
}

for rules in $RULES; do
  case "$rules" in
    default) pods_toml="" ;;
    classic) pods_toml="crashloop_unready_restarts = 0" ;;
    *) die "unknown rule set '$rules' (default, classic)" ;;
  esac
  NS="bench-crash-$rules-$(openssl rand -hex 3)"
  bench_namespace "$NS"
  cat >"$BENCH_DIR/canary-guard-$rules.toml" <<EOF
[selection]
namespaces = ["$NS"]

[pods]
$pods_toml

[log]
level = "info"
EOF
  : >"$BENCH_DIR/workloads-$rules.yaml"
  for ((i = 1; i <= N; i++)); do
    deploy_yaml "$(printf 'cl-%02d' "$i")" "$GOOD" "$REPLICAS" 600 cl >>"$BENCH_DIR/workloads-$rules.yaml"
  done
  watch_start "$NS" deploy "$BENCH_DIR/deploy-$rules.jsonl"
  watch_start "$NS" pod "$BENCH_DIR/pod-$rules.jsonl"
  kubectl -n "$NS" create -f "$BENCH_DIR/workloads-$rules.yaml" >/dev/null
  say "$rules: namespace $NS, $N Deployments x $REPLICAS replicas; waiting for them to roll out"
  for ((i = 1; i <= N; i++)); do wait_until 180 "cl-$i rolled out" all_back "$(printf 'cl-%02d' "$i")"; done
  cg_start "$BENCH_DIR/canary-guard-$rules.toml"
  wait_until 120 "baseline verdicts of $N Deployments" at_least 'decision=mark_healthy' "$N"

  : >"$BENCH_DIR/samples-$rules.tsv"
  for ((i = 1; i <= N; i++)); do
    name=$(printf 'cl-%02d' "$i")
    bad="bench:r$i-crashloop"
    t_set=$(date +%s.%N)
    kubectl -n "$NS" set image "deploy/$name" "app=$bad" >/dev/null
    say "$rules: release $i/$N ($name -> $bad), waiting for the rollback (at most 180 s)"
    wait_until 180 "$name back on $GOOD" all_back "$name"
    wait_until 60 "$name rollback record closed" at_least 'decision=rollback_(succeeded|failed) ' "$i"
    sleep 0.5  # the watchers' last events
    t_start=$(jq -r --arg n "$name" --arg b "$bad" 'select(.ev != "DELETED" and .image == $b and .phase == "Running"
      and (.name | startswith($n + "-"))) | .t' "$BENCH_DIR/pod-$rules.jsonl" | head -n1)
    t_patch=$(jq -r --arg n "$name" --arg g "$GOOD" --argjson s "$t_set" 'select(.name == $n and .t > $s
      and .image == $g) | .t' "$BENCH_DIR/deploy-$rules.jsonl" | head -n1)
    [ -n "$t_start" ] && [ -n "$t_patch" ] || die "$name: no first pod start ($t_start) or PATCH ($t_patch) in the watches"
    d=$(echo "$t_patch - $t_start" | bc)
    printf '%s\n' "$d" >>"$BENCH_DIR/samples-$rules.tsv"
    reason=$(grep -oE "workload=$NS/$name kind=deployment revision=[0-9]+ decision=rollback reason=[^ ]+" "$CG_LOG" |
      tail -n1 | sed 's/.*reason=//')
    say "$rules: release $i/$N: first pod start -> PATCH $d s (set image -> first pod start $(echo "$t_start - $t_set" | bc) s; reason $reason)"
  done
  cg_stop
  for p in "${BENCH_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${BENCH_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  BENCH_PIDS=()
  figure "== crashloop_detect ($rules rules, podsim restart back-off ${backoff:-unknown}): first pod start -> rollback PATCH over $N releases: $(stats "$BENCH_DIR/samples-$rules.tsv")"
  figure "   samples (s): $(tr '\n' ' ' <"$BENCH_DIR/samples-$rules.tsv")"
  bench_delete_namespace "$NS"
done
