#!/usr/bin/env bash
# Alert -> rollback latency (issue #12 §6): the time from the daemon receiving Alertmanager's webhook to the rollback
# PATCH accepted by the apiserver, with the re-check against the sandbox's real Alertmanager (GET /api/v2/alerts) in
# between. BENCH_WORKLOADS (10) Deployments x BENCH_ROUNDS (5) rounds = 50 alert-driven rollbacks: each round deploys a
# new (healthy) image to all of them, posts one alert per Deployment to Alertmanager (as Prometheus would), and
# Alertmanager routes them to the daemon: N rollbacks at once, a burst. Then BENCH_SINGLE_ROUNDS (5) rounds of the
# same with the alerts posted one at a time, each after the previous rollback was traced: one rollback alone, the
# latency an on-call team sees for one bad release. Figures come from the daemon's `event=rollback_trace ...
# webhook_to_patch_ms=` lines (its own clock at both ends). Then (issue #12 §6):
#  - its own CanaryGuardRollback page: rollback decided -> accepted by Alertmanager (`event=first_post after_ms=`);
#  - a rollback is never slower with Alertmanager down: BENCH_WORKLOADS crash-looping releases rolled back with the
#    daemon's own alerts going to the live Alertmanager, then the same with them going to a closed port; decision ->
#    PATCH accepted (`rollback_trace total_ms=`) compared.
#
#   tests/bench/alert_latency.sh     (sandbox up; CANARY_GUARD_BIN or a build under build/)
# shellcheck source=tests/bench/guard_lib.sh
. "$(dirname "$0")/guard_lib.sh"
N=${BENCH_WORKLOADS:-10}
R=${BENCH_ROUNDS:-5}
bench_init
[ -n "${ALERTMANAGER_URL:-}" ] || skip "the sandbox has no Alertmanager"
NS="bench-alert-$(openssl rand -hex 3)"
bench_namespace "$NS"
TOKEN=$(head -c 18 /dev/urandom | base64 | tr '+/' '-_')
printf '%s\n' "$TOKEN" >"$BENCH_DIR/token"
cp "$BENCH_DIR/token" "$CG_SANDBOX_DIR/alertmanager-token-$NS"
cat >"$BENCH_DIR/canary-guard.toml" <<EOT
[selection]
namespaces = ["$NS"]

[guard]
bake_time = "600s"
max_concurrent_rollbacks = $N

[alertmanager]
url = "$ALERTMANAGER_URL"
webhook_token_file = "$BENCH_DIR/token"
alert_grace = "0s"

[log]
level = "info"
EOT
: >"$BENCH_DIR/workloads.yaml"
for ((i = 1; i <= N; i++)); do
  deploy_yaml "$(printf 'al-%02d' "$i")" bench:v1 2 600 al >>"$BENCH_DIR/workloads.yaml"
