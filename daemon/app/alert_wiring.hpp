#pragma once
// AlertWiring: the on-call side, in one place: what [alertmanager] switches on (the AlertStore the webhook fills and
// observe() reads, the AlertmanagerClient for re-checks, the POST /v1/alertmanager route, the heartbeat watch: no
// heartbeat alert for heartbeat_timeout makes the alert channel blind, a log line and
// canary_guard_alert_channel_blind, never healthy evidence), the Pager (the daemon's own alerts) and the [[notify]]
// webhooks. Owned by run_guard; lives as long as the io_context runs.
#include <utility>  // Boost 1.74: must precede boost/asio/awaitable.hpp

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>

#include <memory>
#include <string>

#include "config/clock.hpp"
#include "config/config.hpp"
#include "daemon/app/alertmanager_client.hpp"
#include "daemon/app/http_server.hpp"
#include "daemon/app/notifications.hpp"
#include "daemon/app/pager.hpp"
#include "daemon/app/webhook.hpp"
#include "daemon/guard/alert_store.hpp"
#include "daemon/guard/controller.hpp"

namespace canary_guard::app {

class Metrics;

class AlertWiring {
 public:
  // Start-up checks (the token file must be readable): an error text, the caller exits non-zero.
  static Expected<std::unique_ptr<AlertWiring>, std::string> make(boost::asio::io_context& ioc,
                                                                  const config::Config& config,
                                                                  const Clock& clock, Metrics* metrics);
  // Adds the route, hands the store, the re-check and the pager to the controller, taps its Events.
  void attach(HttpServer& server, guard::Controller& controller);
  // Starts the background senders (pager, notifications) and the heartbeat watch.
  void start();
  boost::asio::awaitable<void> watch_heartbeat();
  // [alertmanager] receiver: reads the alerts already active for it into the store (retrying with backoff until it
  // has them once), so a restarted daemon or a new leader knows what Alertmanager delivered to its predecessor.
  boost::asio::awaitable<void> seed(std::string why);
  // Leader election: on taking the lead, seed again (a follower's webhook answered 503, so its store is empty).
  void leadership_changed(bool leading);
  void stop();
  // Leader election: a follower answers the webhook with 503, so Alertmanager retries and reaches the leader.
  void set_leading(std::function<bool()> leading) {
    leading_ = leading;
    if (pager_) pager_->set_leading(std::move(leading));
  }
  AlertmanagerClient* client() { return client_.get(); }

 private:
  AlertWiring(boost::asio::io_context& ioc, const config::Config& config, const Clock& clock, Metrics* metrics);
  boost::asio::io_context& ioc_;
  const config::AlertmanagerSection& am_;
  const Clock& clock_;
  Metrics* metrics_;
  guard::AlertStore store_;
  std::unique_ptr<AlertmanagerClient> client_;
  std::unique_ptr<AlertWebhook> webhook_;
  std::unique_ptr<Notifications> notifications_;
  std::unique_ptr<Pager> pager_;
  TimePoint started_;
  bool stopped_ = false;
  guard::Controller* controller_ = nullptr;  // set by attach(): requeued when the alert channel goes blind or back
  std::function<bool()> leading_;
};

}  // namespace canary_guard::app
