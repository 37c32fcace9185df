#include "daemon/net/tls_peer.hpp"

#include <boost/asio/error.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/http/error.hpp>
#include <openssl/x509v3.h>

namespace canary_guard::net {

bool is_stale_connection_error(const boost::system::error_code& ec) {
  namespace asio = boost::asio;
  return ec == boost::beast::http::error::end_of_stream || ec == asio::error::eof ||
         ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
         ec == asio::ssl::error::stream_truncated;
}

bool set_tls_peer_name(SSL* handle, const std::string& name, bool verify) {
  boost::system::error_code addr_ec;
  boost::asio::ip::make_address(name, addr_ec);
  const bool is_ip = !addr_ec;
  if (!is_ip) SSL_set_tlsext_host_name(handle, name.c_str());  // SNI is for DNS names only
  if (!verify) return true;
  X509_VERIFY_PARAM* param = SSL_get0_param(handle);
  X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  const int ok = is_ip ? X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str())
                       : X509_VERIFY_PARAM_set1_host(param, name.c_str(), name.size());
  return ok == 1;
}

}  // namespace canary_guard::net
