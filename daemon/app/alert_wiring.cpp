#include "daemon/app/alert_wiring.hpp"

#include <boost/asio/co_spawn.hpp>
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

AlertWiring::AlertWiring(asio::io_context& ioc, const config::Config& config, const Clock& clock, Metrics* metrics)
    : ioc_(ioc),
      am_(config.alertmanager),
      clock_(clock),
      metrics_(metrics),
      store_(store_options(config.alertmanager)),
      started_(clock.now()) {
  if (!am_.url.empty()) client_ = std::make_unique<AlertmanagerClient>(ioc, am_.url);
  if (!config.notify.empty()) notifications_ = std::make_unique<Notifications>(ioc, config.notify, clock, metrics);
  // Held and Blind notifications come from the page conditions, with or without Alertmanager.
  auto notify_raise = [this](const guard::WorkloadKey& key, const guard::Page& p) {
    if (!notifications_) return;
    const char* ev = p.alertname == "CanaryGuardHeld" ? "Held" : p.alertname == "CanaryGuardBlind" ? "Blind" : nullptr;
    if (ev) notifications_->notify(Notice{ev, key, "warning", p.description, clock_.now()});
  };
  AlertmanagerClient* poster = am_.own_alerts ? client_.get() : nullptr;
  if (poster || notifications_) pager_ = std::make_unique<Pager>(ioc, poster, am_, clock, metrics, notify_raise);
}

void AlertWiring::start() {
  auto log = [](const char* what) {
    return [what](std::exception_ptr e) {
      if (!e) return;
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        spdlog::error("component=main task={} event=crashed error=\"{}\"", what, ex.what());
      }
    };
  };
  if (pager_) asio::co_spawn(ioc_, pager_->run(), log("pager"));
  if (notifications_) notifications_->start();
  asio::co_spawn(ioc_, watch_heartbeat(), log("heartbeat"));
  if (!leading_ || leading_()) asio::co_spawn(ioc_, seed("start"), log("seed"));
}

void AlertWiring::leadership_changed(bool leading) {
  if (!leading) return;
  asio::co_spawn(ioc_, seed("leading"), [](std::exception_ptr) {});
}

asio::awaitable<void> AlertWiring::seed(std::string why) {
  if (!client_ || !am_.enabled() || am_.receiver.empty()) co_return;
  asio::steady_timer timer(ioc_);
  auto backoff = std::chrono::seconds(2);
  while (!stopped_) {
    auto r = co_await client_->active_alerts(am_.receiver);
    if (r) {
      probes::WebhookMessage msg;
      msg.version = "4";
      msg.status = "firing";
      msg.receiver = am_.receiver;
      for (auto& a : r->alerts)  // the heartbeat proves delivery only when it is delivered, never from a listing
        if (probes::find_value(a.labels, "alertname") == nullptr ||
            *probes::find_value(a.labels, "alertname") != am_.heartbeat_alert)
          msg.alerts.push_back(std::move(a));
      const std::size_t listed = msg.alerts.size();
      auto applied = store_.apply(msg, clock_.now());
      spdlog::info("component=webhook event=alerts_seeded why={} receiver=\"{}\" active={} accepted={} duplicates={} "
                   "ignored={} unreadable={}",
                   why, am_.receiver, listed, applied.accepted, applied.duplicates, applied.ignored, r->skipped);
      if (controller_ && !applied.workloads.empty()) controller_->alerts_changed(applied.workloads);
      co_return;
    }
    spdlog::warn("component=webhook event=alerts_seed_failed why={} retry_in_s={} error=\"{}\"", why, backoff.count(),
                 r.error());
    timer.expires_after(backoff);
    boost::system::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    backoff = std::min(backoff * 2, std::chrono::seconds(60));
  }
}

void AlertWiring::stop() {
  stopped_ = true;
  if (pager_) pager_->stop();
  if (notifications_) notifications_->stop();
}

Expected<std::unique_ptr<AlertWiring>, std::string> AlertWiring::make(asio::io_context& ioc,
                                                                      const config::Config& config,
                                                                      const Clock& clock, Metrics* metrics) {
  const auto& am = config.alertmanager;
  for (const auto& n : config.notify)
    if (!n.bearer_token_file.empty())
      if (auto t = SecretFile(n.bearer_token_file).get(); !t) return unexpected("[[notify]] bearer_token_file: " + t.error());
  std::unique_ptr<AlertWiring> w(new AlertWiring(ioc, config, clock, metrics));
  if (am.enabled()) {
    SecretFile probe(am.webhook_token_file);
    if (auto t = probe.get(); !t) return unexpected("[alertmanager] webhook_token_file: " + t.error());
  }
  return w;
}

void AlertWiring::attach(HttpServer& server, guard::Controller& controller) {
  if (pager_) controller.set_pages(pager_.get());
  if (notifications_)
    controller.set_event_tap([this](const guard::ObjectRef& obj, const std::string& type, const std::string& reason,
                                    const std::string& message) {
      if (reason != "RollbackStarted" && reason != "RollbackSucceeded" && reason != "RollbackFailed") return;
      const guard::Kind kind = obj.kind == "DaemonSet" ? guard::Kind::daemonset : guard::Kind::deployment;
      notifications_->notify(Notice{reason, guard::WorkloadKey{kind, obj.ns, obj.name},
                                    reason == "RollbackFailed" ? "critical" : (type == "Warning" ? "warning" : "info"),
                                    message, clock_.now()});
    });
  if (!am_.enabled()) return;
  webhook_ = std::make_unique<AlertWebhook>(
      am_.webhook_token_file, store_, clock_, metrics_,
      [&controller](const std::set<std::pair<std::string, std::string>>& w) { controller.alerts_changed(w); });
  server.router().add("POST", "/v1/alertmanager", [this](const HttpRequest& r) {
    if (leading_ && !leading_()) return HttpResponse{503, "text/plain", "not the leader; retry\n"};
    return webhook_->handle(r);
  });
  controller.set_alerts(&store_, client_.get());
  controller_ = &controller;
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
      store_.set_blind(blind ? std::optional<TimePoint>(last + am_.heartbeat_timeout) : std::nullopt);
      if (controller_) controller_->requeue_all();  // holds `alerts_blind` are taken or lifted now
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
