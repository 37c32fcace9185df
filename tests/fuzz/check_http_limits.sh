#!/usr/bin/env bash
# The HTTP request fuzzer (fuzz_http_request.cpp) copies the server's parser limits because the session in
# daemon/app/http_server.cpp sets them inline. Fails when the two disagree, so the fuzzer never silently tests
# limits the daemon no longer uses. Remove once the fuzzer takes them from the server (see TODO(route) there).
set -euo pipefail
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
server=$src/daemon/app/http_server.cpp
fuzzer=$src/tests/fuzz/fuzz_http_request.cpp
ok=1
check() {  # what server_pattern fuzzer_pattern
  if ! grep -qE "$2" "$server"; then echo "server: no '$2' in $server ($1)" >&2; ok=0; fi
  if ! grep -qE "$3" "$fuzzer"; then echo "fuzzer: no '$3' in $fuzzer ($1)" >&2; ok=0; fi
}
check "header limit" 'header_limit\(8192\)' 'kHeaderLimit = 8192;'
check "body limit" 'body_limit\(64 \* 1024\)' 'kBodyLimit = 64 \* 1024;'
if [ "$ok" = 1 ]; then echo "check_http_limits: the fuzzer uses the server's limits (header 8192, body 65536)"; exit 0; fi
echo "check_http_limits: the server now sets:" >&2
grep -nE 'header_limit|body_limit|kMax[A-Za-z]*Bytes *=' "$server" "${server%.cpp}.hpp" >&2 || true
echo "check_http_limits: update kHeaderLimit/kBodyLimit in $fuzzer (and these patterns) to the server's limits" >&2
exit 1
