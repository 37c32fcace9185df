#!/usr/bin/env bash
# podsim's behaviours against the shared, already-up sandbox (scripts/sandbox up with podsim running). Each case runs
# in a fresh namespace:
#   nodes        N Ready nodes podsim-node-*, no not-ready taint, kubelet v1.20.2, allocatable cpu 8
#   deployment   web:v1 x3 rolls out; pods carry podIP/hostIP, Ready conditions and container statuses
#   daemonset    one ready pod per node, each bound to the node of its affinity
#   crashloop    CrashLoopBackOff with restartCount rising, lastState terminated Error exit 1
#   pullfail     ErrImagePull / ImagePullBackOff, phase Pending, never started
#   unready      Running, Ready=False reason ContainersNotReady
#   oom          restartCount rising, lastState terminated OOMKilled exit 137
#   multi        two containers, each by its own tag (one ready, one unready)
#   delete       a deleted pod disappears (podsim deletes it with grace 0) and the ReplicaSet replaces it
#   metrics      http_requests_total / http_request_duration_seconds series per pod; removed when the pod goes
# Usage: test_podsim.sh [CASE...]   (default: all). Exit 77 (skip) when the sandbox or podsim is not running.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

env_out=$("$SANDBOX" env 2>/dev/null) || skip "no sandbox running (scripts/sandbox up)"
eval "$env_out"
podsim_pid=$(cat "$CG_SANDBOX_DIR/pids/podsim.pid" 2>/dev/null || true)
{ [ -n "$podsim_pid" ] && [ -d "/proc/$podsim_pid" ]; } || skip "podsim is not running in $CG_SANDBOX_DIR"
trap delete_namespaces EXIT

# deployment NAME REPLICAS CONTAINERS_YAML
deployment() {
  kubectl -n "$NS" apply -f - >/dev/null <<EOF
apiVersion: apps/v1
kind: Deployment
metadata: {name: $1}
spec:
  replicas: $2
  selector: {matchLabels: {app: $1}}
  template:
    metadata: {labels: {app: $1}}
    spec:
      containers: $3
EOF
}
pods_json() { kubectl -n "$NS" get pods -l "app=$1" -o json; }
# jq_all APP FILTER: FILTER (boolean, per pod) holds for at least one pod and for every pod.
jq_all() { pods_json "$1" | jq -e "(.items | length) > 0 and all(.items[]; $2)" >/dev/null; }
first_restarts() { pods_json "$1" | jq '[.items[].status.containerStatuses[0].restartCount // 0] | max'; }

case_nodes() {
  local n
  n=$(kubectl get nodes -o json | jq '[.items[] | select(.metadata.name | startswith("podsim-node-"))
      | select(any(.status.conditions[]; .type == "Ready" and .status == "True"))
      | select(all(.spec.taints[]?; .key != "node.kubernetes.io/not-ready" and .key != "node.kubernetes.io/unreachable"))
      | select(.status.nodeInfo.kubeletVersion == "v1.20.2" and .status.allocatable.cpu == "8"
               and .status.allocatable.pods == "110")] | length')
  check "nodes: Ready, untainted, v1.20.2, cpu 8, pods 110 (saw $n)" test "$n" -ge 1
}

case_deployment() {
  new_namespace psdeploy
  deployment web 3 '[{name: web, image: "web:v1"}]'
  check "deployment: rollout status succeeds" kubectl -n "$NS" rollout status deployment/web --timeout=60s
  check "deployment: pods bound, Running, Ready with IPs and container statuses" jq_all web '
      (.spec.nodeName | startswith("podsim-node-")) and .status.phase == "Running"
      and (.status.podIP | length) > 0 and (.status.hostIP | length) > 0
      and any(.status.conditions[]; .type == "Ready" and .status == "True" and (.lastTransitionTime | length) > 0)
      and any(.status.conditions[]; .type == "PodScheduled" and .status == "True")
      and .status.containerStatuses[0].ready == true and .status.containerStatuses[0].started == true
      and .status.containerStatuses[0].image == "web:v1" and (.status.containerStatuses[0].state.running != null)'
  local nodes
  nodes=$(pods_json web | jq '[.items[].spec.nodeName] | unique | length')
  check "deployment: round-robin spreads 3 pods over nodes (saw $nodes)" test "$nodes" -ge 2
}

case_daemonset() {
  new_namespace psds
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
  local want
  want=$(kubectl get nodes -o json | jq '[.items[] | select(.metadata.name | startswith("podsim-node-"))] | length')
  eventually 60 "daemonset: $want ready pods" bash -c \
    "test \"\$(kubectl -n $NS get ds agent -o 'jsonpath={.status.numberReady}')\" = $want"
  check "daemonset: each pod on the node of its affinity" jq_all agent '
      .spec.nodeName == .spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchFields[0].values[0]'
  check "daemonset: rollout status succeeds" kubectl -n "$NS" rollout status daemonset/agent --timeout=30s
}

case_crashloop() {
  new_namespace pscrash
  deployment crash 1 '[{name: web, image: "web:v2-crashloop"}]'
  eventually 30 "crashloop: waiting CrashLoopBackOff" jq_all crash \
    '.status.containerStatuses[0].state.waiting.reason == "CrashLoopBackOff"
     and .status.containerStatuses[0].lastState.terminated.reason == "Error"
     and .status.containerStatuses[0].lastState.terminated.exitCode == 1 and .status.phase == "Running"'
  local r1 r2
  r1=$(first_restarts crash)
  sleep 5
  r2=$(first_restarts crash)
  check "crashloop: restartCount rises ($r1 -> $r2)" test "$r2" -gt "$r1"
  check "crashloop: never Ready" jq_all crash 'any(.status.conditions[]; .type == "Ready" and .status == "False")'
}

