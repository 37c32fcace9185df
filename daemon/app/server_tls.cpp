#include "daemon/app/server_tls.hpp"

#include <boost/asio/ssl/context.hpp>

#include <sys/stat.h>

#include <spdlog/spdlog.h>

namespace canary_guard::app {

namespace ssl = boost::asio::ssl;

ServerTls::ServerTls(std::string cert_file, std::string key_file)
    : cert_file_(std::move(cert_file)), key_file_(std::move(key_file)) {}

std::optional<ServerTls::Stamp> ServerTls::stamp() const {
  struct stat c {}, k {};
  if (::stat(cert_file_.c_str(), &c) != 0 || ::stat(key_file_.c_str(), &k) != 0) return std::nullopt;
  return Stamp{c.st_ino, c.st_size, c.st_mtim.tv_sec, c.st_mtim.tv_nsec,
               k.st_ino, k.st_size, k.st_mtim.tv_sec, k.st_mtim.tv_nsec};
}

Expected<std::shared_ptr<ssl::context>, std::string> ServerTls::build() const {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  boost::system::error_code ec;
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                       ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use,
                   ec);
  if (ec) return unexpected("TLS options: " + ec.message());
  ctx->use_certificate_chain_file(cert_file_, ec);
  if (ec) return unexpected("[server] cert_file " + cert_file_ + ": " + ec.message());
  ctx->use_private_key_file(key_file_, ssl::context::pem, ec);
  if (ec) return unexpected("[server] key_file " + key_file_ + ": " + ec.message());
  // OpenSSL checks that the key belongs to the certificate; a mismatch would fail every handshake later.
  if (SSL_CTX_check_private_key(ctx->native_handle()) != 1)
    return unexpected("[server] key_file " + key_file_ + " does not match the certificate in " + cert_file_);
  return ctx;
}

Expected<Ok, std::string> ServerTls::load() {
  auto s = stamp();
  auto ctx = build();
  if (!ctx) return unexpected(ctx.error());
  ctx_ = std::move(*ctx);
  stamp_ = s;
  return Ok{};
}

std::shared_ptr<ssl::context> ServerTls::current() {
  auto s = stamp();
  if (s && s != stamp_ && s != failed_stamp_) {
    auto ctx = build();
    if (ctx) {
      ctx_ = std::move(*ctx);
      stamp_ = s;
      failed_stamp_.reset();
      spdlog::info("component=http event=tls_reloaded cert_file={}", cert_file_);
    } else {
      failed_stamp_ = s;
      spdlog::error("component=http event=tls_reload_failed keeping=old_certificate error=\"{}\"", ctx.error());
    }
  }
  return ctx_;
}

}  // namespace canary_guard::app