done
# Every round rolls back to v1's ReplicaSet, the first one created. Kubernetes 1.20 cleans up old ReplicaSets beyond
# revisionHistoryLimit (10) oldest-created first (../shared/spec/kubernetes-rollouts.md §2.5), so a release that
# completes its rollout after ten such rounds deletes v1's, the only revision verified healthy, and the guard holds
# (no_healthy_revision) instead of rolling back. Keep the history long enough for every round.
sed -i 's/^  revisionHistoryLimit: 10$/  revisionHistoryLimit: 100/' "$BENCH_DIR/workloads.yaml"
kubectl -n "$NS" create -f "$BENCH_DIR/workloads.yaml" >/dev/null
all_on() {
  kubectl -n "$NS" get deploy -l bench-group=al -o json | jq -e --arg img "$1" '.items | length > 0 and all(.[];
    .spec.template.spec.containers[0].image == $img and (.status.observedGeneration // 0) >= .metadata.generation
    and (.status.updatedReplicas // 0) == .spec.replicas and (.status.availableReplicas // 0) == .spec.replicas)' >/dev/null
}
at_least() { [ "$(grep -cE -- "$1" "$CG_LOG" || true)" -ge "$2" ]; }
wait_until 120 "all Deployments rolled out" all_on bench:v1
cg_start "$BENCH_DIR/canary-guard.toml"
"$BENCH_ROOT/scripts/sandbox" route-alerts "$NS" "http://127.0.0.1:$CG_PORT/v1/alertmanager" \
  "$CG_SANDBOX_DIR/alertmanager-token-$NS" >&2
trap '"$BENCH_ROOT/scripts/sandbox" route-alerts "$NS" --remove >/dev/null 2>&1 || true; rm -f "$CG_SANDBOX_DIR/alertmanager-token-$NS"; bench_cleanup' EXIT
wait_until 60 "baseline verdicts" at_least 'decision=mark_healthy' "$N"

for ((r = 1; r <= R; r++)); do
  img="bench:r$r"
  kubectl -n "$NS" set image deploy -l bench-group=al "app=$img" >/dev/null
  wait_until 120 "round $r: all on $img" all_on "$img"
  now=$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)
  ends=$(date -u -d '+5 min' +%Y-%m-%dT%H:%M:%SZ)
  body=$(for ((i = 1; i <= N; i++)); do
    printf '{"labels":{"alertname":"BenchR%d","namespace":"%s","workload":"al-%02d","severity":"page"},"startsAt":"%s","endsAt":"%s"}\n' \
      "$r" "$NS" "$i" "$now" "$ends"
  done | jq -s -c .)
  curl -sf --max-time 5 -X POST -H 'Content-Type: application/json' "$ALERTMANAGER_URL/api/v2/alerts" -d "$body" >/dev/null ||
    die "Alertmanager refused the alerts"
  wait_until 60 "round $r: $((r * N)) alert rollbacks traced" at_least 'event=rollback_trace .*webhook_to_patch_ms=' $((r * N))
  wait_until 120 "round $r: all back on bench:v1" all_on bench:v1
  say "round $r done"
done
burst=$((R * N))
S=${BENCH_SINGLE_ROUNDS:-5}
for ((r = 1; r <= S; r++)); do
  img="bench:s$r"
  kubectl -n "$NS" set image deploy -l bench-group=al "app=$img" >/dev/null
  wait_until 120 "single round $r: all on $img" all_on "$img"
  for ((i = 1; i <= N; i++)); do
    now=$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)
    ends=$(date -u -d '+5 min' +%Y-%m-%dT%H:%M:%SZ)
    body=$(printf '[{"labels":{"alertname":"BenchS%d","namespace":"%s","workload":"al-%02d","severity":"page"},"startsAt":"%s","endsAt":"%s"}]' \
      "$r" "$NS" "$i" "$now" "$ends")
    curl -sf --max-time 5 -X POST -H 'Content-Type: application/json' "$ALERTMANAGER_URL/api/v2/alerts" -d "$body" >/dev/null ||
      die "Alertmanager refused the alert"
    wait_until 60 "single round $r: alert $i rolled back" at_least 'event=rollback_trace .*webhook_to_patch_ms=' $((burst + (r - 1) * N + i))
  done
  wait_until 120 "single round $r: all back on bench:v1" all_on bench:v1
  say "single round $r done"
