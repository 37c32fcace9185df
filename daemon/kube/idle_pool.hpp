#pragma once
// IdlePool: the keep-alive connections a client holds open but is not using, as Go's http.Transport keeps them for
// client-go (MaxIdleConnsPerHost 25, IdleConnTimeout 90 s). A burst (ten rollbacks at once, each reading four objects
// and then writing) finds the connections the burst's previous step opened, instead of paying a TLS handshake per
// request on every step; a quiet daemon lets them go again.
//
// Semantics:
//  - take() hands out the most recently returned item (LIFO: the one least likely to have been closed by the server,
//    and the rest age out), or null when none is left.
//  - An item idle for longer than `idle_timeout` is never handed out: take() and put() drop such items (oldest
//    first) before anything else.
//  - put() keeps at most `max_idle` items; an item returned to a full pool is dropped (destroyed), as Go does.
//  - Time is injected (monotonic, any epoch); one thread.
#include <chrono>
#include <cstddef>
#include <deque>
#include <memory>

#include "config/clock.hpp"

namespace canary_guard::kube {

template <class T>
class IdlePool {
 public:
  IdlePool(std::size_t max_idle, Duration idle_timeout) : max_idle_(max_idle), idle_timeout_(idle_timeout) {}

  std::unique_ptr<T> take(Duration now) {
    expire(now);
    if (items_.empty()) return nullptr;
    auto item = std::move(items_.back().item);
    items_.pop_back();
    return item;
  }
  // True when the pool kept the item.
  bool put(std::unique_ptr<T> item, Duration now) {
    expire(now);
    if (!item || items_.size() >= max_idle_) return false;
    items_.push_back(Entry{std::move(item), now});
    return true;
  }
  void clear() { items_.clear(); }
  std::size_t size() const noexcept { return items_.size(); }

 private:
  struct Entry {
    std::unique_ptr<T> item;
    Duration since;
  };
  void expire(Duration now) {
    while (!items_.empty() && now - items_.front().since > idle_timeout_) items_.pop_front();
  }
  std::size_t max_idle_;
  Duration idle_timeout_;
  std::deque<Entry> items_;  // oldest first
};

}  // namespace canary_guard::kube
