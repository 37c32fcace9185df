#!/usr/bin/env bash
# The in-cluster install (issue #13 §3): the Kustomize base applied to the sandbox with `kubectl apply -k` (through an
# overlay that puts it in this test's namespace with a name prefix, so tests side by side do not share it, and at
# 0 replicas: the sandbox runs no real containers), then the daemon run by hand as that ServiceAccount, by its real
# token, the way a pod would: no kubeconfig, KUBERNETES_SERVICE_HOST/PORT set, token, ca.crt and namespace in a
# directory (CANARY_GUARD_SERVICEACCOUNT_DIR stands in for /var/run/secrets/kubernetes.io/serviceaccount).
#  - the guard works end to end under that identity (a crash-looping release rolled back, leader election in its
#    own namespace);
#  - `kubectl auth can-i` as the ServiceAccount: it cannot delete workloads, create or update them, read Secrets,
#    exec into pods, or take Leases outside its own namespace; it can patch Deployments and list pods.
. "$(dirname "$0")/lib.sh"
e2e_init incluster
BASE="$E2E_ROOT/config/manifests/kustomize/base"
api_port=$(api_port)

mkdir -p "$E2E_DIR/overlay"
cp -r "$BASE" "$E2E_DIR/base"   # kubectl 1.20's Kustomize (v2.0.3) loads bases below the overlay's root
cat >"$E2E_DIR/overlay/canary-guard.toml" <<EOT
[selection]
namespaces = ["$NS"]
[guard]
bake_time = "5s"
[leader_election]
enabled = true
lease_namespace = "$NS"
lease_name = "canary-guard"
lease_duration = "4s"
renew_deadline = "3s"
retry_period = "1s"
EOT
cat >"$E2E_DIR/overlay/kustomization.yaml" <<EOT
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: $NS
namePrefix: $NS-
bases:
  - ../base
configMapGenerator:
  - name: canary-guard
    behavior: replace
    files:
      - canary-guard.toml
patchesStrategicMerge:
  - replicas.yaml
EOT
cat >"$E2E_DIR/overlay/replicas.yaml" <<EOT
apiVersion: apps/v1
kind: Deployment
metadata:
  name: canary-guard
spec:
  replicas: 0
EOT
# The base's own Namespace object would be renamed to $NS by the overlay: it exists already.
out=$(kubectl apply -k "$E2E_DIR/overlay" 2>&1) || fail "kubectl apply -k: $out"
say "applied: $(tr '\n' ' ' <<<"$out")"
E2E_CLUSTER_OBJECTS+=("clusterrole/$NS-canary-guard" "clusterrolebinding/$NS-canary-guard")
E2E_EXTRA_NS+=("$NS-canary-guard")  # the base's Namespace object, renamed by the prefix
SA="$NS-canary-guard"
expect "ServiceAccount created" kubectl -n "$NS" get sa "$SA"
expect "ConfigMap carries the overlay's configuration" bash -c "kubectl -n '$NS' get configmap -o json | grep 'lease_namespace = \\\\\"$NS\\\\\"' >/dev/null"
expect "PodDisruptionBudget created" kubectl -n "$NS" get pdb "$NS-canary-guard"
expect "Service created" kubectl -n "$NS" get service "$NS-canary-guard"

sa_token_ready() { [ -n "$(kubectl -n "$NS" get sa "$SA" -o 'jsonpath={.secrets[0].name}' 2>/dev/null)" ]; }
wait_until 30 "the token controller made the ServiceAccount's token" sa_token_ready
secret=$(kubectl -n "$NS" get sa "$SA" -o 'jsonpath={.secrets[0].name}')
SADIR="$E2E_DIR/serviceaccount"
mkdir -p "$SADIR"
kubectl -n "$NS" get secret "$secret" -o 'jsonpath={.data.token}' | base64 -d >"$SADIR/token"
kubectl -n "$NS" get secret "$secret" -o 'jsonpath={.data.ca\.crt}' | base64 -d >"$SADIR/ca.crt"
printf '%s' "$NS" >"$SADIR/namespace"

