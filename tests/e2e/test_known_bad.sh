#!/usr/bin/env bash
# Known-bad template re-applied -> held (or rate-limited). v2 crash-loops and is rolled back (verdict failed on
# its ReplicaSet). Re-applying v2 re-uses that ReplicaSet: with on_known_bad=hold (default) the guard holds at once
# (KnownBadTemplate Event, decision=hold reason=known_bad_template) and does not roll back. Switched to
# canary-guard.io/on-known-bad=rollback, it is rate-limited (known_bad_min_interval = 30s here) and rolled back
# again only once that interval after the first rollback has passed.
. "$(dirname "$0")/lib.sh"
e2e_init knownbad
cg_start 'known_bad_min_interval = "30s"'

deploy_create web web:v1 2
wait_rollout deployment web
wait_until 20 "v1 verdict healthy (baseline)" verdict_is web web:v1 healthy
set_image deployment web web:v2-crashloop
wait_until 60 "first rollback of v2 succeeded" rollback_state_is web web:v2-crashloop succeeded
rb_at=$(date +%s)
wait_rollout deployment web 30

# Re-apply the known-bad template.
set_image deployment web web:v2-crashloop
wait_until 20 "KnownBadTemplate Event" has_event web KnownBadTemplate
expect "decision=hold reason=known_bad_template logged" \
  log_has "workload=$NS/web kind=deployment revision=4 decision=hold reason=known_bad_template"
sleep 8  # the crash loop would have failed it by now
expect_eq "template stays v2 (held, not rolled back)" web:v2-crashloop "$(image_of deployment web)"
expect_eq "still one RollbackStarted Event" 1 "$(event_count web RollbackStarted)"
expect_eq "KnownBadTemplate told once" 1 "$(event_count web KnownBadTemplate)"
expect_eq "history: v2's ReplicaSet re-used as revision 4" "3 4" "$(history_revisions deployment web)"

# on-known-bad=rollback: rate-limited until 30 s after the first rollback, then rolled back once more.
kubectl -n "$NS" annotate deployment web canary-guard.io/on-known-bad=rollback >/dev/null
wait_until 20 "decision=hold reason=known_bad_rate_limited logged" \
  log_has "workload=$NS/web kind=deployment revision=4 decision=hold reason=known_bad_rate_limited"
if (($(date +%s) < rb_at + 25)); then
  expect_eq "no second rollback inside the 30 s interval" 1 "$(event_count web RollbackStarted)"
fi
wait_until 60 "second rollback once the interval passed" eval 'test "$(event_count web RollbackStarted)" -ge 2'
t2=$(date +%s)
expect "second rollback not before the interval ($((t2 - rb_at)) s after the first)" test $((t2 - rb_at)) -ge 28
wait_rollout deployment web 40
expect_eq "template image back to v1" web:v1 "$(image_of deployment web)"
sleep 3
expect_eq "exactly two RollbackStarted Events" 2 "$(event_count web RollbackStarted)"
expect_eq "history: v1's ReplicaSet re-used as revision 5" "4 5" "$(history_revisions deployment web)"
e2e_pass
