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
if [ -n "$bad" ]; then
  echo "tests/e2e: a polled command expands \$( ) once, before the first poll (wrap it in eval '...' or a function):" >&2
  echo "$bad" >&2
  exit 1
fi
echo "tests/e2e lint: ok"
