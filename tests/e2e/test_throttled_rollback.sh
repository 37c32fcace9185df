#!/usr/bin/env bash
# e2e-timeout: 200
# e2e-serial: starts a second kube-apiserver and loads the shared etcd with ~500 writes/s; a peer test would be slowed
# Under load the rollback still goes out (issue #11 §3). The daemon talks to a second kube-apiserver on the
# sandbox's etcd with priority and fairness off and one mutating request in flight (tests/e2e/second_apiserver.sh),
# which 2 processes PATCHing small ConfigMaps keep busy (~600 requests/s, as a ServiceAccount: system:masters
# would pass the max-in-flight filter uncounted), so most writes get 429 with Retry-After. A crash-looping v2 (set
# through the sandbox's own apiserver, which the controller-manager and podsim use) is rolled back all the same: the
# daemon waits as told (event=throttled lines) and its writes get through between the load's. The rollback delay
# under load against the unloaded one is measured by tests/bench/throttled_rollback.sh.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/second_apiserver.sh"
e2e_init throttled
apiserver2_start "$E2E_DIR/apiserver2.log" || fail "could not start the second apiserver"
E2E_BG_PIDS+=("$APISERVER2_PID")
say "second apiserver pid $APISERVER2_PID on $APISERVER2_URL (max-mutating-requests-inflight=1, APF off)"
apiserver2_kubeconfig "$CANARY_GUARD_KUBECONFIG" "$E2E_DIR/cg-apiserver2.kubeconfig"
CANARY_GUARD_KUBECONFIG="$E2E_DIR/cg-apiserver2.kubeconfig"

deploy_create web web:v1 2
wait_rollout deployment web
cg_start
wait_until 30 "v1 verdict healthy (baseline, no load)" verdict_is web web:v1 healthy

token=$(load_token "$NS") || fail "no token for the load's ServiceAccount"
mutating_load_start "$APISERVER2_URL" "$token" "$NS" 2 "$E2E_DIR/load.log"
E2E_BG_PIDS+=("$LOAD_PID")
kubectl -n "$NS" create configmap probe >/dev/null
# Not curl's own User-Agent: for curl the apiserver pretty-prints the answer, and this kube-apiserver 1.20 built
# with Go 1.19 crashes pretty-printing a map (json-iterator's sorted map keys over reflect2 1.0.1: a SIGSEGV in
# mapiterinit), which took the whole second apiserver down.
probe_status() {
  curl -s -A canary-guard-e2e --max-time 5 --cacert "$CG_SANDBOX_DIR/pki/ca.crt" -H "Authorization: Bearer $token" \
    -H 'Content-Type: application/merge-patch+json' -X PATCH -d '{"data":{"x":"1"}}' -o /dev/null -w '%{http_code}' \
    "$APISERVER2_URL/api/v1/namespaces/$NS/configmaps/probe"
}
throttling() { [ "$(probe_status)" = 429 ]; }
wait_until 20 "the second apiserver answers writes with 429" throttling

set_image deployment web web:v2-crashloop
back_on_v1() { [ "$(image_of deployment web)" = web:v1 ]; }
wait_until 120 "crash-looping v2 rolled back through the throttled apiserver" back_on_v1
throttled=$(log_count 'event=throttled status=429')
say "daemon requests told to wait (429 + Retry-After): $throttled"
[ "$throttled" -gt 0 ] || fail "the daemon never saw a 429: the load did not reach it, the test proved nothing"
mutating_load_stop
say "load: $(cat "$E2E_DIR/load.log")"
wait_until 30 "rollback record succeeded" rollback_state_is web web:v2-crashloop succeeded
cg_stop
apiserver2_stop
e2e_pass
