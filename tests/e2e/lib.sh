# shellcheck shell=bash
# Shared helpers for the end-to-end tests of canary-guard against the sandbox cluster. Sourced, not run.
#
# Each test: e2e_init NAME (skips with 77 when the sandbox or the binary is missing, creates a fresh namespace,
# installs the cleanup trap), cg_start (its own daemon, restricted to that namespace), then bounded polls on real
# cluster state. On exit the daemon is stopped by its pid and the namespace deleted; on failure the daemon log and a
# dump of the namespace stay under $CG_SANDBOX_DIR/e2e-logs/.
#
# Exit codes: 0 pass, 1 fail, 77 skip (ctest SKIP_RETURN_CODE).
set -euo pipefail

E2E_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
E2E_NAME=$(basename "$0" .sh)
E2E_T0=$(date +%s.%N)
CG_PID=""
CG_LOG=""
CG_PORT=""
CG_RUNS=0
NS=""
E2E_EXTRA_NS=()
E2E_BG_PIDS=()   # background watchers a test started; killed by pid at the end  # further namespaces a test created; deleted with NS
E2E_CLUSTER_OBJECTS=()  # cluster-scoped objects a test created ("clusterrole/NAME"); deleted at the end
E2E_CLEANUP_CMDS=()    # shell commands run at the end (alert routes, rule files)
E2E_DIR=""
E2E_FAILED=1  # cleared by e2e_pass; anything else (a failed command under set -e, a signal) counts as a failure

say() { printf '%s [%6.1fs] %s\n' "$E2E_NAME" "$(elapsed)" "$*"; }
elapsed() { echo "$(date +%s.%N) - $E2E_T0" | bc; }
skip() { say "SKIP: $*"; E2E_FAILED=0; exit 77; }
ok() { say "ok: $*"; }

# fail MESSAGE: prints it with a dump of the relevant state, keeps the logs, exits 1.
fail() {
  say "FAIL: $*" >&2
  e2e_dump >&2 || true
  exit 1
}

# Prints what a reader needs to see why a wait or an assertion failed.
e2e_dump() {
  [ -n "$NS" ] || return 0
  echo "----- state of namespace $NS"
  kubectl -n "$NS" get deploy,ds,rs,controllerrevisions,pods -o wide 2>&1 | head -60
  echo "----- ReplicaSet / ControllerRevision annotations"
  rs_table 2>&1 || true
  kubectl -n "$NS" get controllerrevisions -o \
    'custom-columns=NAME:.metadata.name,REV:.revision,VERDICT:.metadata.annotations.canary-guard\.io/verdict,ROLLBACK:.metadata.annotations.canary-guard\.io/rollback' 2>&1 || true
  echo "----- Events"
  kubectl -n "$NS" get events --sort-by=.metadata.creationTimestamp \
    -o 'custom-columns=TIME:.metadata.creationTimestamp,OBJ:.involvedObject.name,REASON:.reason,MSG:.message' 2>&1 | tail -40
  if [ -n "$CG_LOG" ] && [ -f "$CG_LOG" ]; then
    echo "----- last daemon log lines ($CG_LOG)"
    tail -n 40 "$CG_LOG"
  fi
}

# ---------------------------------------------------------------------------------------------------------------
# set-up and tear-down

