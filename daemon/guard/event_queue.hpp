#pragma once
// EventQueue: Kubernetes Events are best effort and must never compete with a rollback. Events wait in a bounded
// queue (when it is full a new Event is dropped and counted: memory stays bounded whatever the apiserver does) and
// are sent by at most `senders` coroutines, so Events never hold more than that many of the client's request slots
// and a rollback's own requests never queue behind a burst of Events. FIFO; one thread. Owned by the KubeWriter.
#include <utility>  // Boost 1.74: must precede boost/asio/awaitable.hpp

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>

#include <cstdint>
#include <deque>
#include <functional>
#include <string>

#include "daemon/guard/object_ref.hpp"

namespace canary_guard::guard {

struct PendingEvent {
  ObjectRef obj;
  std::string type, reason, message;
};

class EventQueue {
 public:
  using Send = std::function<boost::asio::awaitable<void>(const PendingEvent&)>;
  using OnDrop = std::function<void(const PendingEvent&)>;
  EventQueue(boost::asio::io_context& ioc, Send send, std::size_t capacity = 256, int senders = 2, OnDrop on_drop = {});

  // Queues the Event (false: the queue was full and it was dropped) and starts a sender if fewer than `senders` run.
  bool push(PendingEvent e);
  std::size_t queued() const noexcept { return queue_.size(); }
  int sending() const noexcept { return running_; }
  std::uint64_t dropped() const noexcept { return dropped_; }

 private:
  boost::asio::awaitable<void> drain();
  boost::asio::io_context& ioc_;
  Send send_;
  std::size_t capacity_;
  int senders_;
  OnDrop on_drop_;
  std::deque<PendingEvent> queue_;
  int running_ = 0;
  std::uint64_t dropped_ = 0;
};

}  // namespace canary_guard::guard
