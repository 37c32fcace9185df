# shellcheck shell=bash
# A second kube-apiserver on the sandbox's etcd, for tests and benchmarks that need an apiserver under load without
# slowing the sandbox's own (which the controller-manager and podsim use). Sourced, not run; needs `scripts/sandbox
# env` in the environment. Its flags are the sandbox apiserver's ($CG_SANDBOX_DIR/cmd/apiserver.args) with another
# 127.0.0.1 port and, by default, priority and fairness off and one mutating request in flight, so that a burst of
# writes gets 429 + Retry-After (apiserver/pkg/server/filters/maxinflight.go).
#
#   apiserver2_start LOGFILE [EXTRA_FLAG...]   starts it, waits (90 s) for /readyz; sets APISERVER2_PID,
#                                              APISERVER2_PORT, APISERVER2_URL
#   apiserver2_kubeconfig IN OUT               OUT: IN with its server pointed at the second apiserver
#   apiserver2_stop                            KILL by pid (open watches would hold a TERM for 60 s), reaped
#   load_token NS                              prints the token of a ServiceAccount "load" in NS that may write
#                                              ConfigMaps there (created on first use). Not the admin: the
#                                              max-in-flight filter lets system:masters through uncounted
#   mutating_load_start URL TOKEN NS N LOG     N processes PATCHing ConfigMaps in NS as fast as they can
#                                              (python3, tests/e2e/mutating_load.py); sets LOAD_PID
#   mutating_load_stop                         TERM by pid; the load's summary (status counts) is in LOG
APISERVER2_PID=""
APISERVER2_PORT=""
APISERVER2_URL=""
LOAD_PID=""

apiserver2_start() {
  local log=$1; shift
  local args=() a skip=0
  while IFS= read -r a; do
    if [ "$skip" = 1 ]; then skip=0; continue; fi
    case "$a" in
      --secure-port) skip=1; continue ;;
      --enable-priority-and-fairness* | --max-mutating-requests-inflight* | --max-requests-inflight*) continue ;;
    esac
    args+=("$a")
  done <"$CG_SANDBOX_DIR/cmd/apiserver.args"
  APISERVER2_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  args+=(--secure-port "$APISERVER2_PORT")
  if [ $# -gt 0 ]; then
    args+=("$@")
  else
    args+=(--enable-priority-and-fairness=false --max-mutating-requests-inflight=1)
  fi
  setsid "${args[@]}" >"$log" 2>&1 </dev/null &
  APISERVER2_PID=$!
  APISERVER2_URL="https://127.0.0.1:$APISERVER2_PORT"
  local token deadline=$((SECONDS + 90))
  token=$(cat "$CG_SANDBOX_DIR/pki/admin.token")
  until [ "$(curl -s --max-time 2 --cacert "$CG_SANDBOX_DIR/pki/ca.crt" -H "Authorization: Bearer $token" \
    -o /dev/null -w '%{http_code}' "$APISERVER2_URL/readyz")" = 200 ]; do
    kill -0 "$APISERVER2_PID" 2>/dev/null || { APISERVER2_PID=""; echo "second apiserver exited: $(tail -n 5 "$log")" >&2; return 1; }
    ((SECONDS < deadline)) || { echo "second apiserver not ready within 90 s" >&2; return 1; }
    sleep 0.5
  done
}

apiserver2_kubeconfig() {
  (umask 077; sed -E "s#^( *server: ).*#\1$APISERVER2_URL#" "$1" >"$2")
}

apiserver2_stop() {
  [ -n "$APISERVER2_PID" ] || return 0
  kill -KILL "$APISERVER2_PID" 2>/dev/null || true
  wait "$APISERVER2_PID" 2>/dev/null || true
  APISERVER2_PID=""
}

load_token() {
  local ns=$1 secret="" deadline=$((SECONDS + 30))
  if ! kubectl -n "$ns" get sa load >/dev/null 2>&1; then
    kubectl -n "$ns" create serviceaccount load >/dev/null
    kubectl -n "$ns" create role load --verb=get,create,patch,update --resource=configmaps >/dev/null
    kubectl -n "$ns" create rolebinding load --role=load --serviceaccount="$ns:load" >/dev/null
  fi
  until [ -n "$secret" ]; do
    secret=$(kubectl -n "$ns" get sa load -o 'jsonpath={.secrets[0].name}' 2>/dev/null || true)
    [ -n "$secret" ] || { ((SECONDS < deadline)) || return 1; sleep 0.3; }
  done
  kubectl -n "$ns" get secret "$secret" -o 'jsonpath={.data.token}' | base64 -d
}

mutating_load_start() {
  python3 "$(dirname "${BASH_SOURCE[0]}")/mutating_load.py" "$1" "$2" "$CG_SANDBOX_DIR/pki/ca.crt" "$3" "$4" \
    >"$5" 2>&1 </dev/null &
  LOAD_PID=$!
}

mutating_load_stop() {
  [ -n "$LOAD_PID" ] || return 0
  kill -TERM "$LOAD_PID" 2>/dev/null || true
  wait "$LOAD_PID" 2>/dev/null || true
  LOAD_PID=""
}
