#!/usr/bin/env bash
# canary-guard's rollback equals `kubectl rollout undo --to-revision`. Two identical Deployments "web" (same
# name, labels and template, in two namespaces) go through the same history: v1, v2 (healthy), v3 crash-looping.
# The guarded one is rolled back by canary-guard; the twin (canary-guard.io/enabled=false, so the guard leaves it
# alone) is undone by kubectl to the same revision. Both must end with the same spec.template (minus
# pod-template-hash), the same Deployment annotations (minus canary-guard.io/*) and the same `rollout history`.
. "$(dirname "$0")/lib.sh"
e2e_init twin
extra_namespace twin
TWIN=$XNS
cat >"$E2E_DIR/canary-guard.toml" <<TOML
[selection]
namespaces = ["$NS", "$TWIN"]
[guard]
bake_time = "5s"
[log]
level = "debug"
TOML
cg_start

deploy_create web web:v1 2
NS=$TWIN deploy_create web web:v1 2 600 'canary-guard.io/enabled: "false"'
wait_rollout deployment web
NS=$TWIN wait_rollout deployment web
wait_until 20 "guarded: v1 verdict healthy" verdict_is web web:v1 healthy
set_image deployment web web:v2; NS=$TWIN set_image deployment web web:v2
wait_rollout deployment web; NS=$TWIN wait_rollout deployment web
wait_until 30 "guarded: v2 verdict healthy (baked)" verdict_is web web:v2 healthy
set_image deployment web web:v3-crashloop; NS=$TWIN set_image deployment web web:v3-crashloop
wait_until 60 "guarded: rollback started" has_event web RollbackStarted
to_rev=$(field "$(rollback_of_image web web:v3-crashloop)" to-revision)
expect_eq "guard's target revision" 2 "$to_rev"
kubectl -n "$TWIN" rollout undo deployment/web --to-revision="$to_rev"
wait_rollout deployment web 40; NS=$TWIN wait_rollout deployment web 40
wait_until 20 "guarded: record state=succeeded" rollback_state_is web web:v3-crashloop succeeded
expect_eq "twin: untouched by the guard (no Events from canary-guard)" 0 "$(
  kubectl -n "$TWIN" get events -o json | jq '[.items[] | select(.source.component == "canary-guard")] | length')"

tmpl() { kubectl -n "$1" get deployment web -o json | jq -S '.spec.template | del(.metadata.labels["pod-template-hash"])'; }
anns() {
  kubectl -n "$1" get deployment web -o json |
    jq -S '.metadata.annotations | with_entries(select(.key | startswith("canary-guard.io/") | not))'
}
if ! diff -u <(tmpl "$TWIN") <(tmpl "$NS") >"$E2E_DIR/template.diff"; then
  cat "$E2E_DIR/template.diff"; fail "spec.template differs between kubectl undo (-) and canary-guard (+)"
fi
ok "spec.template identical: $(tmpl "$NS" | jq -c .)"
if ! diff -u <(anns "$TWIN") <(anns "$NS") >"$E2E_DIR/annotations.diff"; then
  cat "$E2E_DIR/annotations.diff"; fail "Deployment annotations differ between kubectl undo (-) and canary-guard (+)"
fi
ok "Deployment annotations identical: $(anns "$NS" | jq -c .)"
hist() { kubectl -n "$1" rollout history deployment/web | sed 1d; }
if ! diff -u <(hist "$TWIN") <(hist "$NS") >"$E2E_DIR/history.diff"; then
  cat "$E2E_DIR/history.diff"; fail "rollout history differs between kubectl undo (-) and canary-guard (+)"
fi
ok "rollout history identical: $(history_revisions deployment web)"
expect_eq "history revisions" "1 3 4" "$(history_revisions deployment web)"
for r in 1 3 4; do
  a=$(NS=$TWIN rs_of web "$r"); b=$(rs_of web "$r")
  expect_eq "revision $r: same pod-template-hash in both" \
    "$(kubectl -n "$TWIN" get rs "$a" -o 'jsonpath={.metadata.labels.pod-template-hash}')" \
    "$(kubectl -n "$NS" get rs "$b" -o 'jsonpath={.metadata.labels.pod-template-hash}')"
done
e2e_pass
