#pragma once
// AlertWebhook: POST /v1/alertmanager (spec/probes.md §3.1-§3.4). Checks the Bearer token in constant time against
// the token file (re-read when the file changes: rotation without a restart), parses the version-4 body
// (probes::parse_alertmanager_webhook), applies it to the AlertStore (duplicates recognised there) and tells the
// controller which workloads to reconcile. Answers 200 only after the alerts are stored; 401 without the token or
// with a wrong one; 400 (and one log line) for a malformed body; 503 while the token file cannot be read
// (Alertmanager retries 5xx, so nothing is lost). Never logs the token. Owned by the daemon wiring; io thread only.
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <utility>

#include "config/clock.hpp"
#include "daemon/app/http_server.hpp"
#include "daemon/guard/alert_store.hpp"

namespace canary_guard::app {

class Metrics;

// A secret read from a file, re-read when the file's inode, size or modification time changes. Trailing
// whitespace (the newline editors add) is not part of it.
class SecretFile {
 public:
  explicit SecretFile(std::string path) : path_(std::move(path)) {}
  // The current secret; an error text when the file cannot be read or is empty.
  Expected<std::string, std::string> get();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::string value_;
  std::optional<std::tuple<unsigned long, long, long, long>> stamp_;  // inode, size, mtime s, mtime ns
};

// Constant-time comparison of two secrets of any length (their SHA-256 digests are compared).
bool secrets_equal(std::string_view a, std::string_view b);

class AlertWebhook {
 public:
  using Changed = std::function<void(const std::set<std::pair<std::string, std::string>>&)>;
  AlertWebhook(std::string token_file, guard::AlertStore& store, const Clock& clock, Metrics* metrics,
               Changed changed);
  HttpResponse handle(const HttpRequest& request);

 private:
  SecretFile token_;
  guard::AlertStore& store_;
  const Clock& clock_;
  Metrics* metrics_;
  Changed changed_;
  bool token_error_logged_ = false;
};

}  // namespace canary_guard::app
