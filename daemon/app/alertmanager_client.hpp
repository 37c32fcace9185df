#pragma once
// AlertmanagerClient: the daemon's side of Alertmanager's v2 API (spec/probes.md §3.5): the re-check of an alert
// before it rolls anything back (GET /api/v2/alerts filtered by alertname and namespace, then the fingerprint:
// active -> act; suppressed (silenced, inhibited) or absent (resolved, expired) -> gone; no answer -> unknown, which
// holds), and posting the daemon's own alerts (POST /api/v2/alerts). Plain HTTP with one deadline per request.
// Re-checks of one alert name in one namespace asked at the same time share one GET (SharedFetch), and a GET that
// Alertmanager turns away as busy (503, 429) is tried again within the same deadline.
// Owned by the daemon wiring.
#include <utility>  // Boost 1.74: must precede boost/asio/awaitable.hpp

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstdint>
#include <string>

#include "config/expected.hpp"
#include "daemon/app/http_get.hpp"
#include "daemon/app/shared_fetch.hpp"
#include "daemon/guard/alert_recheck.hpp"
#include "probes/alerts.hpp"

namespace canary_guard::app {

// What a GET /api/v2/alerts body says about one fingerprint (pure: table-tested).
guard::AlertCheck judge_alert_listing(std::string_view body, const std::string& fingerprint);
// `name="value"` as an Alertmanager matcher, percent-encoded for a query string.
std::string matcher_query(std::string_view name, std::string_view value);
// `^name$` with regular-expression characters escaped, percent-encoded: Alertmanager's `receiver` parameter is a
// regular expression, and a receiver named "team.a" must not also match "teamXa".
std::string receiver_query(std::string_view name);

class AlertmanagerClient final : public guard::AlertRecheck {
 public:
  AlertmanagerClient(boost::asio::io_context& ioc, std::string base_url,
                     std::chrono::milliseconds timeout = std::chrono::seconds{2});
  boost::asio::awaitable<guard::AlertCheck> check(const std::string& fingerprint, const std::string& alertname,
                                                  const std::string& ns) override;
  // The alerts active (not silenced, inhibited or unprocessed) for `receiver` (matched exactly), as firing Alerts.
  boost::asio::awaitable<Expected<probes::ActiveAlerts, std::string>> active_alerts(const std::string& receiver);
  // POST /api/v2/alerts with a JSON array; the HTTP status (0: no answer) and an error text when not 2xx.
  boost::asio::awaitable<std::pair<int, std::string>> post_alerts(const std::string& json_array);
  // GETs the re-checks have sent so far (a burst's share one): for tests and figures.
  std::uint64_t recheck_gets() const noexcept { return listings_.fetches(); }

 private:
  boost::asio::io_context& ioc_;
  std::string base_url_;
  std::chrono::milliseconds timeout_;
  SharedFetch<Expected<HttpGetResponse, std::string>> listings_;  // key: the GET's path
};

}  // namespace canary_guard::app
