#include <gtest/gtest.h>

#include <algorithm>

#include <utility>  // Boost 1.74: must precede boost/asio/awaitable.hpp

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "daemon/guard/event_queue.hpp"

using namespace canary_guard::guard;

namespace {

PendingEvent ev(int i) { return PendingEvent{{"Deployment", "shop", "web", "uid", "1"}, "Normal", "R" + std::to_string(i), "m"}; }

}  // namespace

TEST(EventQueue, AtMostTwoInFlightBoundedAndFifo) {
  boost::asio::io_context ioc;
  std::vector<std::string> sent;
  int in_flight = 0, max_in_flight = 0;
  EventQueue q(
      ioc,
      [&](const PendingEvent& e) -> boost::asio::awaitable<void> {
        ++in_flight;
        max_in_flight = std::max(max_in_flight, in_flight);
        boost::asio::steady_timer t(ioc, std::chrono::milliseconds(1));
        co_await t.async_wait(boost::asio::use_awaitable);  // a slow apiserver
        sent.push_back(e.reason);
        --in_flight;
      },
      /*capacity=*/4, /*senders=*/2);
  // Nothing runs until the io_context does: 6 pushes, capacity 4 -> the last two are dropped.
  std::vector<bool> accepted;
  for (int i = 0; i < 6; ++i) accepted.push_back(q.push(ev(i)));
  EXPECT_EQ(accepted, (std::vector<bool>{true, true, true, true, false, false}));
  EXPECT_EQ(q.dropped(), 2u);
  EXPECT_EQ(q.sending(), 2);
  ioc.run();
  std::sort(sent.begin(), sent.end());  // two senders: the order of completion within a pair may vary
  EXPECT_EQ(sent, (std::vector<std::string>{"R0", "R1", "R2", "R3"}));
  EXPECT_EQ(max_in_flight, 2);
  EXPECT_EQ(q.sending(), 0);
  EXPECT_EQ(q.queued(), 0u);
  // After draining, new Events are accepted and sent again.
  ioc.restart();
  EXPECT_TRUE(q.push(ev(9)));
  ioc.run();
  EXPECT_EQ(sent.back(), "R9");
}
