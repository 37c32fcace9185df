#!/usr/bin/env bash
# A guard of one namespace needs only a Role there (issue #11 §2). The daemon runs as a ServiceAccount bound to
# config/manifests/rbac-namespaced.yaml's Role in the test's namespace and nothing else: it may not list pods or
# Deployments cluster-wide (checked with kubectl auth can-i). With `[selection] namespaces = [NS]` its informers list
# and watch that namespace only, so it syncs, and a crash-looping v2 is rolled back. Before, every informer listed
# cluster-wide (/apis/apps/v1/deployments, /api/v1/pods), got 403 and retried for ever: the daemon never synced.
. "$(dirname "$0")/lib.sh"
e2e_init nsrole
kubectl -n "$NS" create serviceaccount guard >/dev/null
# The shipped Role as is; only the binding names the test's ServiceAccount instead of the user canary-guard.
kubectl -n "$NS" apply -f "$E2E_ROOT/config/manifests/rbac-namespaced.yaml" >/dev/null
kubectl -n "$NS" patch rolebinding canary-guard --type=json \
  -p "[{\"op\":\"replace\",\"path\":\"/subjects\",\"value\":[{\"kind\":\"ServiceAccount\",\"name\":\"guard\",\"namespace\":\"$NS\"}]}]" >/dev/null
sa_token_ready() { [ -n "$(kubectl -n "$NS" get sa guard -o 'jsonpath={.secrets[0].name}' 2>/dev/null)" ]; }
wait_until 30 "a token for ServiceAccount guard" sa_token_ready
token=$(kubectl -n "$NS" get secret "$(kubectl -n "$NS" get sa guard -o 'jsonpath={.secrets[0].name}')" \
  -o 'jsonpath={.data.token}' | base64 -d)
(umask 077; sed -E "s#^( *)token: .*#\1token: $token#" "$CANARY_GUARD_KUBECONFIG" >"$E2E_DIR/sa.kubeconfig")
CANARY_GUARD_KUBECONFIG="$E2E_DIR/sa.kubeconfig"
can() { kubectl --kubeconfig "$CANARY_GUARD_KUBECONFIG" auth can-i "$@" 2>/dev/null || true; }
rbac_ready() { [ "$(can list pods -n "$NS")" = yes ]; }
wait_until 10 "the Role is in force (the apiserver's RBAC cache)" rbac_ready
expect_eq "the identity may not list pods cluster-wide" no "$(can list pods --all-namespaces)"
expect_eq "the identity may not list deployments cluster-wide" no "$(can list deployments.apps --all-namespaces)"
expect_eq "the identity may watch pods in its namespace" yes "$(can watch pods -n "$NS")"

deploy_create web web:v1 2
wait_rollout deployment web
cg_start
expect_eq "no list or watch failed" 0 "$(log_count 'event=(list|watch)_failed')"
wait_until 30 "v1 verdict healthy (baseline)" verdict_is web web:v1 healthy

set_image deployment web web:v2-crashloop
back_on_v1() { [ "$(image_of deployment web)" = web:v1 ]; }
wait_until 60 "crash-looping v2 rolled back by the namespaced guard" back_on_v1
wait_until 30 "rollback record succeeded" rollback_state_is web web:v2-crashloop succeeded
expect_eq "no request was forbidden" 0 "$(log_count 'forbidden')"
e2e_pass
