#!/usr/bin/env bash
# canary-guard guarding BENCH_IDLE_WORKLOADS (1000) healthy Deployments (1 replica each) and otherwise idle:
# time to record the baseline verdict of all of them, then resident memory (VmRSS, VmHWM from /proc/PID/status) and
# CPU (utime+stime from /proc/PID/stat) over BENCH_IDLE_SECONDS (60) with nothing changing. Targets (printed, not
# asserted: style.md §6): RSS <= 40 MB, CPU near zero. Deletes its namespace afterwards and waits (bounded) until
# it is gone, so the sandbox is left as it was.
#
#   tests/bench/guard_idle.sh        (sandbox up; CANARY_GUARD_BIN or a build under build/)
#
# The daemon lists and watches only the benchmark's namespace ([selection] namespaces; before issue #11 its
# informers watched the whole cluster, so figures up to 2026-12-06 include every other object of the sandbox); the
# cached counts are printed from the daemon's caches_synced line.
# shellcheck source=tests/bench/guard_lib.sh
. "$(dirname "$0")/guard_lib.sh"
COUNT=${BENCH_IDLE_WORKLOADS:-1000}
IDLE=${BENCH_IDLE_SECONDS:-60}
CREATORS=8  # parallel kubectl create: kubectl 1.20 throttles itself to 5 requests/s

bench_init
NS="bench-idle-$(openssl rand -hex 3)"
bench_namespace "$NS"

for ((c = 0; c < CREATORS; c++)); do : >"$BENCH_DIR/workloads.$c.yaml"; done
for ((i = 1; i <= COUNT; i++)); do
  deploy_yaml "$(printf 'idle-%04d' "$i")" bench:v1 1 600 idle >>"$BENCH_DIR/workloads.$((i % CREATORS)).yaml"
done
t_create=$(date +%s.%N)
pids=()
for ((c = 0; c < CREATORS; c++)); do
  [ -s "$BENCH_DIR/workloads.$c.yaml" ] || continue
  kubectl -n "$NS" create -f "$BENCH_DIR/workloads.$c.yaml" >/dev/null &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || die "kubectl create failed"; done
say "$COUNT Deployments created in $(echo "$(date +%s.%N) - $t_create" | bc) s"

complete_count() {
  kubectl -n "$NS" get deploy -o json | jq '[.items[] | select((.status.observedGeneration // 0) >= .metadata.generation
    and (.status.updatedReplicas // 0) == .spec.replicas and (.status.availableReplicas // 0) == .spec.replicas
    and (.status.replicas // 0) == .spec.replicas)] | length'
}
deadline=$((SECONDS + 900))
next_report=$((SECONDS + 30))
until [ "$(complete_count)" -ge "$COUNT" ]; do
  ((SECONDS < deadline)) || die "not all $COUNT Deployments rolled out within 900 s"
  if ((SECONDS >= next_report)); then say "rolled out: $(complete_count) of $COUNT"; next_report=$((SECONDS + 30)); fi
  sleep 2
done
t_rolled=$(date +%s.%N)
say "all $COUNT rolled out $(echo "$t_rolled - $t_create" | bc) s after the first create"

cat >"$BENCH_DIR/canary-guard.toml" <<EOF
[selection]
namespaces = ["$NS"]

[guard]
bake_time = "5s"

[log]
level = "info"
EOF
t_start=$(date +%s.%N)
cg_start "$BENCH_DIR/canary-guard.toml"
t_synced=$(date +%s.%N)
healthy() { grep -c "workload=$NS/idle-[0-9]* kind=deployment revision=1 decision=mark_healthy reason=baseline" "$CG_LOG" || true; }
deadline=$((SECONDS + 600))
until [ "$(healthy)" -ge "$COUNT" ]; do
  ((SECONDS < deadline)) || die "only $(healthy) of $COUNT baseline verdicts within 600 s"
  kill -0 "$CG_PID" 2>/dev/null || die "canary-guard died"
  sleep 0.5
done
# Log stamps are the daemon's own (UTC, ms): start line to last baseline line.
log_epoch() { date -d "$(cut -d' ' -f1 <<<"$1")" +%s.%N; }
t_first_log=$(log_epoch "$(grep -m1 'event=start' "$CG_LOG")")
t_sync_log=$(log_epoch "$(grep -m1 'event=caches_synced' "$CG_LOG")")
t_last_healthy=$(log_epoch "$(grep 'decision=mark_healthy reason=baseline' "$CG_LOG" | tail -n1)")
rss_baselined=$(rss_kb "$CG_PID")
verdicts=$(kubectl -n "$NS" get rs -o json | jq '[.items[] | select((.metadata.annotations["canary-guard.io/verdict"] // "") | startswith("healthy"))] | length')
say "baseline complete; settling 10 s before sampling"
sleep 10

hz=$(getconf CLK_TCK)
lines0=$(wc -l <"$CG_LOG")
ticks0=$(cpu_ticks "$CG_PID")
t0=$(date +%s.%N)
rss_min="" rss_max=0
end=$((SECONDS + IDLE))
while ((SECONDS < end)); do
  r=$(rss_kb "$CG_PID")
  [ -z "$rss_min" ] || ((r < rss_min)) && rss_min=$r
  ((r > rss_max)) && rss_max=$r
  sleep 1
done
ticks1=$(cpu_ticks "$CG_PID")
t1=$(date +%s.%N)
rss_end=$(rss_kb "$CG_PID")
hwm=$(hwm_kb "$CG_PID")
lines1=$(wc -l <"$CG_LOG")
synced_line=$(grep -m1 'event=caches_synced' "$CG_LOG" | sed -E 's/.*event=caches_synced //')
cg_stop

mb() { echo "scale=1; $1 / 1024" | bc; }
secs() { printf '%.3f' "$(echo "$1" | bc -l)"; }  # SECS EXPRESSION: evaluated, 3 decimals
figure "== guard_idle: $COUNT guarded Deployments (1 replica each), idle ${IDLE} s"
figure "  caches at sync: $synced_line"
figure "  time to baseline all $COUNT: $(secs "$t_last_healthy - $t_first_log") s from daemon start ($(secs "$t_last_healthy - $t_sync_log") s after caches synced; start->synced $(secs "$t_sync_log - $t_first_log") s)"
figure "  ReplicaSets with verdict healthy: $verdicts of $COUNT"
figure "  RSS at baseline complete: $(mb "$rss_baselined") MB; idle: min $(mb "$rss_min") MB, max $(mb "$rss_max") MB, end $(mb "$rss_end") MB; peak (VmHWM) $(mb "$hwm") MB  (target <= 40 MB)"
figure "  CPU idle: $((ticks1 - ticks0)) ticks (1/$hz s) in $(echo "scale=1; ($t1 - $t0) / 1" | bc) s = $(secs "($ticks1 - $ticks0) * 100 / $hz / ($t1 - $t0)") % of one core (target near 0)"
figure "  daemon log lines while idle: $((lines1 - lines0))"
figure "  (setup: create to all rolled out $(secs "$t_rolled - $t_create") s; daemon started at +$(secs "$t_start - $t_create") s, synced at +$(secs "$t_synced - $t_create") s by the script's clock)"

bench_delete_namespace "$NS"
