#include "daemon/app/alert_wiring.hpp"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <spdlog/spdlog.h>

#include "daemon/app/metrics.hpp"

namespace canary_guard::app {

namespace asio = boost::asio;

namespace {
guard::AlertStoreOptions store_options(const config::AlertmanagerSection& am) {
  guard::AlertStoreOptions o;
  o.workload_labels = am.workload_labels;
  o.severities = am.severities;
  o.heartbeat_alert = am.heartbeat_alert;
  return o;
}
}  // namespace

AlertWiring::AlertWiring(asio::io_context& ioc, const config::AlertmanagerSection& am, const Clock& clock,
                         Metrics* metrics)
    : ioc_(ioc), am_(am), clock_(clock), metrics_(metrics), store_(store_options(am)), started_(clock.now()) {
  if (!am.url.empty()) client_ = std::make_unique<AlertmanagerClient>(ioc, am.url);
}

Expected<std::unique_ptr<AlertWiring>, std::string> AlertWiring::make(asio::io_context& ioc,
                                                                      const config::AlertmanagerSection& am,
                                                                      const Clock& clock, Metrics* metrics) {
  std::unique_ptr<AlertWiring> w(new AlertWiring(ioc, am, clock, metrics));
  if (am.enabled()) {
    SecretFile probe(am.webhook_token_file);
    if (auto t = probe.get(); !t) return unexpected("[alertmanager] webhook_token_file: " + t.error());
  }
  return w;
}

void AlertWiring::attach(HttpServer& server, guard::Controller& controller) {
  if (!am_.enabled()) return;
  webhook_ = std::make_unique<AlertWebhook>(
      am_.webhook_token_file, store_, clock_, metrics_,
      [&controller](const std::set<std::pair<std::string, std::string>>& w) { controller.alerts_changed(w); });
  server.router().add("POST", "/v1/alertmanager", [this](const HttpRequest& r) { return webhook_->handle(r); });
  controller.set_alerts(&store_, client_.get());
}

asio::awaitable<void> AlertWiring::watch_heartbeat() {
  if (!am_.enabled() || am_.heartbeat_alert.empty()) co_return;
  asio::steady_timer timer(ioc_);
  bool blind = false;
  while (!stopped_) {
    const TimePoint now = clock_.now();
    const TimePoint last = store_.last_heartbeat().value_or(started_);
    const bool now_blind = now - last > am_.heartbeat_timeout;
    if (now_blind != blind) {
      blind = now_blind;
      if (metrics_) metrics_->alert_channel_blind(blind);
      if (blind)
        spdlog::warn("component=webhook event=alert_channel_blind heartbeat_alert={} timeout_s={} detail=\"no "
                     "heartbeat alert arrived; silence from Alertmanager is no evidence of health\"",
                     am_.heartbeat_alert, std::chrono::duration_cast<std::chrono::seconds>(am_.heartbeat_timeout).count());
      else
        spdlog::info("component=webhook event=alert_channel_restored heartbeat_alert={}", am_.heartbeat_alert);
    }
    timer.expires_after(std::chrono::seconds(1));
    boost::system::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
}

}  // namespace canary_guard::app
