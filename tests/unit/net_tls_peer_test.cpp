// daemon/net/tls_peer: the SNI / peer-name rules and the stale keep-alive errors both HTTP clients share.
#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/http/error.hpp>
#include <gtest/gtest.h>
#include <openssl/ssl.h>

#include <memory>

#include "daemon/net/tls_peer.hpp"

namespace net = canary_guard::net;

namespace {
struct Ssl {
  Ssl() : ctx(SSL_CTX_new(TLS_client_method()), SSL_CTX_free), ssl(SSL_new(ctx.get()), SSL_free) {}
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx;
  std::unique_ptr<SSL, decltype(&SSL_free)> ssl;
};
const char* sni(SSL* s) { return SSL_get_servername(s, TLSEXT_NAMETYPE_host_name); }
}  // namespace

TEST(TlsPeer, SniForDnsNamesOnlyNeverForAnAddress) {
  Ssl dns, v4, v6, skip;
  EXPECT_TRUE(net::set_tls_peer_name(dns.ssl.get(), "prometheus.monitoring.svc", true));
  ASSERT_NE(sni(dns.ssl.get()), nullptr);
  EXPECT_STREQ(sni(dns.ssl.get()), "prometheus.monitoring.svc");
  EXPECT_TRUE(net::set_tls_peer_name(v4.ssl.get(), "127.0.0.1", true));
  EXPECT_EQ(sni(v4.ssl.get()), nullptr);
  EXPECT_TRUE(net::set_tls_peer_name(v6.ssl.get(), "::1", true));
  EXPECT_EQ(sni(v6.ssl.get()), nullptr);
  // insecure-skip-tls-verify: still SNI, no name to verify.
  EXPECT_TRUE(net::set_tls_peer_name(skip.ssl.get(), "api.example.test", false));
  EXPECT_STREQ(sni(skip.ssl.get()), "api.example.test");
}

TEST(TlsPeer, StaleKeepAliveErrors) {
  namespace asio = boost::asio;
  EXPECT_TRUE(net::is_stale_connection_error(boost::beast::http::error::end_of_stream));
  EXPECT_TRUE(net::is_stale_connection_error(asio::error::eof));
  EXPECT_TRUE(net::is_stale_connection_error(asio::error::connection_reset));
  EXPECT_TRUE(net::is_stale_connection_error(asio::error::broken_pipe));
  EXPECT_TRUE(net::is_stale_connection_error(asio::ssl::error::stream_truncated));
  EXPECT_FALSE(net::is_stale_connection_error(asio::error::timed_out));
  EXPECT_FALSE(net::is_stale_connection_error(asio::error::connection_refused));
  EXPECT_FALSE(net::is_stale_connection_error({}));
}
