#pragma once
// SharedFetch: callers that ask for the same key at the same time share one fetch. Ten alerts of one rule rolling
// ten Deployments back at once re-check with Alertmanager in one GET instead of ten; Alertmanager answers 503 once
// more GETs than its --web.get-concurrency (GOMAXPROCS, at least 8) run at once, and a 503 would hold every rollback
// of the burst for a retry.
//
// Semantics:
//  - get(key) returns the result of a fetch of `key` that started after get() was called: never an answer that
//    was already on its way when the caller asked (a silence set just before must count).
//  - While a fetch of `key` runs, every get(key) that arrives waits for the next fetch, which starts as soon as the
//    running one ends; all of them get that one's result. So at most one fetch per key runs at a time, and a caller
//    waits for at most two.
//  - Different keys fetch independently. The fetch function must not throw; its own deadline bounds the wait.
//  - One thread (the io_context's), like everything it serves. The SharedFetch must outlive every get().
#include <utility>  // Boost 1.74: must precede boost/asio/awaitable.hpp

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace canary_guard::app {

template <class Result>
class SharedFetch {
 public:
  using Fetch = std::function<boost::asio::awaitable<Result>(const std::string& key)>;
  SharedFetch(boost::asio::io_context& ioc, Fetch fetch) : ioc_(ioc), fetch_(std::move(fetch)) {}
  SharedFetch(const SharedFetch&) = delete;
  SharedFetch& operator=(const SharedFetch&) = delete;

  boost::asio::awaitable<Result> get(const std::string& key) {
    auto w = std::make_shared<Waiter>(ioc_);
    // A key is in the map exactly while its fetch loop runs: a new entry starts one.
    auto [it, added] = keys_.try_emplace(key);
    it->second.push_back(w);
    if (added) boost::asio::co_spawn(ioc_, run(key), boost::asio::detached);
    if (!w->result) {
      boost::system::error_code ec;
      co_await w->timer.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
    }
    co_return std::move(*w->result);
  }

  std::uint64_t fetches() const noexcept { return fetches_; }  // for tests and figures
  std::size_t running() const noexcept { return keys_.size(); }  // keys with a fetch running or about to

 private:
  struct Waiter {
    explicit Waiter(boost::asio::io_context& ioc) : timer(ioc, boost::asio::steady_timer::time_point::max()) {}
    boost::asio::steady_timer timer;  // cancelled when the result is in
    std::optional<Result> result;
  };
  using Next = std::vector<std::shared_ptr<Waiter>>;  // asked before the key's next fetch starts

  boost::asio::awaitable<void> run(std::string key) {
    for (;;) {
      auto it = keys_.find(key);
      if (it->second.empty()) {
        keys_.erase(it);
        co_return;
      }
      Next batch;
      batch.swap(it->second);
      ++fetches_;
      Result r = co_await fetch_(key);
      for (auto& w : batch) {
        w->result = r;
        w->timer.cancel();
      }
    }
  }

  boost::asio::io_context& ioc_;
  Fetch fetch_;
  std::map<std::string, Next> keys_;  // node-based: an entry stays put while others come and go
  std::uint64_t fetches_ = 0;
};

}  // namespace canary_guard::app
