#!/usr/bin/env bash
# Catches a test that cannot fail: `wait_until`/`hold_for` run their command again and again, so a `$( )` in its
# arguments must be inside eval '...' (else it is expanded once, before the first poll, and the poll checks a
# constant). Run by ctest as e2e_lint (label unit: it needs no cluster).
cd "$(dirname "$0")"
bad=$(awk '
  FNR == 1 { joined = "" }
  { line = $0; if (joined != "") { line = joined " " line; joined = "" } }
  /\\$/ { joined = substr(line, 1, length(line) - 1); next }
  line ~ /(^|[ ;])(wait_until|hold_for) / {
    # eval '...' is evaluated again at every poll: fine. A bare test/[ with $( ) is not.
    if (line ~ /(wait_until|hold_for) +[0-9]+ +"[^"]*" +(test|\[) .*\$\(/ && line !~ /eval \x27/)
      print FILENAME ":" FNR ": " $0
  }' test_*.sh)
# A pipe into `grep -q` fails under `set -o pipefail` when grep has its match before the writer is done: the
# writer dies of SIGPIPE and the pipeline's status is 141, so a check that found what it looked for says no (a
# /metrics body whose match moved further down made test_server_tls fail so). `grep ... >/dev/null` reads to the end.
piped=$(grep -nE '\|[[:space:]]*(\{[[:space:]]*!?[[:space:]]*)?grep[[:space:]]+-[a-zA-Z]*q' lib.sh test_*.sh || true)
if [ -n "$piped" ]; then
  echo "tests/e2e: a pipe into grep -q (SIGPIPE under pipefail; use grep ... >/dev/null):" >&2
  echo "$piped" >&2
  exit 1
fi
if [ -n "$bad" ]; then
  echo "tests/e2e: a polled command expands \$( ) once, before the first poll (wrap it in eval '...' or a function):" >&2
  echo "$bad" >&2
  exit 1
fi
echo "tests/e2e lint: ok"
