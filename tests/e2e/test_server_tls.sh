#!/usr/bin/env bash
# The daemon's HTTP server with TLS ([server] cert_file / key_file, issue #12 §4), against real TLS clients (curl,
# openssl s_client, and the sandbox's Alertmanager delivering to the webhook over https):
#  - every endpoint answers over TLS, verified against the test's CA; nothing is served in the clear;
#  - GET /status serves the rows of `canary-guard status -o json`, from the daemon's caches;
#  - Alertmanager delivers a firing alert over https with its Bearer token, and the release is rolled back;
#  - a renewed certificate is served to new connections without a restart; a broken one is refused and the last good
#    one kept;
#  - a client that trickles its request (slowloris) is cut off after the 10 s request limit, and meanwhile others
#    are served.
. "$(dirname "$0")/lib.sh"
e2e_init srvtls
command -v openssl >/dev/null || skip "openssl missing"

# A CA and two server certificates for 127.0.0.1 issued by it (the second one is the renewal).
T=$E2E_DIR/tls
mkdir -p "$T"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj "/CN=canary-guard e2e CA" \
  -keyout "$T/ca.key" -out "$T/ca.crt" 2>/dev/null
issue() {
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=127.0.0.1" \
    -keyout "$T/$1.key" -out "$T/$1.csr" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' >"$T/$1.ext"
  openssl x509 -req -in "$T/$1.csr" -CA "$T/ca.crt" -CAkey "$T/ca.key" -CAcreateserial -days 2 \
    -extfile "$T/$1.ext" -out "$T/$1.crt" 2>/dev/null
}
issue first
issue renewed
cp "$T/first.crt" "$T/server.crt"
cp "$T/first.key" "$T/server.key"
serial_of() { openssl x509 -noout -serial -in "$1" | cut -d= -f2; }
served_serial() {
  openssl s_client -connect "127.0.0.1:$CG_PORT" -CAfile "$T/ca.crt" -verify_return_error </dev/null 2>/dev/null |
    openssl x509 -noout -serial 2>/dev/null | cut -d= -f2
}
tls_get() { curl -s --max-time 5 --cacert "$T/ca.crt" "https://127.0.0.1:$CG_PORT$1"; }

cg_config 'bake_time = "300s"'
printf '\n[server]\ncert_file = "%s"\nkey_file = "%s"\n' "$T/server.crt" "$T/server.key" >>"$E2E_DIR/canary-guard.toml"
cg_alerts_config
cg_start
expect "the start line says tls=true" log_has 'event=start .*tls=true'

expect_eq "/healthz over TLS, verified against the CA" "ok" "$(tls_get /healthz)"
expect "/metrics over TLS" eval 'tls_get /metrics | grep "^canary_guard_build_info" >/dev/null'
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$CG_PORT/healthz" || true)
expect_eq "plain HTTP gets no answer" 000 "$code"
expect "a client that does not trust the CA is refused" eval '! curl -s --max-time 5 "https://127.0.0.1:$CG_PORT/healthz"'
expect_eq "no token over TLS: 401" 401 \
  "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 --cacert "$T/ca.crt" -X POST -d '{}' "https://127.0.0.1:$CG_PORT/v1/alertmanager")"
expect_eq "the first certificate is served" "$(serial_of "$T/first.crt")" "$(served_serial)"

deploy_create web web:v1 2
wait_rollout deployment web
wait_until 30 "v1 verdict healthy (baseline)" verdict_is web web:v1 healthy

# /status: the same rows as `canary-guard status -o json`, from the daemon's caches.
status_rows() { tls_get "/status?namespace=$NS" | jq -S .; }
wait_until 10 "/status has web with verdict healthy" eval \
  'test "$(status_rows | jq -r ".items[] | select(.name == \"web\") | .verdict")" = healthy'
cli=$("$CANARY_GUARD_BIN" status --kubeconfig "$CANARY_GUARD_KUBECONFIG" -n "$NS" -o json | jq -S .)
rows=$(status_rows)
expect "/status equals the status command's JSON ($(jq '.items | length' <<<"$rows") rows)" test "$cli" = "$rows"
expect_eq "/status of another namespace has no rows" 0 "$(tls_get '/status?namespace=kube-system' | jq ".items | length")"
expect_eq "/status with a bad namespace: 400" 400 \
  "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 --cacert "$T/ca.crt" "https://127.0.0.1:$CG_PORT/status?namespace=NO_SUCH")"

# A renewed certificate: new connections get it, no restart. Key first, then the certificate (a renewal tool's
# order); the daemon keeps the old pair until both match.
cp "$T/renewed.key" "$T/server.key.tmp" && mv "$T/server.key.tmp" "$T/server.key"
cp "$T/renewed.crt" "$T/server.crt.tmp" && mv "$T/server.crt.tmp" "$T/server.crt"
want=$(serial_of "$T/renewed.crt")
wait_until 10 "the renewed certificate is served" eval 'test "$(served_serial)" = "$want"'
expect "the reload is logged" log_has 'event=tls_reloaded'
expect "a renewal does not restart the daemon" cg_alive
printf 'not a certificate\n' >"$T/server.crt.tmp" && mv "$T/server.crt.tmp" "$T/server.crt"
expect_eq "a broken certificate: /healthz still answers" "ok" "$(tls_get /healthz)"
expect "the failed reload is logged" log_has 'event=tls_reload_failed keeping=old_certificate'
expect_eq "the last good certificate is kept" "$want" "$(served_serial)"

# Slowloris: a TLS client sends its request one byte every 0.5 s; the server ends it within the 10 s request limit,
# and answers others meanwhile.
python3 - "$CG_PORT" "$T/ca.crt" >"$E2E_DIR/slowloris.out" 2>&1 <<'PY' &
import socket, ssl, sys, time
ctx = ssl.create_default_context(cafile=sys.argv[2])
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", int(sys.argv[1]))), server_hostname="127.0.0.1")
t0 = time.monotonic()
req = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Padding: " + b"a" * 200
try:
    for b in req:
        s.sendall(bytes([b]))
        time.sleep(0.5)
    print("never cut off")
except (OSError, ssl.SSLError):
    print("cut off after %.1f s" % (time.monotonic() - t0))
PY
slow=$!
E2E_BG_PIDS+=("$slow")
sleep 3
t0=$(date +%s.%N)
expect_eq "/healthz answers while the slow client trickles" "ok" "$(tls_get /healthz)"
expect "... within 1 s" num_cmp "$(date +%s.%N) - $t0 < 1"
wait "$slow" || true
out=$(cat "$E2E_DIR/slowloris.out")
say "slow client: $out"
expect "the slow client was cut off within 9-14 s" eval \
  '[[ "$out" =~ cut\ off\ after\ ([0-9.]+) ]] && num_cmp "${BASH_REMATCH[1]} >= 9 && ${BASH_REMATCH[1]} <= 14"'

# Alertmanager delivers over https (its tls_config trusts the CA) with the Bearer token: the release is rolled back.
alerts_route "$T/ca.crt"
set_image deployment web web:v2
wait_until 10 "v2 ReplicaSet exists" rs_exists web 2
am_inject TlsDeliveredAlert web
wait_until 40 "RollbackStarted Event" has_event web RollbackStarted
expect "reason alert:TlsDeliveredAlert" grep -q TlsDeliveredAlert <<<"$(event_messages web RollbackStarted)"
wait_rollout deployment web 60
expect_eq "template image back to v1" web:v1 "$(image_of deployment web)"
e2e_pass
