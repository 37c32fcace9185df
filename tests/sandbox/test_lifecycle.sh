#!/usr/bin/env bash
# The sandbox's own life cycle, on a private sandbox (own state dir, own free ports) so it never disturbs the shared
# one: up, idempotent up, env, TLS and token/client-cert authentication, the limited canary-guard identity,
# restart-apiserver keeps data and port, stop/start of a component, up repairs a dead component, compact, and down
# leaves no process and no listener behind.
set -euo pipefail
# shellcheck source=tests/sandbox/lib.sh
. "$(dirname "$0")/lib.sh"

export CG_SANDBOX_DIR
CG_SANDBOX_DIR=$(mktemp -d /tmp/cg-sandbox-lifecycle.XXXXXX)
export CG_SANDBOX_NODES=2
unset CG_METRICS_PORT KUBECONFIG
D=$CG_SANDBOX_DIR

on_exit() {
  local rc=$?
  if [ $rc -ne 0 ] && [ $rc -ne 77 ] && [ -d "$D/logs" ]; then
    for f in "$D"/logs/*.log; do say "---- tail of $f"; tail -n 15 "$f" || true; done
  fi
  "$SANDBOX" down --clean >/dev/null 2>&1 || true
  exit $rc
}
trap on_exit EXIT

# --- nothing there yet
rc=0; "$SANDBOX" status >/dev/null || rc=$?
check "status reports no sandbox (exit 3)" test "$rc" -eq 3
check_not "env refuses when nothing runs" "$SANDBOX" env

# --- up
t0=$EPOCHREALTIME
"$SANDBOX" up
t1=$EPOCHREALTIME
say "TIMING up: $(awk "BEGIN{printf \"%.1f\", $t1 - $t0}") s"
check "status after up" "$SANDBOX" status

declare -A PIDS=()
for f in "$D"/pids/*.pid; do PIDS[$(basename "$f" .pid)]=$(cat "$f"); done
for c in etcd apiserver controller-manager prometheus alertmanager; do
  [ -n "${PIDS[$c]:-}" ] || fail "no pid recorded for $c"
done
# shellcheck source=/dev/null
. "$D/sandbox.env"
PORTS=("$ETCD_PORT" "$ETCD_PEER_PORT" "$APISERVER_PORT" "$PROMETHEUS_PORT" "$ALERTMANAGER_PORT")
[ -n "${PIDS[podsim]:-}" ] && PORTS+=("$PODSIM_METRICS_PORT")
say "pids: $(for c in "${!PIDS[@]}"; do printf '%s=%s ' "$c" "${PIDS[$c]}"; done)ports: ${PORTS[*]}"
if [ -f /tmp/canary-guard-sandbox/sandbox.env ]; then
  # shellcheck source=/dev/null
  shared_port=$(. /tmp/canary-guard-sandbox/sandbox.env && echo "$APISERVER_PORT")
  check "private apiserver port differs from the shared sandbox's" test "$shared_port" != "$APISERVER_PORT"
fi

# --- idempotent up
out=$("$SANDBOX" up 2>&1)
check "second up says already up" grep -q "already up" <<<"$out"
check "second up kept the apiserver pid" test "$(cat "$D/pids/apiserver.pid")" = "${PIDS[apiserver]}"

# --- env and the 1.20.2 client
eval "$("$SANDBOX" env)"
check "env points KUBECONFIG into the state dir" test "$KUBECONFIG" = "$D/admin.kubeconfig"
check "kubectl on PATH is the sandbox build" test "$(command -v kubectl)" = "$CG_KUBE_BIN/kubectl"
server_version=$(kubectl version -o json | jq -r .serverVersion.gitVersion)
check "server is v1.20.2 (got $server_version)" test "$server_version" = v1.20.2
check "Prometheus ready at PROMETHEUS_URL" curl -sf "$PROMETHEUS_URL/-/ready" -o /dev/null
check "Alertmanager ready at ALERTMANAGER_URL" curl -sf "$ALERTMANAGER_URL/-/ready" -o /dev/null
check "etcd healthy at CG_ETCD_ENDPOINT" curl -sf "$CG_ETCD_ENDPOINT/health" -o /dev/null
eventually 15 "Prometheus scrapes job podsim" bash -c \
  "curl -sf '$PROMETHEUS_URL/api/v1/targets' | jq -e '[.data.activeTargets[].labels.job] | index(\"podsim\")'"

# --- TLS and authentication
check_not "the serving certificate is not trusted without the sandbox CA" \
  curl -sf --max-time 5 "$CG_APISERVER_URL/readyz" -o /dev/null
code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$CG_SANDBOX_CA" -H "Authorization: Bearer not-a-token" \
  "$CG_APISERVER_URL/api/v1/namespaces")
check "a wrong token gets 401 (got $code)" test "$code" = 401
check "the client-certificate kubeconfig authenticates as system:masters" \
  kubectl --kubeconfig "$CG_ADMIN_CERT_KUBECONFIG" auth can-i -q delete secrets --all-namespaces
check "the podsim identity may update pod status" \
  kubectl --kubeconfig "$CG_PODSIM_KUBECONFIG" auth can-i -q update pods --subresource=status -n default

# --- the limited canary-guard identity: exactly config/manifests/rbac.yaml
cg() { kubectl --kubeconfig "$CANARY_GUARD_KUBECONFIG" "$@"; }
for allowed in "patch deployments.apps" "watch daemonsets.apps" "list replicasets.apps" \
  "get controllerrevisions.apps" "list pods" "create events" "patch events" "watch namespaces" \
  "create leases.coordination.k8s.io" "update leases.coordination.k8s.io"; do
  # shellcheck disable=SC2086  # verb and resource are two words on purpose
  check "canary-guard may $allowed" cg auth can-i -q $allowed -n default
done
for denied in "delete deployments.apps" "update deployments.apps" "create deployments.apps" "get secrets" \
  "list secrets" "delete pods" "create pods" "patch pods" "update pods" "patch nodes" "delete replicasets.apps" \
  "delete leases.coordination.k8s.io" "create namespaces" "get configmaps"; do
  # shellcheck disable=SC2086
  check_not "canary-guard may not $denied" cg auth can-i -q $denied -n default
done
kubectl -n default create deployment forbidden-probe --image=web:v1 >/dev/null
err=$(cg -n default delete deployment forbidden-probe 2>&1 || true)
check "a real delete as canary-guard is Forbidden" grep -q Forbidden <<<"$err"
err=$(cg -n default get secrets 2>&1 || true)
check "reading secrets as canary-guard is Forbidden" grep -q Forbidden <<<"$err"
check "canary-guard may patch an annotation" \
  cg -n default annotate deployment forbidden-probe canary-guard.test/touched=yes -o name
check "the deployment survived" kubectl -n default get deployment forbidden-probe -o name

# --- restart-apiserver keeps port and data
kubectl -n default create configmap survives --from-literal=k=v >/dev/null
"$SANDBOX" restart-apiserver --kill
new_pid=$(cat "$CG_APISERVER_PID_FILE")
check "restart-apiserver started a new process" test "$new_pid" != "${PIDS[apiserver]}"
check "the old apiserver process is gone" pid_gone "${PIDS[apiserver]}"
check "the new apiserver listens on the same port" \
  grep -q "pid=$new_pid," <<<"$(ss -ltnHp "sport = :$APISERVER_PORT")"
check "data survives the restart" kubectl -n default get configmap survives -o name
PIDS[apiserver]=$new_pid

# --- stop/start of one component
"$SANDBOX" stop alertmanager
check_not "status fails while alertmanager is stopped" "$SANDBOX" status >/dev/null
"$SANDBOX" start alertmanager
check "status is back after start" "$SANDBOX" status >/dev/null
PIDS[alertmanager]=$(cat "$D/pids/alertmanager.pid")

# --- up repairs: a dead component comes back, the cluster (etcd, apiserver) is kept
"$SANDBOX" stop prometheus --kill
"$SANDBOX" up
check "up restarted prometheus" "$SANDBOX" status >/dev/null
check "up kept etcd" test "$(cat "$D/pids/etcd.pid")" = "${PIDS[etcd]}"
check "up kept the cluster's data" kubectl -n default get configmap survives -o name
PIDS[prometheus]=$(cat "$D/pids/prometheus.pid")

# --- compact: revisions before the compaction point are gone from etcd
old_rv=$(kubectl -n default get configmap survives -o 'jsonpath={.metadata.resourceVersion}')
kubectl -n default patch configmap survives -p '{"data":{"k":"w"}}' >/dev/null
rev=$("$SANDBOX" compact)
check "compact printed a revision above $old_rv (got $rev)" test "$rev" -gt "$old_rv"
err=$(etcdctl --endpoints "$CG_ETCD_ENDPOINT" get --rev="$old_rv" /registry/configmaps/default/survives 2>&1 || true)
check "etcd reports revision $old_rv compacted" grep -q "compacted" <<<"$err"

# --- down
t0=$EPOCHREALTIME
"$SANDBOX" down
t1=$EPOCHREALTIME
say "TIMING down: $(awk "BEGIN{printf \"%.1f\", $t1 - $t0}") s"
for c in "${!PIDS[@]}"; do
  check "$c (pid ${PIDS[$c]}) is gone" pid_gone "${PIDS[$c]}"
done
for p in "${PORTS[@]}"; do
  check "nobody listens on port $p" test -z "$(ss -ltnH "sport = :$p")"
done
check "pid files are removed" test -z "$(ls -A "$D/pids")"
check "logs survive down" test -s "$D/logs/apiserver.log"
check_not "status fails after down" "$SANDBOX" status >/dev/null
check_not "env refuses after down" "$SANDBOX" env >/dev/null 2>&1
check "a second down is harmless" "$SANDBOX" down
"$SANDBOX" down --clean
check_not "down --clean removes the state dir" test -e "$D"
say "PASS"
