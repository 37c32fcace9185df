# shellcheck shell=bash
# Shared helpers for the guard's scripted benchmarks (tests/bench/guard_*.sh). Sourced, not run.
#
# A benchmark prints figures; it asserts no timing (style.md §6). It exits 0 when it measured, 77 when it could not
# run here (no sandbox, no binary), 1 when the scenario itself broke (a bounded wait ran out); the figures printed
# before a failure stay valid.
#
# Time is measured by timestamped watchers: `kubectl get RESOURCE -w --output-watch-events -o json` piped into a
# small reader (python3, stdlib only) that stamps each JSON object with the wall clock at the moment the read that
# completed it returned, and writes one compact line per event. The daemon's own informers see the same apiserver
# watch stream, so watch delivery delay is on both sides of every interval measured.
set -euo pipefail

BENCH_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BENCH_NAME=$(basename "$0" .sh)
BENCH_T0=$(date +%s.%N)
BENCH_PIDS=()   # every process this script started; stopped by pid at exit
BENCH_NS=()     # namespaces to delete at exit
BENCH_DIR=""
CG_PID=""
CG_LOG=""
CG_PORT=""
BENCH_KEEP=${BENCH_KEEP:-0}  # 1: keep the work dir (logs, event streams) after a successful run

say() { printf '%s [%6.1fs] %s\n' "$BENCH_NAME" "$(echo "$(date +%s.%N) - $BENCH_T0" | bc)" "$*" >&2; }
# figure LINE: a result line, on stdout (everything else goes to stderr), so `scripts/bench > figures.txt` works.
figure() { printf '%s\n' "$*"; }
skip() { say "SKIP: $*"; exit 77; }
die() { say "FAIL: $*"; BENCH_KEEP=1; BENCH_FAILED=1; exit 1; }

