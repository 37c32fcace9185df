#pragma once
// PrometheusClient: the HTTP(S) client of the Prometheus query API (spec/probes.md §1): form-encoded POST
// /api/v1/query with explicit time and server-side timeout, buildinfo and readiness. Keeps a small keep-alive pool,
// puts a deadline on connect, write and read of every attempt, bounds the body, retries transient errors with
// jittered exponential backoff inside the caller's evaluation slot, and turns every failure into a
// probes::QueryError (spec §1.4 classes). Never throws for anything that comes from the network.
// Owned by the daemon's wiring; lives on the io_context thread (no locking).
//
// Usage (inside a coroutine on the io_context thread):
//   auto opts = prom::PrometheusClient::validate(config_options);   // Expected<ClientOptions, string>; fatal at start
//   prom::PrometheusClient client(ioc, *opts, &observer);
//   (void)co_await client.buildinfo();                               // logs the version once
//   auto r = co_await client.query("sum(rate(x[5m]))", now_unix - 30, steady_now + 10s);
//   if (!r && r.error().cls == probes::ErrorClass::config) ...       // misconfigured probe, not an outage
#include <utility>  // Boost 1.74: must precede boost/asio/awaitable.hpp

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/expected.hpp"
#include "probes/prometheus.hpp"

namespace canary_guard::prom {

struct ClientOptions {
  std::string url;                            // http://host:port[/prefix] or https://...
  std::chrono::milliseconds timeout{10'000};  // client deadline per attempt; server-side `timeout` = 80 % of it
  std::string bearer_token_file;              // re-read at most every 60 s
  std::string basic_auth_user, basic_auth_password_file;
  std::string ca_file;  // https: verify against it (else the system default paths); SNI + hostname check
  bool accept_warnings = false;
  std::size_t max_body_bytes = 64 * 1024 * 1024;
  // Additions. Backoff between transient failures: initial, doubled per retry, capped (spec R1.7: 1 s .. 30 s).
  std::chrono::milliseconds backoff_initial{1'000};
  std::chrono::milliseconds backoff_max{30'000};
  std::size_t max_idle_connections = 4;
  std::chrono::seconds credentials_refresh{60};  // how long a token / password read from its file is reused
  std::string user_agent = "canary-guard";
};

// Counts requests for canary_guard_prometheus_requests_total / _request_duration_seconds without prom/ knowing the
// metrics library. Called once per HTTP attempt (a retried query is counted once per attempt).
class QueryObserver {
 public:
  virtual ~QueryObserver() = default;
  // endpoint: query|query_range|ready|buildinfo; code: HTTP status or 0 for a connection error
  virtual void request(std::string_view endpoint, int code, double seconds) = 0;
};

// The pieces of a validated ClientOptions::url.
struct ServerUrl {
  bool tls = false;
  std::string host;    // without brackets for IPv6
  std::string port;    // defaulted to 80 / 443
  std::string prefix;  // "" or "/prefix" without a trailing slash
};
Expected<ServerUrl, std::string> parse_server_url(std::string_view url);

// application/x-www-form-urlencoded body from key/value pairs (every byte but unreserved ones percent-encoded).
std::string form_encode(const std::vector<std::pair<std::string, std::string>>& fields);

class PrometheusClient {
 public:
  PrometheusClient(boost::asio::io_context& ioc, ClientOptions opts, QueryObserver* observer = nullptr);
  ~PrometheusClient();
  PrometheusClient(const PrometheusClient&) = delete;
  PrometheusClient& operator=(const PrometheusClient&) = delete;

  // Bad URL, non-positive timeout or body bound, unreadable credential or CA files -> error text.
  static Expected<ClientOptions, std::string> validate(ClientOptions);

  // One instant query, form-encoded POST /api/v1/query with query=, time= (Unix seconds with ms), timeout=.
  // Transient errors are retried with jittered exponential backoff but never past `slot_deadline` (absolute);
  // config-class, partial and parse errors are returned at once.
  boost::asio::awaitable<Expected<probes::QueryResult, probes::QueryError>> query(
      std::string promql, double eval_time_unix, std::chrono::steady_clock::time_point slot_deadline);
  // GET /api/v1/status/buildinfo -> version string ("2.42.0+ds"); the first success is logged
  // (`component=prometheus event=buildinfo version=...`). One attempt, no backoff.
  boost::asio::awaitable<Expected<std::string, probes::QueryError>> buildinfo();
  // GET /-/ready -> true on 200. One attempt, no backoff.
  boost::asio::awaitable<bool> ready();

  const ClientOptions& options() const noexcept { return opts_; }

  struct Connection;
  struct Response;

 private:
  using Deadline = std::chrono::steady_clock::time_point;
  boost::asio::awaitable<Expected<Response, probes::QueryError>> perform(std::string_view endpoint,
                                                                          std::string_view method,
                                                                          std::string path, std::string form,
                                                                          Deadline deadline);
  boost::asio::awaitable<Expected<Response, probes::QueryError>> attempt(std::string_view method,
                                                                          const std::string& target,
                                                                          const std::string& form,
                                                                          const std::string& authorization,
                                                                          Deadline deadline, bool& retry_fresh);
  boost::asio::awaitable<Expected<std::unique_ptr<Connection>, probes::QueryError>> connect(Deadline deadline);
  boost::asio::awaitable<Expected<probes::QueryResult, probes::QueryError>> query_impl(
      std::string promql, double eval_time_unix, Deadline slot_deadline);
  Expected<std::string, probes::QueryError> authorization();  // "" when no auth is configured
  std::chrono::milliseconds backoff(int retry);

  boost::asio::io_context& ioc_;
  ClientOptions opts_;
  QueryObserver* observer_;
  std::string setup_error_;  // non-empty: the options were invalid or TLS could not be set up
  ServerUrl server_;
  std::string host_header_;
  std::shared_ptr<void> tls_;  // boost::asio::ssl::context, type-erased to keep OpenSSL headers out of here
  std::vector<std::unique_ptr<Connection>> idle_;
  std::string cached_auth_;
  Deadline auth_read_at_{};
  bool auth_cached_ = false;
  bool buildinfo_logged_ = false;
  unsigned long long jitter_state_;
};

}  // namespace canary_guard::prom