# kubectl auth can-i as the ServiceAccount (least privilege).
as="system:serviceaccount:$NS:$SA"
can() { kubectl auth can-i "$@" --as "$as" 2>/dev/null | grep -x yes >/dev/null; }
for v in "delete deployments" "create deployments" "update deployments" "delete pods" "create pods/exec" \
  "get secrets" "list secrets" "delete daemonsets" "update replicasets" "create clusterroles.rbac.authorization.k8s.io"; do
  # shellcheck disable=SC2086
  if can $v -n "$NS" || can $v -n default; then fail "the ServiceAccount may $v"; else ok "cannot $v"; fi
done
for v in "create leases.coordination.k8s.io" "update leases.coordination.k8s.io"; do
  # shellcheck disable=SC2086
  if can $v -n default; then fail "the ServiceAccount may $v outside its namespace"; else ok "cannot $v in default"; fi
done
for v in "patch deployments" "list pods" "watch replicasets" "create events" "update leases.coordination.k8s.io"; do
  # shellcheck disable=SC2086
  if can $v -n "$NS"; then ok "can $v"; else fail "the ServiceAccount may not $v"; fi
done

# The daemon as that ServiceAccount, configured as in a pod.
CG_LOG="$E2E_DIR/canary-guard.incluster.log"
CG_PORT=$(free_port)
kubectl -n "$NS" get configmap -o json | jq -r '.items[] | select(.metadata.name | startswith("'"$NS"'-canary-guard")) | .data["canary-guard.toml"]' >"$E2E_DIR/incluster.toml"
env -u KUBECONFIG HOME="$E2E_DIR" KUBERNETES_SERVICE_HOST=127.0.0.1 KUBERNETES_SERVICE_PORT="$api_port" \
  CANARY_GUARD_SERVICEACCOUNT_DIR="$SADIR" \
  "$CANARY_GUARD_BIN" run --config "$E2E_DIR/incluster.toml" --listen "127.0.0.1:$CG_PORT" >"$CG_LOG" 2>&1 </dev/null &
CG_PID=$!
wait_until 30 "caches synced as the ServiceAccount" log_has 'event=caches_synced'
expect "it used the in-cluster service account" log_has 'credentials="in-cluster service account"'
wait_until 10 "it leads (Lease in its own namespace)" log_has 'event=started_leading'

deploy_create web web:v1 2
wait_rollout deployment web
wait_until 30 "v1 verdict healthy (baseline)" verdict_is web web:v1 healthy
set_image deployment web web:v2-crashloop
wait_until 60 "RollbackStarted (as the ServiceAccount)" has_event web RollbackStarted
wait_rollout deployment web 60
expect_eq "template back to v1" web:v1 "$(image_of deployment web)"
expect "no request was forbidden" bash -c "! grep -q 'kind=forbidden' '$CG_LOG'"

# The sidecar overlay: a namespaced Role only (no cluster-wide read), applied to this namespace.
mkdir -p "$E2E_DIR/sidecar"
cp "$E2E_ROOT"/config/manifests/kustomize/sidecar/* "$E2E_DIR/sidecar/"
sed -i "s/^namespace: shop/namespace: $NS/" "$E2E_DIR/sidecar/kustomization.yaml"
sed -i "s/\"shop\"/\"$NS\"/g" "$E2E_DIR/sidecar/canary-guard.toml"
out=$(kubectl apply -k "$E2E_DIR/sidecar" 2>&1) || fail "kubectl apply -k sidecar: $out"
ok "sidecar overlay applied"
sas="system:serviceaccount:$NS:canary-guard-sidecar"
can_sc() { kubectl auth can-i "$@" --as "$sas" 2>/dev/null | grep -x yes >/dev/null; }
expect "sidecar can patch Deployments in its namespace" can_sc patch deployments -n "$NS"
expect "sidecar can take its Lease" can_sc update leases.coordination.k8s.io -n "$NS"
if can_sc list deployments -n default; then fail "the sidecar may list Deployments in another namespace"; else ok "sidecar cannot read another namespace"; fi
if can_sc list deployments --all-namespaces; then fail "the sidecar may list cluster-wide"; else ok "sidecar has no cluster-wide read"; fi
e2e_pass
