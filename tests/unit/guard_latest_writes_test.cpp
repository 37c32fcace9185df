// LatestWrites: coalesced, bounded, per-key ordered writes (daemon/guard/latest_writes.hpp states the semantics).
#include <utility>  // Boost 1.74: must precede boost/asio/awaitable.hpp

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "daemon/guard/latest_writes.hpp"

namespace asio = boost::asio;
using canary_guard::guard::LatestWrites;
using namespace std::chrono_literals;

namespace {

struct FakeApi {
  asio::io_context& ioc;
  std::vector<std::string> sent;  // "key=value" in the order the writes started
  std::map<std::string, std::string> stored;
  std::size_t in_flight = 0, peak = 0;
  std::map<std::string, int> in_flight_per_key;
  int max_per_key = 0;
  bool throw_on_x = false;

  LatestWrites::Write writer() {
    return [this](const std::string& k, const std::string& v) -> asio::awaitable<void> {
      sent.push_back(k + "=" + v);
      ++in_flight;
      peak = std::max(peak, in_flight);
      max_per_key = std::max(max_per_key, ++in_flight_per_key[k]);
      asio::steady_timer t(ioc, 10ms);
      co_await t.async_wait(asio::use_awaitable);
      --in_flight;
      --in_flight_per_key[k];
      if (throw_on_x && v == "x") throw std::runtime_error("boom");
      stored[k] = v;
    };
  }
};

}  // namespace

TEST(LatestWrites, BurstIsBoundedAndCoalescedToTheNewestValue) {
  asio::io_context ioc;
  FakeApi api{ioc};
  LatestWrites w(ioc, 2, api.writer());
  // 100 objects, each changed three times in the same round.
  for (int round = 1; round <= 3; ++round)
    for (int i = 0; i < 100; ++i) w.put("obj" + std::to_string(i), "v" + std::to_string(round));
  ioc.run();
  EXPECT_LE(api.peak, 2u);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(api.stored["obj" + std::to_string(i)], "v3") << i;
  // The first two went out with v1 before the rest were put; everything else was coalesced to v3.
  EXPECT_LE(api.sent.size(), 104u);
  EXPECT_EQ(w.pending(), 0u);
  EXPECT_EQ(w.in_flight(), 0u);
}

TEST(LatestWrites, AKeyPutAgainDuringItsWriteIsWrittenAgainAfterItNeverConcurrently) {
  asio::io_context ioc;
  FakeApi api{ioc};
  LatestWrites w(ioc, 4, api.writer());
  w.put("a", "1");
  asio::steady_timer t(ioc, 2ms);  // while "a=1" is in flight
  t.async_wait([&](auto) {
    w.put("a", "2");
    w.put("b", "1");
  });
  ioc.run();
  EXPECT_EQ(api.max_per_key, 1);
  EXPECT_EQ(api.sent, (std::vector<std::string>{"a=1", "b=1", "a=2"}));
  EXPECT_EQ(api.stored["a"], "2");
}

TEST(LatestWrites, AThrowingWriteDoesNotWedgeItsKey) {
  asio::io_context ioc;
  FakeApi api{ioc};
  api.throw_on_x = true;
  LatestWrites w(ioc, 1, api.writer());
  w.put("a", "x");
  ioc.run();
  ioc.restart();
  w.put("a", "y");
  ioc.run();
  EXPECT_EQ(api.stored["a"], "y");
  EXPECT_EQ(w.in_flight(), 0u);
}
