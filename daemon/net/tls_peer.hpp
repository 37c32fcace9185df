#pragma once
// Transport pieces the two HTTP clients (kube/ for the API server, prom/ for Prometheus) share, so that both verify
// a peer and recognise a dead keep-alive connection the same way.
#include <string>

#include <boost/system/error_code.hpp>
#include <openssl/ssl.h>

namespace canary_guard::net {

// A keep-alive connection the server closed while it was idle: a request sent on it was never processed, so it is
// safe to send it again on a fresh connection.
bool is_stale_connection_error(const boost::system::error_code& ec);

// Before the handshake: SNI (for DNS names only, never for an IP) and, when `verify`, the DNS name or IP address the
// peer's certificate must carry (no partial wildcards). False when OpenSSL refuses the name.
bool set_tls_peer_name(SSL* handle, const std::string& name, bool verify);

}  // namespace canary_guard::net
