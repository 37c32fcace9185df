// RequestSlots: the bound on requests in flight (daemon/kube/request_slots.hpp states the semantics).
#include <utility>  // Boost 1.74: must precede boost/asio/awaitable.hpp

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "daemon/kube/request_slots.hpp"

namespace asio = boost::asio;
using canary_guard::kube::RequestSlots;
using namespace std::chrono_literals;

namespace {

// A request: waits for a slot, holds it for `hold`, records when it got it and whether it did.
asio::awaitable<void> request(RequestSlots& slots, std::string name, std::chrono::milliseconds hold,
                              std::chrono::milliseconds patience, std::vector<std::string>& log, std::size_t& peak) {
  auto& ioc = static_cast<asio::io_context&>((co_await asio::this_coro::executor).context());
  if (!co_await slots.acquire(std::chrono::steady_clock::now() + patience)) {
    log.push_back(name + ":timeout");
    co_return;
  }
  RequestSlots::Slot slot(&slots);
  log.push_back(name + ":got");
  peak = std::max(peak, slots.in_flight());
  asio::steady_timer t(ioc, hold);
  co_await t.async_wait(asio::use_awaitable);
}

}  // namespace

TEST(RequestSlots, AtMostLimitInFlightAndFirstComeFirstServed) {
  asio::io_context ioc;
  RequestSlots slots(ioc, 2);
  std::vector<std::string> log;
  std::size_t peak = 0;
  for (const char* n : {"a", "b", "c", "d", "e"})
    asio::co_spawn(ioc, request(slots, n, 20ms, 5s, log, peak), asio::detached);
  ioc.run();
  EXPECT_EQ(peak, 2u);
  EXPECT_EQ(log, (std::vector<std::string>{"a:got", "b:got", "c:got", "d:got", "e:got"}));
  EXPECT_EQ(slots.in_flight(), 0u);
  EXPECT_EQ(slots.waiting(), 0u);
}

TEST(RequestSlots, AWaiterPastItsDeadlineGivesUpAndLosesNoSlot) {
  asio::io_context ioc;
  RequestSlots slots(ioc, 1);
  std::vector<std::string> log;
  std::size_t peak = 0;
  asio::co_spawn(ioc, request(slots, "long", 200ms, 5s, log, peak), asio::detached);
  asio::co_spawn(ioc, request(slots, "impatient", 1ms, 20ms, log, peak), asio::detached);
  asio::co_spawn(ioc, request(slots, "patient", 1ms, 5s, log, peak), asio::detached);
  ioc.run();
  EXPECT_EQ(log, (std::vector<std::string>{"long:got", "impatient:timeout", "patient:got"}));
  EXPECT_EQ(slots.in_flight(), 0u);
  EXPECT_EQ(slots.waiting(), 0u);
}

TEST(RequestSlots, ZeroLimitMeansOne) {
  asio::io_context ioc;
  RequestSlots slots(ioc, 0);
  EXPECT_EQ(slots.limit(), 1u);
  std::vector<std::string> log;
  std::size_t peak = 0;
  for (const char* n : {"a", "b", "c"}) asio::co_spawn(ioc, request(slots, n, 5ms, 5s, log, peak), asio::detached);
  ioc.run();
  EXPECT_EQ(peak, 1u);
  EXPECT_EQ(log.size(), 3u);
}

TEST(RequestSlots, ADeadlineAlreadyPassedStillGetsAFreeSlot) {
  // A free slot is taken at once: the deadline only bounds waiting.
  asio::io_context ioc;
  RequestSlots slots(ioc, 1);
  bool got = false;
  asio::co_spawn(
      ioc,
      [&]() -> asio::awaitable<void> {
        got = co_await slots.acquire(std::chrono::steady_clock::now() - 1s);
        if (got) slots.release();
      },
      asio::detached);
  ioc.run();
  EXPECT_TRUE(got);
  EXPECT_EQ(slots.in_flight(), 0u);
}
