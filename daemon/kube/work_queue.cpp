#include "daemon/kube/work_queue.hpp"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cmath>

namespace canary_guard::kube {

namespace asio = boost::asio;

WorkQueue::WorkQueue(asio::io_context& ioc, const MonotonicClock& clock, BackoffPolicy backoff)
    : ioc_(ioc), clock_(clock), backoff_(backoff), wakeup_(ioc), delay_timer_(ioc) {
  wakeup_.expires_at(asio::steady_timer::time_point::max());
}

void WorkQueue::wake() { wakeup_.cancel(); }

void WorkQueue::add(const std::string& key) {
  if (shutdown_) return;
  if (dirty_.count(key)) return;  // already queued (or queued again after processing)
  dirty_.insert(key);
  if (processing_.count(key)) return;  // done() re-queues it
  queue_.push_back(key);
  wake();
}

void WorkQueue::add_after(const std::string& key, Duration delay) {
  if (shutdown_) return;
  if (delay.count() <= 0) {
    add(key);
    return;
  }
  const Duration due = clock_.elapsed() + delay;
  // Like client-go's delaying queue: an earlier due time wins, a later one is ignored.
  if (auto it = waiting_index_.find(key); it != waiting_index_.end()) {
    if (it->second <= due) return;
    for (auto w = waiting_.lower_bound(it->second); w != waiting_.end() && w->first == it->second; ++w) {
      if (w->second == key) {
        waiting_.erase(w);
        break;
      }
    }
    it->second = due;
  } else {
    waiting_index_.emplace(key, due);
  }
  waiting_.emplace(due, key);
  arm_timer();
}

Duration WorkQueue::add_rate_limited(const std::string& key) {
  int n = failures_[key]++;
  double ms = static_cast<double>(backoff_.base.count()) * std::pow(2.0, std::min(n, 62));
  ms = std::min(ms, static_cast<double>(backoff_.max.count()));
  if (backoff_.jitter > 0) ms *= 1.0 + std::uniform_real_distribution<double>(0, backoff_.jitter)(rng_);
  // The fleet bucket: refill since the last take, then reserve one token (it may go negative: a reservation, as
  // golang.org/x/time/rate's Reserve; the wait is what the deficit takes to refill).
  if (backoff_.qps > 0) {
    const Duration now = clock_.elapsed();
    const double burst = static_cast<double>(std::max(1, backoff_.burst));
    if (!bucket_started_) {
      bucket_started_ = true;
      tokens_ = burst;
      tokens_at_ = now;
    }
    tokens_ = std::min(burst, tokens_ + static_cast<double>((now - tokens_at_).count()) * backoff_.qps / 1000.0);
    tokens_at_ = now;
    tokens_ -= 1.0;
    if (tokens_ < 0) ms = std::max(ms, -tokens_ * 1000.0 / backoff_.qps);
  }
  Duration d{static_cast<Duration::rep>(ms)};
  add_after(key, d);
  return d;
}

void WorkQueue::forget(const std::string& key) { failures_.erase(key); }

int WorkQueue::num_requeues(const std::string& key) const {
  auto it = failures_.find(key);
  return it == failures_.end() ? 0 : it->second;
}

void WorkQueue::promote_due() {
  const Duration now = clock_.elapsed();
  while (!waiting_.empty() && waiting_.begin()->first <= now) {
    std::string key = std::move(waiting_.begin()->second);
    waiting_.erase(waiting_.begin());
    waiting_index_.erase(key);
    add(key);
  }
  arm_timer();
}

void WorkQueue::arm_timer() {
  if (waiting_.empty() || shutdown_) return;
  const Duration next = waiting_.begin()->first;
  if (next >= armed_for_) return;  // an earlier wake-up is already pending
  armed_for_ = next;
  auto delay = next - clock_.elapsed();
  if (delay.count() < 0) delay = Duration{0};
  delay_timer_.expires_after(delay);
  delay_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec == asio::error::operation_aborted) return;
    armed_for_ = Duration::max();
    promote_due();
  });
}

std::optional<std::string> WorkQueue::try_get() {
  promote_due();
  if (queue_.empty()) return std::nullopt;
  std::string key = std::move(queue_.front());
  queue_.pop_front();
  dirty_.erase(key);
  processing_.insert(key);
  return key;
}

asio::awaitable<std::optional<std::string>> WorkQueue::get() {
  for (;;) {
    if (shutdown_) co_return std::nullopt;
    if (auto k = try_get()) co_return k;
    boost::system::error_code ec;
    // cancel() from add()/shutdown() ends the wait with operation_aborted; the expiry stays at max.
    co_await wakeup_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
}

void WorkQueue::done(const std::string& key) {
  processing_.erase(key);
  if (dirty_.count(key) && !shutdown_) {
    queue_.push_back(key);
    wake();
  }
}

void WorkQueue::shutdown() {
  shutdown_ = true;
  delay_timer_.cancel();
  wake();
}

}  // namespace canary_guard::kube
