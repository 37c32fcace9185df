#pragma once
// WorkQueue: the guard's queue of object keys, with client-go workqueue semantics on one thread:
//  - add(key) de-duplicates; a key being processed is never handed out twice at once (an add while it is being
//    processed marks it dirty and it is queued again on done(key));
//  - add_after(key, delay) for timers; add_rate_limited(key) with per-key exponential backoff (forget(key) resets)
//    under a fleet-wide token bucket (BackoffPolicy qps / burst), the larger of the two delays, as client-go's
//    default controller rate limiter does: a sick apiserver is not hammered by many failing keys at once;
//  - co_await get() suspends until a key is ready (nullopt after shutdown).
// Delays run on the injected MonotonicClock (a wall-clock jump neither fires nor stalls them); an asio steady timer
// only wakes us up. Tests call try_get() and promote_due() after advancing a ManualClock instead of waiting.
#include <utility>  // Boost 1.74: must precede boost/asio/awaitable.hpp

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <deque>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "config/clock.hpp"

namespace canary_guard::kube {

struct BackoffPolicy {
  Duration base{5};                           // client-go ItemExponentialFailureRateLimiter: 5 ms
  Duration max{std::chrono::seconds{1000}};   // .. 1000 s
  double jitter = 0.0;                        // 0.1 = up to +10 %
  // The fleet-wide bucket of client-go's DefaultControllerRateLimiter: failures across all keys are requeued no
  // faster than `qps` after a `burst`; add_rate_limited waits the larger of the key's backoff and the bucket's.
  double qps = 10.0;
  int burst = 100;
};

class WorkQueue {
 public:
  WorkQueue(boost::asio::io_context& ioc, const MonotonicClock& clock, BackoffPolicy backoff = {});

  void add(const std::string& key);
  void add_after(const std::string& key, Duration delay);
  // Re-adds after the key's next backoff delay (base * 2^failures, capped). Returns the delay used.
  Duration add_rate_limited(const std::string& key);
  void forget(const std::string& key);  // a success: the next failure starts from base again
  int num_requeues(const std::string& key) const;

  // Waits for a key (nullopt once shut down and drained of nothing: shutdown wakes all waiters).
  boost::asio::awaitable<std::optional<std::string>> get();
  // Non-waiting get for tests and drain loops: promotes due delayed keys first.
  std::optional<std::string> try_get();
  void done(const std::string& key);

  // Moves delayed keys whose time has come (by the injected monotonic clock) into the queue.
  void promote_due();
  void shutdown();
  bool shutting_down() const noexcept { return shutdown_; }
  std::size_t len() const noexcept { return queue_.size(); }
  std::size_t delayed() const noexcept { return waiting_.size(); }
  bool processing(const std::string& key) const { return processing_.count(key) != 0; }

 private:
  void wake();
  void arm_timer();

  boost::asio::io_context& ioc_;
  const MonotonicClock& clock_;
  BackoffPolicy backoff_;
  std::deque<std::string> queue_;
  std::unordered_set<std::string> dirty_;       // queued or to be re-queued
  std::unordered_set<std::string> processing_;  // handed out, not done yet
  std::multimap<Duration, std::string> waiting_;               // by due time (monotonic)
  std::unordered_map<std::string, Duration> waiting_index_;  // earliest due time per delayed key
  std::unordered_map<std::string, int> failures_;
  bool bucket_started_ = false;  // the fleet bucket starts full
  double tokens_ = 0;
  Duration tokens_at_{0};
  boost::asio::steady_timer wakeup_;   // waiters of get() sleep on this; cancel() wakes them
  boost::asio::steady_timer delay_timer_;
  Duration armed_for_ = Duration::max();
  std::mt19937 rng_{std::random_device{}()};
  bool shutdown_ = false;
};

}  // namespace canary_guard::kube