e2e_init() {
  local base=$1
  command -v bc >/dev/null || { echo "bc missing" >&2; exit 77; }
  "$E2E_ROOT/scripts/sandbox" status >/dev/null 2>&1 ||
    skip "the sandbox is not up (scripts/sandbox status failed; run scripts/sandbox up)"
  eval "$("$E2E_ROOT/scripts/sandbox" env)"
  [ -n "${CANARY_GUARD_KUBECONFIG:-}" ] && [ -f "$CANARY_GUARD_KUBECONFIG" ] ||
    skip "scripts/sandbox env gave no CANARY_GUARD_KUBECONFIG"
  if [ -z "${CANARY_GUARD_BIN:-}" ]; then
    # shellcheck disable=SC2012  # newest by mtime; build dir names have no newlines
    CANARY_GUARD_BIN=$(ls -t "$E2E_ROOT"/build/*/daemon/canary-guard 2>/dev/null | head -n1 || true)
  fi
  [ -n "$CANARY_GUARD_BIN" ] && [ -x "$CANARY_GUARD_BIN" ] ||
    skip "no canary-guard binary (set CANARY_GUARD_BIN or build target canary-guard)"
  trap e2e_cleanup EXIT
  trap 'exit 130' INT TERM
  trap 'say "FAIL: line $LINENO: $BASH_COMMAND exited with $?" >&2' ERR
  NS="e2e-$base-$(openssl rand -hex 3)"
  E2E_DIR="$CG_SANDBOX_DIR/e2e-logs/$E2E_NAME-$NS"
  mkdir -p "$E2E_DIR"
  kubectl create namespace "$NS" >/dev/null
  # Pods need the namespace's default ServiceAccount (and its token secret) before they can be created.
  wait_until 30 "default ServiceAccount in $NS" sa_ready
  say "namespace $NS, binary $CANARY_GUARD_BIN"
}
# extra_namespace SUFFIX: creates "$NS-SUFFIX" (deleted at the end) and prints nothing; sets XNS.
extra_namespace() {
  XNS="$NS-$1"
  kubectl create namespace "$XNS" >/dev/null
  E2E_EXTRA_NS+=("$XNS")
  wait_until 30 "default ServiceAccount in $XNS" sa_ready "$XNS"
}
sa_ready() { [ -n "$(kubectl -n "${1:-$NS}" get sa default -o 'jsonpath={.secrets[0].name}' 2>/dev/null)" ]; }

e2e_pass() { E2E_FAILED=0; say "PASS"; }

e2e_cleanup() {
  local rc=$?
  trap - ERR
  cg_stop || true
  local p
  for p in "${E2E_BG_PIDS[@]}"; do kill "$p" 2>/dev/null || true; kill -CONT "$p" 2>/dev/null || true; done
  for p in "${E2E_CLUSTER_OBJECTS[@]}"; do kubectl delete "$p" --wait=false >/dev/null 2>&1 || true; done
  for p in "${E2E_CLEANUP_CMDS[@]}"; do eval "$p" >/dev/null 2>&1 || true; done
  if [ "$E2E_FAILED" = 1 ] && [ -n "$E2E_DIR" ]; then
    e2e_dump >"$E2E_DIR/state.txt" 2>&1 || true
    say "logs kept in $E2E_DIR" >&2
  elif [ -n "$E2E_DIR" ]; then
    rm -rf "$E2E_DIR"
  fi
  local ns
  for ns in "$NS" "${E2E_EXTRA_NS[@]}"; do
    [ -n "$ns" ] && kubectl delete namespace "$ns" --wait=false >/dev/null 2>&1 || true
  done
  exit "$rc"
}

# ---------------------------------------------------------------------------------------------------------------
# the daemon

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# api_port: the sandbox apiserver's port, from the test kubeconfig (skips the test when it has none).
api_port() {
  local p
  p=$(sed -nE 's#.*server: https://127\.0\.0\.1:([0-9]+).*#\1#p' "$CANARY_GUARD_KUBECONFIG" | head -n1)
  [ -n "$p" ] || skip "cannot find the apiserver port in $CANARY_GUARD_KUBECONFIG"
  echo "$p"
}

# freeze_proxy: starts tests/e2e/freeze_proxy.py in front of the apiserver (PROXY_PID; SIGUSR1 freezes watches,
# SIGUSR2 every connection, SIGHUP thaws) and writes $E2E_DIR/proxied.kubeconfig, the test kubeconfig through it.
freeze_proxy() {
  local port
  port=$(api_port)
  python3 "$E2E_ROOT/tests/e2e/freeze_proxy.py" "$E2E_DIR/proxy.port" "$port" &
  PROXY_PID=$!
  E2E_BG_PIDS+=("$PROXY_PID")
  wait_until 10 "freeze proxy listening" test -s "$E2E_DIR/proxy.port"
  sed -E "s#server: https://127\.0\.0\.1:$port#server: https://127.0.0.1:$(cat "$E2E_DIR/proxy.port")#" \
    "$CANARY_GUARD_KUBECONFIG" >"$E2E_DIR/proxied.kubeconfig"
}

# cg_config [EXTRA_GUARD_TOML]: writes the test's config (only $NS, fast bake) to $E2E_DIR/canary-guard.toml.
# EXTRA_GUARD_TOML lines go into [guard]; CG_PODS_TOML into [pods]. A key the extra lines set (bake_time,
# daemonset_progress_deadline) replaces the test default instead of being a duplicate key.
cg_config() {
  local extra=${1:-} defaults="" kv
  for kv in 'bake_time = "5s"' 'daemonset_progress_deadline = "30s"'; do
    grep -qE "^[[:space:]]*${kv%% *}[[:space:]]*=" <<<"$extra" || defaults+="$kv"$'\n'
  done
  cat >"$E2E_DIR/canary-guard.toml" <<EOF
[selection]
namespaces = ["$NS"]

[guard]
${defaults}${extra}

[pods]
${CG_PODS_TOML:-}

[log]
level = "debug"
EOF
}

# cg_start [EXTRA_GUARD_TOML]: starts canary-guard as the RBAC-limited user and waits until its caches synced.
# The log of every run goes to $E2E_DIR/canary-guard.N.log and CG_LOG names the current one.
cg_start() {
  [ -z "$CG_PID" ] || fail "cg_start: a daemon (pid $CG_PID) is already running"
  [ -f "$E2E_DIR/canary-guard.toml" ] && [ -z "${1:-}" ] || cg_config "${1:-}"
  CG_RUNS=$((CG_RUNS + 1))
  CG_LOG="$E2E_DIR/canary-guard.$CG_RUNS.log"
  CG_PORT=${CG_LISTEN_PORT:-$(free_port)}
  "$CANARY_GUARD_BIN" run --config "$E2E_DIR/canary-guard.toml" --kubeconfig "$CANARY_GUARD_KUBECONFIG" \
    --listen "127.0.0.1:$CG_PORT" >"$CG_LOG" 2>&1 </dev/null &
  CG_PID=$!
  local deadline=$((SECONDS + 30))
  until grep -q 'event=caches_synced' "$CG_LOG" 2>/dev/null; do
    kill -0 "$CG_PID" 2>/dev/null || { CG_PID=""; fail "canary-guard exited at start-up: $(tail -n 5 "$CG_LOG")"; }
    ((SECONDS < deadline)) || fail "canary-guard did not sync its caches within 30s"
    sleep 0.2
  done
  say "canary-guard started (pid $CG_PID, port $CG_PORT, log $CG_LOG)"
}

# cg_stop: TERM, up to 10 s, then KILL; only our own pid.
cg_stop() {
  [ -n "$CG_PID" ] || return 0
  local i
  kill -TERM "$CG_PID" 2>/dev/null || true
  kill -CONT "$CG_PID" 2>/dev/null || true  # a test may have stopped it (SIGSTOP): TERM waits for it
  for ((i = 0; i < 100; i++)); do kill -0 "$CG_PID" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$CG_PID" 2>/dev/null; then
    say "canary-guard (pid $CG_PID) ignored TERM for 10s; killing" >&2
    kill -KILL "$CG_PID" 2>/dev/null || true
  fi
  wait "$CG_PID" 2>/dev/null || true
  CG_PID=""
}

# cg_kill9: a crash.
cg_kill9() {
  [ -n "$CG_PID" ] || fail "cg_kill9: no daemon running"
  kill -KILL "$CG_PID" 2>/dev/null || true
  wait "$CG_PID" 2>/dev/null || true
  say "canary-guard pid $CG_PID killed with SIGKILL"
  CG_PID=""
}

cg_alive() { [ -n "$CG_PID" ] && kill -0 "$CG_PID" 2>/dev/null; }

# All daemon log lines of every run of this test.
cg_logs() { cat "$E2E_DIR"/canary-guard.*.log 2>/dev/null; }
# log_count REGEX: how many log lines (all runs) match.
log_count() { cg_logs | grep -cE -- "$1" || true; }
# decision lines for workload NAME: "workload=ns/name ... decision=ACTION"
decision_re() { printf 'workload=%s/%s .*decision=%s( |$)' "$NS" "$1" "$2"; }
log_has_decision() { [ "$(log_count "$(decision_re "$1" "$2")")" -gt 0 ]; }

metrics() { curl -sf --max-time 3 "http://127.0.0.1:$CG_PORT/metrics"; }

# ---------------------------------------------------------------------------------------------------------------
# waiting

# wait_until SECONDS DESCRIPTION COMMAND...: polls COMMAND every 0.25 s; on timeout fails with a state dump.
# COMMAND is re-run on every poll; to poll an expression with $(...) in it, pass it as: eval 'test "$(...)" = x'.
wait_until() {
  local timeout=$1 what=$2; shift 2
  local deadline
  deadline=$(echo "$(date +%s.%N) + $timeout" | bc)
  until "$@" >/dev/null 2>&1; do
    if [ "$(echo "$(date +%s.%N) > $deadline" | bc)" = 1 ]; then fail "timed out after ${timeout}s waiting for: $what"; fi
    if [ -n "$CG_PID" ] && ! kill -0 "$CG_PID" 2>/dev/null; then
      local pid=$CG_PID; CG_PID=""
      fail "canary-guard (pid $pid) died while waiting for: $what"
    fi
    sleep 0.25
  done
  ok "$what"
}

# expect DESCRIPTION COMMAND...: COMMAND must succeed now.
expect() { local what=$1; shift; if "$@"; then ok "$what"; else fail "$what"; fi; }
# expect_eq DESCRIPTION EXPECTED ACTUAL
expect_eq() { if [ "$2" == "$3" ]; then ok "$1 ($3)"; else fail "$1: expected '$2', got '$3'"; fi; }

# ---------------------------------------------------------------------------------------------------------------
# workloads

# deploy_create NAME IMAGE [REPLICAS] [PROGRESS_DEADLINE_S] [ANNOTATION_YAML_LINES...]
deploy_create() {
  local name=$1 image=$2 replicas=${3:-2} pds=${4:-600}; shift 4 || shift $#
  local ann="" a
  for a in "$@"; do ann+="    $a"$'\n'; done
  # E2E_STRATEGY: the strategy block (indented 4); default a rolling update that keeps every old pod until a new
  # one is Ready, so a bad release never takes the healthy pods away.
  local strategy="${E2E_STRATEGY:-}"
  [ -n "$strategy" ] || strategy=$'    type: RollingUpdate\n    rollingUpdate: {maxSurge: 1, maxUnavailable: 0}'
  # create, not apply: no last-applied-configuration annotation that would differ between otherwise equal objects.
  kubectl -n "$NS" create -f - >/dev/null <<EOF
apiVersion: apps/v1
kind: Deployment
metadata:
  name: $name
  labels: {app: $name}
  annotations:
    e2e: "true"
$ann
spec:
  replicas: $replicas
  progressDeadlineSeconds: $pds
  revisionHistoryLimit: 10
  selector:
    matchLabels: {app: $name}
  strategy:
$strategy
  template:
    metadata:
      labels: {app: $name}
    spec:
      terminationGracePeriodSeconds: 0
      containers:
      - name: app
        image: $image
EOF
}

# ds_create NAME IMAGE [ANNOTATION_YAML_LINES...]
ds_create() {
  local name=$1 image=$2; shift 2
  local ann="" a
  for a in "$@"; do ann+="    $a"$'\n'; done
  kubectl -n "$NS" create -f - >/dev/null <<EOF
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: $name
  labels: {app: $name}
  annotations:
    e2e: "true"
$ann
spec:
  revisionHistoryLimit: 10
  selector:
    matchLabels: {app: $name}
  updateStrategy:
    type: RollingUpdate
    rollingUpdate: {maxUnavailable: 1}
  template:
    metadata:
      labels: {app: $name}
    spec:
      terminationGracePeriodSeconds: 0
      containers:
      - name: app
        image: $image
EOF
}

set_image() { kubectl -n "$NS" set image "$1/$2" "app=$3" >/dev/null; }  # KIND NAME IMAGE
image_of() { kubectl -n "$NS" get "$1" "$2" -o 'jsonpath={.spec.template.spec.containers[0].image}'; }

# rollout_done KIND NAME: `kubectl rollout status` succeeds now.
rollout_done() { kubectl -n "$NS" rollout status "$1/$2" --timeout=1s >/dev/null 2>&1; }
wait_rollout() { wait_until "${3:-60}" "rollout of $1/$2 complete" rollout_done "$1" "$2"; }

# deploy_revision NAME: the Deployment's deployment.kubernetes.io/revision.
deploy_revision() { kubectl -n "$NS" get deploy "$1" -o 'jsonpath={.metadata.annotations.deployment\.kubernetes\.io/revision}'; }

# rs_of NAME REVISION: the ReplicaSet name of that revision of Deployment NAME.
rs_of() {
  kubectl -n "$NS" get rs -l "app=$1" -o json |
    jq -r --arg r "$2" '.items[] | select(.metadata.annotations["deployment.kubernetes.io/revision"] == $r) | .metadata.name'
}
# rs_ann NAME REVISION KEY: an annotation of that revision's ReplicaSet (empty when absent).
rs_ann() {
  kubectl -n "$NS" get rs -l "app=$1" -o json |
    jq -r --arg r "$2" --arg k "$3" \
      '.items[] | select(.metadata.annotations["deployment.kubernetes.io/revision"] == $r) | .metadata.annotations[$k] // ""'
}
# rs_with_image NAME IMAGE: the current revision number of the ReplicaSet whose template runs IMAGE.
rs_rev_with_image() {
  kubectl -n "$NS" get rs -l "app=$1" -o json |
    jq -r --arg i "$2" '.items[] | select(.spec.template.spec.containers[0].image == $i) | .metadata.annotations["deployment.kubernetes.io/revision"]'
}
verdict_of_image() { rs_ann "$1" "$(rs_rev_with_image "$1" "$2")" canary-guard.io/verdict; }
rollback_of_image() { rs_ann "$1" "$(rs_rev_with_image "$1" "$2")" canary-guard.io/rollback; }

rs_table() {
  kubectl -n "$NS" get rs -o \
    'custom-columns=NAME:.metadata.name,REV:.metadata.annotations.deployment\.kubernetes\.io/revision,IMAGE:.spec.template.spec.containers[0].image,READY:.status.readyReplicas,VERDICT:.metadata.annotations.canary-guard\.io/verdict,ROLLBACK:.metadata.annotations.canary-guard\.io/rollback'
}

# ControllerRevision annotation by the image its template runs (DaemonSets).
cr_ann_of_image() {
  kubectl -n "$NS" get controllerrevisions -l "app=$1" -o json |
    jq -r --arg i "$2" --arg k "$3" \
      '.items[] | select(.data.spec.template.spec.containers[0].image == $i) | .metadata.annotations[$k] // ""'
}

# history_revisions KIND NAME: the REVISION column of `kubectl rollout history`, space separated.
history_revisions() {
  kubectl -n "$NS" rollout history "$1/$2" | awk 'NR > 2 && $1 ~ /^[0-9]+$/ { printf "%s%s", sep, $1; sep = " " }'
}

# event_count OBJECT REASON: Events about OBJECT with REASON (summing count, in case a recorder aggregates).
event_count() {
  kubectl -n "$NS" get events --field-selector "involvedObject.name=$1,reason=$2" -o json |
    jq '[.items[] | (.count // 1)] | add // 0'
}
event_messages() {
  kubectl -n "$NS" get events --field-selector "involvedObject.name=$1,reason=$2" -o jsonpath='{range .items[*]}{.message}{"\n"}{end}'
}
has_event() { [ "$(event_count "$1" "$2")" -gt 0 ]; }

# field VALUE KEY: the value of KEY=... in a record "state=waiting from=H ...".
field() { sed -nE "s/(^|.* )$2=([^ ]*).*/\2/p" <<<"$1"; }
rollback_state_is() {  # NAME IMAGE STATE
  [ "$(field "$(rollback_of_image "$1" "$2")" state)" = "$3" ]
}
verdict_is() {  # NAME IMAGE healthy|failed
  [ "$(verdict_of_image "$1" "$2" | awk '{print $1}')" = "$3" ]
}

# watch_pods NAME FILE: a background watch on NAME's pods; every change becomes a line
# "<epoch seconds.ns> <pod> <image> <waiting reason>- <ready>- <restartCount>" in FILE. A watch, not a poll, so a short
# state (a CrashLoopBackOff between two crash cycles) is not missed.
watch_pods() {
  kubectl -n "$NS" get pods -l "app=$1" -w -o \
    'jsonpath={.metadata.name} {.spec.containers[0].image} {.status.containerStatuses[0].state.waiting.reason}- {.status.containerStatuses[0].ready}- {.status.containerStatuses[0].restartCount}{"\n"}' \
    2>/dev/null > >(while IFS= read -r l; do printf '%s %s\n' "$(date +%s.%N)" "$l"; done >"$2") &
  E2E_BG_PIDS+=($!)
}

# rs_exists NAME REVISION: that revision's ReplicaSet exists (for wait_until: re-evaluated on every poll).
rs_exists() { [ -n "$(rs_of "$1" "$2")" ]; }
# log_has REGEX: some daemon log line (any run) matches; re-reads the logs on every call, so it can be polled.
log_has() { cg_logs | grep -E -- "$1" >/dev/null; }

# ---------------------------------------------------------------------------------------------------------------
# helpers shared by several of the later scenarios

# rs_hash NAME REVISION: the pod-template-hash label of that revision's ReplicaSet.
rs_hash() { kubectl -n "$NS" get rs "$(rs_of "$1" "$2")" -o 'jsonpath={.metadata.labels.pod-template-hash}'; }
# deploy_ann NAME KEY: an annotation of Deployment NAME (empty when absent).
deploy_ann() {
  kubectl -n "$NS" get deploy "$1" -o json | jq -r --arg k "$2" '.metadata.annotations[$k] // ""'
}
# deploy_has_records NAME: the Deployment itself carries a canary-guard.io/verdict or canary-guard.io/rollback
# annotation (`kubectl rollout undo` copies the target ReplicaSet's annotations onto it, records included).
deploy_has_records() {
  kubectl -n "$NS" get deploy "$1" -o json |
    jq -e '.metadata.annotations // {} | has("canary-guard.io/verdict") or has("canary-guard.io/rollback")' >/dev/null
}
# rs_verdicts_own_hash NAME: every ReplicaSet of NAME that has a verdict names its own pod-template-hash in it.
# Prints the offending ReplicaSets and fails otherwise.
rs_verdicts_own_hash() {
  kubectl -n "$NS" get rs -l "app=$1" -o json | jq -e -r '
    [.items[] | select(.metadata.annotations["canary-guard.io/verdict"] != null)
     | select((.metadata.annotations["canary-guard.io/verdict"] | capture("hash=(?<h>[^ ]*)").h)
              != .metadata.labels["pod-template-hash"])
     | "\(.metadata.name): \(.metadata.annotations["canary-guard.io/verdict"])"] as $bad
    | if ($bad | length) == 0 then true else ($bad | join("; ") | halt_error(1)) end'
}

# quota_block NAME PODS [SCOPE]: a ResourceQuota "NAME" in $NS with hard pods=PODS (optionally scoped, e.g.
# NotBestEffort) that refuses every further pod in its scope while PODS of them exist. The sandbox runs no
# resourcequota controller, so the helper writes the status that controller would write when PODS pods count
# (hard = used = PODS); the ResourceQuota admission plugin then refuses the next pod with "exceeded quota" (the
# ReplicaSet gets ReplicaFailure=True reason FailedCreate). Only admission ever changes `used`, and only upwards,
# so the block holds until the quota is deleted.
quota_block() {
  local name=$1 pods=$2 scope=${3:-}
  kubectl -n "$NS" create -f - >/dev/null <<EOF
apiVersion: v1
kind: ResourceQuota
metadata: {name: $name}
spec:
  hard: {pods: "$pods"}
${scope:+  scopes: [$scope]}
EOF
  kubectl -n "$NS" get resourcequota "$name" -o json |
    jq --arg p "$pods" '.status = {hard: {pods: $p}, used: {pods: $p}}' |
    kubectl replace --raw "/api/v1/namespaces/$NS/resourcequotas/$name/status" -f - >/dev/null
}

# ---------------------------------------------------------------------------------------------------------------
# metric analysis against the sandbox's Prometheus (scraped every second; podsim serves the workload metrics:
# http_requests_total{namespace,pod,pod_template_hash|controller_revision_hash,code="200"|"500"} and the histogram
# http_request_duration_seconds{...}; 20 requests/s per pod whose containers all run, Ready or not)

# The error ratio of one revision over 10 s: the query most metric tests use (TOML literal string, no escapes).
E2E_ERROR_RATIO_QUERY='sum by (namespace, {{revision_label}}) (rate(http_requests_total{namespace="{{namespace}}", {{revision_label}}="{{revision_hash}}", code=~"5.."}[10s])) / sum by (namespace, {{revision_label}}) (rate(http_requests_total{namespace="{{namespace}}", {{revision_label}}="{{revision_hash}}"}[10s]))'

# metric_check NAME QUERY [TOML_LINE...]: prints one [[check]] table with the e2e defaults (interval 2s, failures 3,
# of 5). A TOML_LINE that sets interval, failures or of replaces that default; sub-tables ([check.compare], ...) go
# last among the TOML_LINEs. QUERY is written as a TOML literal string, so it must not contain '''.
metric_check() {
  local name=$1 query=$2; shift 2
  local extra="" l kv defaults=""
  for l in "$@"; do extra+="$l"$'\n'; done
  for kv in 'interval = "2s"' 'failures = 3' 'of = 5'; do
    grep -qE "^[[:space:]]*${kv%% *}[[:space:]]*=" <<<"$extra" || defaults+="$kv"$'\n'
  done
  printf "[[check]]\nname = \"%s\"\nquery = '''%s'''\n%s%s\n" "$name" "$query" "$defaults" "$extra"
}

# cg_metrics_config CHECK_TOML...: writes the test's config like cg_config (CG_GUARD_TOML lines go into [guard],
# e.g. bake_time) plus metric analysis against the sandbox's Prometheus: [prometheus] url = $PROMETHEUS_URL,
# eval_lag $CG_EVAL_LAG (default 1s: the scrape interval is 1 s), timeout 3s; [analysis] max_blind = $CG_MAX_BLIND (default 10s);
# then each CHECK_TOML (see metric_check). A later cg_start without arguments runs with this file.
cg_metrics_config() {
  [ -n "${PROMETHEUS_URL:-}" ] || skip "scripts/sandbox env gave no PROMETHEUS_URL"
  cg_config "${CG_GUARD_TOML:-}"
  {
    printf '\n[prometheus]\nurl = "%s"\neval_lag = "%s"\ntimeout = "3s"\n\n' "$PROMETHEUS_URL" "${CG_EVAL_LAG:-1s}"
    printf '[analysis]\nmax_blind = "%s"\n%s\n\n' "${CG_MAX_BLIND:-10s}" "${CG_ANALYSIS_TOML:-}"
    local c
    for c in "$@"; do printf '%s\n' "$c"; done
  } >>"$E2E_DIR/canary-guard.toml"
}

# prom_values QUERY: one line per series of an instant query against the sandbox's Prometheus, "<value>" (NaN
# included); nothing for an empty result; fails when Prometheus answers with an error.
prom_values() {
  curl -sf --max-time 5 "$PROMETHEUS_URL/api/v1/query" --data-urlencode "query=$1" |
    jq -r 'if .status != "success" then error(.error)
           elif .data.resultType == "scalar" then .data.result[1] else .data.result[] | .value[1] end'
}
# prom_render TEMPLATE NAME REVISION: TEMPLATE with {{namespace}}, {{revision_label}} and {{revision_hash}} of
# revision REVISION of Deployment NAME filled in, as the daemon renders it (for a test's own premise checks).
prom_render() {
  local t=$1 h
  h=$(rs_hash "$2" "$3")
  t=${t//'{{namespace}}'/$NS}
  t=${t//'{{revision_label}}'/pod_template_hash}
  printf '%s' "${t//'{{revision_hash}}'/$h}"
}
# num_cmp EXPR: bc comparison over numbers, e.g. num_cmp "0.25 < 0.3"; fails for NaN or an empty side.
num_cmp() { [[ "$1" != *NaN* ]] && [ "$(echo "$1" | bc -l 2>/dev/null)" = 1 ]; }

# hold_for SECONDS DESCRIPTION COMMAND...: COMMAND must keep succeeding, polled every 0.25 s for SECONDS; the
# first failure fails the test with a state dump. The negative counterpart of wait_until.
hold_for() {
  local duration=$1 what=$2; shift 2
  local deadline
  deadline=$(echo "$(date +%s.%N) + $duration" | bc)
  while [ "$(echo "$(date +%s.%N) < $deadline" | bc)" = 1 ]; do
    "$@" >/dev/null 2>&1 || fail "after $(elapsed) s, no longer true: $what"
    if [ -n "$CG_PID" ] && ! kill -0 "$CG_PID" 2>/dev/null; then
      local pid=$CG_PID; CG_PID=""
      fail "canary-guard (pid $pid) died while holding: $what"
    fi
    sleep 0.25
  done
  ok "$what (held ${duration}s)"
}

# prometheus_stop / prometheus_start: stop or start only the sandbox's Prometheus (scripts/sandbox stop|start).
# prometheus_stop also makes the EXIT trap start it again before the usual clean-up, so a failing test never leaves
# later tests without Prometheus.
PROM_STOPPED=0
prometheus_stop() {
  # The EXIT trap starts Prometheus again only if this test left it stopped, then cleans up as always.
  trap 'e2e_rc=$?; if [ "$PROM_STOPPED" = 1 ]; then prometheus_start >&2 || say "could not start Prometheus again: run scripts/sandbox start prometheus" >&2; fi; (exit "$e2e_rc"); e2e_cleanup' EXIT
  "$E2E_ROOT/scripts/sandbox" stop prometheus >&2
  PROM_STOPPED=1
  say "Prometheus stopped"
}
prometheus_start() {
  "$E2E_ROOT/scripts/sandbox" start prometheus >&2
  PROM_STOPPED=0
  say "Prometheus started"
}
# metric_rollback_message_ok CHECK MESSAGE VALUE_RE THRESHOLD: a RollbackStarted message for a metric rollback names
# the check, a value matching VALUE_RE, the threshold and the k-of-n window (e.g. "error-ratio 0.51 > 0.05 in 3 of
# the last 5 evaluations"); prints what is missing.
metric_rollback_message_ok() {
  local check=$1 msg=$2 value_re=$3 threshold=$4 bad=""
  grep -qF -- "$check" <<<"$msg" || bad+=" check name '$check';"
  grep -qE -- "(^|[^0-9.])${value_re}" <<<"$msg" || bad+=" a value matching '$value_re';"
  grep -qE -- "(^|[^0-9.])${threshold//./\\.}([^0-9]|$)" <<<"$msg" || bad+=" threshold $threshold;"
  grep -qE -- '3 of (the last )?5' <<<"$msg" || bad+=" window '3 of the last 5';"
  [ -z "$bad" ] || { echo "RollbackStarted message '$msg' lacks:$bad" >&2; return 1; }
}

# ---------------------------------------------------------------------------------------------------------------
# alerts: the sandbox's real Alertmanager and Prometheus

# cg_alerts_config [EXTRA_ALERTMANAGER_TOML]: appends [alertmanager] (url = the sandbox's Alertmanager, a token file
# in $E2E_DIR, alert_grace 0s unless EXTRA sets it) to the test's config. CG_TOKEN is the token.
cg_alerts_config() {
  [ -n "${ALERTMANAGER_URL:-}" ] || skip "scripts/sandbox env gave no ALERTMANAGER_URL"
  CG_TOKEN=$(head -c 18 /dev/urandom | base64 | tr '+/' '-_')
  printf '%s\n' "$CG_TOKEN" >"$E2E_DIR/webhook-token"
  local extra=${1:-}
  grep -qE '^[[:space:]]*alert_grace' <<<"$extra" || extra+=$'\nalert_grace = "0s"'
  printf '\n[alertmanager]\nurl = "%s"\nwebhook_token_file = "%s"\n%s\n' "$ALERTMANAGER_URL" \
    "$E2E_DIR/webhook-token" "$extra" >>"$E2E_DIR/canary-guard.toml"
}

# alerts_route [CA_FILE]: the sandbox's Alertmanager sends alerts with namespace=$NS to this test's daemon (after
# cg_start); with CA_FILE over https, verifying the daemon's certificate against it. The route goes again at the end
# of the test.
alerts_route() {
  local scheme=http ca=""
  cp "$E2E_DIR/webhook-token" "$CG_SANDBOX_DIR/alertmanager-token-$NS"
  if [ -n "${1:-}" ]; then
    scheme=https ca="$CG_SANDBOX_DIR/alertmanager-ca-$NS.crt"
    cp "$1" "$ca"
  fi
  "$E2E_ROOT/scripts/sandbox" route-alerts "$NS" "$scheme://127.0.0.1:$CG_PORT/v1/alertmanager" \
    "$CG_SANDBOX_DIR/alertmanager-token-$NS" ${ca:+"$ca"} >&2
  E2E_CLEANUP_CMDS+=("'$E2E_ROOT/scripts/sandbox' route-alerts '$NS' --remove; rm -f '$CG_SANDBOX_DIR/alertmanager-token-$NS' '$CG_SANDBOX_DIR/alertmanager-ca-$NS.crt'")
  say "Alertmanager routes namespace=$NS to $scheme://127.0.0.1:$CG_PORT"
}

# prom_rule NAME YAML_RULES: a rule file for the sandbox's Prometheus (group NAME, evaluated every second), loaded
# with /-/reload and removed at the end of the test.
prom_rule() {
  local f="$CG_SANDBOX_DIR/prometheus-rules/$NS-$1.yml"
  printf 'groups:\n  - name: %s-%s\n    interval: 1s\n    rules:\n%s\n' "$NS" "$1" "$2" >"$f"
  curl -sf --max-time 10 -X POST "$PROMETHEUS_URL/-/reload" >/dev/null || fail "Prometheus refused rule file $f"
  E2E_CLEANUP_CMDS+=("rm -f '$f'; curl -sf --max-time 10 -X POST '$PROMETHEUS_URL/-/reload'")
}

# am_inject ALERTNAME WORKLOAD [STARTS_AT] [SEVERITY]: posts one alert for $NS/WORKLOAD to the sandbox's Alertmanager
# (as Prometheus would), open for 5 minutes.
am_inject() {
  local starts=${3:-$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)} ends
  ends=$(date -u -d '+5 min' +%Y-%m-%dT%H:%M:%SZ)
  curl -sf --max-time 5 -X POST -H 'Content-Type: application/json' "$ALERTMANAGER_URL/api/v2/alerts" -d "[{
    \"labels\":{\"alertname\":\"$1\",\"namespace\":\"$NS\",\"workload\":\"$2\",\"severity\":\"${4:-page}\"},
    \"annotations\":{\"summary\":\"$1 injected by $E2E_NAME\"},
    \"startsAt\":\"$starts\",\"endsAt\":\"$ends\"}]" >/dev/null || fail "Alertmanager refused alert $1"
  E2E_CLEANUP_CMDS+=("am_resolve '$1' '$2'")
}
# am_resolve ALERTNAME WORKLOAD: ends it (endsAt now).
am_resolve() {
  local now
  now=$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)
  curl -sf --max-time 5 -X POST -H 'Content-Type: application/json' "$ALERTMANAGER_URL/api/v2/alerts" -d "[{
    \"labels\":{\"alertname\":\"$1\",\"namespace\":\"$NS\",\"workload\":\"$2\",\"severity\":\"page\"},
    \"endsAt\":\"$now\"}]" >/dev/null
}
# am_silence ALERTNAME: a silence for ALERTNAME in $NS for 10 minutes; prints its id.
am_silence() {
  local s e
  s=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  e=$(date -u -d '+10 min' +%Y-%m-%dT%H:%M:%SZ)
  curl -sf --max-time 5 -X POST -H 'Content-Type: application/json' "$ALERTMANAGER_URL/api/v2/silences" -d "{
    \"matchers\":[{\"name\":\"alertname\",\"value\":\"$1\",\"isRegex\":false},
                  {\"name\":\"namespace\",\"value\":\"$NS\",\"isRegex\":false}],
    \"startsAt\":\"$s\",\"endsAt\":\"$e\",\"createdBy\":\"$E2E_NAME\",\"comment\":\"test\"}" |
    jq -r .silenceID
}
# am_fingerprint ALERTNAME: the fingerprint Alertmanager gives the alert in $NS (empty when it has none).
am_fingerprint() {
  curl -sf --max-time 5 -G "$ALERTMANAGER_URL/api/v2/alerts" --data-urlencode "filter=alertname=\"$1\"" \
    --data-urlencode "filter=namespace=\"$NS\"" | jq -r '.[0].fingerprint // empty'
}
# webhook_post BODY [TOKEN]: POSTs BODY to the daemon's /v1/alertmanager as Alertmanager would; prints the HTTP code.
webhook_post() {
  curl -s -o /dev/null -w '%{http_code}' --max-time 5 -X POST -H 'Content-Type: application/json' \
    -H "Authorization: Bearer ${2-$CG_TOKEN}" --data-binary "$1" "http://127.0.0.1:$CG_PORT/v1/alertmanager"
}
# webhook_body ALERTNAME WORKLOAD FINGERPRINT STARTS_AT [STATUS]: a version-4 notification with one alert.
webhook_body() {
  printf '{"version":"4","groupKey":"{}:{alertname=\\"%s\\"}","truncatedAlerts":0,"status":"%s","receiver":"test","groupLabels":{},"commonLabels":{},"commonAnnotations":{},"externalURL":"%s","alerts":[{"status":"%s","labels":{"alertname":"%s","namespace":"%s","workload":"%s","severity":"page"},"annotations":{"summary":"%s"},"startsAt":"%s","endsAt":"0001-01-01T00:00:00Z","generatorURL":"","fingerprint":"%s"}]}' \
    "$1" "${5:-firing}" "$ALERTMANAGER_URL" "${5:-firing}" "$1" "$NS" "$2" "$1 posted by $E2E_NAME" "$4" "$3"
}
# metric_value NAME_AND_LABELS_RE: the value of the first /metrics line matching the regex (0 when none).
metric_value() { metrics | grep -E "^$1 " | head -n1 | awk '{print $2}' | grep . || echo 0; }
