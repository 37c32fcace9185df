#include "daemon/guard/event_queue.hpp"

#include <boost/asio/co_spawn.hpp>

#include <spdlog/spdlog.h>

namespace canary_guard::guard {

EventQueue::EventQueue(boost::asio::io_context& ioc, Send send, std::size_t capacity, int senders, OnDrop on_drop)
    : ioc_(ioc), send_(std::move(send)), capacity_(capacity), senders_(senders), on_drop_(std::move(on_drop)) {}

bool EventQueue::push(PendingEvent e) {
  if (queue_.size() >= capacity_) {
    ++dropped_;
    spdlog::warn("workload={}/{} event={} outcome=dropped reason=event_queue_full queued={}", e.obj.ns, e.obj.name,
                 e.reason, queue_.size());
    if (on_drop_) on_drop_(e);
    return false;
  }
  queue_.push_back(std::move(e));
  if (running_ < senders_) {
    ++running_;
    boost::asio::co_spawn(ioc_, drain(), [this](std::exception_ptr ex) {
      --running_;
      if (!ex) return;
      try {
        std::rethrow_exception(ex);
      } catch (const std::exception& err) {
        spdlog::error("component=events event=crashed error=\"{}\"", err.what());
      }
    });
  }
  return true;
}

boost::asio::awaitable<void> EventQueue::drain() {
  while (!queue_.empty()) {
    PendingEvent e = std::move(queue_.front());
    queue_.pop_front();
    co_await send_(e);
  }
}

}  // namespace canary_guard::guard
