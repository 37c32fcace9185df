# shellcheck shell=bash disable=SC2034  # sourced: SANDBOX and NS are used by the tests
# Shared helpers for the sandbox shell tests. Sourced, not run.
# Exit codes: 0 pass, 1 fail, 77 skip (ctest SKIP_RETURN_CODE).

CG_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SANDBOX="$CG_ROOT/scripts/sandbox"

say() { printf '%s: %s\n' "$(basename "$0" .sh)" "$*"; }
fail() { say "FAIL: $*" >&2; exit 1; }
skip() { say "SKIP: $*"; exit 77; }
pass() { say "ok: $*"; }

# check DESCRIPTION COMMAND...: runs COMMAND; a non-zero status is a failure with DESCRIPTION.
check() { local what=$1; shift; if "$@"; then pass "$what"; else fail "$what"; fi; }

# check_not DESCRIPTION COMMAND...: COMMAND must fail.
check_not() { local what=$1; shift; if "$@"; then fail "$what"; else pass "$what"; fi; }

# eventually SECONDS DESCRIPTION COMMAND...: polls COMMAND every 0.5 s until it succeeds.
eventually() {
  local timeout=$1 what=$2; shift 2
  local deadline=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || fail "$what (not within ${timeout}s)"
    sleep 0.5
  done
  pass "$what"
}

# pid_gone PID: no such process, or only a zombie waiting for whoever inherited it to reap it.
pid_gone() { [ ! -e "/proc/$1/status" ] || grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null; }

# new_namespace CASE: creates a fresh namespace and sets NS to it (not echoed: a $(...) subshell would lose the
# list of namespaces to delete when the test exits).
CG_TEST_NAMESPACES=()
new_namespace() {
  local ns
  ns="cg-$1-$(openssl rand -hex 3)"
  kubectl create namespace "$ns" >/dev/null || fail "create namespace $ns"
  CG_TEST_NAMESPACES+=("$ns")
  # Pods need the namespace's default ServiceAccount (and its token secret) first.
  local deadline=$((SECONDS + 30))
  until [ -n "$(kubectl -n "$ns" get sa default -o 'jsonpath={.secrets[0].name}' 2>/dev/null)" ]; do
    ((SECONDS < deadline)) || fail "default ServiceAccount in $ns"
    sleep 0.2
  done
  NS=$ns
}
delete_namespaces() {
  local ns
  for ns in "${CG_TEST_NAMESPACES[@]}"; do kubectl delete namespace "$ns" --wait=false >/dev/null 2>&1 || true; done
}

# Under set -e a failing command ends the test; say which one, so a failure is never silent.
trap 'say "FAIL: line $LINENO: $BASH_COMMAND exited with $?" >&2' ERR