case_pullfail() {
  new_namespace pspull
  deployment pull 1 '[{name: web, image: "web:v2-pullfail"}]'
  eventually 30 "pullfail: ErrImagePull, Pending" jq_all pull \
    '.status.containerStatuses[0].state.waiting.reason == "ErrImagePull" and .status.phase == "Pending"'
  eventually 30 "pullfail: then ImagePullBackOff" jq_all pull \
    '.status.containerStatuses[0].state.waiting.reason == "ImagePullBackOff" and .status.containerStatuses[0].started == false'
}

case_unready() {
  new_namespace psunready
  deployment un 1 '[{name: web, image: "web:unready"}]'
  eventually 30 "unready: Running, Ready=False ContainersNotReady" jq_all un \
    '.status.phase == "Running" and .status.containerStatuses[0].state.running != null
     and any(.status.conditions[]; .type == "Ready" and .status == "False" and .reason == "ContainersNotReady")'
}

case_oom() {
  new_namespace psoom
  deployment oom 1 '[{name: web, image: "web:oom"}]'
  eventually 30 "oom: lastState OOMKilled 137" jq_all oom \
    '.status.containerStatuses[0].lastState.terminated.reason == "OOMKilled"
     and .status.containerStatuses[0].lastState.terminated.exitCode == 137'
  local r1 r2
  r1=$(first_restarts oom)
  sleep 5
  r2=$(first_restarts oom)
  check "oom: restartCount rises ($r1 -> $r2)" test "$r2" -gt "$r1"
}

case_multi() {
  new_namespace psmulti
  deployment multi 1 '[{name: web, image: "web:v1"}, {name: side, image: "side:unready"}]'
  eventually 30 "multi: web ready, side running but not ready" jq_all multi \
    '(.status.containerStatuses | map({(.name): .ready}) | add) == {"web": true, "side": false}
     and any(.status.conditions[]; .type == "ContainersReady" and .status == "False")'
}

case_delete() {
  new_namespace psdel
  deployment del 2 '[{name: web, image: "web:v1"}]'
  check "delete: rollout" kubectl -n "$NS" rollout status deployment/del --timeout=60s
  local victim
  victim=$(pods_json del | jq -r '.items[0].metadata.name')
  # --wait: returns only when the object is gone, i.e. podsim finished "termination".
  check "delete: pod $victim gone within 30 s" kubectl -n "$NS" delete pod "$victim" --wait=true --timeout=30s
  check "delete: replaced and rolled out again" kubectl -n "$NS" rollout status deployment/del --timeout=60s
}

case_metrics() {
  new_namespace psmetrics
  deployment met 2 '[{name: web, image: "web:v3-errors50-latency400"}]'
  check "metrics: rollout" kubectl -n "$NS" rollout status deployment/met --timeout=60s
  local hash
  hash=$(pods_json met | jq -r '.items[0].metadata.labels["pod-template-hash"]')
  series() { curl -fsS "$CG_PODSIM_METRICS_URL" | grep -F "namespace=\"$NS\"" || true; }
  eventually 15 "metrics: 200 and 500 counters per pod" bash -c \
    "test \"\$(curl -fsS '$CG_PODSIM_METRICS_URL' | grep -F 'namespace=\"$NS\"' | grep -c '^http_requests_total{.*pod_template_hash=\"$hash\"')\" -ge 4"
  local out
  out=$(series)
  grep -q 'controller_revision_hash=""' <<<"$out" || fail "metrics: empty controller_revision_hash label missing"
  grep -q '^http_request_duration_seconds_bucket{.*le="0.5"' <<<"$out" || fail "metrics: histogram buckets missing"
  pass "metrics: labels and histogram present"
  # About half 5xx, and latency around 400 ms (most observations between 0.25 s and 1 s).
  local ok err
  ok=$(grep '^http_requests_total{.*code="200"' <<<"$out" | awk '{s += $2} END {print s + 0}')
  err=$(grep '^http_requests_total{.*code="500"' <<<"$out" | awk '{s += $2} END {print s + 0}')
  check "metrics: errors50 gives ~50% 500s (ok=$ok err=$err)" \
    awk -v o="$ok" -v e="$err" 'BEGIN { r = e / (o + e); exit !(o + e > 0 && r > 0.4 && r < 0.6) }'
  local le25 le1
  le25=$(grep '^http_request_duration_seconds_bucket{.*le="0.25"' <<<"$out" | awk '{s += $2} END {print s + 0}')
  le1=$(grep '^http_request_duration_seconds_bucket{.*le="1"' <<<"$out" | awk '{s += $2} END {print s + 0}')
  check "metrics: latency400 puts most observations in (0.25, 1] (le0.25=$le25 le1=$le1)" \
    awk -v a="$le25" -v b="$le1" 'BEGIN { exit !(b > 0 && a / b < 0.2) }'
  kubectl -n "$NS" delete deployment met --wait=false >/dev/null
  eventually 40 "metrics: series removed after the pods are deleted" bash -c \
    "! curl -fsS '$CG_PODSIM_METRICS_URL' | grep -qF 'namespace=\"$NS\"'"
}

ALL=(nodes deployment daemonset crashloop pullfail unready oom multi delete metrics)
for c in "${@:-${ALL[@]}}"; do
  declare -F "case_$c" >/dev/null || fail "unknown case $c (cases: ${ALL[*]})"
  "case_$c"
done
say "all passed"