done
cg_stop
ALERT_LOG=$BENCH_DIR/alerts.log
cp "$CG_LOG" "$ALERT_LOG"  # the next starts write canary-guard.log again
# samples FILE: sorted numbers, one a line; pct P FILE: the P-th percentile (nearest rank).
pct() { awk -v p="$1" '{a[NR]=$1} END {if (NR == 0) {print "-"; exit} i=int((NR*p+99)/100); if (i<1) i=1; print a[i]}' "$2"; }
summary() { echo "n $(wc -l <"$1")   p50 $(pct 50 "$1") ms   p90 $(pct 90 "$1") ms   p99 $(pct 99 "$1") ms   max $(tail -n1 "$1") ms"; }
grep -oE 'webhook_to_patch_ms=[0-9]+' "$ALERT_LOG" | cut -d= -f2 | head -n "$burst" | sort -n >"$BENCH_DIR/samples.txt"
grep -oE 'webhook_to_patch_ms=[0-9]+' "$ALERT_LOG" | cut -d= -f2 | tail -n +"$((burst + 1))" | sort -n >"$BENCH_DIR/single.txt"
one_single=$(grep -E 'event=rollback_trace .*webhook_to_patch_ms=' "$ALERT_LOG" | tail -n 1 | grep -oE 'total_ms=.*')
grep -E 'event=first_post alert=CanaryGuardRollback ' "$ALERT_LOG" | grep -oE 'after_ms=[0-9]+' | cut -d= -f2 | sort -n \
  >"$BENCH_DIR/pages.txt"
one_trace=$(grep -m1 -oE 'total_ms=.*' "$ALERT_LOG")

# Crash-looping releases, own alerts to the live Alertmanager (up) and then to a closed port (down).
# Rounds alternate (up, down, up, down ...: BENCH_CRASH_ROUNDS each), so that load and history affect both alike.
crash_round() {  # TAG AM_URL ROUND
  sed -e "/^webhook_token_file/d" -e "s#^url = .*#url = \"$2\"#" "$BENCH_DIR/canary-guard.toml" >"$BENCH_DIR/$1.toml"
  cg_start "$BENCH_DIR/$1.toml"
  kubectl -n "$NS" set image deploy -l bench-group=al "app=bench:$1-$3-crashloop" >/dev/null
  wait_until 120 "$1 round $3: $N crash-loop rollbacks traced" at_least 'event=rollback_trace decision=rollback ok=true' "$N"
  wait_until 120 "$1 round $3: all back on bench:v1" all_on bench:v1
  cg_stop
  grep -E 'event=rollback_trace decision=rollback ok=true' "$CG_LOG" | grep -oE 'total_ms=[0-9]+' | cut -d= -f2 \
    >>"$BENCH_DIR/crash-$1.unsorted"
  [ "$1" = down ] && { grep -cE 'component=pager event=post_failed' "$CG_LOG" || true; } >>"$BENCH_DIR/down-failures.txt"
  return 0
}
closed_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
for ((r = 1; r <= ${BENCH_CRASH_ROUNDS:-2}; r++)); do
  crash_round up "$ALERTMANAGER_URL" "$r"
  crash_round down "http://127.0.0.1:$closed_port" "$r"
done
sort -n "$BENCH_DIR/crash-up.unsorted" >"$BENCH_DIR/crash-up.txt"
sort -n "$BENCH_DIR/crash-down.unsorted" >"$BENCH_DIR/crash-down.txt"

figure "== alert_latency: webhook received -> rollback PATCH accepted (re-check at the local Alertmanager included)"
figure "  one alert at a time ($S rounds x $N): $(summary "$BENCH_DIR/single.txt")"
figure "  one trace:  $one_single"
figure "  bursts of $N alerts at once ($R rounds): $(summary "$BENCH_DIR/samples.txt")"
figure "  one trace:  $one_trace"
figure "== own alert CanaryGuardRollback: rollback decided -> accepted by Alertmanager (POST /api/v2/alerts)"
figure "  pages: $(summary "$BENCH_DIR/pages.txt")"
figure "== crash-loop rollbacks, decision -> PATCH accepted, own alerts to a live Alertmanager vs a closed port"
figure "  Alertmanager up:   $(summary "$BENCH_DIR/crash-up.txt")"
figure "  Alertmanager down: $(summary "$BENCH_DIR/crash-down.txt")   (failed page posts logged: $(paste -sd+ "$BENCH_DIR/down-failures.txt" | bc))"
figure "  load average: $(cut -d' ' -f1-3 /proc/loadavg)"
