#pragma once
// Pager: posts the daemon's own alerts (guard::Page) to Alertmanager's v2 API (spec/probes.md §3.5, R3.10):
// startsAt = when the condition began, endsAt = now + 3 x repost_interval, re-posted every repost_interval while
// the condition holds, and resolved with endsAt = now when it ends. Labels alertname, namespace, workload, kind,
// severity, reason (stable, so the fingerprint is); annotations summary, description, runbook_url.
// Delivery never blocks the guard: set() only records; run() posts in the background, one batch at a time, with
// jittered exponential backoff while Alertmanager is down. What was not delivered is retried while its condition
// holds (and a resolution for up to an hour). Owned by AlertWiring; io thread only.
#include <utility>  // Boost 1.74: must precede boost/asio/awaitable.hpp

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <functional>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "config/clock.hpp"
#include "config/config.hpp"
#include "daemon/app/alertmanager_client.hpp"
#include "daemon/guard/pages.hpp"

namespace canary_guard::app {

class Metrics;

// The JSON array POSTed to /api/v2/alerts for these entries (pure: unit-tested).
struct PageEntry {
  guard::WorkloadKey key;
  guard::Page page;
  bool active = true;
  TimePoint ended{};
};
std::string alerts_payload(const std::vector<const PageEntry*>& entries, TimePoint now,
                           std::chrono::milliseconds repost_interval, const std::string& runbook_url);

class Pager final : public guard::PageSink {
 public:
  // on_raise: a page newly began (Held, Blind ... for [[notify]]).
  using OnRaise = std::function<void(const guard::WorkloadKey&, const guard::Page&)>;
  Pager(boost::asio::io_context& ioc, AlertmanagerClient* client, const config::AlertmanagerSection& am,
        const Clock& clock, Metrics* metrics, OnRaise on_raise);
  void set(const guard::WorkloadKey& key, std::vector<guard::Page> pages) override;
  boost::asio::awaitable<void> run();
  void stop();
  std::size_t size() const { return entries_.size(); }
  // Leader election: only the leader pages. A process that stops leading forgets what it held (without resolving
  // it: the new leader derives the same pages from the cluster and owns them now).
  void set_leading(std::function<bool()> leading) { leading_ = std::move(leading); }

 private:
  struct Entry : PageEntry {
    std::optional<TimePoint> posted;
    std::chrono::steady_clock::time_point raised = std::chrono::steady_clock::now();  // first delivery's latency
  };
  static std::string id(const guard::WorkloadKey& key, const guard::Page& p);
  boost::asio::io_context& ioc_;
  AlertmanagerClient* client_;
  const config::AlertmanagerSection& am_;
  const Clock& clock_;
  Metrics* metrics_;
  OnRaise on_raise_;
  std::map<std::string, Entry> entries_;
  boost::asio::steady_timer wake_;
  int failures_ = 0;
  std::chrono::steady_clock::time_point next_try_{};
  std::mt19937 rng_{std::random_device{}()};
  bool stopped_ = false;
  std::function<bool()> leading_;
};

}  // namespace canary_guard::app
