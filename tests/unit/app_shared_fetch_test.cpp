// SharedFetch: concurrent askers of one key share one fetch that started after they asked
// (daemon/app/shared_fetch.hpp states the semantics).
#include <utility>  // Boost 1.74: must precede boost/asio/awaitable.hpp

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "daemon/app/shared_fetch.hpp"

namespace asio = boost::asio;
using canary_guard::app::SharedFetch;
using namespace std::chrono_literals;

namespace {

// A fetch that takes `took`, answers "key#n" (n: the how-many-th fetch it is) and logs when it started and ended.
struct Fake {
  asio::io_context& ioc;
  std::chrono::milliseconds took;
  int n = 0;
  std::vector<std::string> log;
  SharedFetch<std::string>::Fetch fn() {
    return [this](const std::string& key) -> asio::awaitable<std::string> {
      const std::string answer = key + "#" + std::to_string(++n);
      log.push_back("start " + answer);
      asio::steady_timer t(ioc, took);
      co_await t.async_wait(asio::use_awaitable);
      log.push_back("end " + answer);
      co_return answer;
    };
  }
};

asio::awaitable<void> ask(SharedFetch<std::string>& f, std::string key, std::chrono::milliseconds after,
                          std::vector<std::string>& log, std::map<std::string, std::string>& got, std::string who) {
  auto& ioc = static_cast<asio::io_context&>((co_await asio::this_coro::executor).context());
  if (after.count() > 0) {
    asio::steady_timer t(ioc, after);
    co_await t.async_wait(asio::use_awaitable);
  }
  log.push_back("ask " + who);
  got[who] = co_await f.get(key);
}

}  // namespace

TEST(SharedFetch, TenAskingAtOnceShareOneFetch) {
  asio::io_context ioc;
  Fake fake{ioc, 5ms};
  SharedFetch<std::string> f(ioc, fake.fn());
  std::vector<std::string> log;
  std::map<std::string, std::string> got;
  for (int i = 0; i < 10; ++i) asio::co_spawn(ioc, ask(f, "a", 0ms, log, got, std::to_string(i)), asio::detached);
  ioc.run();
  EXPECT_EQ(f.fetches(), 1u);
  ASSERT_EQ(got.size(), 10u);
  for (const auto& [who, answer] : got) EXPECT_EQ(answer, "a#1") << who;
  EXPECT_EQ(f.running(), 0u) << "a finished key is forgotten";
}

TEST(SharedFetch, AskingWhileAFetchRunsWaitsForTheNextOneThatStartsAfterIt) {
  asio::io_context ioc;
  Fake fake{ioc, 30ms};
  SharedFetch<std::string> f(ioc, fake.fn());
  std::map<std::string, std::string> got;
  asio::co_spawn(ioc, ask(f, "a", 0ms, fake.log, got, "first"), asio::detached);
  asio::co_spawn(ioc, ask(f, "a", 10ms, fake.log, got, "second"), asio::detached);
  asio::co_spawn(ioc, ask(f, "a", 12ms, fake.log, got, "third"), asio::detached);
  ioc.run();
  EXPECT_EQ(got["first"], "a#1");
  EXPECT_EQ(got["second"], "a#2") << "a#1 was on its way before it asked";
  EXPECT_EQ(got["third"], "a#2");
  EXPECT_EQ(fake.log, (std::vector<std::string>{"ask first", "start a#1", "ask second", "ask third", "end a#1",
                                                "start a#2", "end a#2"}));
}

TEST(SharedFetch, DifferentKeysFetchSideBySide) {
  asio::io_context ioc;
  Fake fake{ioc, 10ms};
  SharedFetch<std::string> f(ioc, fake.fn());
  std::map<std::string, std::string> got;
  asio::co_spawn(ioc, ask(f, "a", 0ms, fake.log, got, "x"), asio::detached);
  asio::co_spawn(ioc, ask(f, "b", 0ms, fake.log, got, "y"), asio::detached);
  asio::co_spawn(ioc, ask(f, "a", 0ms, fake.log, got, "z"), asio::detached);
  ioc.run();
  EXPECT_EQ(f.fetches(), 2u);
  EXPECT_EQ(got["x"], "a#1");
  EXPECT_EQ(got["z"], "a#1");
  EXPECT_EQ(got["y"], "b#2");
  // Both started before either ended: one key never waits for another.
  ASSERT_EQ(fake.log.size(), 7u);
  EXPECT_EQ(fake.log[3], "start a#1");
  EXPECT_EQ(fake.log[4], "start b#2");
}

TEST(SharedFetch, AKeyAskedAgainAfterItsFetchEndedFetchesAgain) {
  asio::io_context ioc;
  Fake fake{ioc, 5ms};
  SharedFetch<std::string> f(ioc, fake.fn());
  std::map<std::string, std::string> got;
  asio::co_spawn(ioc, ask(f, "a", 0ms, fake.log, got, "early"), asio::detached);
  asio::co_spawn(ioc, ask(f, "a", 40ms, fake.log, got, "late"), asio::detached);
  ioc.run();
  EXPECT_EQ(got["early"], "a#1");
  EXPECT_EQ(got["late"], "a#2");
  EXPECT_EQ(f.fetches(), 2u);
  EXPECT_EQ(f.running(), 0u);
}
