#pragma once
// TLS for the daemon's HTTP server ([server] cert_file / key_file): a server context built from PEM files, rebuilt
// when either file changes (inode, size or mtime), so a renewed certificate (cert-manager, a systemd timer) applies to
// new connections without a restart. A rebuild that fails (a half-written file, a key that does not match) is logged
// and the last good context kept: a renewal gone wrong never takes the webhook down. TLS 1.2 and 1.3 only.
// Owned by HttpServer; one thread.
#include <memory>
#include <optional>
#include <string>
#include <tuple>

#include "config/expected.hpp"

namespace boost::asio::ssl {
class context;
}

namespace canary_guard::app {

class ServerTls {
 public:
  ServerTls(std::string cert_file, std::string key_file);
  // Loads the files; the error says which file and why (start-up: the daemon exits 2 with it).
  Expected<Ok, std::string> load();
  // The context for a new connection: rebuilt first when a file changed and the new one loads; never null after a
  // successful load(). A connection keeps the context it started with.
  std::shared_ptr<boost::asio::ssl::context> current();

 private:
  using Stamp = std::tuple<unsigned long, long, long, long, unsigned long, long, long, long>;
  std::optional<Stamp> stamp() const;
  Expected<std::shared_ptr<boost::asio::ssl::context>, std::string> build() const;
  std::string cert_file_, key_file_;
  std::shared_ptr<boost::asio::ssl::context> ctx_;
  std::optional<Stamp> stamp_;
  std::optional<Stamp> failed_stamp_;  // the files as they were when a rebuild last failed: logged once
};

}  // namespace canary_guard::app
