#!/usr/bin/env bash
# e2e-timeout: 420
# A stale cache is doubt (issue #11 §1). canary-guard talks to the apiserver through a proxy that can stop moving
# bytes without closing anything (tests/e2e/freeze_proxy.py), as a hung load balancer does.
#  1. v2 (Ready 20 s after start) rolls out with ready_grace 30s. 3 s after its pod appeared, every open connection
#     is frozen (the watches among them); new connections still flow. The pod becomes Ready while the daemon's
#     watches are silent. The old daemon judged its frozen picture: "not Ready past ready_grace" at 30 s, and rolled
#     the healthy release back. Now either the frozen watch is noticed first, or the fresh read before the PATCH
#     shows the pod Ready: no rollback, and v2 is verified healthy once the caches move again.
#  2. Then everything freezes, new connections too: within the liveness bound (60 s) /readyz answers 503 naming an
#     informer that is not live, and canary_guard_informer_live{resource="pods"} is 0. After the thaw the informers
#     are live again and /readyz is 200.
. "$(dirname "$0")/lib.sh"
e2e_init frozen
freeze_proxy
proxy_pid=$PROXY_PID
CANARY_GUARD_KUBECONFIG="$E2E_DIR/proxied.kubeconfig"

deploy_create web web:v1 1
CG_PODS_TOML='ready_grace = "30s"' cg_start 'bake_time = "10s"'
wait_until 60 "v1 verdict healthy (baseline)" verdict_is web web:v1 healthy

set_image deployment web web:v2-slow20
v2_pod() { kubectl -n "$NS" get pods -o jsonpath='{range .items[*]}{.metadata.name} {.spec.containers[0].image}{"\n"}{end}' | awk '$2 == "web:v2-slow20" {print $1; exit}'; }
v2_exists() { [ -n "$(v2_pod)" ]; }
wait_until 30 "v2 pod created" v2_exists
sleep 3
kill -USR1 "$proxy_pid"
say "froze every open connection (watches included) 3 s after the v2 pod appeared"
t_freeze=$SECONDS
pod_ready() { [ "$(kubectl -n "$NS" get pod "$(v2_pod)" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}')" = True ]; }
wait_until 40 "v2 pod Ready (read directly, not through the proxy)" pod_ready
# Well past the 30 s ready grace counted from the pod's first sighting.
while ((SECONDS - t_freeze < 45)); do sleep 1; done
expect "no rollback decided and sent for the healthy v2" \
  test "$(log_count "$(decision_re web rollback)")" = 0
expect_eq "template still on v2" web:v2-slow20 "$(image_of deployment web)"
expect_eq "no RollbackStarted Event" 0 "$(event_count web RollbackStarted)"
wait_until 90 "v2 verdict healthy once the caches move" verdict_is web web:v2-slow20 healthy
if log_has 'reason=evidence_not_confirmed'; then ok "the fresh read before the PATCH refused the stale evidence"; fi
if log_has 'event=not_live'; then ok "an informer was reported not live while frozen"; fi

# 2. Everything frozen: not live within the bound, reported, and recovered after the thaw.
kill -USR2 "$proxy_pid"
say "froze every connection, new ones too"
readyz() { curl -s --max-time 3 -o "$E2E_DIR/readyz.body" -w '%{http_code}' "http://127.0.0.1:$CG_PORT/readyz" || true; }
pods_live() { metrics | grep -E "^canary_guard_informer_live\{resource=\"pods\"\} $1\$" >/dev/null; }
t0=$SECONDS
# Every watch reads with a deadline of its timeout (40-50 s) + 10 s: all are noticed within 60 s of the freeze.
wait_until 75 "canary_guard_informer_live{resource=pods} 0 within the liveness bound" pods_live 0
say "pods informer not live after $((SECONDS - t0)) s"
expect_eq "/readyz answers 503" 503 "$(readyz)"
say "readyz: $(cat "$E2E_DIR/readyz.body")"
expect "/readyz names the pods informer" grep -q 'informer pods not live' "$E2E_DIR/readyz.body"
expect "a log line for the change" log_has 'informer=pods event=not_live'
kill -HUP "$proxy_pid"
say "thawed"
is_ready() { [ "$(readyz)" = 200 ]; }
wait_until 60 "/readyz 200 again after the thaw" is_ready
wait_until 10 "canary_guard_informer_live{resource=pods} 1" pods_live 1
live_again() { [ "$(log_count 'informer=pods event=live')" -ge 2 ]; }  # the first is the start-up sync
expect "a log line for the recovery" live_again
expect_eq "still never rolled back" 0 "$(event_count web RollbackStarted)"
e2e_pass
