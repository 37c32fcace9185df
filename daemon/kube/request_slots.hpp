#pragma once
// RequestSlots: a bound on the API requests one Client has in flight, so that a burst (a thousand analysis records
// persisted in the same round, a thousand Events) waits its turn instead of opening a connection per request. Each
// connection costs a TLS session and its buffers, and the heap they leave behind stays with the process.
//
// Semantics:
//  - At most `limit` holders at once (limit 0 is taken as 1).
//  - acquire() returns at once while a slot is free; otherwise it waits, first come first served, until a holder
//    releases (the slot passes straight to the oldest waiter, so a newcomer never overtakes it) or until `deadline`,
//    whichever is first. It returns false when the deadline came first, and the caller holds nothing.
//  - release() must be called once per successful acquire (Slot does it).
//  - Single-threaded: every call on the io_context's one thread, like the Client.
#include <utility>  // Boost 1.74: must precede boost/asio/awaitable.hpp

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstddef>
#include <deque>
#include <memory>

namespace canary_guard::kube {

class RequestSlots {
 public:
  RequestSlots(boost::asio::io_context& ioc, std::size_t limit) : ioc_(ioc), limit_(limit == 0 ? 1 : limit) {}
  RequestSlots(const RequestSlots&) = delete;
  RequestSlots& operator=(const RequestSlots&) = delete;

  boost::asio::awaitable<bool> acquire(std::chrono::steady_clock::time_point deadline);
  void release();

  std::size_t in_flight() const noexcept { return in_flight_; }
  std::size_t waiting() const noexcept { return waiters_.size(); }
  std::size_t limit() const noexcept { return limit_; }

  // Holds one slot until destroyed (or release()d early).
  class Slot {
   public:
    Slot() = default;
    explicit Slot(RequestSlots* s) : s_(s) {}
    Slot(Slot&& o) noexcept : s_(o.s_) { o.s_ = nullptr; }
    Slot& operator=(Slot&& o) noexcept {
      if (this != &o) {
        release();
        s_ = o.s_;
        o.s_ = nullptr;
      }
      return *this;
    }
    ~Slot() { release(); }
    void release() {
      if (s_) s_->release();
      s_ = nullptr;
    }

   private:
    RequestSlots* s_ = nullptr;
  };

 private:
  struct Waiter {
    explicit Waiter(boost::asio::io_context& ioc) : timer(ioc) {}
    boost::asio::steady_timer timer;
    bool granted = false;
  };
  boost::asio::io_context& ioc_;
  std::size_t limit_;
  std::size_t in_flight_ = 0;
  std::deque<std::shared_ptr<Waiter>> waiters_;
};

}  // namespace canary_guard::kube
