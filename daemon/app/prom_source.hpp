#pragma once
// The Analyzer's MetricSource on the Prometheus HTTP API client.
#include "daemon/guard/analyzer.hpp"
#include "daemon/prom/prometheus_client.hpp"

namespace canary_guard::app {

class PromSource final : public guard::MetricSource {
 public:
  explicit PromSource(prom::PrometheusClient& client) : client_(client) {}
  boost::asio::awaitable<Expected<probes::QueryResult, probes::QueryError>> query(
      std::string promql, double eval_time_unix, std::chrono::milliseconds timeout) override {
    co_return co_await client_.query(std::move(promql), eval_time_unix, std::chrono::steady_clock::now() + timeout);
  }

 private:
  prom::PrometheusClient& client_;
};

// ClientOptions from the [prometheus] section.
inline prom::ClientOptions prometheus_options(const config::PrometheusSection& p) {
  prom::ClientOptions o;
  o.url = p.url;
  o.timeout = p.timeout;
  o.bearer_token_file = p.bearer_token_file;
  o.basic_auth_user = p.basic_auth_user;
  o.basic_auth_password_file = p.basic_auth_password_file;
  o.ca_file = p.ca_file;
  o.accept_warnings = p.accept_warnings;
  return o;
}

}  // namespace canary_guard::app
