#include "daemon/guard/latest_writes.hpp"

#include <boost/asio/co_spawn.hpp>

#include <spdlog/spdlog.h>

#include <exception>

namespace canary_guard::guard {

void LatestWrites::put(const std::string& key, std::string value) {
  auto [it, inserted] = pending_.try_emplace(key, std::move(value));
  if (!inserted) {
    it->second = std::move(value);  // not sent yet: the newest replaces it
    return;
  }
  order_.push_back(key);
  if (running_ < workers_) {
    ++running_;
    boost::asio::co_spawn(ioc_, drain(), [this](std::exception_ptr e) {
      --running_;
      if (e) {
        try {
          std::rethrow_exception(e);
        } catch (const std::exception& ex) {
          spdlog::error("component=latest_writes event=crashed error=\"{}\"", ex.what());
        } catch (...) {
          spdlog::error("component=latest_writes event=crashed");
        }
      }
    });
  }
}

boost::asio::awaitable<void> LatestWrites::drain() {
  for (;;) {
    // The oldest key without a write in flight (a key in flight waits for its own write to land first).
    auto pos = order_.begin();
    while (pos != order_.end() && in_flight_.count(*pos)) ++pos;
    if (pos == order_.end()) co_return;
    std::string key = std::move(*pos);
    order_.erase(pos);
    auto node = pending_.extract(key);
    in_flight_.insert(key);
    std::exception_ptr error;
    try {
      co_await write_(key, node.mapped());
    } catch (...) {
      error = std::current_exception();  // the key must not stay "in flight" for good
    }
    in_flight_.erase(key);
    ++written_;
    if (error) {
      try {
        std::rethrow_exception(error);
      } catch (const std::exception& ex) {
        spdlog::error("component=latest_writes key={} event=write_threw error=\"{}\"", key, ex.what());
      } catch (...) {
        spdlog::error("component=latest_writes key={} event=write_threw", key);
      }
    }
  }
}

}  // namespace canary_guard::guard
