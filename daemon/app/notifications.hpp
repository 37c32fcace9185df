#pragma once
// Notifications: [[notify]] webhooks for teams without Alertmanager. Each target gets the events it subscribed to
// (RollbackStarted, RollbackSucceeded, RollbackFailed, Held, Blind) as JSON or as a Slack-compatible incoming-webhook
// message, in order, one at a time. A failed delivery is retried with jittered exponential backoff (up to a minute
// apart) and is not lost; only when a target's queue overflows (kMaxQueued) are the oldest dropped, counted and
// logged. Delivery runs in the background and never delays the guard. Owned by the daemon wiring; io thread only.
#include <utility>  // Boost 1.74: must precede boost/asio/awaitable.hpp

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <deque>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "config/clock.hpp"
#include "config/config.hpp"
#include "daemon/app/webhook.hpp"
#include "daemon/guard/workload_key.hpp"

namespace canary_guard::app {

class Metrics;

struct Notice {
  std::string event;  // RollbackStarted | RollbackSucceeded | RollbackFailed | Held | Blind
  guard::WorkloadKey key;
  std::string severity;  // warning | info | critical
  std::string message;
  TimePoint at{};
};
// The request body for one notice (pure: table-tested).
std::string render_notice(const Notice& n, config::NotifyFormat format);

class Notifications {
 public:
  static constexpr std::size_t kMaxQueued = 1000;
  Notifications(boost::asio::io_context& ioc, const std::vector<config::NotifyTarget>& targets, const Clock& clock,
                Metrics* metrics);
  void notify(const Notice& n);
  // One delivery loop per target.
  void start();
  void stop();

 private:
  struct Target {
    const config::NotifyTarget* config;
    std::unique_ptr<SecretFile> token;
    std::deque<std::string> queue;
    std::unique_ptr<boost::asio::steady_timer> wake;
  };
  boost::asio::awaitable<void> deliver(Target& t);
  boost::asio::io_context& ioc_;
  const Clock& clock_;
  Metrics* metrics_;
  std::vector<std::unique_ptr<Target>> targets_;
  std::mt19937 rng_{std::random_device{}()};
  bool stopped_ = false;
};

}  // namespace canary_guard::app
