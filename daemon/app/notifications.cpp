#include "daemon/app/notifications.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "config/rfc3339.hpp"
#include "daemon/app/http_get.hpp"
#include "daemon/app/metrics.hpp"

namespace canary_guard::app {

namespace asio = boost::asio;

std::string render_notice(const Notice& n, config::NotifyFormat format) {
  const std::string kind(guard::to_string(n.key.kind));
  if (format == config::NotifyFormat::slack) {
    const char* icon = n.event == "RollbackSucceeded" ? ":white_check_mark:"
                       : n.event == "RollbackFailed"  ? ":rotating_light:"
                       : n.event == "RollbackStarted" ? ":leftwards_arrow_with_hook:"
                                                      : ":warning:";
    const std::string text = std::string(icon) + " *" + n.event + "* " + kind + " `" + n.key.ns + "/" + n.key.name +
                             "`: " + n.message;
    return nlohmann::json{{"text", text}}.dump();
  }
  return nlohmann::json{{"event", n.event},
                        {"namespace", n.key.ns},
                        {"workload", n.key.name},
                        {"kind", kind},
                        {"severity", n.severity},
                        {"message", n.message},
                        {"time", format_rfc3339_ms(n.at)},
                        {"source", "canary-guard"}}
      .dump();
}

Notifications::Notifications(asio::io_context& ioc, const std::vector<config::NotifyTarget>& targets,
                             const Clock& clock, Metrics* metrics)
    : ioc_(ioc), clock_(clock), metrics_(metrics) {
  for (const auto& c : targets) {
    auto t = std::make_unique<Target>();
    t->config = &c;
    if (!c.bearer_token_file.empty()) t->token = std::make_unique<SecretFile>(c.bearer_token_file);
    t->wake = std::make_unique<asio::steady_timer>(ioc);
    targets_.push_back(std::move(t));
  }
}

void Notifications::notify(const Notice& n) {
  for (auto& t : targets_) {
    const auto& ev = t->config->events;
    if (std::find(ev.begin(), ev.end(), n.event) == ev.end()) continue;
    t->queue.push_back(render_notice(n, t->config->format));
    while (t->queue.size() > kMaxQueued) {
      t->queue.pop_front();
      if (metrics_) metrics_->notification_sent(config::NotifyFormat::slack == t->config->format ? "slack" : "json", "dropped");
      spdlog::warn("component=notify event=dropped url_index={} reason=queue_full", &t - &targets_[0]);
    }
    t->wake->cancel();
  }
}

void Notifications::start() {
  for (auto& t : targets_)
    asio::co_spawn(ioc_, deliver(*t), [](std::exception_ptr e) {
      if (!e) return;
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        spdlog::error("component=notify event=crashed error=\"{}\"", ex.what());
      }
    });
}

void Notifications::stop() {
  stopped_ = true;
  for (auto& t : targets_) t->wake->cancel();
}

asio::awaitable<void> Notifications::deliver(Target& t) {
  const std::string format = t.config->format == config::NotifyFormat::slack ? "slack" : "json";
  // Split the URL into base and path for http_send.
  const std::string& url = t.config->url;
  const auto slash = url.find('/', 7);
  const std::string base = slash == std::string::npos ? url : url.substr(0, slash);
  const std::string path = slash == std::string::npos ? "/" : url.substr(slash);
  int failures = 0;
  while (!stopped_) {
    if (!t.queue.empty()) {
      std::vector<std::pair<std::string, std::string>> headers;
      std::string token_error;
      if (t.token) {
        if (auto tok = t.token->get()) headers.emplace_back("Authorization", "Bearer " + *tok);
        else token_error = tok.error();
      }
      std::string error;
      int code = 0;
      if (token_error.empty()) {
        const std::string body = t.queue.front();  // a copy: the queue may change during the await
        auto r = co_await http_send(ioc_, "POST", base, path, body, "application/json", headers,
                                    std::chrono::seconds{5}, 64 * 1024);
        if (!r) error = r.error();
        else if (r->status / 100 != 2) error = "HTTP " + std::to_string(code = r->status);
        else code = r->status;
      } else {
        error = token_error;
      }
      if (error.empty()) {
        if (!t.queue.empty()) t.queue.pop_front();
        if (metrics_) metrics_->notification_sent(format, "sent");
        if (failures > 0) spdlog::info("component=notify event=delivered_again url={} after_failures={}", base, failures);
        failures = 0;
        continue;
      }
      ++failures;
      if (metrics_) metrics_->notification_sent(format, "failed");
      const double delay = std::min(60.0, 0.5 * (1 << std::min(failures, 7))) *
                           std::uniform_real_distribution<double>(0.5, 1.0)(rng_);
      if (failures == 1 || failures % 10 == 0)
        spdlog::warn("component=notify event=delivery_failed url={} failures={} queued={} retry_in_ms={} error=\"{}\"",
                     base, failures, t.queue.size(), static_cast<long>(delay * 1000), error);
      // A wake-up by a new notice during the backoff does not cut it short: try again only when it is over.
      const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(static_cast<long>(delay * 1000));
      while (!stopped_ && std::chrono::steady_clock::now() < until) {
        t.wake->expires_at(until);
        boost::system::error_code ec;
        co_await t.wake->async_wait(asio::redirect_error(asio::use_awaitable, ec));
      }
      continue;
    }
    t.wake->expires_after(std::chrono::seconds(5));
    boost::system::error_code ec;
    co_await t.wake->async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
}

}  // namespace canary_guard::app
