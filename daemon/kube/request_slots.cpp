#include "daemon/kube/request_slots.hpp"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>

namespace canary_guard::kube {

boost::asio::awaitable<bool> RequestSlots::acquire(std::chrono::steady_clock::time_point deadline) {
  if (in_flight_ < limit_ && waiters_.empty()) {
    ++in_flight_;
    co_return true;
  }
  auto w = std::make_shared<Waiter>(ioc_);
  w->timer.expires_at(deadline);
  waiters_.push_back(w);
  boost::system::error_code ec;
  co_await w->timer.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
  // release() hands the slot over by setting `granted` before it cancels the timer; a timer that expired in the
  // same turn still sees the grant, so a slot is never lost between the two.
  if (w->granted) co_return true;
  waiters_.erase(std::remove(waiters_.begin(), waiters_.end(), w), waiters_.end());
  co_return false;
}

void RequestSlots::release() {
  while (!waiters_.empty()) {
    auto w = std::move(waiters_.front());
    waiters_.pop_front();
    if (w->granted) continue;
    w->granted = true;  // the slot passes on: in_flight_ stays as it is
    w->timer.cancel();
    return;
  }
  if (in_flight_ > 0) --in_flight_;
}

}  // namespace canary_guard::kube
