#pragma once
// Supplies the bearer token / client certificate for each request: a static token, a token file re-read when it
// changes (bound service-account tokens rotate) or an exec plugin whose result is cached until it expires.
// The exec plugin runs as a child process read asynchronously (the io thread never blocks on it), bounded by a
// deadline; callers that arrive while it runs wait for that one run. A failed run is not repeated for every
// request: until its jittered exponential backoff (1 s doubling to 60 s, reset by a success) has passed, callers get
// its error at once. Owned by Client; used on the client's thread
// only.
#include <utility>  // Boost 1.74: must precede boost/asio/awaitable.hpp

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>

#include "config/rfc3339.hpp"
#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <random>
#include <string>

#include "config/clock.hpp"
#include "config/expected.hpp"
#include "daemon/kube/kubeconfig.hpp"

namespace canary_guard::kube {

struct AuthInfo {
  std::string token;            // empty: no Authorization header
  std::string client_cert_pem;  // from an exec plugin; empty when unchanged from the kubeconfig
  std::string client_key_pem;
};

struct AuthOptions {
  // From start to exit of the exec plugin; on expiry it is killed (SIGKILL) and the call fails.
  std::chrono::milliseconds exec_timeout{std::chrono::seconds{30}};
  // After a failed exec run, the next one waits this long (jittered down by up to 20 %), doubling up to the max.
  std::chrono::milliseconds exec_backoff_min{std::chrono::seconds{1}};
  std::chrono::milliseconds exec_backoff_max{std::chrono::seconds{60}};
};

class AuthProvider {
 public:
  AuthProvider(boost::asio::io_context& ioc, const Credentials& creds, const Clock& clock, AuthOptions options = {});
  ~AuthProvider();
  AuthProvider(const AuthProvider&) = delete;
  AuthProvider& operator=(const AuthProvider&) = delete;

  // The credentials to use now; re-reads the token file at most every 60 s (or when its mtime changes) and runs
  // the exec plugin when nothing valid is cached (one run at a time: concurrent callers share it; after a failure,
  // not again before its backoff has passed). Error text when the plugin or file fails.
  boost::asio::awaitable<Expected<AuthInfo, std::string>> current();
  // A 401 was received: forget cached exec output and re-read the token file on the next call.
  void invalidate();

 private:
  struct ExecRun;
  // Runs the plugin once; on success fills cached_ and expires_.
  boost::asio::awaitable<Expected<AuthInfo, std::string>> run_exec();

  boost::asio::io_context& ioc_;
  AuthOptions options_;
  std::shared_ptr<ExecRun> running_;  // the plugin run in progress, if any
  const Clock& clock_;
  std::string static_token_;
  std::string token_file_;
  std::optional<ExecSpec> exec_;
  std::string server_;
  AuthInfo cached_;
  bool have_cached_ = false;
  TimePoint expires_{};  // exec: expirationTimestamp; token file: next forced re-read
  std::optional<std::string> exec_error_;  // the last run's failure, returned until exec_retry_at_
  TimePoint exec_retry_at_{};
  std::chrono::milliseconds exec_backoff_{0};  // the wait after the next failure (0: exec_backoff_min)
  std::mt19937 rng_{std::random_device{}()};
  std::filesystem::file_time_type file_mtime_{};
};

// Parses an ExecCredential JSON (for tests and the plugin runner). expires = nullopt when none is given.
struct ExecResult {
  AuthInfo info;
  std::optional<TimePoint> expires;
};
Expected<ExecResult, std::string> parse_exec_credential(std::string_view json);

// RFC 3339 ("2024-01-02T03:04:05Z", fractional seconds and offsets allowed) to TimePoint.
using canary_guard::parse_rfc3339;  // config/rfc3339.hpp

}  // namespace canary_guard::kube
