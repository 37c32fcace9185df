#!/usr/bin/env bash
# e2e-timeout: 300
# A watch that keeps failing is doubt (issue #11 §1). The daemon runs as a ServiceAccount whose role may list pods
# but not watch them (an RBAC change): the pods informer lists, its watch gets 403 again and again. Before, the
# informer counted as synced for good, /readyz said ready, and the time-based rules judged the listed picture as it
# aged. Now /readyz is 503 naming the pods informer, canary_guard_informer_live{resource="pods"} is 0, and a v2
# whose pod never becomes Ready (ready_grace 5s) is not judged. Once the watch is allowed again the informer is live,
# and the same v2 is rolled back: the evidence was real, only the cache was in doubt.
. "$(dirname "$0")/lib.sh"
e2e_init nowatch
role="cg-e2e-$NS"
E2E_CLUSTER_OBJECTS+=("clusterrolebinding/$role" "clusterrole/$role")
set_role() {  # VERBS for pods, as a YAML flow list
  kubectl apply -f - >/dev/null <<EOF
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: $role
rules:
  - apiGroups: ["apps"]
    resources: ["deployments", "daemonsets", "replicasets", "controllerrevisions"]
    verbs: ["get", "list", "watch", "patch"]
  - apiGroups: [""]
    resources: ["pods"]
    verbs: $1
  - apiGroups: [""]
    resources: ["events"]
    verbs: ["create", "patch"]
  - apiGroups: [""]
    resources: ["namespaces"]
    verbs: ["get", "list", "watch"]
EOF
}
set_role '["get", "list", "watch"]'
kubectl -n "$NS" create serviceaccount guard >/dev/null
kubectl create clusterrolebinding "$role" --clusterrole="$role" --serviceaccount="$NS:guard" >/dev/null
sa_token_ready() { [ -n "$(kubectl -n "$NS" get sa guard -o 'jsonpath={.secrets[0].name}' 2>/dev/null)" ]; }
wait_until 30 "a token for ServiceAccount guard" sa_token_ready
token=$(kubectl -n "$NS" get secret "$(kubectl -n "$NS" get sa guard -o 'jsonpath={.secrets[0].name}')" \
  -o 'jsonpath={.data.token}' | base64 -d)
(umask 077; sed -E "s#^( *)token: .*#\1token: $token#" "$CANARY_GUARD_KUBECONFIG" >"$E2E_DIR/sa.kubeconfig")
CANARY_GUARD_KUBECONFIG="$E2E_DIR/sa.kubeconfig"

deploy_create web web:v1 1
CG_PODS_TOML='ready_grace = "5s"' cg_start
wait_until 60 "v1 verdict healthy (baseline, full rights)" verdict_is web web:v1 healthy
cg_stop

set_role '["get", "list"]'
say "pods: watch removed from the role"
sleep 2  # the apiserver's RBAC cache
cg_start
readyz() { curl -s --max-time 3 -o "$E2E_DIR/readyz.body" -w '%{http_code}' "http://127.0.0.1:$CG_PORT/readyz" || true; }
not_ready() { [ "$(readyz)" = 503 ] && grep -q 'pods not live' "$E2E_DIR/readyz.body"; }
wait_until 20 "/readyz 503 naming the pods informer" not_ready
say "readyz: $(cat "$E2E_DIR/readyz.body")"
pods_live() { metrics | grep -E "^canary_guard_informer_live\{resource=\"pods\"\} $1\$" >/dev/null; }
wait_until 10 "canary_guard_informer_live{resource=pods} 0" pods_live 0

set_image deployment web web:v2-unready
sleep 20  # 4 x ready_grace
expect_eq "no rollback while the pods watch is forbidden" 0 "$(log_count "$(decision_re web rollback)")"
expect_eq "template still on v2" web:v2-unready "$(image_of deployment web)"
expect "/readyz still 503" not_ready

set_role '["get", "list", "watch"]'
say "pods: watch allowed again"
is_ready() { [ "$(readyz)" = 200 ]; }
wait_until 60 "/readyz 200 once the watch is allowed" is_ready
wait_until 10 "canary_guard_informer_live{resource=pods} 1" pods_live 1
back_on_v1() { [ "$(image_of deployment web)" = web:v1 ]; }
wait_until 60 "v2 rolled back once the cache is live (the evidence was real)" back_on_v1
e2e_pass
