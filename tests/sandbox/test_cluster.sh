#!/usr/bin/env bash
# The sandbox behaves like a real cluster for what canary-guard watches (spec/sandbox.md §3), against the shared,
# already-up sandbox with podsim playing the kubelet. Each case runs in its own fresh namespace:
#   deployment   a healthy Deployment rolls out; `kubectl rollout status` succeeds
#   daemonset    a healthy DaemonSet gets a ControllerRevision and one ready pod per node
#   deadline     a never-ready image with progressDeadlineSeconds 10 ends in ProgressDeadlineExceeded, and
#                `kubectl rollout undo` restores the old ReplicaSet
#   metrics      Prometheus returns a per-revision 5xx ratio: ~0.3 for an `errors30` tag, 0 for a clean one
# Usage: test_cluster.sh [CASE...]   (default: all). Exit 77 (skip) when the sandbox or podsim is not running.
set -euo pipefail
# shellcheck source=tests/sandbox/lib.sh
. "$(dirname "$0")/lib.sh"

env_out=$("$SANDBOX" env 2>/dev/null) || skip "no sandbox running (scripts/sandbox up)"
eval "$env_out"
podsim_pid=$(cat "$CG_SANDBOX_DIR/pids/podsim.pid" 2>/dev/null || true)
{ [ -n "$podsim_pid" ] && [ -d "/proc/$podsim_pid" ]; } ||
  skip "podsim is not running in $CG_SANDBOX_DIR (build target podsim, then scripts/sandbox down && up)"
trap delete_namespaces EXIT

NODES=$(kubectl get nodes -o json |
  jq '[.items[] | select(any(.status.conditions[]?; .type == "Ready" and .status == "True"))] | length')
((NODES > 0)) || fail "no Ready nodes although podsim runs"

# deployment NAME IMAGE REPLICAS [PROGRESS_DEADLINE]: applies a Deployment in $NS (container "web", app=NAME).
deployment() {
  kubectl -n "$NS" apply -f - >/dev/null <<EOF
apiVersion: apps/v1
kind: Deployment
metadata: {name: $1}
spec:
  replicas: $3
  progressDeadlineSeconds: ${4:-600}
  selector: {matchLabels: {app: $1}}
  template:
    metadata: {labels: {app: $1}}
    spec:
      containers: [{name: web, image: "$2"}]
EOF
}

# pod_template_hash DEPLOYMENT: the hash of the Deployment's newest ReplicaSet (by revision annotation).
pod_template_hash() {
  kubectl -n "$NS" get rs -l "app=$1" -o json | jq -r '.items
    | max_by(.metadata.annotations["deployment.kubernetes.io/revision"] | tonumber)
    | .metadata.labels["pod-template-hash"]'
}

case_deployment() {
  new_namespace deploy
  deployment web web:v1 3
  check "healthy Deployment: rollout status succeeds" kubectl -n "$NS" rollout status deployment/web --timeout=60s
  check "healthy Deployment: 3 ready replicas" \
    test "$(kubectl -n "$NS" get deployment web -o 'jsonpath={.status.readyReplicas}')" = 3
  check "healthy Deployment: Available=True" test "$(kubectl -n "$NS" get deployment web \
    -o 'jsonpath={.status.conditions[?(@.type=="Available")].status}')" = True
}

case_daemonset() {
  new_namespace ds
  kubectl -n "$NS" apply -f - >/dev/null <<EOF
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec:
      containers: [{name: agent, image: "agent:v1"}]
EOF
  check "DaemonSet: rollout status succeeds" kubectl -n "$NS" rollout status daemonset/agent --timeout=60s
  check "DaemonSet: one ready pod per Ready node ($NODES)" \
    test "$(kubectl -n "$NS" get daemonset agent -o 'jsonpath={.status.numberReady}')" = "$NODES"
  check "DaemonSet: has a ControllerRevision" \
    test "$(kubectl -n "$NS" get controllerrevisions -o name | wc -l)" -ge 1
}

case_deadline() {
  new_namespace deadline
  deployment web web:v1 3 10
  check "deadline: first rollout succeeds" kubectl -n "$NS" rollout status deployment/web --timeout=60s
  local good_hash
  good_hash=$(pod_template_hash web)
  kubectl -n "$NS" set image deployment/web web=web:unready >/dev/null
  local out
  out=$(kubectl -n "$NS" rollout status deployment/web --timeout=60s 2>&1) &&
    fail "rollout status succeeded on unready pods"
  check "deadline: rollout status reports the exceeded deadline" grep -q "exceeded its progress deadline" <<<"$out"
  check "deadline: Progressing reason is ProgressDeadlineExceeded" test "$(kubectl -n "$NS" get deployment web \
    -o 'jsonpath={.status.conditions[?(@.type=="Progressing")].reason}')" = ProgressDeadlineExceeded
  kubectl -n "$NS" rollout undo deployment/web >/dev/null
  check "deadline: rollout status succeeds after undo" kubectl -n "$NS" rollout status deployment/web --timeout=60s
  check "deadline: undo restored the old pod-template-hash" test "$(pod_template_hash web)" = "$good_hash"
  check "deadline: the old ReplicaSet has 3 ready replicas again" test "$(kubectl -n "$NS" get rs "web-$good_hash" \
    -o 'jsonpath={.status.readyReplicas}')" = 3
  check "deadline: the template image is web:v1 again" test "$(kubectl -n "$NS" get deployment web \
    -o 'jsonpath={.spec.template.spec.containers[0].image}')" = web:v1
}

# prom_ratios: "hash ratio" lines, the 5xx share of requests per pod-template-hash in $NS over the last 10 s.
prom_ratios() {
  local sel="namespace=\"$NS\""
  local q="(sum by (pod_template_hash) (rate(http_requests_total{$sel,code=~\"5..\"}[10s]))
            or sum by (pod_template_hash) (rate(http_requests_total{$sel}[10s])) * 0)
           / sum by (pod_template_hash) (rate(http_requests_total{$sel}[10s]))"
  curl -sf --max-time 5 "$PROMETHEUS_URL/api/v1/query" --data-urlencode "query=$q" |
    jq -r '.data.result[] | "\(.metric.pod_template_hash) \(.value[1])"'
}

# ratio_near HASH WANT TOLERANCE: the current ratio for HASH is within TOLERANCE of WANT.
ratio_near() {
  local got
  got=$(prom_ratios | awk -v h="$1" '$1 == h {print $2}')
  [ -n "$got" ] && awk -v g="$got" -v w="$2" -v t="$3" 'BEGIN { d = g - w; exit !(d <= t && -d <= t) }'
}

case_metrics() {
  new_namespace metrics
  deployment good web:v1 2
  deployment bad web:v2-errors30 2
  check "metrics: good rolls out" kubectl -n "$NS" rollout status deployment/good --timeout=60s
  check "metrics: bad rolls out" kubectl -n "$NS" rollout status deployment/bad --timeout=60s
  local good bad
  good=$(pod_template_hash good)
  bad=$(pod_template_hash bad)
  eventually 60 "metrics: Prometheus has ratio ~0.30 for the errors30 revision ($bad)" ratio_near "$bad" 0.30 0.10
  eventually 30 "metrics: Prometheus has ratio 0 for the clean revision ($good)" ratio_near "$good" 0 0.001
  say "ratios now: $(prom_ratios | tr '\n' ' ')"
}

cases=("$@")
((${#cases[@]})) || cases=(deployment daemonset deadline metrics)
for c in "${cases[@]}"; do
  declare -F "case_$c" >/dev/null || fail "unknown case $c"
  say "== $c"
  "case_$c"
done
say "PASS"