bench_init() {
  command -v jq >/dev/null || skip "jq missing"
  command -v bc >/dev/null || skip "bc missing"
  command -v python3 >/dev/null || skip "python3 missing (used to timestamp watch events)"
  "$BENCH_ROOT/scripts/sandbox" status >/dev/null 2>&1 || skip "the sandbox is not up (run scripts/sandbox up)"
  eval "$("$BENCH_ROOT/scripts/sandbox" env)"
  [ -n "${CANARY_GUARD_KUBECONFIG:-}" ] && [ -f "$CANARY_GUARD_KUBECONFIG" ] || skip "no CANARY_GUARD_KUBECONFIG"
  if [ -z "${CANARY_GUARD_BIN:-}" ]; then
    # Prefer an optimised build: a Debug binary's figures say little about the product.
    for b in "$BENCH_ROOT"/build/{bench,release,ci}/daemon/canary-guard; do
      if [ -x "$b" ]; then CANARY_GUARD_BIN=$b; break; fi
    done
  fi
  if [ -z "${CANARY_GUARD_BIN:-}" ]; then
    # shellcheck disable=SC2012  # newest by mtime; build dir names have no newlines
    CANARY_GUARD_BIN=$(ls -t "$BENCH_ROOT"/build/*/daemon/canary-guard 2>/dev/null | head -n1 || true)
  fi
  [ -n "${CANARY_GUARD_BIN:-}" ] && [ -x "$CANARY_GUARD_BIN" ] || skip "no canary-guard binary (set CANARY_GUARD_BIN)"
  BENCH_DIR="$CG_SANDBOX_DIR/bench-logs/$BENCH_NAME-$(date +%Y%m%dT%H%M%S)-$$"
  mkdir -p "$BENCH_DIR"
  trap bench_cleanup EXIT
  trap 'exit 130' INT TERM
  say "work dir $BENCH_DIR, binary $CANARY_GUARD_BIN, kubectl $(kubectl version --client --short 2>/dev/null || true)"
}

# bench_namespace NAME: creates it (deleted at exit) and waits for its default ServiceAccount token.
bench_namespace() {
  kubectl create namespace "$1" >/dev/null
  BENCH_NS+=("$1")
  local deadline=$((SECONDS + 30))
  until [ -n "$(kubectl -n "$1" get sa default -o 'jsonpath={.secrets[0].name}' 2>/dev/null)" ]; do
    ((SECONDS < deadline)) || die "no default ServiceAccount token in $1 after 30 s"
    sleep 0.2
  done
}

bench_cleanup() {
  local rc=$?
  cg_stop || true
  local p
  for p in "${BENCH_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${BENCH_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  if { [ "$rc" != 0 ] || [ "${BENCH_FAILED:-0}" = 1 ]; } && [ -n "$BENCH_DIR" ]; then
    # What the cluster held when the bench failed, before its namespaces go.
    for p in "${BENCH_NS[@]}"; do
      kubectl -n "$p" get deployments,replicasets,pods,events -o yaml >"$BENCH_DIR/cluster-$p.yaml" 2>&1 || true
    done
  fi
  for p in "${BENCH_NS[@]}"; do
    kubectl delete namespace "$p" --wait=false >/dev/null 2>&1 || true
  done
  if [ "$BENCH_KEEP" = 1 ] || [ "$rc" != 0 ]; then
    say "logs and event streams kept in $BENCH_DIR"
  elif [ -n "$BENCH_DIR" ]; then
    rm -rf "$BENCH_DIR"
  fi
  exit "$rc"
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# cg_start CONFIG_FILE: starts canary-guard as the RBAC-limited user, waits until its caches synced (60 s).
cg_start() {
  CG_LOG="$BENCH_DIR/canary-guard.log"
  CG_PORT=$(free_port)
  "$CANARY_GUARD_BIN" run --config "$1" --kubeconfig "$CANARY_GUARD_KUBECONFIG" --listen "127.0.0.1:$CG_PORT" \
    >"$CG_LOG" 2>&1 </dev/null &
  CG_PID=$!
  local deadline=$((SECONDS + 60))
  until grep -q 'event=caches_synced' "$CG_LOG" 2>/dev/null; do
    kill -0 "$CG_PID" 2>/dev/null || { CG_PID=""; die "canary-guard exited at start-up: $(tail -n 5 "$CG_LOG")"; }
    ((SECONDS < deadline)) || die "canary-guard did not sync its caches within 60 s"
    sleep 0.1
  done
  say "canary-guard pid $CG_PID, port $CG_PORT, log $CG_LOG"
}

cg_stop() {
  [ -n "$CG_PID" ] || return 0
  local i
  kill -TERM "$CG_PID" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do kill -0 "$CG_PID" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$CG_PID" 2>/dev/null && kill -KILL "$CG_PID" 2>/dev/null || true
  wait "$CG_PID" 2>/dev/null || true
  CG_PID=""
}

# The watcher: runs `kubectl get RESOURCE -w --output-watch-events -o json` (again after it exits, e.g. when
# someone restarts the apiserver: the relist then shows current state as ADDED events) and stamps each JSON object
# with the wall clock at the moment the read that completed it returned. Arguments: deploy|pod, namespace. Output,
# one line per watch event: {"t": wall-clock seconds, "ev": ADDED|MODIFIED|DELETED, ...projected fields}.
# Why stamp at read(): kubectl writes each object with one unbuffered write as soon as it decoded the event, so the
# read that completes an object returns within microseconds of kubectl having it. TERM stops kubectl too.
BENCH_STAMPER=$(
  cat <<'PY'
import codecs, json, os, signal, subprocess, sys, time
from datetime import datetime, timezone

kind, ns = sys.argv[1], sys.argv[2]
child = None

def stop(*_):
    if child and child.poll() is None:
        child.terminate()
    sys.exit(0)

signal.signal(signal.SIGTERM, stop)

def epoch(s):
    if not s:
        return None
    return datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp()

def cond(o, t):
    for c in (o.get("status") or {}).get("conditions") or []:
        if c.get("type") == t:
            return c
    return None

def project(ev, t):
    o = ev.get("object") or {}
    m = o.get("metadata") or {}
    spec = o.get("spec") or {}
    st = o.get("status") or {}
    tpl = ((spec.get("template") or {}).get("spec") or {}) if kind == "deploy" else spec
    cs = tpl.get("containers") or [{}]
    out = {"t": round(t, 6), "ev": ev.get("type"), "name": m.get("name"), "rv": m.get("resourceVersion"),
           "image": cs[0].get("image"), "del": bool(m.get("deletionTimestamp"))}
    if kind == "deploy":
        p = cond(o, "Progressing") or {}
        out.update({"gen": m.get("generation", 0), "ogen": st.get("observedGeneration", 0),
                    "spec_replicas": spec.get("replicas", 1), "replicas": st.get("replicas", 0),
                    "updated": st.get("updatedReplicas", 0), "ready": st.get("readyReplicas", 0),
                    "available": st.get("availableReplicas", 0),
                    "prog_status": p.get("status"), "prog_reason": p.get("reason"),
                    "prog_lut": epoch(p.get("lastUpdateTime"))})
    else:
        c0 = (st.get("containerStatuses") or [{}])[0]
        r = cond(o, "Ready") or {}
        out.update({"app": (m.get("labels") or {}).get("app"), "uid": m.get("uid"), "phase": st.get("phase"),
                    "ready": r.get("status") == "True", "restarts": c0.get("restartCount", 0),
                    "waiting": ((c0.get("state") or {}).get("waiting") or {}).get("reason")})
    return out

resource = "deployments" if kind == "deploy" else "pods"
while True:
    child = subprocess.Popen(["kubectl", "-n", ns, "get", resource, "-w", "--output-watch-events", "-o", "json"],
                             stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
    fd = child.stdout.fileno()
    dec = json.JSONDecoder()
    utf8 = codecs.getincrementaldecoder("utf-8")()
    buf = ""
    while True:
        chunk = os.read(fd, 1 << 16)
        t = time.time()
        if not chunk:
            break
        buf += utf8.decode(chunk)
        while True:
            s = buf.lstrip()
            if not s:
                buf = ""
                break
            try:
                obj, end = dec.raw_decode(s)
            except ValueError:
                buf = s  # incomplete: wait for more bytes
                break
            buf = s[end:]
            if isinstance(obj, dict):
                sys.stdout.write(json.dumps(project(obj, t), separators=(",", ":")) + "\n")
                sys.stdout.flush()
    child.wait()
    sys.stdout.write(json.dumps({"t": time.time(), "ev": "WATCH_RESTART", "rc": child.returncode}) + "\n")
    sys.stdout.flush()
    time.sleep(0.5)
PY
)

# watch_start NAMESPACE RESOURCE(deploy|pod) OUTFILE: a timestamped watcher (stopped by pid at exit).
watch_start() {
  python3 -c "$BENCH_STAMPER" "$2" "$1" >"$3" 2>"$3.err" </dev/null &
  BENCH_PIDS+=($!)
}

# deploy_yaml NAME IMAGE REPLICAS PROGRESS_DEADLINE_S GROUP [ANNOTATION_LINE]: one Deployment document.
# Strategy maxSurge 0 / maxUnavailable 1: a release replaces a healthy pod, so a rollback must bring one back
# (recovery is then more than deleting the bad pods).
deploy_yaml() {
  cat <<EOF
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: $1
  labels: {bench-group: $5}
  annotations: {bench: "true"${6:+, $6}}
spec:
  replicas: $3
  progressDeadlineSeconds: $4
  revisionHistoryLimit: 10
  selector:
    matchLabels: {app: $1}
  strategy:
    type: RollingUpdate
    rollingUpdate: {maxSurge: 0, maxUnavailable: 1}
  template:
    metadata:
      labels: {app: $1}
    spec:
      terminationGracePeriodSeconds: 0
      containers:
      - name: app
        image: $2
EOF
}

# wait_until SECONDS DESCRIPTION COMMAND...: polls every 0.5 s; dies on timeout or when the daemon died.
# bench_delete_namespace NS: deletes NS and waits (at most 600 s) until it is gone, so the sandbox is left as it
# was; NS is then no longer deleted at exit.
bench_delete_namespace() {
  local ns=$1 t_del deadline
  say "deleting namespace $ns and waiting until it is gone (at most 600 s)"
  t_del=$(date +%s.%N)
  kubectl delete namespace "$ns" --wait=false >/dev/null
  deadline=$((SECONDS + 600))
  while kubectl get namespace "$ns" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || { say "namespace $ns still terminating after 600 s; left to the namespace controller"; break; }
    sleep 5
  done
  local kept=() p
  for p in "${BENCH_NS[@]}"; do [ "$p" = "$ns" ] || kept+=("$p"); done
  BENCH_NS=(${kept[@]+"${kept[@]}"})
  say "namespace $ns deleted in $(echo "$(date +%s.%N) - $t_del" | bc) s"
}

# count_at_least FN N: FN prints a number that is at least N (for wait_until).
count_at_least() { [ "$("$1")" -ge "$2" ]; }

wait_until() {
  local timeout=$1 what=$2; shift 2
  local deadline=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || die "timed out after ${timeout}s waiting for: $what"
    if [ -n "$CG_PID" ] && ! kill -0 "$CG_PID" 2>/dev/null; then CG_PID=""; die "canary-guard died waiting for: $what"; fi
    sleep 0.5
  done
}

# rss_kb PID / cpu_ticks PID: VmRSS in kB; utime+stime in clock ticks (fields 14 and 15 of /proc/PID/stat; the
# command name in field 2 may hold spaces, so count from the closing parenthesis).
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
hwm_kb() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status"; }
cpu_ticks() { sed 's/.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'; }
