#include "daemon/app/pager.hpp"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "config/rfc3339.hpp"
#include "daemon/app/metrics.hpp"

namespace canary_guard::app {

namespace asio = boost::asio;

std::string alerts_payload(const std::vector<const PageEntry*>& entries, TimePoint now,
                           std::chrono::milliseconds repost_interval, const std::string& runbook_url) {
  nlohmann::json arr = nlohmann::json::array();
  for (const PageEntry* e : entries) {
    nlohmann::json labels = {{"alertname", e->page.alertname},
                             {"namespace", e->key.ns},
                             {"workload", e->key.name},
                             {"kind", std::string(guard::to_string(e->key.kind))},
                             {"severity", e->page.severity},
                             {"reason", e->page.reason}};
    nlohmann::json annotations = {{"summary", e->page.summary}, {"description", e->page.description}};
    if (!runbook_url.empty()) annotations["runbook_url"] = runbook_url;
    const TimePoint ends = e->active ? now + 3 * repost_interval : e->ended;
    // Alertmanager refuses startsAt after endsAt: a condition that began "now" and ended at once still has order.
    const TimePoint starts = std::min(e->page.since, ends);
    arr.push_back({{"labels", labels},
                   {"annotations", annotations},
                   {"startsAt", format_rfc3339_ms(starts)},
                   {"endsAt", format_rfc3339_ms(ends)}});
  }
  return arr.dump();
}

Pager::Pager(asio::io_context& ioc, AlertmanagerClient* client, const config::AlertmanagerSection& am,
             const Clock& clock, Metrics* metrics, OnRaise on_raise)
    : ioc_(ioc), client_(client), am_(am), clock_(clock), metrics_(metrics), on_raise_(std::move(on_raise)), wake_(ioc) {}

std::string Pager::id(const guard::WorkloadKey& key, const guard::Page& p) {
  return key.str() + "|" + p.alertname + "|" + p.reason;
}

void Pager::set(const guard::WorkloadKey& key, std::vector<guard::Page> pages) {
  const std::string prefix = key.str() + "|";
  const TimePoint now = clock_.now();
  bool changed = false;
  std::set<std::string> now_ids;
  for (auto& p : pages) {
    const std::string i = id(key, p);
    now_ids.insert(i);
    auto it = entries_.find(i);
    if (it == entries_.end() || !it->second.active) {
      Entry e;
      e.key = key;
      e.page = p;
      entries_[i] = std::move(e);
      changed = true;
      spdlog::info("component=pager event=raised alert={} workload={} reason={}", p.alertname, key.str(), p.reason);
      if (on_raise_) on_raise_(key, p);
    } else {
      // Keep the first startsAt; take the newest words.
      const TimePoint since = std::min(it->second.page.since, p.since);
      it->second.page = p;
      it->second.page.since = since;
    }
  }
  for (auto it = entries_.lower_bound(prefix); it != entries_.end() && it->first.rfind(prefix, 0) == 0;) {
    if (it->second.active && !now_ids.count(it->first)) {
      if (!it->second.posted) {
        it = entries_.erase(it);  // ended before anyone was told: nothing to resolve
        continue;
      }
      it->second.active = false;
      it->second.ended = now;
      changed = true;
      spdlog::info("component=pager event=resolved alert={} workload={}", it->second.page.alertname, key.str());
    }
    ++it;
  }
  if (changed) wake_.cancel();
}

void Pager::stop() {
  stopped_ = true;
  wake_.cancel();
}

asio::awaitable<void> Pager::run() {
  if (!client_) co_return;
  while (!stopped_) {
    const auto steady_now = std::chrono::steady_clock::now();
    if (leading_ && !leading_()) entries_.clear();
    if (steady_now >= next_try_) {
      const TimePoint now = clock_.now();
      std::vector<const PageEntry*> due;
      std::vector<std::string> ids;
      for (auto& [i, e] : entries_) {
        const bool repost = e.active && (!e.posted || now - *e.posted >= am_.repost_interval);
        const bool resolve = !e.active;
        if (repost || resolve) {
          due.push_back(&e);
          ids.push_back(i);
        }
      }
      if (!due.empty()) {
        const std::string body = alerts_payload(due, now, am_.repost_interval, am_.runbook_url);
        auto [code, error] = co_await client_->post_alerts(body);
        if (metrics_) metrics_->alertmanager_push(code);
        const TimePoint after = clock_.now();
        if (error.empty()) {
          if (failures_ > 0) spdlog::info("component=pager event=delivered_again after_failures={}", failures_);
          failures_ = 0;
          for (const auto& i : ids) {
            auto it = entries_.find(i);
            if (it == entries_.end()) continue;
            if (it->second.active) {
              if (!it->second.posted)  // raised (the decision) -> accepted by Alertmanager: scripts/bench alert
                spdlog::info("component=pager event=first_post alert={} workload={} after_ms={}",
                             it->second.page.alertname, it->second.key.str(),
                             std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                                   it->second.raised).count());
              it->second.posted = now;
            } else {
              entries_.erase(it);
            }
          }
        } else {
          ++failures_;
          const double base = std::min(30.0, 0.5 * (1 << std::min(failures_, 6)));
          const double delay = base * std::uniform_real_distribution<double>(0.5, 1.0)(rng_);
          next_try_ = std::chrono::steady_clock::now() +
                      std::chrono::milliseconds(static_cast<long>(delay * 1000));
          if (failures_ == 1 || failures_ % 10 == 0)
            spdlog::warn("component=pager event=post_failed code={} failures={} retry_in_ms={} error=\"{}\"", code,
                         failures_, static_cast<long>(delay * 1000), error);
          // A resolution nobody could deliver for an hour is let go: Alertmanager resolves it by endsAt anyway.
          for (auto it = entries_.begin(); it != entries_.end();)
            it = !it->second.active && after - it->second.ended > std::chrono::hours{1} ? entries_.erase(it) : std::next(it);
        }
      }
    }
    wake_.expires_after(std::chrono::milliseconds(500));
    boost::system::error_code ec;
    co_await wake_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
}

}  // namespace canary_guard::app
