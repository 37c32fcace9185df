#!/usr/bin/env bash
# max_concurrent_rollbacks is a hard limit, also when several workloads fail in the same instant (the guard runs
# several reconcile workers; the limit must hold across them). max_concurrent_rollbacks = 1; four Deployments
# web-1..4 (1 replica, Recreate, v1 web:v1-slow4: Ready 4 s after start, so each rollback waits several seconds
# and an overlap would be visible) are set to a crash-looping image at once. A poll every 0.2 s counts the
# rollback records in state started or waiting across the four: never more than one. All four end rolled back
# (record succeeded, template v1). The poll prints when each rollback started and ended.
. "$(dirname "$0")/lib.sh"
e2e_init concurrency
cg_start 'max_concurrent_rollbacks = 1'

names=(web-1 web-2 web-3 web-4)
for n in "${names[@]}"; do E2E_STRATEGY='    type: Recreate' deploy_create "$n" web:v1-slow4 1; done
for n in "${names[@]}"; do wait_rollout deployment "$n" 60; done
for n in "${names[@]}"; do wait_until 20 "$n: v1 verdict healthy (baseline)" verdict_is "$n" web:v1-slow4 healthy; done

pids=()
for n in "${names[@]}"; do set_image deployment "$n" web:v2-crashloop & pids+=($!); done
for p in "${pids[@]}"; do wait "$p"; done
say "all four set to web:v2-crashloop"

# One line per poll: "<epoch> <rs>=<state> ..." for every ReplicaSet that has a rollback record.
open_max=0 polls=0
declare -A first_open last_open
deadline=$((SECONDS + 120))
while :; do
  ((SECONDS < deadline)) || fail "not all four rolled back within 120 s"
  snap=$(kubectl -n "$NS" get rs -o json 2>/dev/null) || continue
  now=$(date +%s.%N)
  polls=$((polls + 1))
  states=$(jq -r '.items[] | select(.metadata.annotations["canary-guard.io/rollback"] != null)
    | "\(.metadata.labels.app) \(.metadata.annotations["canary-guard.io/rollback"] | capture("state=(?<s>[^ ]*)").s)"' <<<"$snap")
  open=$(awk '$2 == "started" || $2 == "waiting"' <<<"$states" | wc -l)
  while read -r app st; do
    [ -n "$app" ] || continue
    if [ "$st" = started ] || [ "$st" = waiting ]; then
      [ -n "${first_open[$app]:-}" ] || first_open[$app]=$now
      last_open[$app]=$now
    fi
  done <<<"$states"
  ((open <= open_max)) || open_max=$open
  if ((open > 1)); then
    fail "$open rollbacks open at once with max_concurrent_rollbacks = 1: $(tr '\n' ',' <<<"$states")"
  fi
  [ "$(awk '$2 == "succeeded"' <<<"$states" | wc -l)" -lt 4 ] || break
  sleep 0.2
done
for n in "${names[@]}"; do
  say "$n: rollback open from $(echo "${first_open[$n]:-0} - $E2E_T0" | bc) s to $(echo "${last_open[$n]:-0} - $E2E_T0" | bc) s"
done
ok "at most $open_max rollback open at any of $polls polls; all four succeeded"
for n in "${names[@]}"; do
  wait_rollout deployment "$n" 30
  expect_eq "$n: template image back to v1" web:v1-slow4 "$(image_of deployment "$n")"
  expect_eq "$n: exactly one RollbackStarted Event" 1 "$(event_count "$n" RollbackStarted)"
done
e2e_pass
