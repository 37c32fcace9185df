// resolve_within: name resolution stops at the request's deadline. The hanging lookup is simulated by a starter
// that never completes (a DNS server that does not answer); the deadline is real time, 50 ms.
#include <utility>  // Boost 1.74: must precede boost/asio/awaitable.hpp

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <gtest/gtest.h>

#include "daemon/kube/resolve.hpp"

namespace canary_guard::kube {
namespace {

ResolveOutcome run(boost::asio::io_context& ioc, const std::string& host, std::chrono::milliseconds within,
                   const ResolveStarter* start) {
  std::optional<ResolveOutcome> out;
  boost::asio::co_spawn(
      ioc,
      [&]() -> boost::asio::awaitable<void> {
        out = co_await resolve_within(ioc, host, "443", std::chrono::steady_clock::now() + within, start);
      },
      [](std::exception_ptr e) {
        if (e) std::rethrow_exception(e);
      });
  ioc.run_for(std::chrono::seconds{10});
  ioc.restart();
  EXPECT_TRUE(out.has_value());
  return out.value_or(ResolveOutcome{});
}

TEST(ResolveWithin, AHangingLookupEndsAtTheDeadline) {
  boost::asio::io_context ioc;
  ResolveHandler kept;
  ResolveStarter hang = [&](boost::asio::ip::tcp::resolver&, ResolveHandler h) { kept = std::move(h); };
  const auto t0 = std::chrono::steady_clock::now();
  auto r = run(ioc, "api.example", std::chrono::milliseconds{50}, &hang);
  EXPECT_EQ(r.ec, boost::asio::error::timed_out);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds{5});
  // The lookup completing afterwards is ignored, and touches nothing freed.
  ASSERT_TRUE(kept);
  kept(boost::system::error_code{}, {});
}

TEST(ResolveWithin, ALookupThatAnswersInTimeIsReturned) {
  boost::asio::io_context ioc;
  auto r = run(ioc, "127.0.0.1", std::chrono::seconds{5}, nullptr);
  EXPECT_FALSE(r.ec) << r.ec.message();
  ASSERT_FALSE(r.results.empty());
  EXPECT_EQ(r.results.begin()->endpoint().address().to_string(), "127.0.0.1");
}

TEST(ResolveWithin, AFailedLookupKeepsItsError) {
  boost::asio::io_context ioc;
  ResolveStarter fail = [](boost::asio::ip::tcp::resolver&, ResolveHandler h) {
    h(boost::asio::error::host_not_found, {});
  };
  const auto t0 = std::chrono::steady_clock::now();
  auto r = run(ioc, "nope.example", std::chrono::seconds{5}, &fail);
  EXPECT_EQ(r.ec, boost::asio::error::host_not_found);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds{4});  // not held until the deadline
}

}  // namespace
}  // namespace canary_guard::kube
