#!/usr/bin/env bash
# ctest fixture "sandbox": `setup` brings the shared sandbox up unless it already runs, and leaves a marker when it
# did; `cleanup` takes it down only when setup brought it up, so a sandbox someone started by hand survives ctest.
set -euo pipefail
# shellcheck source=tests/sandbox/lib.sh
. "$(dirname "$0")/lib.sh"
D=${CG_SANDBOX_DIR:-/tmp/canary-guard-sandbox}
case "${1:-}" in
  setup)
    if "$SANDBOX" status >/dev/null 2>&1; then
      say "sandbox already up in $D; using it"
    else
      "$SANDBOX" up
      touch "$D/.started-by-ctest"
    fi
    ;;
  cleanup)
    if [ -f "$D/.started-by-ctest" ]; then
      rm -f "$D/.started-by-ctest"
      "$SANDBOX" down
    else
      say "sandbox not started by ctest; leaving it up"
    fi
    ;;
  *) echo "usage: $0 setup|cleanup" >&2; exit 2 ;;
esac
